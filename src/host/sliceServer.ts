// Serves slice requests from one webview, one read at a time, in the order of sliceQueue.ts: the focus slice's
// preview first, then previews in the direction of travel, then finer levels. A request names a resolution level
// (src/shared/pyramid.ts); a LevelReader (src/core/levels) decodes and reduces it, in the extension a worker thread
// (WorkerLevels) with its own slice and level caches, so only level-sized bytes reach this thread and its event
// loop stays free while the user sweeps through the stack. The queue stays here: it is cheap, and it is where
// requests are deduplicated, reordered and dropped.
// Posted bytes are bounded too: in code-server and over Remote-SSH a posted slice cannot be overtaken, so work waits
// here, where it can still be reordered or dropped, until the connection has drained.
// Imports nothing from vscode so it is unit-tested.

import type { Level, LevelReader } from '../core/levels/levels';
import { levelKey, planeIndex } from '../shared/levels/levelKey';
import { previewLevel } from '../shared/pyramid';
import type { PixelArray } from '../shared/types';
import type { SlicePriority } from '../shared/protocol';
import { LinkMeter, type LinkState } from './linkMeter';
import { moveFocus, pickNext, staleRequests, type Focus, type SliceRequest } from './sliceQueue';

/** Prefetches beyond this are dropped, oldest first (the user has moved on). */
export const MAX_QUEUED_PREFETCH = 16;
/** Bytes posted and not yet acknowledged before the next slice waits (at least one slice is always let through). */
export const MAX_BYTES_IN_FLIGHT = 1.5 * 1024 * 1024;

export interface SliceSink {
  /**
   * `readMs`: time from asking the reader to having the level (decode, reduce, and the worker's round trip); `pixels` is `width` x `height` of `level`
   * and the sink may keep its buffer; `shape.packed`: the same level packed (src/shared/levels/codec.ts), to send instead.
   * Returns when the bytes have left (bounds the bytes in flight, and measures the link).
   */
  slice(z: number, pixels: PixelArray, readMs: number, shape: { level: number; width: number; height: number; c: number; t: number; packed?: Uint8Array }): PromiseLike<unknown> | void;
  error(z: number, error: unknown, plane?: { c: number; t: number }): void;
  /** The measured link changed (see linkMeter.ts). */
  link?(state: LinkState): void;
  /** A queued request was dropped unserved (stale). */
  skipped?(z: number, level: number, plane?: { c: number; t: number }): void;
}

export class SliceServer {
  private readonly queue: SliceRequest[] = [];
  private focusState: Focus = { z: -1, dir: 0 };
  private readonly previewLevel: number;
  /** (z, level) keys being read or posted and not yet acknowledged: asking again would send them twice. */
  private readonly busy = new Set<number>();
  private bytesInFlight = 0;
  private drained: (() => void) | undefined;
  private seq = 0;
  /** Throughput of the link to the webview, from how fast posted slices are acknowledged. */
  readonly meter = new LinkMeter();
  private running = false;
  private disposed = false;

  /** The server owns `levels`: dispose() closes it (terminates its worker). */
  constructor(private readonly levels: LevelReader, private readonly sink: SliceSink, private readonly maxBytesInFlight = MAX_BYTES_IN_FLIGHT) {
    this.previewLevel = previewLevel(levels.info.width, levels.info.height);
  }

  /**
   * `level`: 1 full resolution, or a power of two; `c`, `t`: channel and time point (validated by
   * parseWebviewMessage).
   */
  request(z: number, priority: SlicePriority, level = 1, c = 0, t = 0): void {
    if (this.disposed) return;
    if (priority === 'show') this.focus(z);
    const key = this.keyOf(z, level, c, t);
    if (this.busy.has(key)) return; // on its way
    const queued = this.queue.find((r) => r.z === z && r.level === level && (r.c ?? 0) === c && (r.t ?? 0) === t);
    if (queued) {
      if (priority === 'show') Object.assign(queued, { priority, seq: ++this.seq });
      return;
    }
    this.queue.push({ z, priority, level, seq: ++this.seq, ...(c || t ? { c, t } : {}) });
    const prefetches = this.queue.filter((r) => r.priority === 'prefetch');
    if (prefetches.length > MAX_QUEUED_PREFETCH) this.drop(prefetches.slice(0, prefetches.length - MAX_QUEUED_PREFETCH));
    void this.pump();
  }

