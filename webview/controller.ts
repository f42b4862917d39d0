// The viewer's state and behaviour: which slice is shown, the display window, the view transform, and the
// traffic with the host (requests, prefetch). Paints happen in requestAnimationFrame so bursts of key
// repeats cost one paint per frame.

import type { DType, PixelArray } from '../src/core/types';
import { DTYPE_ARRAYS, type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/protocol';
import { formatInfo, formatLevel, formatPixelStatus, formatSliceStatus, formatZoom, isFloat } from './format';
import { drawHistogram } from './histogramView';
import { ImageCanvas } from './imageCanvas';
import type { DisplayWindow } from './lut';
import { autoWindow, computeHistogram, type Histogram } from './stats';
import { clampSlice, nextPrefetch, prefetchPlan, SliceStore } from './sliceStore';
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
}

const CACHE_BYTES = 256 * 1024 * 1024;

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
  /** Slice on screen, or -1 before the first paint. */
  private shown = -1;
  private lastStep = 0;
  private window: DisplayWindow = { min: 0, max: 1 };
  private windowSet = false;
  private view: View = { scale: 1, tx: 0, ty: 0 };
  private userMovedView = false;
  private paintScheduled = false;
  /** keydown time of the slice change waiting to be painted, for the perf probe. */
  private pendingKeyTime: number | undefined;
  private histogram: { z: number; h: Histogram } | undefined;
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
      case 'slice': return this.onSlice(msg.z, msg.dtype, msg.width, msg.height, msg.data);
      case 'error': return showError(this.dom, msg.message);
      case 'sliceError':
        this.store.inflight.delete(msg.z);
        if (msg.z === this.target) showError(this.dom, msg.message);
        else this.prefetch();
        return;
      case 'goToSlice': return this.goTo(msg.z, undefined);
    }
  }

  private onInit(info: ViewerStackInfo, initialSlice: number): void {
    this.info = info;
    const saved = (this.host.getState() ?? {}) as SavedState;
    if (saved.window && Number.isFinite(saved.window.min) && Number.isFinite(saved.window.max)) {
      this.window = saved.window;
      this.windowSet = true;
    }
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

  private onSlice(z: number, dtype: DType, width: number, height: number, data: ArrayBuffer): void {
    const info = this.info;
    if (!info || width !== info.width || height !== info.height || dtype !== info.dtype) return;
    const Ctor = DTYPE_ARRAYS[dtype];
    if (!(data instanceof ArrayBuffer) || data.byteLength !== width * height * Ctor.BYTES_PER_ELEMENT) return;
    const asked = this.store.inflight.get(z);
    if (asked) pushCapped(this.perf.fetches, performance.now() - asked.since);
    this.store.put(z, new Ctor(data), this.shown);
    if (z === this.target && this.shown !== z) this.schedulePaint();
    this.prefetch();
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
    if (this.store.has(next)) this.schedulePaint(keyTime !== undefined);
    else if (this.store.inflight.get(next)?.priority !== 'show') this.request(next, 'show');
    this.prefetch();
  }

  /** Asks for the next neighbour of the target slice, within the in-flight budget. */
  private prefetch(): void {
    if (!this.info) return;
    const z = nextPrefetch(prefetchPlan(this.target, this.lastStep, this.info.depth), this.store, performance.now());
    if (z !== undefined) this.request(z, 'prefetch');
  }

  step(delta: number, keyTime?: number): void {
    this.goTo(this.target + delta, keyTime);
  }

  private request(z: number, priority: 'show' | 'prefetch'): void {
    const since = this.store.inflight.get(z)?.since ?? performance.now();
    this.store.inflight.set(z, { priority, since });
    this.host.postMessage({ type: 'requestSlice', z, priority });
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
    const pixels = info && this.store.get(z);
    if (!info || !pixels) return;
    if (!this.windowSet) {
      // First slice: auto-contrast before the first paint, then keep the window while stepping (like ImageJ),
      // so brightness does not jump from slice to slice.
      this.setWindow(autoWindow(this.histogramOf(z, pixels)), false);
    }
    const t0 = performance.now();
    this.image.draw(pixels, info.dtype, this.window);
    pushCapped(this.perf.draws, performance.now() - t0);
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
    if (keyTime !== undefined) {
      // A task queued from a rAF callback runs after that frame is painted: the frame that shows this draw.
      const record = () => setTimeout(() => pushCapped(this.perf.switches, performance.now() - keyTime), 0);
      if (inFrame) record();
      else requestAnimationFrame(record);
    }
    this.host.postMessage({ type: 'sliceShown', z });
    this.host.setState({ z, window: this.window } satisfies SavedState);
    this.scheduleHistogram();
  }

  private histogramOf(z: number, pixels: PixelArray): Histogram {
    if (this.histogram?.z !== z) this.histogram = { z, h: computeHistogram(pixels, this.info!.dtype) };
    return this.histogram.h;
  }

  /** The histogram costs a pass over the slice: do it when stepping pauses, not on every key repeat. */
  private scheduleHistogram(): void {
    clearTimeout(this.histogramTimer);
    this.histogramTimer = setTimeout(() => {
      const pixels = this.store.get(this.shown);
      if (pixels) drawHistogram(this.dom.histogram, this.histogramOf(this.shown, pixels), this.window);
    }, 80);
  }

  // ------------------------------------------------------------ display window

  setWindow(w: DisplayWindow, repaint = true): void {
    if (!Number.isFinite(w.min) || !Number.isFinite(w.max)) return;
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
    const pixels = this.store.get(this.shown);
    if (pixels) this.setWindow(autoWindow(this.histogramOf(this.shown, pixels)));
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
    const pixels = this.store.get(this.shown);
    if (!px || !pixels) {
      this.dom.statusPixel.textContent = '';
      return;
    }
    this.dom.statusPixel.textContent = formatPixelStatus(px.x, px.y, pixels[px.y * info.width + px.x], info.dtype);
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
