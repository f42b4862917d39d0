// The viewer's state and behaviour: which slice is shown, the display window and the view transform; the traffic
// with the host (requests, prefetch, exact pixels) is webview/sliceRequests.ts. Paints happen in
// requestAnimationFrame so bursts of key repeats cost one paint per frame.
// Streaming (src/shared/pyramid.ts): a slice change asks first for a preview level (longer side <= 512 px) and paints
// it; when stepping pauses (REFINE_MS) it asks for the level the zoom needs (level 1, exact, at >= 1:1) and repaints.
// Neighbours are prefetched at the preview level. The pixel readout is exact only from level 1: from a coarser level
// it is marked approximate and moving the mouse fetches level 1 of the shown slice.

import type { DType, PixelArray } from '../src/shared/types';
import { displayLevel, levelSize } from '../src/shared/pyramid';
import { type HostToWebview, type ViewerStackInfo } from '../src/shared/protocol';
import { PIXEL_ARRAYS } from '../src/shared/types';
import { ChannelView, planeFields } from './channels';
import { Contrast } from './contrast';
import { formatInfo, formatSliceStatus, formatZoom, isFloat } from './format';
import { ImageCanvas } from './imageCanvas';
import type { DisplayWindow } from './lut';
import { clampSlice } from './sliceStore';
import { SliceRequests, type HostChannel, type SlicePosition } from './sliceRequests';
import { pushCapped, SwitchTimer, type PerfProbe } from './perf';
import { PixelReadout } from './pixelReadout';
import { showError, type ViewerDom } from './ui';
import type { SavedView, ViewState } from './viewState';
import { ViewTransform } from './viewTransform';
import type { View } from './zoom';

export type { PerfProbe } from './perf';
export type { HostChannel } from './sliceRequests';

/** Stepping pause after which the shown slice is refined from the preview level to the display level. */
export const REFINE_MS = 250;

/** Observers of the view (the annotation layer follows zoom/pan and slice changes). */
export interface ViewerListener {
  viewChanged(v: View): void;
  sliceShown(z: number): void;
}

export class ViewerController {
  private info: ViewerStackInfo | undefined;
  private readonly image: ImageCanvas;
  /** Target, shown slice and level, direction of travel (webview/sliceRequests.ts follows them). */
  private readonly pos: SlicePosition = { target: 0, shown: -1, shownLevel: 1, lastStep: 0, dwelling: false };
  /** Slices asked of the host and kept (store, prefetch, exact pixels). */
  private readonly requests: SliceRequests;
  private refineTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly contrast: Contrast;
  readonly zoom: ViewTransform;
  private paintScheduled = false;
  /** keydown -> frame times of slice changes (perf probe). */
  private readonly timer: SwitchTimer;
  private readonly readout: PixelReadout;
  listener: ViewerListener | undefined;
  /** Channels / time points of a multi-channel stack (webview/channels.ts); undefined for one plane per slice. */
  channels: ChannelView | undefined;
  /** Called once the stack is known, with its channels (the channel panel builds itself). */
  onChannels: ((c: ChannelView) => void) | undefined;

  constructor(private readonly dom: ViewerDom, private readonly host: HostChannel, private readonly perf: PerfProbe, private readonly state: ViewState) {
    this.image = new ImageCanvas(dom.canvas);
    this.timer = new SwitchTimer(perf);
    const viewer = this;
    this.zoom = new ViewTransform(dom.viewport, () => this.info, (v, saved) => this.viewChanged(v, saved));
    this.requests = new SliceRequests(host, perf, dom.statusZoom, this.pos, {
      info: () => this.info, channels: () => this.channels, displayLevel: () => this.displayLevel(),
    });
    this.readout = new PixelReadout(dom.statusPixel, {
      get info() { return viewer.info; },
      get view() { return viewer.zoom.view; },
      shown: () => ({ z: this.pos.shown, level: this.pos.shownLevel, pixels: this.shownPixels() }),
      fetchExact: (z, x, y) => this.requests.fetchPixels(z, x, y),
      exactAt: (z, x, y) => this.requests.exactAt(z, x, y),
    });
    this.contrast = new Contrast(dom, () => this.info?.dtype ?? 'float32', () => { if (this.pos.shown >= 0) this.schedulePaint(); });
  }

