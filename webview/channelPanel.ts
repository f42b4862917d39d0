// The channel bar of a multi-channel / time-lapse stack, under the toolbar: a selector (Composite, or one channel
// shown in gray under the toolbar's window), per channel a colour, a visibility box and a display window (min/max,
// automatic from the channel's own histogram until edited; Auto or the A key recomputes them), and a time-point
// slider when T > 1. Labels are per slice z: one label volume serves every channel and time point. The live preview
// reads the channel shown (channel 1 in the composite); jobs read the channel picked in the Model panel.
// The data-testid attributes are a contract with the real-VS-Code tests (test/e2e/channels.ui.mjs). Styles:
// media/viewer/channels.css.

import type { DType } from '../src/shared/types';
import type { ChannelView } from './channels';
import type { ViewerController } from './controller';
import { formatLevel } from './format';
import type { DisplayWindow } from './lut';
import { autoWindow, computeHistogram } from './stats';
import type { ViewState } from './viewState';

export interface ChannelPanelDom {
  root: HTMLElement;
  select: HTMLSelectElement;
  rows: { row: HTMLElement; visible: HTMLInputElement; color: HTMLInputElement; min: HTMLInputElement; max: HTMLInputElement }[];
  time?: { slider: HTMLInputElement; label: HTMLElement };
  note: HTMLElement;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export class ChannelPanel {
  readonly dom: ChannelPanelDom;

  constructor(private readonly cv: ChannelView, private readonly viewer: ViewerController, private readonly dtype: DType, toolbar: HTMLElement,
    private readonly viewerRoot: HTMLElement, private readonly state?: ViewState) {
    // The channel and time point shown before the tab was hidden or the window reloaded (nothing is shown yet).
    const saved = state?.restored;
    if (saved?.channel !== undefined && (saved.channel === 'composite' ? cv.channels > 1 : saved.channel < cv.channels)) cv.select(saved.channel === 'composite' ? undefined : saved.channel);
    if (saved?.time !== undefined && saved.time < cv.frames) cv.setTime(saved.time);
    this.dom = this.build();
    toolbar.after(this.dom.root);
    viewer.onPaint = (p) => this.beforePaint(p.pixels, p.n, p.window);
    this.refresh();
  }

  private build(): ChannelPanelDom {
    const cv = this.cv;
    const root = el('div', { class: 'channel-bar', 'data-testid': 'channel-bar', role: 'toolbar', 'aria-label': 'Channels' });
    const select = el('select', { 'data-testid': 'channel-select', 'aria-label': 'Channel shown', title: 'One channel (gray, under the toolbar window) or the composite of all channels' });
    if (cv.channels > 1) select.append(el('option', { value: 'composite' }, 'Composite'));
    for (let c = 0; c < cv.channels; c++) select.append(el('option', { value: String(c) }, `Channel ${c + 1}`));
    select.addEventListener('change', () => {
      this.choose(select.value === 'composite' ? undefined : Number(select.value));
      // Back to the image, so the arrow keys step slices again instead of the selector's options.
      (document.querySelector('[data-testid=viewer-canvas]') as HTMLElement | null)?.focus();
    });
    const rows: ChannelPanelDom['rows'] = [];
    const chans = el('span', { class: 'chans' });
    for (let c = 0; c < (cv.channels > 1 ? cv.channels : 0); c++) {
      const visible = el('input', { type: 'checkbox', 'data-testid': `channel-visible-${c}`, title: `Show channel ${c + 1} in the composite` });
      visible.checked = cv.visible[c];
      const color = el('input', { type: 'color', 'data-testid': `channel-color-${c}`, title: `Colour of channel ${c + 1} in the composite` });
      color.value = cv.colors[c];
      const min = el('input', { type: 'number', class: 'num', 'data-testid': `channel-min-${c}`, 'aria-label': `Channel ${c + 1} display minimum` });
      const max = el('input', { type: 'number', class: 'num', 'data-testid': `channel-max-${c}`, 'aria-label': `Channel ${c + 1} display maximum` });
      const name = el('button', { class: 'link', title: `Show channel ${c + 1} alone` }, `C${c + 1}`);
      name.addEventListener('click', () => this.choose(c));
      const row = el('span', { class: 'chan', 'data-testid': `channel-row-${c}` });
      row.append(visible, color, name, min, el('span', { class: 'muted' }, '–'), max);
      visible.addEventListener('change', () => { cv.visible[c] = visible.checked; this.refresh(); this.viewer.repaint(); });
      color.addEventListener('input', () => { cv.colors[c] = color.value; this.viewer.repaint(); });
      const commit = () => this.setWindow(c, Number(min.value), Number(max.value));
      for (const input of [min, max]) {
        input.addEventListener('change', commit);
        input.addEventListener('keydown', (e) => { if (e.key === 'Enter') commit(); });
      }
      rows.push({ row, visible, color, min, max });
      chans.append(row);
    }
    const auto = el('button', { class: 'link', 'data-testid': 'btn-channel-auto', title: 'Each channel\'s window from its own histogram (0.5–99.5 percentiles)' }, 'Auto');
    auto.addEventListener('click', () => this.autoAll());
    if (cv.channels > 1) root.append(el('span', { class: 'group-label' }, 'Channel'), select, chans); // else only a T axis
    if (cv.channels > 1) root.append(auto);
    let time: ChannelPanelDom['time'];
    if (cv.frames > 1) {
      const slider = el('input', { type: 'range', class: 'time-slider', 'data-testid': 'time-slider', min: '1', max: String(cv.frames), step: '1', 'aria-label': 'Time point' });
      slider.value = '1';
      const label = el('span', { 'data-testid': 'time-label' });
      slider.addEventListener('input', () => this.setTime(Number(slider.value) - 1));
      root.append(el('span', { class: 'group-label' }, 'Time'), slider, label);
      time = { slider, label };
    }
    const note = el('span', { class: 'note', 'data-testid': 'channel-note' });
    root.append(note);
    return { root, select, rows, time, note };
  }

  /** Shows channel c alone, or the composite (undefined). */
  choose(c: number | undefined): void {
    const cv = this.cv;
    if (!cv.composite) cv.windows[cv.channel] = this.viewer.displayWindow; // keep the window of the channel left
    cv.select(c);
    this.viewer.planeChanged(cv.composite ? undefined : cv.windows[cv.channel]);
    this.refresh();
  }

  setTime(t: number): void {
    const cv = this.cv;
    if (!cv.composite) cv.windows[cv.channel] = this.viewer.displayWindow;
    cv.setTime(t);
    this.viewer.planeChanged(cv.composite ? undefined : cv.windows[cv.channel]);
    this.refresh();
  }

  private setWindow(c: number, min: number, max: number): void {
    if (!Number.isFinite(min) || !Number.isFinite(max)) { this.refresh(); return; }
    const w: DisplayWindow = { min: Math.min(min, max), max: Math.max(min, max) };
    this.cv.windows[c] = w;
    if (!this.cv.composite && c === this.cv.channel) this.viewer.setWindow(w); // the toolbar's window is this one
    else this.viewer.repaint();
    this.refresh();
  }

  private autoAll(): void {
    const cv = this.cv;
    cv.windows.fill(undefined);
    if (cv.composite) this.viewer.repaint();
    else this.viewer.autoContrast();
  }

  /** Before each paint: the composite's channels without a window get one from their histogram; a single channel's window is the toolbar's. */
  private beforePaint(pixels: ArrayLike<number>, n: number, window: DisplayWindow): void {
    const cv = this.cv;
    if (cv.composite) {
      for (let c = 0; c < cv.channels; c++) {
        if (!cv.windows[c]) cv.windows[c] = autoWindow(computeHistogram(cv.planeOf(pixels as never, c, n), this.dtype));
      }
    } else {
      cv.windows[cv.channel] = { ...window };
    }
    this.refresh();
  }

  /** Puts the state into the controls (and the view state, which survives tab switches). */
  refresh(): void {
    const cv = this.cv;
    const channel = cv.composite ? 'composite' as const : cv.channel;
    if (this.state && (this.state.current.channel !== channel || this.state.current.time !== cv.time)) this.state.patch({ channel, time: cv.time });
    const d = this.dom;
    d.select.value = cv.composite ? 'composite' : String(cv.channel);
    this.viewerRoot.classList.toggle('composite', cv.composite);
    d.rows.forEach((r, c) => {
      const w = cv.windows[c];
      if (document.activeElement !== r.min) r.min.value = w ? formatLevel(w.min, this.dtype) : '';
      if (document.activeElement !== r.max) r.max.value = w ? formatLevel(w.max, this.dtype) : '';
      r.row.classList.toggle('shown', !cv.composite && c === cv.channel);
      r.row.classList.toggle('off', cv.composite && !cv.visible[c]);
    });
    if (d.time) {
      d.time.slider.value = String(cv.time + 1);
      d.time.label.textContent = `${cv.time + 1} / ${cv.frames}`;
    }
    d.note.textContent = cv.channels > 1
      ? `Labels are shared by all channels. Live preview reads channel ${cv.readChannel + 1}${cv.composite ? ' (the first, in the composite)' : ''}.`
      : 'Labels are shared by all time points.';
    document.body.dataset.channel = cv.composite ? 'composite' : String(cv.channel);
    document.body.dataset.timePoint = String(cv.time);
  }
}
