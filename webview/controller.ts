// The viewer's state and behaviour: which slice is shown, the display window, the view transform, and the
// traffic with the host (requests, prefetch). Paints happen in requestAnimationFrame so bursts of key
// repeats cost one paint per frame.
// Streaming (src/shared/pyramid.ts): a slice change asks first for a preview level (longer side <= 512 px) and paints
// it; when stepping pauses (REFINE_MS) it asks for the level the zoom needs (level 1, exact, at >= 1:1) and repaints.
// Neighbours are prefetched at the preview level. The pixel readout is exact only from level 1: from a coarser level
// it is marked approximate and moving the mouse fetches level 1 of the shown slice.

import type { DType, PixelArray } from '../src/shared/types';
import { displayLevel, levelSize, MAX_LEVEL, previewLevel } from '../src/shared/pyramid';
import { DTYPE_ARRAYS, type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/shared/protocol';
import { ChannelView, planeFields } from './channels';
import { Contrast } from './contrast';
import { formatInfo, formatSliceStatus, formatZoom, isFloat } from './format';
import { ImageCanvas } from './imageCanvas';
import type { DisplayWindow } from './lut';
import { levelKey } from '../src/shared/levels/levelKey';
import { clampSlice, displayPrefetchInFlight, displayPrefetchPlan, nextPrefetch, prefetchAhead, prefetchPlan, prefetchSlots, SliceStore } from './sliceStore';
import { pushCapped, type PerfProbe } from './perf';
import { boxAround, inBox, type Box } from '../src/shared/pixelBox';
import { PixelReadout } from './pixelReadout';
import { showError, type ViewerDom } from './ui';
import type { SavedView, ViewState } from './viewState';
import { ViewTransform } from './viewTransform';
import type { View } from './zoom';

export interface HostChannel {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export type { PerfProbe } from './perf';

/** Stepping pause after which the shown slice is refined from the preview level to the display level. */
export const REFINE_MS = 250;

const CACHE_BYTES = 256 * 1024 * 1024;
/** Time a first frame may take to cross the measured link (ms), so key -> first frame stays near 100 ms. */
const FIRST_FRAME_MS = 60;
/** Slices prefetched on the side the user comes from (they may turn back; those are usually stored anyway). */
const PREFETCH_BEHIND = 2;
/** Slices ahead whose display level is brought while the user rests on a slice (see prefetchDisplay). */
const DISPLAY_AHEAD = 2;
/** Exact readout boxes kept (each 64 x 64 pixels at most). */
const EXACT_BOXES = 16;

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
  /** The link to the host as it measures it (bytes per second, packed/raw ratio); undefined: not known yet. */
  private link: { bytesPerSecond: number; ratio: number } | undefined;
  private linkHint: HTMLElement | undefined;
  /** keydown time of the slice change waiting for its display-level frame (perf probe `refined`). */
  private pendingRefineKeyTime: number | undefined;
  private refineTimer: ReturnType<typeof setTimeout> | undefined;
  /** Stepping paused on the target (the refine timer fired since the last move): display levels may be prefetched. */
  private dwelling = false;
  private lastStep = 0;
  private readonly contrast: Contrast;
  readonly zoom: ViewTransform;
  private paintScheduled = false;
  /** keydown time of the slice change waiting to be painted, for the perf probe. */
  private pendingKeyTime: number | undefined;
  /** Waiting for the exact (level 1) pixels of a slice (the fill tool reads them). */
  private exactWaiters: { z: number; resolve: (p: PixelArray | undefined) => void }[] = [];
  private readonly readout: PixelReadout;
  /** Boxes of full-resolution pixels the host sent for the readout, newest first (store key of level 1 of the plane). */
  private exactBoxes: { key: number; box: Box; pixels: PixelArray }[] = [];
  listener: ViewerListener | undefined;
  /** Channels / time points of a multi-channel stack (webview/channels.ts); undefined for one plane per slice. */
  channels: ChannelView | undefined;
  /** Called once the stack is known, with its channels (the channel panel builds itself). */
  onChannels: ((c: ChannelView) => void) | undefined;

  constructor(private readonly dom: ViewerDom, private readonly host: HostChannel, private readonly perf: PerfProbe, private readonly state: ViewState) {
    this.image = new ImageCanvas(dom.canvas);
    const viewer = this;
    this.zoom = new ViewTransform(dom.viewport, () => this.info, (v, saved) => this.viewChanged(v, saved));
    this.readout = new PixelReadout(dom.statusPixel, {
      get info() { return viewer.info; },
      get view() { return viewer.zoom.view; },
      shown: () => ({ z: this.shown, level: this.shownLevel, pixels: this.shownPixels() }),
      fetchExact: (z, x, y) => this.fetchPixels(z, x, y),
      exactAt: (z, x, y) => this.exactAt(z, x, y),
    });
    this.contrast = new Contrast(dom, () => this.info?.dtype ?? 'float32', () => { if (this.shown >= 0) this.schedulePaint(); });
  }

  // ------------------------------------------------------------ messages from the host

  handleMessage(msg: HostToWebview): void {
    switch (msg.type) {
      case 'init': return this.onInit(msg.info, msg.initialSlice);
      case 'slice': return this.onSlice(msg.z, msg.dtype, msg.width, msg.height, msg.data, msg.level ?? 1, msg.c ?? 0, msg.t ?? 0);
      case 'error': return showError(this.dom, msg.message);
      case 'sliceError':
        for (let f = 1; f <= MAX_LEVEL; f *= 2) this.store.inflight.delete(this.keyOf(msg.z, f, msg.c ?? 0, msg.t ?? 0));
        if (msg.z === this.target) showError(this.dom, msg.message);
        else this.prefetch();
        return;
      case 'sliceSkipped':
        // The host dropped it (we had moved on): forget the request; ask again if it is still needed.
        this.store.inflight.delete(this.keyOf(msg.z, msg.level, msg.c ?? 0, msg.t ?? 0));
        if (msg.z === this.target) {
          this.ensure(msg.z, this.coarseLevel(), 'show');
          this.scheduleRefine();
        }
        this.prefetch();
        return;
      case 'goToSlice': return this.goTo(msg.z, undefined);
      case 'link': return this.onLink(msg.bytesPerSecond, msg.slow, msg.ratio);
      case 'pixels': return this.onPixels(msg);
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
    const Ctor = DTYPE_ARRAYS[dtype];
    if (!(data instanceof ArrayBuffer) || data.byteLength !== width * height * Ctor.BYTES_PER_ELEMENT) return;
    // A channel of a composite waits for the others (webview/channels.ts); then all are stored as one entry.
    const stored = this.channels ? this.channels.accept(z, level, c, t, new Ctor(data)) : { key: levelKey(z, level), pixels: new Ctor(data) };
    if (!stored) return;
    const key = stored.key;
    const asked = this.store.inflight.get(key);
    if (asked) pushCapped(this.perf.fetches, performance.now() - asked.since);
    this.store.put(key, stored.pixels, this.key(this.shown, this.shownLevel));
    if (key === this.key(z, level)) { // else another plane than the one shown (kept for switching back)
      if (level === 1) this.resolveExact(z);
      if (z === this.target && (this.shown !== z || level < this.shownLevel)) this.schedulePaint();
    }
    this.prefetch();
  }

  // ------------------------------------------------------------ exact readout (a box of full-resolution pixels)

  /** Asks the host for the full-resolution box around pixel (x, y) of slice z; a composite reads level 1 instead. */
  private fetchPixels(z: number, x: number, y: number): void {
    const info = this.info;
    if (!info || this.exactAt(z, x, y) !== undefined) return;
    if (this.channels?.composite) return this.ensure(z, 1, 'show'); // every channel's value: from level 1
    const plane = this.channels ? planeFields(this.channels.readChannel, this.channels.time) : {};
    this.host.postMessage({ type: 'requestPixels', z, ...boxAround(x, y, info.width, info.height), ...plane });
  }

  private onPixels(msg: Extract<HostToWebview, { type: 'pixels' }>): void {
    const info = this.info;
    const Ctor = info && DTYPE_ARRAYS[info.dtype];
    if (!info || !Ctor || msg.dtype !== info.dtype || !(msg.data instanceof ArrayBuffer) || msg.data.byteLength !== msg.width * msg.height * Ctor.BYTES_PER_ELEMENT) return;
    this.exactBoxes.unshift({ key: this.keyOf(msg.z, 1, msg.c ?? 0, msg.t ?? 0), box: { x: msg.x, y: msg.y, width: msg.width, height: msg.height }, pixels: new Ctor(msg.data) });
    this.exactBoxes.length = Math.min(this.exactBoxes.length, EXACT_BOXES);
    this.readout.refresh();
  }

  private exactAt(z: number, x: number, y: number): number | undefined {
    const key = this.key(z, 1);
    const hit = this.exactBoxes.find((b) => b.key === key && inBox(b.box, x, y));
    return hit && hit.pixels[(y - hit.box.y) * hit.box.width + (x - hit.box.x)];
  }

  /** Label view: draw values through a colour table instead of the gray window (undefined: back to gray). */
  setPalette(table: Uint32Array | undefined): void {
    this.image.setPalette(table);
    if (this.shown >= 0) this.schedulePaint();
  }

  // ------------------------------------------------------------ resolution levels

  /** Finest level of slice z in the store, or undefined. */
  private finestStored(z: number): number | undefined {
    for (let f = 1; f <= MAX_LEVEL; f *= 2) if (this.store.has(this.key(z, f))) return f;
    return undefined;
  }

  /** Level the current zoom needs: one level pixel per device pixel at most; 1 (exact) at >= 1:1. */
  private displayLevel(): number {
    return displayLevel(this.zoom.view.scale * (window.devicePixelRatio || 1));
  }

  /** Level painted first on a slice change: the preview level, or the display level when that is coarser. */
  private coarseLevel(): number {
    const info = this.info!;
    return Math.max(previewLevel(info.width, info.height), this.displayLevel(), this.linkLevel());
  }

  /**
   * Coarsest level the link allows for a first frame: the finest whose packed bytes cross the measured link within
   * FIRST_FRAME_MS (over Remote-SSH at 20 Mbit/s that is 256 x 256 of a 2048 x 2048 uint16 slice); 1 while unknown.
   */
  private linkLevel(): number {
    const info = this.info;
    if (!info || !this.link) return 1;
    const bytesPerPixel = DTYPE_ARRAYS[info.dtype].BYTES_PER_ELEMENT;
    const budget = (this.link.bytesPerSecond * FIRST_FRAME_MS) / 1000;
    let f = 1;
    for (; f < MAX_LEVEL; f *= 2) {
      const s = levelSize(info.width, info.height, f);
      if ((s.width * s.height * bytesPerPixel) / this.link.ratio <= budget) break;
    }
    return f;
  }

  /** The host measured the link: first frames follow it, and the status bar says when it is slow. */
  private onLink(bytesPerSecond: number, slow: boolean, ratio: number): void {
    if (!(bytesPerSecond > 0)) return;
    this.link = { bytesPerSecond, ratio: ratio >= 1 ? ratio : 1 };
    if (!this.linkHint) {
      this.linkHint = document.createElement('span');
      this.linkHint.dataset.testid = 'status-link';
      this.linkHint.className = 'muted';
      this.dom.statusZoom.before(this.linkHint);
    }
    const mb = bytesPerSecond / 1e6;
    this.linkHint.hidden = !slow;
    this.linkHint.textContent = slow ? `Slow link ${mb < 1 ? mb.toFixed(2) : mb.toFixed(1)} MB/s: coarse first` : '';
    this.linkHint.title = slow ? 'The connection to the extension host is slow (Remote-SSH?): each slice shows a coarse level first, then refines. Painting is not affected.' : '';
    document.body.dataset.linkSlow = String(slow);
  }

  /** Asks for level `level` of z unless it (or a finer level) is stored or it is already asked with this priority. */
  private ensure(z: number, level: number, priority: 'show' | 'prefetch'): void {
    const finest = this.finestStored(z);
    if (finest !== undefined && finest <= level) return;
    const asked = this.store.inflight.get(this.key(z, level));
    if (asked && (asked.priority === 'show' || priority === 'prefetch')) return;
    this.request(z, priority, level);
  }

  /** After stepping pauses (or the zoom changed), brings the target slice to the display level. */
  private scheduleRefine(): void {
    clearTimeout(this.refineTimer);
    this.refineTimer = setTimeout(() => {
      if (!this.info) return;
      this.dwelling = true;
      this.ensure(this.target, this.displayLevel(), 'show');
      // A finer level stored while stepping was not painted then (see paint): now it is.
      if (this.shown === this.target && (this.finestStored(this.target) ?? Infinity) < this.shownLevel) this.schedulePaint();
      this.prefetchDisplay();
    }, REFINE_MS);
  }

  /**
   * Brings the display level of the next slices in the direction of travel (then the one behind), one at a time,
   * once the user rests on a slice (the refine timer fired) or sees refined frames (the target is shown at the
   * display level): stepping on then shows the refined frame at once. Over a slow link a display level takes most
   * of a second (about 1 MB for a 2048² CT slice at level 2, 20 Mbit/s); asked with the shown slice's refine, the host
   * (which serves the shown slice first, src/host/sliceQueue.ts) reads the next one while the first crosses the
   * link. Not while stepping faster than that (the target shows a coarse level): previews go first then.
   */
  private prefetchDisplay(): void {
    const info = this.info;
    if (!info || this.shown !== this.target) return;
    const level = this.displayLevel();
    const coarse = this.coarseLevel();
    if (level >= coarse || !(this.dwelling || this.shownLevel <= level)) return;
    if (displayPrefetchInFlight(this.store.inflight, coarse, performance.now())) return; // one at a time
    const plan = displayPrefetchPlan(this.target, this.lastStep, info.depth, DISPLAY_AHEAD);
    const z = plan.find((k) => (this.finestStored(k) ?? Infinity) > level && !this.store.inflight.has(this.key(k, level)));
    if (z !== undefined) this.request(z, 'prefetch', level);
  }

  // ------------------------------------------------------------ slices

  /** Moves to slice z. `keyTime` is the keydown timestamp when a key caused it (perf probe). */
  goTo(z: number, keyTime: number | undefined): void {
    const info = this.info;
    if (!info) return;
    const next = clampSlice(z, info.depth);
    this.lastStep = next - this.target || this.lastStep;
    if (next !== this.target) this.dwelling = false;
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
    for (let z = nextPrefetch(plan, this.store, performance.now(), (k) => this.key(k, level), covered, slots); z !== undefined;
      z = nextPrefetch(plan, this.store, performance.now(), (k) => this.key(k, level), covered, slots)) {
      this.request(z, 'prefetch', level);
    }
    this.prefetchDisplay();
  }

  step(delta: number, keyTime?: number): void {
    this.goTo(this.target + delta, keyTime);
  }

  private request(z: number, priority: 'show' | 'prefetch', level: number): void {
    const key = this.key(z, level);
    const since = this.store.inflight.get(key)?.since ?? performance.now();
    this.store.inflight.set(key, { priority, since });
    for (const plane of this.channels?.planesFor(z, level) ?? [{}]) this.host.postMessage({ type: 'requestSlice', z, priority, level, ...plane });
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
    const level = z !== this.shown && this.shown >= 0 && this.store.has(this.key(z, this.shownLevel)) ? this.shownLevel : this.finestStored(z);
    const pixels = info && level !== undefined && this.store.get(this.key(z, level));
    if (!info || !pixels || level === undefined) return;
    const size = levelSize(info.width, info.height, level);
    const composite = this.channels?.composite ? this.channels : undefined;
    if (!composite) this.contrast.beforePaint(z, level, pixels);
    this.onPaint?.({ z, level, pixels, n: size.width * size.height, window: this.contrast.window }); // per-channel windows
    const t0 = performance.now();
    if (composite) this.image.drawWords((out) => composite.draw(pixels, size.width * size.height, info.dtype, out), level, size.width, size.height);
    else this.image.draw(pixels, info.dtype, this.contrast.window, level, size.width, size.height);
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
    this.readout.refresh();
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
    this.host.postMessage({ type: 'sliceShown', z, ...(this.channels ? planeFields(this.channels.readChannel, this.channels.time) : {}) });
    this.state.patch({ z, window: this.contrast.window });
    this.contrast.scheduleHistogram(() => {
      const p = this.shownPixels();
      return p && { z: this.shown, level: this.shownLevel, pixels: p };
    });
    this.prefetchDisplay();
  }

  /** Store key of level `level` of slice z as shown now (one channel, or the composite, at the time point shown). */
  private key(z: number, level: number): number {
    return this.channels ? this.channels.key(z, level) : levelKey(z, level);
  }

  /** Store key a host answer for plane (c, t) counts toward. */
  private keyOf(z: number, level: number, c: number, t: number): number {
    return this.channels ? this.channels.keyOf(z, level, c, t) : levelKey(z, level);
  }

  /**
   * The channel, the composite or the time point changed (channelPanel.ts): shows the new plane(s) of the slice,
   * a single channel under its own window `w` (undefined: automatic).
   */
  planeChanged(w: DisplayWindow | undefined): void {
    if (!this.info) return;
    this.contrast.switchImage(w);
    this.shown = -1; // the next paint is of other pixels, whatever the slice
    this.goTo(this.target, undefined);
  }

  /** Repaints the shown slice (a composite's colour or window changed). */
  repaint(): void {
    if (this.shown >= 0) this.schedulePaint();
  }

  /** Before each paint (channelPanel.ts: per-channel windows; the composite's automatic ones are set here). */
  onPaint: ((p: { z: number; level: number; pixels: PixelArray; n: number; window: DisplayWindow }) => void) | undefined;

  private shownPixels(): PixelArray | undefined {
    return this.shown < 0 ? undefined : this.store.get(this.key(this.shown, this.shownLevel));
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
    if (pixels) this.contrast.auto(this.shown, this.shownLevel, pixels);
  }

  /** Reads the min/max inputs (after the user typed in them). */
  windowFromInputs(): void {
    this.contrast.fromInputs();
  }

  /** The window of the pixels the tools read (the fill tolerance): channel 1's in the composite. */
  get displayWindow(): DisplayWindow {
    return (this.channels?.composite && this.channels.windows[0]) || this.contrast.window;
  }

  // ------------------------------------------------------------ exact pixels (fill tool)

  /** Full-resolution pixels of slice z: at once when stored, else asked for (undefined if they do not come in 10 s). */
  exactSlice(z: number): Promise<PixelArray | undefined> {
    const stored = this.store.get(this.key(z, 1));
    if (stored) return Promise.resolve(stored);
    return new Promise((resolve) => {
      const waiter = { z, resolve };
      this.exactWaiters.push(waiter);
      this.ensure(z, 1, 'show');
      setTimeout(() => {
        if (!this.exactWaiters.includes(waiter)) return;
        this.exactWaiters = this.exactWaiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, 10_000);
    });
  }

  private resolveExact(z: number): void {
    const pixels = this.store.get(this.key(z, 1));
    if (!pixels) return;
    const done = this.exactWaiters.filter((w) => w.z === z);
    this.exactWaiters = this.exactWaiters.filter((w) => w.z !== z);
    for (const w of done) w.resolve(pixels);
  }

  // ------------------------------------------------------------ view

  private viewChanged(v: View, saved: SavedView | undefined): void {
    this.state.patch({ view: saved });
    this.image.setView(v);
    this.listener?.viewChanged(v);
    const z = formatZoom(v.scale, window.devicePixelRatio || 1);
    this.dom.zoomLabel.textContent = z;
    this.dom.statusZoom.textContent = z;
    if (this.info && this.shown >= 0 && this.displayLevel() < this.shownLevel) this.scheduleRefine();
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
    return this.target;
  }

  get stackInfo(): ViewerStackInfo | undefined {
    return this.info;
  }

  get currentView(): View {
    return this.zoom.view;
  }

  /** Slice on screen, -1 before the first paint. */
  get shownSlice(): number {
    return this.shown;
  }
}