  // ------------------------------------------------------------ messages from the host

  handleMessage(msg: HostToWebview): void {
    switch (msg.type) {
      case 'init': return this.onInit(msg.info, msg.initialSlice);
      case 'slice': return this.onSlice(msg.z, msg.dtype, msg.width, msg.height, msg.data, msg.level ?? 1, msg.c ?? 0, msg.t ?? 0);
      case 'error': return showError(this.dom, msg.message);
      case 'sliceError':
        this.requests.forget(msg.z, undefined, msg.c, msg.t);
        if (msg.z === this.pos.target) showError(this.dom, msg.message);
        else this.requests.prefetch();
        return;
      case 'sliceSkipped':
        // The host dropped it (we had moved on): forget the request; ask again if it is still needed.
        this.requests.forget(msg.z, msg.level, msg.c, msg.t);
        if (msg.z === this.pos.target) {
          this.requests.ensure(msg.z, this.requests.coarseLevel(), 'show');
          this.scheduleRefine();
        }
        this.requests.prefetch();
        return;
      case 'goToSlice': return this.goTo(msg.z, undefined);
      case 'link': return this.requests.onLink(msg.bytesPerSecond, msg.slow, msg.ratio);
      case 'pixels':
        if (this.requests.onPixels(msg)) this.readout.refresh();
        return;
    }
  }

  private onInit(info: ViewerStackInfo, initialSlice: number): void {
    this.info = info;
    const saved = this.state.restored;
    // The window the webview had before it was hidden or reloaded; shown in the min/max boxes too.
    if (saved.window) this.contrast.set(saved.window, false);
    const d = this.dom;
    d.sliceSlider.max = String(info.depth);
    d.sliceInput.max = String(info.depth);
    d.sliceTotal.textContent = `/ ${info.depth}`;
    d.statusInfo.textContent = formatInfo(info);
    if ((info.channels ?? 1) > 1 || (info.frames ?? 1) > 1) {
      this.channels = new ChannelView(info);
      this.onChannels?.(this.channels);
    }
    d.statusSlice.textContent = formatSliceStatus(clampSlice(saved.z ?? initialSlice, info.depth), info.depth);
    const step = isFloat(info.dtype) ? 'any' : '1';
    d.levelMin.step = step;
    d.levelMax.step = step;
    d.root.classList.toggle('single-slice', info.depth <= 1);
    this.image.setSize(info.width, info.height);
    if (saved.view) this.zoom.restore(saved.view); // zoomed/panned before the tab was hidden or the window reloaded
    else this.zoom.fit();
    this.goTo(saved.z ?? initialSlice, undefined);
  }

  private onSlice(z: number, dtype: DType, width: number, height: number, data: ArrayBuffer, level: number, c = 0, t = 0): void {
    const info = this.info;
    if (!info || dtype !== info.dtype) return;
    const size = levelSize(info.width, info.height, level);
    if (width !== size.width || height !== size.height) return;
    const Ctor = PIXEL_ARRAYS[dtype];
    if (!(data instanceof ArrayBuffer) || data.byteLength !== width * height * Ctor.BYTES_PER_ELEMENT) return;
    // A channel of a composite waits for the others (webview/channels.ts); then all are stored as one entry.
    const shownPlane = this.requests.accept(z, level, c, t, new Ctor(data));
    if (shownPlane === undefined) return;
    const pos = this.pos;
    if (shownPlane && z === pos.target && (pos.shown !== z || level < pos.shownLevel)) this.schedulePaint();
    this.requests.prefetch();
  }

  /** Full-resolution pixels of slice z: at once when stored, else asked for (undefined if they do not come in 10 s). */
  exactSlice(z: number): Promise<PixelArray | undefined> {
    return this.requests.exactSlice(z);
  }

