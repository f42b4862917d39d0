// What the viewer asks of the host and keeps: the slice store (webview/sliceStore.ts), requests by resolution level,
// the prefetch of neighbours (coarse level) and of the display level, the link the host measured, the exact-readout
// boxes, and the fill tool's wait for full-resolution pixels. webview/controller.ts decides what is shown and when.

import { levelKey } from '../src/shared/levels/levelKey';
import { boxAround, inBox, type Box } from '../src/shared/pixelBox';
import { type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/shared/protocol';
import { PIXEL_ARRAYS } from '../src/shared/types';
import { levelSize, MAX_LEVEL, previewLevel } from '../src/shared/pyramid';
import type { PixelArray } from '../src/shared/types';
import { planeFields, type ChannelView } from './channels';
import { pushCapped, type PerfProbe } from './perf';
import { displayAhead, displayPrefetchInFlight, displayPrefetchPlan, nextPrefetch, prefetchAhead, prefetchPlan, prefetchSlots, SliceStore } from './sliceStore';

export interface HostChannel {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Where the viewer stands; the controller moves it, the requests follow it. */
export interface SlicePosition {
  /** Slice the user asked for (may not be painted yet). */
  target: number;
  /** Slice on screen, or -1 before the first paint, and its resolution level. */
  shown: number;
  shownLevel: number;
  /** Signed size of the last move: the direction prefetches go. */
  lastStep: number;
  /** Stepping paused on the target (the refine timer fired since the last move): display levels may be prefetched. */
  dwelling: boolean;
}

/** What the requests read from the controller. */
export interface RequestAccess {
  info(): ViewerStackInfo | undefined;
  channels(): ChannelView | undefined;
  /** Level the current zoom needs: one level pixel per device pixel at most; 1 (exact) at >= 1:1. */
  displayLevel(): number;
}

const CACHE_BYTES = 256 * 1024 * 1024;
/** Time a first frame may take to cross the measured link (ms), so key -> first frame stays near 100 ms. */
const FIRST_FRAME_MS = 60;
/** Slices prefetched on the side the user comes from (they may turn back; those are usually stored anyway). */
const PREFETCH_BEHIND = 2;
/** Exact readout boxes kept (each 64 x 64 pixels at most). */
const EXACT_BOXES = 16;

export class SliceRequests {
  private readonly store = new SliceStore(CACHE_BYTES);
  /** The link to the host as it measures it (bytes per second, packed/raw ratio); undefined: not known yet. */
  private link: { bytesPerSecond: number; ratio: number } | undefined;
  private linkHint: HTMLElement | undefined;
  /** Waiting for the exact (level 1) pixels of a slice (the fill tool reads them). */
  private exactWaiters: { z: number; resolve: (p: PixelArray | undefined) => void }[] = [];
  /** Boxes of full-resolution pixels the host sent for the readout, newest first (store key of level 1 of the plane). */
  private exactBoxes: { key: number; box: Box; pixels: PixelArray }[] = [];

  constructor(
    private readonly host: HostChannel, private readonly perf: PerfProbe, private readonly statusZoom: HTMLElement,
    private readonly pos: SlicePosition, private readonly viewer: RequestAccess,
  ) {}

  /** Store key of level `level` of slice z as shown now (one channel, or the composite, at the time point shown). */
  key(z: number, level: number): number {
    const channels = this.viewer.channels();
    return channels ? channels.key(z, level) : levelKey(z, level);
  }

  /** Store key a host answer for plane (c, t) counts toward. */
  private keyOf(z: number, level: number, c: number, t: number): number {
    const channels = this.viewer.channels();
    return channels ? channels.keyOf(z, level, c, t) : levelKey(z, level);
  }

  has(z: number, level: number): boolean {
    return this.store.has(this.key(z, level));
  }

  get(z: number, level: number): PixelArray | undefined {
    return this.store.get(this.key(z, level));
  }

  /** Forgets the request for level `level` (undefined: every level) of slice z of plane (c, t): asked again if needed. */
  forget(z: number, level: number | undefined, c = 0, t = 0): void {
    if (level !== undefined) this.store.inflight.delete(this.keyOf(z, level, c, t));
    else for (let f = 1; f <= MAX_LEVEL; f *= 2) this.store.inflight.delete(this.keyOf(z, f, c, t));
  }

  /**
   * Stores a level that arrived. Returns undefined while a composite waits for its other channels
   * (webview/channels.ts), else whether it is of the plane shown (not another one, kept for switching back).
   */
  accept(z: number, level: number, c: number, t: number, pixels: PixelArray): boolean | undefined {
    const channels = this.viewer.channels();
    const stored = channels ? channels.accept(z, level, c, t, pixels) : { key: levelKey(z, level), pixels };
    if (!stored) return undefined;
    const key = stored.key;
    const asked = this.store.inflight.get(key);
    if (asked) pushCapped(this.perf.fetches, performance.now() - asked.since);
    this.store.put(key, stored.pixels, this.key(this.pos.shown, this.pos.shownLevel));
    if (key !== this.key(z, level)) return false;
    if (level === 1) this.resolveExact(z);
    return true;
  }

  // ------------------------------------------------------------ resolution levels

  /** Finest level of slice z in the store, or undefined. */
  finestStored(z: number): number | undefined {
    for (let f = 1; f <= MAX_LEVEL; f *= 2) if (this.store.has(this.key(z, f))) return f;
    return undefined;
  }

  /** Level painted first on a slice change: the preview level, or the display level when that is coarser. */
  coarseLevel(): number {
    const info = this.viewer.info()!;
    return Math.max(previewLevel(info.width, info.height), this.viewer.displayLevel(), this.linkLevel());
  }

  /**
   * Coarsest level the link allows for a first frame: the finest whose packed bytes cross the measured link within
   * FIRST_FRAME_MS (over Remote-SSH at 20 Mbit/s that is 256 x 256 of a 2048 x 2048 uint16 slice); 1 while unknown.
   */
  private linkLevel(): number {
    const info = this.viewer.info();
    if (!info || !this.link) return 1;
    const bytesPerPixel = PIXEL_ARRAYS[info.dtype].BYTES_PER_ELEMENT;
    const budget = (this.link.bytesPerSecond * FIRST_FRAME_MS) / 1000;
    let f = 1;
    for (; f < MAX_LEVEL; f *= 2) {
      const s = levelSize(info.width, info.height, f);
      if ((s.width * s.height * bytesPerPixel) / this.link.ratio <= budget) break;
    }
    return f;
  }

  /** The host measured the link: first frames follow it, and the status bar says when it is slow. */
  onLink(bytesPerSecond: number, slow: boolean, ratio: number): void {
    if (!(bytesPerSecond > 0)) return;
    this.link = { bytesPerSecond, ratio: ratio >= 1 ? ratio : 1 };
    if (!this.linkHint) {
      this.linkHint = document.createElement('span');
      this.linkHint.dataset.testid = 'status-link';
      this.linkHint.className = 'muted';
      this.statusZoom.before(this.linkHint);
    }
    const mb = bytesPerSecond / 1e6;
    this.linkHint.hidden = !slow;
    this.linkHint.textContent = slow ? `Slow link ${mb < 1 ? mb.toFixed(2) : mb.toFixed(1)} MB/s: coarse first` : '';
    this.linkHint.title = slow ? 'The connection to the extension host is slow (Remote-SSH?): each slice shows a coarse level first, then refines. Painting is not affected.' : '';
    document.body.dataset.linkSlow = String(slow);
  }

  // ------------------------------------------------------------ requests and prefetch

  /** Asks for level `level` of z unless it (or a finer level) is stored or it is already asked with this priority. */
  ensure(z: number, level: number, priority: 'show' | 'prefetch'): void {
    const finest = this.finestStored(z);
    if (finest !== undefined && finest <= level) return;
    const asked = this.store.inflight.get(this.key(z, level));
    if (asked && (asked.priority === 'show' || priority === 'prefetch')) return;
    this.request(z, priority, level);
  }

  /**
   * Brings the display level of the next slices in the direction of travel (then the one behind), one at a time,
   * once the user rests on a slice (the refine timer fired) or sees refined frames (the target is shown at the
   * display level): stepping on then shows the refined frame at once. Over a slow link a display level takes most
   * of a second (about 1 MB for a 2048² CT slice at level 2, 20 Mbit/s); asked with the shown slice's refine, the host
   * (which serves the shown slice first, src/host/sliceQueue.ts) reads the next one while the first crosses the
   * link. Not while stepping faster than that (the target shows a coarse level): previews go first then.
   */
  prefetchDisplay(): void {
    const info = this.viewer.info();
    const pos = this.pos;
    if (!info || pos.shown !== pos.target) return;
    const level = this.viewer.displayLevel();
    const coarse = this.coarseLevel();
    if (level >= coarse || !(pos.dwelling || pos.shownLevel <= level)) return;
    if (displayPrefetchInFlight(this.store.inflight, coarse, performance.now())) return; // one at a time
    const size = levelSize(info.width, info.height, level);
    const plan = displayPrefetchPlan(pos.target, pos.lastStep, info.depth, displayAhead(size.width * size.height * PIXEL_ARRAYS[info.dtype].BYTES_PER_ELEMENT));
    const z = plan.find((k) => (this.finestStored(k) ?? Infinity) > level && !this.store.inflight.has(this.key(k, level)));
    if (z !== undefined) this.request(z, 'prefetch', level);
  }

  /** Asks for the next neighbours of the target slice (coarse level), up to the in-flight budget. */
  prefetch(): void {
    const info = this.viewer.info();
    if (!info) return;
    const level = this.coarseLevel();
    const size = levelSize(info.width, info.height, level);
    const levelBytes = size.width * size.height * PIXEL_ARRAYS[info.dtype].BYTES_PER_ELEMENT;
    const plan = prefetchPlan(this.pos.target, this.pos.lastStep, info.depth, prefetchAhead(levelBytes), PREFETCH_BEHIND);
    const covered = (z: number) => (this.finestStored(z) ?? Infinity) <= level;
    const slots = prefetchSlots(levelBytes);
    for (let z = nextPrefetch(plan, this.store, performance.now(), (k) => this.key(k, level), covered, slots); z !== undefined;
      z = nextPrefetch(plan, this.store, performance.now(), (k) => this.key(k, level), covered, slots)) {
      this.request(z, 'prefetch', level);
    }
    this.prefetchDisplay();
  }

  private request(z: number, priority: 'show' | 'prefetch', level: number): void {
    const key = this.key(z, level);
    const since = this.store.inflight.get(key)?.since ?? performance.now();
    this.store.inflight.set(key, { priority, since });
    for (const plane of this.viewer.channels()?.planesFor(z, level) ?? [{}]) this.host.postMessage({ type: 'requestSlice', z, priority, level, ...plane });
  }

  // ------------------------------------------------------------ exact readout (a box of full-resolution pixels)

  /** Asks the host for the full-resolution box around pixel (x, y) of slice z; a composite reads level 1 instead. */
  fetchPixels(z: number, x: number, y: number): void {
    const info = this.viewer.info();
    if (!info || this.exactAt(z, x, y) !== undefined) return;
    const channels = this.viewer.channels();
    if (channels?.composite) return this.ensure(z, 1, 'show'); // every channel's value: from level 1
    const plane = channels ? planeFields(channels.readChannel, channels.time) : {};
    this.host.postMessage({ type: 'requestPixels', z, ...boxAround(x, y, info.width, info.height), ...plane });
  }

  /** Keeps a box the host sent; false when it does not fit the stack. */
  onPixels(msg: Extract<HostToWebview, { type: 'pixels' }>): boolean {
    const info = this.viewer.info();
    const Ctor = info && PIXEL_ARRAYS[info.dtype];
    if (!info || !Ctor || msg.dtype !== info.dtype || !(msg.data instanceof ArrayBuffer) || msg.data.byteLength !== msg.width * msg.height * Ctor.BYTES_PER_ELEMENT) return false;
    this.exactBoxes.unshift({ key: this.keyOf(msg.z, 1, msg.c ?? 0, msg.t ?? 0), box: { x: msg.x, y: msg.y, width: msg.width, height: msg.height }, pixels: new Ctor(msg.data) });
    this.exactBoxes.length = Math.min(this.exactBoxes.length, EXACT_BOXES);
    return true;
  }

  exactAt(z: number, x: number, y: number): number | undefined {
    const key = this.key(z, 1);
    const hit = this.exactBoxes.find((b) => b.key === key && inBox(b.box, x, y));
    return hit && hit.pixels[(y - hit.box.y) * hit.box.width + (x - hit.box.x)];
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
}
