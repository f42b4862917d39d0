// The viewer's state and behaviour: which slice is shown, the display window, the view transform, and the
// traffic with the host (requests, prefetch). Paints happen in requestAnimationFrame so bursts of key
// repeats cost one paint per frame.
// Streaming (src/core/pyramid.ts): a slice change asks first for a preview level (longer side <= 512 px) and paints
// it; when stepping pauses (REFINE_MS) it asks for the level the zoom needs (level 1, exact, at >= 1:1) and repaints.
// Neighbours are prefetched at the preview level. The pixel readout is exact only from level 1: from a coarser level
// it is marked approximate and moving the mouse fetches level 1 of the shown slice.

import type { DType, PixelArray } from '../src/core/types';
import { displayLevel, levelSize, MAX_LEVEL, previewLevel } from '../src/core/pyramid';
import { DTYPE_ARRAYS, type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/protocol';
import { formatInfo, formatLevel, formatPixelStatus, formatSliceStatus, formatZoom, isFloat } from './format';
import { drawHistogram } from './histogramView';
import { ImageCanvas } from './imageCanvas';
import type { DisplayWindow } from './lut';
import { autoWindow, computeHistogram, type Histogram } from './stats';
import { clampSlice, levelKey, nextPrefetch, prefetchAhead, prefetchPlan, prefetchSlots, SliceStore } from './sliceStore';
import { showError, type ViewerDom } from './ui';
import { fitView, imagePixelAt, oneToOneView, pan, wheelSliceSteps, wheelZoomFactor, zoomAbout, type View } from './zoom';

export interface HostChannel {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Saved with setState so a webview that was hidden and restored comes back on the same slice and window. */
interface SavedState {
  z?: number;
  window?: DisplayWindow;
}

export interface PerfProbe {
  /** ms from a slice-changing keydown to the end of the frame that painted the new slice. */
  switches: number[];
  /** Key-triggered slice changes overtaken by the next key before their slice was painted. */
  superseded: number;
  /** ms from asking the host for a slice to receiving it (transfer + decode on the host). */
  fetches: number[];
  /** ms spent in each slice paint (window/level pass + putImageData), to tell drawing from compositing. */
  draws: number[];
  /** ms from a slice-changing keydown to the end of the frame that painted it at the display level (or finer). */
  refined: number[];
}

/** Stepping pause after which the shown slice is refined from the preview level to the display level. */
export const REFINE_MS = 250;
/** Pointer rest after which a readout from a coarse level fetches the exact (level 1) slice. */
const EXACT_READOUT_MS = 200;

const CACHE_BYTES = 256 * 1024 * 1024;
/** Slices prefetched on the side the user comes from (they may turn back; those are usually stored anyway). */
const PREFETCH_BEHIND = 2;

/** Observers of the view (the annotation layer follows zoom/pan and slice changes). */
export interface ViewerListener {
  viewChanged(v: View): void;
  sliceShown(z: number): void;
}

export class ViewerController {
  private info: ViewerStackInfo | undefined;
  private readonly store = new SliceStore(CACHE_BYTES);
  private readonly image: ImageCanvas;
  /** Slice the user asked for (may not be painted yet). */
  private target = 0;
  /** Slice on screen, or -1 before the first paint, and its resolution level. */
  private shown = -1;
  private shownLevel = 1;
  /** keydown time of the slice change waiting for its display-level frame (perf probe `refined`). */
  private pendingRefineKeyTime: number | undefined;
  private refineTimer: ReturnType<typeof setTimeout> | undefined;
  private exactTimer: ReturnType<typeof setTimeout> | undefined;
  /** Level the automatic first window was computed from; a finer level recomputes it (until the user sets one). */
  private autoWindowLevel: number | undefined;
  private lastStep = 0;
  private window: DisplayWindow = { min: 0, max: 1 };
  private windowSet = false;
  private view: View = { scale: 1, tx: 0, ty: 0 };
  private userMovedView = false;
  private paintScheduled = false;
  /** keydown time of the slice change waiting to be painted, for the perf probe. */
  private pendingKeyTime: number | undefined;
  private histogram: { z: number; level: number; h: Histogram } | undefined;
  private histogramTimer: ReturnType<typeof setTimeout> | undefined;
  private wheelRest = 0;
  private lastPointer: { x: number; y: number } | undefined;
  listener: ViewerListener | undefined;

  constructor(private readonly dom: ViewerDom, private readonly host: HostChannel, private readonly perf: PerfProbe) {
    this.image = new ImageCanvas(dom.canvas);
  }

  // ------------------------------------------------------------ messages from the host

  handleMessage(msg: HostToWebview): void {
    switch (msg.type) {
      case 'init': return this.onInit(msg.info, msg.initialSlice);
      case 'slice': return this.onSlice(msg.z, msg.dtype, msg.width, msg.height, msg.data, msg.level ?? 1);
      case 'error': return showError(this.dom, msg.message);
      case 'sliceError':
        for (let f = 1; f <= MAX_LEVEL; f *= 2) this.store.inflight.delete(levelKey(msg.z, f));
        if (msg.z === this.target) showError(this.dom, msg.message);
        else this.prefetch();
        return;
      case 'sliceSkipped':
        // The host dropped it (we had moved on): forget the request; ask again if it is still needed.
        this.store.inflight.delete(levelKey(msg.z, msg.level));
        if (msg.z === this.target) {
          this.ensure(msg.z, this.coarseLevel(), 'show');
          this.scheduleRefine();
        }
        this.prefetch();
        return;
      case 'goToSlice': return this.goTo(msg.z, undefined);
    }
  }

  private onInit(info: ViewerStackInfo, initialSlice: number): void {
    this.info = info;
    const saved = (this.host.getState() ?? {}) as SavedState;
    // The window the webview had before it was hidden or reloaded; shown in the min/max boxes too.
    if (saved.window) this.setWindow(saved.window, false);
    const d = this.dom;
    d.sliceSlider.max = String(info.depth);
    d.sliceInput.max = String(info.depth);
    d.sliceTotal.textContent = `/ ${info.depth}`;
    d.statusInfo.textContent = formatInfo(info);
    d.statusSlice.textContent = formatSliceStatus(clampSlice(saved.z ?? initialSlice, info.depth), info.depth);
    const step = isFloat(info.dtype) ? 'any' : '1';
    d.levelMin.step = step;
    d.levelMax.step = step;
    d.root.classList.toggle('single-slice', info.depth <= 1);
    this.image.setSize(info.width, info.height);
    this.fit();
    this.goTo(saved.z ?? initialSlice, undefined);
  }

  private onSlice(z: number, dtype: DType, width: number, height: number, data: ArrayBuffer, level: number): void {
    const info = this.info;
    if (!info || dtype !== info.dtype) return;
    const size = levelSize(info.width, info.height, level);
    if (width !== size.width || height !== size.height) return;
    const Ctor = DTYPE_ARRAYS[dtype];
    if (!(data instanceof ArrayBuffer) || data.byteLength !== width * height * Ctor.BYTES_PER_ELEMENT) return;
    const key = levelKey(z, level);
    const asked = this.store.inflight.get(key);
    if (asked) pushCapped(this.perf.fetches, performance.now() - asked.since);
    this.store.put(key, new Ctor(data), levelKey(this.shown, this.shownLevel));
    if (z === this.target && (this.shown !== z || level < this.shownLevel)) this.schedulePaint();
    this.prefetch();
  }

  /** Label view: draw values through a colour table instead of the gray window (undefined: back to gray). */
  setPalette(table: Uint32Array | undefined): void {
    this.image.setPalette(table);
    if (this.shown >= 0) this.schedulePaint();
  }

  // ------------------------------------------------------------ resolution levels

  /** Finest level of slice z in the store, or undefined. */
  private finestStored(z: number): number | undefined {
    for (let f = 1; f <= MAX_LEVEL; f *= 2) if (this.store.has(levelKey(z, f))) return f;
    return undefined;
  }

  /** Level the current zoom needs: one level pixel per device pixel at most; 1 (exact) at >= 1:1. */
  private displayLevel(): number {
    return displayLevel(this.view.scale * (window.devicePixelRatio || 1));
  }

  /** Level painted first on a slice change: the preview level, or the display level when that is coarser. */
  private coarseLevel(): number {
    const info = this.info!;
    return Math.max(previewLevel(info.width, info.height), this.displayLevel());
  }

  /** Asks for level `level` of z unless it (or a finer level) is stored or it is already asked with this priority. */
  private ensure(z: number, level: number, priority: 'show' | 'prefetch'): void {
    const finest = this.finestStored(z);
    if (finest !== undefined && finest <= level) return;
    const asked = this.store.inflight.get(levelKey(z, level));
    if (asked && (asked.priority === 'show' || priority === 'prefetch')) return;
    this.request(z, priority, level);
  }

  /** After stepping pauses (or the zoom changed), brings the target slice to the display level. */
  private scheduleRefine(): void {
    clearTimeout(this.refineTimer);
    this.refineTimer = setTimeout(() => {
      if (!this.info) return;
      this.ensure(this.target, this.displayLevel(), 'show');
      // A finer level stored while stepping was not painted then (see paint): now it is.
      if (this.shown === this.target && (this.finestStored(this.target) ?? Infinity) < this.shownLevel) this.schedulePaint();
    }, REFINE_MS);
  }

  // ------------------------------------------------------------ slices

  /** Moves to slice z. `keyTime` is the keydown timestamp when a key caused it (perf probe). */
  goTo(z: number, keyTime: number | undefined): void {
    const info = this.info;
    if (!info) return;
    const next = clampSlice(z, info.depth);
    this.lastStep = next - this.target || this.lastStep;
    this.target = next;
    if (keyTime !== undefined && this.pendingKeyTime !== undefined) this.perf.superseded++;
    this.pendingKeyTime = next === this.shown ? undefined : keyTime ?? this.pendingKeyTime;
    this.dom.sliceSlider.value = String(next + 1);
    if (document.activeElement !== this.dom.sliceInput) this.dom.sliceInput.value = String(next + 1);
    if (keyTime !== undefined || next !== this.shown) this.pendingRefineKeyTime = next === this.shown ? undefined : keyTime;
    if (this.finestStored(next) !== undefined) this.schedulePaint(keyTime !== undefined);
    this.ensure(next, this.coarseLevel(), 'show');
    this.scheduleRefine();
    this.prefetch();
  }

  /** Asks for the next neighbours of the target slice (coarse level), up to the in-flight budget. */
  private prefetch(): void {
    const info = this.info;
    if (!info) return;
    const level = this.coarseLevel();
    const size = levelSize(info.width, info.height, level);
    const levelBytes = size.width * size.height * DTYPE_ARRAYS[info.dtype].BYTES_PER_ELEMENT;
    const plan = prefetchPlan(this.target, this.lastStep, info.depth, prefetchAhead(levelBytes), PREFETCH_BEHIND);
    const covered = (z: number) => (this.finestStored(z) ?? Infinity) <= level;
    const slots = prefetchSlots(levelBytes);
    for (let z = nextPrefetch(plan, this.store, performance.now(), (k) => levelKey(k, level), covered, slots); z !== undefined;
      z = nextPrefetch(plan, this.store, performance.now(), (k) => levelKey(k, level), covered, slots)) {
      this.request(z, 'prefetch', level);
    }
  }

  step(delta: number, keyTime?: number): void {
    this.goTo(this.target + delta, keyTime);
  }

  private request(z: number, priority: 'show' | 'prefetch', level: number): void {
    const key = levelKey(z, level);
    const since = this.store.inflight.get(key)?.since ?? performance.now();
    this.store.inflight.set(key, { priority, since });
    this.host.postMessage({ type: 'requestSlice', z, priority, level });
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
    const z = this.target;
    // A slice change keeps the level on the canvas when it is stored: a canvas of another size is reallocated, which
    // costs Chromium 50-200 ms (software compositing). The finer level follows when stepping pauses (scheduleRefine).
    const level = z !== this.shown && this.shown >= 0 && this.store.has(levelKey(z, this.shownLevel)) ? this.shownLevel : this.finestStored(z);
    const pixels = info && level !== undefined && this.store.get(levelKey(z, level));
    if (!info || !pixels || level === undefined) return;
    if (!this.windowSet || (this.autoWindowLevel !== undefined && level < this.autoWindowLevel)) {
      // First slice: auto-contrast before the first paint (again when a finer level of it comes), then keep the
      // window while stepping (like ImageJ), so brightness does not jump from slice to slice.
      this.setWindow(autoWindow(this.histogramOf(z, level, pixels)), false);
      this.autoWindowLevel = level;
    }
    const size = levelSize(info.width, info.height, level);
    const t0 = performance.now();
    this.image.draw(pixels, info.dtype, this.window, level, size.width, size.height);
    pushCapped(this.perf.draws, performance.now() - t0);
    this.shownLevel = level;
    document.body.dataset.shownLevel = String(level);
    document.body.dataset.displayLevel = String(this.displayLevel());
    if (this.shown < 0) {
      this.dom.loading.hidden = true;
      this.dom.canvas.classList.remove('empty');
    }
    this.shown = z;
    this.listener?.sliceShown(z);
    document.body.dataset.shownSlice = String(z);
    this.dom.statusSlice.textContent = formatSliceStatus(z, info.depth);
    this.refreshPixelStatus();
    const keyTime = this.pendingKeyTime;
    this.pendingKeyTime = undefined;
    // A task queued from a rAF callback runs after that frame is painted: the frame that shows this draw.
    const afterFrame = (series: number[], since: number) => {
      const record = () => setTimeout(() => pushCapped(series, performance.now() - since), 0);
      if (inFrame) record();
      else requestAnimationFrame(record);
    };
    if (keyTime !== undefined) afterFrame(this.perf.switches, keyTime);
    const refineKeyTime = this.pendingRefineKeyTime;
    if (refineKeyTime !== undefined && level <= this.displayLevel()) {
      this.pendingRefineKeyTime = undefined;
      afterFrame(this.perf.refined, refineKeyTime);
    }
    this.host.postMessage({ type: 'sliceShown', z });
    this.host.setState({ z, window: this.window } satisfies SavedState);
    this.scheduleHistogram();
  }

  /** Histogram of the finest level of z at hand (a coarse level's block means: close, a little narrower). */
  private histogramOf(z: number, level: number, pixels: PixelArray): Histogram {
    if (this.histogram?.z !== z || this.histogram.level !== level) this.histogram = { z, level, h: computeHistogram(pixels, this.info!.dtype) };
    return this.histogram.h;
  }

  private shownPixels(): PixelArray | undefined {
    return this.shown < 0 ? undefined : this.store.get(levelKey(this.shown, this.shownLevel));
  }

  /** The histogram costs a pass over the slice: do it when stepping pauses, not on every key repeat. */
  private scheduleHistogram(): void {
    clearTimeout(this.histogramTimer);
    this.histogramTimer = setTimeout(() => {
      const pixels = this.shownPixels();
      if (pixels) drawHistogram(this.dom.histogram, this.histogramOf(this.shown, this.shownLevel, pixels), this.window);
    }, 80);
  }

  // ------------------------------------------------------------ display window

  setWindow(w: DisplayWindow, repaint = true): void {
    if (!Number.isFinite(w.min) || !Number.isFinite(w.max)) return;
    if (repaint) this.autoWindowLevel = undefined; // the user's (or auto-contrast's) window stays
    this.window = { min: Math.min(w.min, w.max), max: Math.max(w.min, w.max) };
    this.windowSet = true;
    const dtype = this.info?.dtype ?? 'float32';
    this.dom.levelMin.value = formatLevel(this.window.min, dtype);
    this.dom.levelMax.value = formatLevel(this.window.max, dtype);
    if (repaint && this.shown >= 0) {
      this.schedulePaint();
    }
  }

  autoContrast(): void {
    const pixels = this.shownPixels();
    if (pixels) this.setWindow(autoWindow(this.histogramOf(this.shown, this.shownLevel, pixels)));
  }

  /** Reads the min/max inputs (after the user typed in them). */
  windowFromInputs(): void {
    const min = Number(this.dom.levelMin.value);
    const max = Number(this.dom.levelMax.value);
    if (this.dom.levelMin.value.trim() === '' || this.dom.levelMax.value.trim() === '' || !Number.isFinite(min) || !Number.isFinite(max)) {
      this.setWindow(this.window, false); // put the last good values back
      return;
    }
    this.setWindow({ min, max });
  }

  // ------------------------------------------------------------ view

  private viewportSize(): { w: number; h: number } {
    return { w: this.dom.viewport.clientWidth, h: this.dom.viewport.clientHeight };
  }

  private setView(v: View): void {
    this.view = v;
    this.image.setView(v);
    this.listener?.viewChanged(v);
    const z = formatZoom(v.scale, window.devicePixelRatio || 1);
    this.dom.zoomLabel.textContent = z;
    this.dom.statusZoom.textContent = z;
    if (this.info && this.shown >= 0 && this.displayLevel() < this.shownLevel) this.scheduleRefine();
  }

  fit(): void {
    if (!this.info) return;
    const { w, h } = this.viewportSize();
    this.userMovedView = false;
    this.setView(fitView(this.info.width, this.info.height, w, h));
  }

  oneToOne(): void {
    if (!this.info) return;
    const { w, h } = this.viewportSize();
    this.userMovedView = true;
    this.setView(oneToOneView(this.info.width, this.info.height, w, h, window.devicePixelRatio || 1, this.view));
  }

  /** Keeps a fitted image fitted when the editor is resized; a zoomed/panned view stays where the user put it. */
  onResize(): void {
    if (!this.userMovedView) this.fit();
  }

  zoomAt(factor: number, sx: number, sy: number): void {
    this.userMovedView = true;
    this.setView(zoomAbout(this.view, factor, sx, sy));
  }

  panBy(dx: number, dy: number): void {
    this.userMovedView = true;
    this.setView(pan(this.view, dx, dy));
  }

  wheel(e: WheelEvent, sx: number, sy: number): void {
    if (e.ctrlKey || e.metaKey) {
      this.zoomAt(wheelZoomFactor(e.deltaY, e.deltaMode), sx, sy);
      return;
    }
    const { steps, rest } = wheelSliceSteps(this.wheelRest, e.deltaY, e.deltaMode);
    this.wheelRest = rest;
    if (steps !== 0) this.step(steps);
  }

  // ------------------------------------------------------------ pixel readout

  pointerAt(sx: number, sy: number): void {
    this.lastPointer = { x: sx, y: sy };
    this.refreshPixelStatus();
    if (this.shownLevel > 1 && this.shown >= 0) {
      // The readout from a coarse level is approximate: fetch the exact slice once the pointer rests.
      clearTimeout(this.exactTimer);
      this.exactTimer = setTimeout(() => { if (this.shown >= 0 && this.lastPointer) this.ensure(this.shown, 1, 'show'); }, EXACT_READOUT_MS);
    }
  }

  pointerLeft(): void {
    this.lastPointer = undefined;
    this.dom.statusPixel.textContent = '';
  }

  private refreshPixelStatus(): void {
    const info = this.info;
    const p = this.lastPointer;
    if (!info || !p) return;
    const px = imagePixelAt(this.view, p.x, p.y, info.width, info.height);
    const pixels = this.shownPixels();
    if (!px || !pixels) {
      this.dom.statusPixel.textContent = '';
      return;
    }
    const f = this.shownLevel;
    const levelWidth = levelSize(info.width, info.height, f).width;
    const value = pixels[Math.floor(px.y / f) * levelWidth + Math.floor(px.x / f)];
    this.dom.statusPixel.textContent = formatPixelStatus(px.x, px.y, value, info.dtype, f);
  }

  get depth(): number {
    return this.info?.depth ?? 0;
  }

  get currentTarget(): number {
    return this.target;
  }

  get stackInfo(): ViewerStackInfo | undefined {
    return this.info;
  }

  get currentView(): View {
    return this.view;
  }

  /** Slice on screen, -1 before the first paint. */
  get shownSlice(): number {
    return this.shown;
  }
}

/** Appends to a perf series, keeping the last 1000 values so a long session does not grow without bound. */
function pushCapped(series: number[], value: number): void {
  series.push(value);
  if (series.length > 1000) series.splice(0, series.length - 1000);
}