  /** Label view: draw values through a colour table instead of the gray window (undefined: back to gray). */
  setPalette(table: Uint32Array | undefined): void {
    this.image.setPalette(table);
    if (this.pos.shown >= 0) this.schedulePaint();
  }

  // ------------------------------------------------------------ resolution levels

  /** Level the current zoom needs: one level pixel per device pixel at most; 1 (exact) at >= 1:1. */
  private displayLevel(): number {
    return displayLevel(this.zoom.view.scale * (window.devicePixelRatio || 1));
  }

  /** After stepping pauses (or the zoom changed), brings the target slice to the display level. */
  private scheduleRefine(): void {
    clearTimeout(this.refineTimer);
    this.refineTimer = setTimeout(() => {
      if (!this.info) return;
      const pos = this.pos;
      pos.dwelling = true;
      this.requests.ensure(pos.target, this.displayLevel(), 'show');
      // A finer level stored while stepping was not painted then (see paint): now it is.
      if (pos.shown === pos.target && (this.requests.finestStored(pos.target) ?? Infinity) < pos.shownLevel) this.schedulePaint();
      this.requests.prefetchDisplay();
    }, REFINE_MS);
  }

  // ------------------------------------------------------------ slices

  /** Moves to slice z. `keyTime` is the keydown timestamp when a key caused it (perf probe). */
  goTo(z: number, keyTime: number | undefined): void {
    const info = this.info;
    if (!info) return;
    const next = clampSlice(z, info.depth);
    const pos = this.pos;
    pos.lastStep = next - pos.target || pos.lastStep;
    if (next !== pos.target) pos.dwelling = false;
    pos.target = next;
    this.timer.moved(next, pos.shown, keyTime);
    this.dom.sliceSlider.value = String(next + 1);
    if (document.activeElement !== this.dom.sliceInput) this.dom.sliceInput.value = String(next + 1);
    if (this.requests.finestStored(next) !== undefined) this.schedulePaint(keyTime !== undefined);
    this.requests.ensure(next, this.requests.coarseLevel(), 'show');
    this.scheduleRefine();
    this.requests.prefetch();
  }

  step(delta: number, keyTime?: number): void {
    this.goTo(this.pos.target + delta, keyTime);
  }

  /**
   * Paints the target slice. A key press paints at once (the frame then only has to composite), other
   * sources (slider drags, wheel bursts, arriving slices) are coalesced into one paint per frame.
   */
  private schedulePaint(immediate = false): void {
    if (immediate && !this.paintScheduled) {
      this.paint();
      return;
    }
    if (this.paintScheduled) return;
    this.paintScheduled = true;
    requestAnimationFrame(() => {
      this.paintScheduled = false;
      this.paint(true);
    });
  }

  /** `inFrame`: called from a requestAnimationFrame callback, i.e. the frame being built shows the result. */
  private paint(inFrame = false): void {
    const info = this.info;
    const pos = this.pos;
    const z = pos.target;
    // A slice change keeps the level on the canvas when it is stored: a canvas of another size is reallocated, which
    // costs Chromium 50-200 ms (software compositing). The finer level follows when stepping pauses (scheduleRefine).
    const level = z !== pos.shown && pos.shown >= 0 && this.requests.has(z, pos.shownLevel) ? pos.shownLevel : this.requests.finestStored(z);
    const pixels = info && level !== undefined && this.requests.get(z, level);
    if (!info || !pixels || level === undefined) return;
    const size = levelSize(info.width, info.height, level);
    const composite = this.channels?.composite ? this.channels : undefined;
    if (!composite) this.contrast.beforePaint(z, level, pixels);
    this.onPaint?.({ z, level, pixels, n: size.width * size.height, window: this.contrast.window }); // per-channel windows
    const t0 = performance.now();
    if (composite) this.image.drawWords((out) => composite.draw(pixels, size.width * size.height, info.dtype, out), level, size.width, size.height);
    else this.image.draw(pixels, info.dtype, this.contrast.window, level, size.width, size.height);
    pushCapped(this.perf.draws, performance.now() - t0);
    pos.shownLevel = level;
    document.body.dataset.shownLevel = String(level);
    document.body.dataset.displayLevel = String(this.displayLevel());
    if (pos.shown < 0) {
      this.dom.loading.hidden = true;
      this.dom.canvas.classList.remove('empty');
    }
    pos.shown = z;
    this.listener?.sliceShown(z);
    document.body.dataset.shownSlice = String(z);
    this.dom.statusSlice.textContent = formatSliceStatus(z, info.depth);
    this.readout.refresh();
    this.timer.painted(level <= this.displayLevel(), inFrame);
    this.host.postMessage({ type: 'sliceShown', z, ...(this.channels ? planeFields(this.channels.readChannel, this.channels.time) : {}) });
    this.state.patch({ z, window: this.contrast.window });
    this.contrast.scheduleHistogram(() => {
      const p = this.shownPixels();
      return p && { z: pos.shown, level: pos.shownLevel, pixels: p };
    });
    this.requests.prefetchDisplay();
  }

