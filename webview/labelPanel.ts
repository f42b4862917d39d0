// The annotation side panel: tools, brush size (log slider + number box), fill tolerance, the class being painted,
// classes (select, rename, recolour, add, delete, counts), label display (show/hide, opacity), the next-step hint
// and the list of annotated slices. Native inputs and buttons styled with the
// VS Code theme variables (Playwright's fill()/click() reach them; data-testids are a contract with the e2e tests).

import type { LabelClass } from '../src/shared/labels/classes';
import { brushFromSlider, SLIDER_STEPS, sliderFromBrush } from './brushScale';

export type Tool = 'pan' | 'brush' | 'eraser' | 'fill' | 'lasso';

export const TOOLS: { tool: Tool; label: string; key: string; title: string }[] = [
  { tool: 'pan', label: 'Pan', key: 'H', title: 'Pan: drag moves the view (also Space+drag or the middle button with any tool)' },
  { tool: 'brush', label: 'Brush', key: 'B', title: 'Brush: paint the selected class; [ and ] change the size' },
  { tool: 'eraser', label: 'Eraser', key: 'E', title: 'Eraser: set pixels back to unlabeled' },
  { tool: 'fill', label: 'Fill', key: 'G', title: 'Fill: labels the image region under the click on this slice: the connected pixels whose '
    + 'brightness lies within the tolerance of the clicked spot (a % of the display window, set below), stopping at existing labels. '
    + 'Leaks into the neighbour? Undo and lower the tolerance; gaps? raise it' },
  { tool: 'lasso', label: 'Lasso', key: 'L', title: 'Lasso: drag around an area; it is filled with the selected class' },
];

export interface PanelCallbacks {
  tool(t: Tool): void;
  brushSize(px: number): void;
  selectClass(index: number): void;
  renameClass(index: number, name: string): void;
  recolourClass(index: number, color: string): void;
  addClass(): void;
  deleteClass(index: number): void;
  showLabels(show: boolean): void;
  opacity(value: number): void;
  goToSlice(z: number): void;
  livePreview(enabled: boolean): void;
  livePreviewOpacity(opacity: number): void;
  /** Fill tolerance, fraction of the display window. */
  fillTolerance(fraction: number): void;
  openModelPanel(): void;
  dismissHint(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string, testId?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined) n.textContent = text;
  if (testId) n.dataset.testid = testId;
  return n;
}

export class LabelPanel {
  readonly root: HTMLElement;
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>();
  private readonly sizeSlider: HTMLInputElement;
  private readonly sizeBox: HTMLInputElement;
  private readonly toleranceRow: HTMLElement;
  private readonly toleranceSlider: HTMLInputElement;
  private readonly toleranceLabel: HTMLElement;
  private readonly currentClass: HTMLElement;
  private readonly hint: HTMLElement;
  private readonly hintText: HTMLElement;
  private readonly classList: HTMLElement;
  private readonly sliceList: HTMLElement;
  private readonly showBox: HTMLInputElement;
  private readonly opacitySlider: HTMLInputElement;
  private readonly totalLabel: HTMLElement;
  private readonly previewBox: HTMLInputElement;
  private readonly previewHint: HTMLElement;
  private readonly previewOpacity: HTMLInputElement;
  private classes: LabelClass[] = [];
  private counts = new Map<number, number>();
  private selected = 0;
  private tool: Tool = 'pan';