  /** The user is on slice z (a `show` request, or the webview painted z): reorders the queue, drops stale work. */
  focus(z: number): void {
    const next = moveFocus(this.focusState, z);
    if (next === this.focusState) return;
    this.focusState = next;
    this.drop(staleRequests(this.queue, next, this.previewLevel));
  }

  /** Indices waiting, in the order they would be served now (for tests). */
  pending(): number[] {
    const copy = [...this.queue];
    const out: number[] = [];
    for (let i = pickNext(copy, this.focusState, this.previewLevel); i >= 0; i = pickNext(copy, this.focusState, this.previewLevel)) {
      out.push(copy.splice(i, 1)[0].z);
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
    void this.levels.close().catch(() => undefined);
    this.drained?.();
  }

  /** Key of (z, level) of channel c at time point t: planes of one slice are read and sent separately. */
  private keyOf(z: number, level: number, c: number, t: number): number {
    return levelKey(z, level, planeIndex(c, t, this.levels.info.channels));
  }

  private drop(requests: SliceRequest[]): void {
    for (const r of requests) {
      const i = this.queue.indexOf(r);
      if (i < 0) continue;
      this.queue.splice(i, 1);
      this.sink.skipped?.(r.z, r.level, { c: r.c ?? 0, t: r.t ?? 0 });
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.disposed && this.queue.length > 0) {
        if (this.bytesInFlight > this.maxBytesInFlight) {
          await new Promise<void>((resolve) => { this.drained = resolve; });
          continue; // the queue and the focus may have changed meanwhile
        }
        const next = this.queue.splice(pickNext(this.queue, this.focusState, this.previewLevel), 1)[0];
        const c = next.c ?? 0, t = next.t ?? 0;
        const key = this.keyOf(next.z, next.level, c, t);
        this.busy.add(key);
        let reduced: Level;
        const t0 = performance.now();
        try {
          // Packed in the reader's worker when it can (the webview unpacks): fewer bytes over the link.
          reduced = await (this.levels.readPacked ? this.levels.readPacked(next.z, next.level, c, t) : this.levels.readLevel(next.z, next.level, c, t));
        } catch (e) {
          this.busy.delete(key);
          if (!this.disposed) this.sink.error(next.z, e, { c, t });
          continue;
        }
        if (this.disposed) break;
        this.send(key, next, reduced, performance.now() - t0);
      }
    } finally {
      this.running = false;
    }
  }

  private send(key: number, r: SliceRequest, reduced: Level, readMs: number): void {
    const bytes = reduced.packed?.byteLength ?? reduced.data.byteLength; // what crosses the link
    this.bytesInFlight += bytes;
    const postedAt = performance.now();
    const acked = () => {
      this.meter.record(bytes, postedAt, performance.now(), reduced.data.byteLength);
      const state = this.meter.change();
      if (state) this.sink.link?.(state);
      done();
    };
    const done = () => {
      this.busy.delete(key);
      this.bytesInFlight -= bytes;
      const wake = this.drained;
      this.drained = undefined;
      wake?.();
    };
    let sent: PromiseLike<unknown> | void;
    try {
      sent = this.sink.slice(r.z, reduced.data, readMs, { level: r.level, width: reduced.width, height: reduced.height, c: r.c ?? 0, t: r.t ?? 0, ...(reduced.packed ? { packed: reduced.packed } : {}) });
    } catch (e) {
      done();
      throw e;
    }
    if (sent) sent.then(acked, done);
    else done();
  }
}

/** The ArrayBuffer holding exactly a typed array's bytes (copied only when the array is a view into a larger buffer). */
export function exactBuffer(pixels: PixelArray): ArrayBuffer {
  const buf = pixels.buffer as ArrayBuffer;
  if (pixels.byteOffset === 0 && pixels.byteLength === buf.byteLength) return buf;
  return buf.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength);
}