  /**
   * The channel, the composite or the time point changed (channelPanel.ts): shows the new plane(s) of the slice,
   * a single channel under its own window `w` (undefined: automatic).
   */
  planeChanged(w: DisplayWindow | undefined): void {
    if (!this.info) return;
    this.contrast.switchImage(w);
    this.pos.shown = -1; // the next paint is of other pixels, whatever the slice
    this.goTo(this.pos.target, undefined);
  }

  /** Repaints the shown slice (a composite's colour or window changed). */
  repaint(): void {
    if (this.pos.shown >= 0) this.schedulePaint();
  }

  /** Before each paint (channelPanel.ts: per-channel windows; the composite's automatic ones are set here). */
  onPaint: ((p: { z: number; level: number; pixels: PixelArray; n: number; window: DisplayWindow }) => void) | undefined;

  private shownPixels(): PixelArray | undefined {
    return this.pos.shown < 0 ? undefined : this.requests.get(this.pos.shown, this.pos.shownLevel);
  }

  // ------------------------------------------------------------ display window

  setWindow(w: DisplayWindow): void {
    this.contrast.set(w);
  }

  autoContrast(): void {
    if (this.channels?.composite) { // every channel's window again, from its own histogram, on the repaint
      this.channels.windows.fill(undefined);
      this.repaint();
      return;
    }
    const pixels = this.shownPixels();
    if (pixels) this.contrast.auto(this.pos.shown, this.pos.shownLevel, pixels);
  }

  /** Reads the min/max inputs (after the user typed in them). */
  windowFromInputs(): void {
    this.contrast.fromInputs();
  }

  /** The window of the pixels the tools read (the fill tolerance): channel 1's in the composite. */
  get displayWindow(): DisplayWindow {
    return (this.channels?.composite && this.channels.windows[0]) || this.contrast.window;
  }

  // ------------------------------------------------------------ view

  private viewChanged(v: View, saved: SavedView | undefined): void {
    this.state.patch({ view: saved });
    this.image.setView(v);
    this.listener?.viewChanged(v);
    const z = formatZoom(v.scale, window.devicePixelRatio || 1);
    this.dom.zoomLabel.textContent = z;
    this.dom.statusZoom.textContent = z;
    if (this.info && this.pos.shown >= 0 && this.displayLevel() < this.pos.shownLevel) this.scheduleRefine();
  }

  wheel(e: WheelEvent, sx: number, sy: number): void {
    const steps = this.zoom.wheel(e, sx, sy);
    if (steps !== 0) this.step(steps);
  }

  // ------------------------------------------------------------ pixel readout

  pointerAt(sx: number, sy: number): void {
    this.readout.pointerAt(sx, sy);
  }

  pointerLeft(): void {
    this.readout.pointerLeft();
  }

  get depth(): number {
    return this.info?.depth ?? 0;
  }

  get currentTarget(): number {
    return this.pos.target;
  }

  get stackInfo(): ViewerStackInfo | undefined {
    return this.info;
  }

  get currentView(): View {
    return this.zoom.view;
  }

  /** Slice on screen, -1 before the first paint. */
  get shownSlice(): number {
    return this.pos.shown;
  }
}