  constructor(private readonly cb: PanelCallbacks) {
    this.root = el('aside', 'label-panel', undefined, 'label-panel');
    this.root.setAttribute('aria-label', 'Annotation');

    const tools = el('div', 'tool-row');
    tools.setAttribute('role', 'toolbar');
    for (const t of TOOLS) {
      const b = el('button', 'tool', t.label, `tool-${t.tool}`);
      b.type = 'button';
      b.title = `${t.title} (${t.key})`;
      b.addEventListener('click', () => cb.tool(t.tool));
      this.toolButtons.set(t.tool, b);
      tools.append(b);
    }
    // Logarithmic: 1-6 px (foam walls) get as much travel as 30-200 px.
    this.sizeSlider = el('input', 'brush-size', undefined, 'brush-size');
    Object.assign(this.sizeSlider, { type: 'range', min: '0', max: String(SLIDER_STEPS), step: '1', title: 'Brush size in image pixels, 1–200 on a logarithmic scale ([ and ])' });
    this.sizeSlider.setAttribute('aria-label', 'Brush size');
    const sizeLabel = el('span', 'muted', 'px', 'brush-size-label');
    this.sizeSlider.addEventListener('input', () => cb.brushSize(brushFromSlider(Number(this.sizeSlider.value))));
    this.sizeBox = el('input', 'num size-box', undefined, 'brush-size-input');
    Object.assign(this.sizeBox, { type: 'number', min: '1', max: '200', step: '1', title: 'Brush size in image pixels (type a size, Enter)' });
    this.sizeBox.setAttribute('aria-label', 'Brush size in pixels');
    const commitSize = () => {
      const v = Number(this.sizeBox.value);
      if (this.sizeBox.value.trim() !== '' && Number.isFinite(v)) cb.brushSize(Math.round(v));
    };
    this.sizeBox.addEventListener('change', commitSize);
    this.sizeBox.addEventListener('keydown', (e) => { if (e.key === 'Enter') { commitSize(); this.sizeBox.blur(); } });

    this.toleranceSlider = el('input', 'fill-tolerance', undefined, 'fill-tolerance');
    Object.assign(this.toleranceSlider, { type: 'range', min: '0', max: '100', step: '1', title: 'Fill tolerance: how far (in % of the display window) a pixel\'s brightness may be from the clicked spot\'s and still be filled' });
    this.toleranceSlider.setAttribute('aria-label', 'Fill tolerance');
    this.toleranceLabel = el('span', 'muted size-label', '', 'fill-tolerance-label');
    this.toleranceSlider.addEventListener('input', () => cb.fillTolerance(Number(this.toleranceSlider.value) / 100));
    this.toleranceRow = el('div', 'row');
    this.toleranceRow.append(el('span', 'muted', 'Tolerance'), this.toleranceSlider, this.toleranceLabel);
    this.toleranceRow.hidden = true;

    this.currentClass = el('div', 'current-class', '', 'current-class');
    this.currentClass.title = 'The class that Brush, Fill and Lasso paint (keys 1–9 or click a class)';

    this.hint = el('div', 'next-step', undefined, 'next-step');
    this.hint.hidden = true;
    this.hint.setAttribute('role', 'status');
    this.hintText = el('span', undefined, '');
    const open = el('button', 'link-button', 'Open the Model panel', 'next-step-open');
    open.type = 'button';
    open.addEventListener('click', () => cb.openModelPanel());
    const dismiss = el('button', 'icon-button', '✕', 'next-step-dismiss');
    dismiss.type = 'button';
    dismiss.title = 'Dismiss';
    dismiss.addEventListener('click', () => cb.dismissHint());
    const hintBody = el('div');
    hintBody.append(this.hintText, ' ', open);
    this.hint.append(hintBody, dismiss);

    this.classList = el('div', 'class-list', undefined, 'class-list');
    this.classList.setAttribute('role', 'listbox');
    const add = el('button', 'link-button', '+ Add class', 'class-add');
    add.type = 'button';
    add.addEventListener('click', () => cb.addClass());

    this.showBox = el('input', undefined, undefined, 'labels-visible');
    this.showBox.type = 'checkbox';
    this.showBox.addEventListener('change', () => cb.showLabels(this.showBox.checked));
    this.opacitySlider = el('input', 'opacity', undefined, 'labels-opacity');
    Object.assign(this.opacitySlider, { type: 'range', min: '0', max: '100', step: '5', title: 'Label opacity' });
    this.opacitySlider.addEventListener('input', () => cb.opacity(Number(this.opacitySlider.value) / 100));
    const showLabel = el('label', 'check');
    showLabel.append(this.showBox, ' Show labels (V)');

    this.previewBox = el('input', undefined, undefined, 'live-preview-toggle');
    this.previewBox.type = 'checkbox';
    this.previewBox.addEventListener('change', () => cb.livePreview(this.previewBox.checked));
    const previewLabel = el('label', 'check');
    previewLabel.title = 'While you paint, a small random forest trained on the labels of this slice predicts it (StackSeg: Toggle Live Preview)';
    previewLabel.append(this.previewBox, ' Live preview');
    this.previewHint = el('div', 'muted hint', '', 'live-preview-hint');
    this.previewOpacity = el('input', 'opacity', undefined, 'live-preview-opacity');
    Object.assign(this.previewOpacity, { type: 'range', min: '0', max: '100', step: '5', value: '80', title: 'Live preview opacity' });
    this.previewOpacity.setAttribute('aria-label', 'Live preview opacity');
    this.previewOpacity.addEventListener('input', () => cb.livePreviewOpacity(Number(this.previewOpacity.value) / 100));
    const previewOpacityRow = el('div', 'row');
    previewOpacityRow.append(el('span', 'muted', 'Opacity'), this.previewOpacity);

    this.sliceList = el('div', 'slice-list', undefined, 'annotated-slices');
    this.totalLabel = el('span', 'muted', '');

    const section = (title: string, ...body: Node[]) => {
      const s = el('section', 'panel-section');
      s.append(el('h3', undefined, title), ...body);
      return s;
    };
    const sizeRow = el('div', 'row');
    sizeRow.append(el('span', 'muted', 'Size'), this.sizeSlider, this.sizeBox, sizeLabel);
    const opacityRow = el('div', 'row');
    opacityRow.append(el('span', 'muted', 'Opacity'), this.opacitySlider);
    const slicesTitle = el('div', 'row');
    slicesTitle.append(this.totalLabel);
    this.root.append(
      this.hint,
      section('Tools', tools, sizeRow, this.toleranceRow, this.currentClass),
      section('Classes', this.classList, add),
      section('Labels', showLabel, opacityRow),
      section('Preview', previewLabel, previewOpacityRow, this.previewHint),
      section('Annotated slices', slicesTitle, this.sliceList),
    );
  }

  setTool(t: Tool): void {
    for (const [tool, b] of this.toolButtons) {
      b.classList.toggle('active', tool === t);
      b.setAttribute('aria-pressed', String(tool === t));
    }
    this.toleranceRow.hidden = t !== 'fill';
    this.tool = t;
    this.showCurrentClass();
  }

  setBrushSize(px: number): void {
    this.sizeSlider.value = String(sliderFromBrush(px));
    if (document.activeElement !== this.sizeBox) this.sizeBox.value = String(px);
  }

  setFillTolerance(fraction: number): void {
    this.toleranceSlider.value = String(Math.round(fraction * 100));
    this.toleranceLabel.textContent = `${Math.round(fraction * 100)} %`;
  }

  /** The next-step hint (undefined hides it). */
  setHint(text: string | undefined): void {
    this.hint.hidden = text === undefined;
    this.hintText.textContent = text ?? '';
  }

  setDisplay(show: boolean, opacity: number): void {
    this.showBox.checked = show;
    this.opacitySlider.value = String(Math.round(opacity * 100));
  }

  setClasses(classes: LabelClass[], selected: number): void {
    this.classes = classes;
    this.selected = selected;
    this.renderClasses();
    this.showCurrentClass();
  }

  setSelected(index: number): void {
    this.selected = index;
    for (const row of this.classList.children) (row as HTMLElement).classList.toggle('selected', (row as HTMLElement).dataset.index === String(index));
    this.showCurrentClass();
  }

  /** "Paints: ■ foreground (2)": the class the next stroke gets, always in sight above the class list. */
  private showCurrentClass(): void {
    const position = this.classes.findIndex((c) => c.index === this.selected);
    const c = this.classes[position];
    this.currentClass.dataset.index = c ? String(c.index) : '';
    if (this.tool === 'eraser') {
      this.currentClass.replaceChildren(el('span', 'muted', 'Erases: sets pixels back to unlabelled'));
      return;
    }
    if (!c) {
      this.currentClass.textContent = 'No class: add one below';
      return;
    }
    const swatch = el('span', 'swatch-chip');
    swatch.style.background = c.color;
    this.currentClass.replaceChildren(el('span', 'muted', 'Paints'), swatch, el('strong', undefined, c.name), el('span', 'muted', position < 9 ? `(key ${position + 1})` : ''));
  }

  setStats(counts: [number, number][], annotated: { z: number; labeled: number }[], currentZ: number): void {
    this.counts = new Map(counts);
    for (const row of this.classList.children) {
      const k = Number((row as HTMLElement).dataset.index);
      const c = row.querySelector('.count');
      if (c) c.textContent = formatCount(this.counts.get(k) ?? 0);
    }
    this.sliceList.replaceChildren(...annotated.map(({ z, labeled }) => {
      const b = el('button', 'slice-entry', undefined, `annotated-slice-${z}`);
      b.type = 'button';
      b.dataset.z = String(z);
      b.classList.toggle('current', z === currentZ);
      b.append(el('span', undefined, `Slice ${z + 1}`), el('span', 'muted', `${formatCount(labeled)} px`));
      b.addEventListener('click', () => this.cb.goToSlice(z));
      return b;
    }));
    this.totalLabel.textContent = annotated.length === 0 ? 'None yet: pick Brush (B) and paint.' : `${annotated.length} slice${annotated.length === 1 ? '' : 's'}`;
  }

  setLivePreviewOpacity(opacity: number): void {
    this.previewOpacity.value = String(Math.round(opacity * 100));
  }

  setLivePreview(enabled: boolean, hint: string): void {
    this.previewBox.checked = enabled;
    this.previewHint.textContent = hint;
  }

  markCurrentSlice(z: number): void {
    for (const b of this.sliceList.children) (b as HTMLElement).classList.toggle('current', (b as HTMLElement).dataset.z === String(z));
  }

  private renderClasses(): void {
    this.classList.replaceChildren(...this.classes.map((c, position) => {
      const row = el('div', 'class-row', undefined, `class-${c.index}`);
      row.dataset.index = String(c.index);
      row.setAttribute('role', 'option');
      row.classList.toggle('selected', c.index === this.selected);
      const colour = el('input', 'swatch', undefined, `class-color-${c.index}`);
      colour.type = 'color';
      colour.value = c.color;
      colour.title = 'Colour';
      colour.addEventListener('change', () => this.cb.recolourClass(c.index, colour.value));
      const name = el('input', 'class-name', undefined, `class-name-${c.index}`);
      name.type = 'text';
      name.value = c.name;
      name.spellcheck = false;
      name.title = 'Click to select; edit to rename (Enter)';
      name.setAttribute('aria-label', `Class ${c.index} name`);
      const commit = () => {
        const v = name.value.trim();
        if (v && v !== c.name) this.cb.renameClass(c.index, v);
        else name.value = c.name;
      };
      name.addEventListener('change', commit);
      name.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { commit(); name.blur(); }
        if (e.key === 'Escape') { name.value = c.name; name.blur(); }
        e.stopPropagation();
      });
      name.addEventListener('focus', () => this.cb.selectClass(c.index));
      const key = el('span', 'muted key', position < 9 ? String(position + 1) : '');
      key.title = position < 9 ? `Key ${position + 1} selects this class` : '';
      const count = el('span', 'muted count', formatCount(this.counts.get(c.index) ?? 0), `class-count-${c.index}`);
      count.title = 'Labeled pixels in the stack';
      const del = el('button', 'icon-button', '✕', `class-delete-${c.index}`);
      del.type = 'button';
      del.title = `Delete class ${c.name}`;
      del.addEventListener('click', (e) => { e.stopPropagation(); this.cb.deleteClass(c.index); });
      row.append(key, colour, name, count, del);
      row.addEventListener('click', () => this.cb.selectClass(c.index));
      return row;
    }));
  }
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
