// Serves slice requests from one webview, one decode at a time: the slice the user is waiting for (`show`)
// goes before queued prefetches, and the newest `show` first (older ones are usually already stale).
// A request names a resolution level (src/core/pyramid.ts): the full slice is decoded (the source caches it) and
// reduced by block mean here, so only level-sized bytes cross to the webview. Imports nothing from vscode so it is
// unit-tested.

import { downsampleMean } from '../core/pyramid';
import type { PixelArray, SliceSource } from '../core/types';
import type { SlicePriority } from '../protocol';

/** Prefetches beyond this are dropped, oldest first (the user has moved on). */
export const MAX_QUEUED_PREFETCH = 16;

export interface SliceSink {
  /** `readMs`: time the source took to decode (and reduce) the slice; `pixels` is `width` x `height` of `level`. */
  slice(z: number, pixels: PixelArray, readMs: number, shape: { level: number; width: number; height: number }): void;
  error(z: number, error: unknown): void;
}

export class SliceServer {
  private readonly queue: Request[] = [];
  private running = false;
  private disposed = false;

  constructor(private readonly source: SliceSource, private readonly sink: SliceSink) {}

  /** `level`: 1 full resolution, or a power of two (validated by parseWebviewMessage). */
  request(z: number, priority: SlicePriority, level = 1): void {
    if (this.disposed) return;
    const i = this.queue.findIndex((r) => r.z === z && r.level === level);
    if (i >= 0) {
      if (priority === 'prefetch') return;
      this.queue.splice(i, 1);
    }
    this.queue.push({ z, priority, level });
    const prefetches = this.queue.filter((r) => r.priority === 'prefetch');
    for (let extra = prefetches.length - MAX_QUEUED_PREFETCH; extra > 0; extra--) {
      this.queue.splice(this.queue.indexOf(prefetches.shift()!), 1);
    }
    void this.pump();
  }

  /** Indices waiting, in the order they will be served (for tests). */
  pending(): number[] {
    const out: number[] = [];
    const copy = [...this.queue];
    for (let next = takeNext(copy); next; next = takeNext(copy)) out.push(next.z);
    return out;
  }

  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = takeNext(this.queue); next && !this.disposed; next = takeNext(this.queue)) {
        let reduced: { data: PixelArray; width: number; height: number };
        const t0 = performance.now();
        try {
          const { width, height, dtype } = this.source.info;
          reduced = downsampleMean(await this.source.readSlice(next.z), width, height, dtype, next.level);
        } catch (e) {
          if (!this.disposed) this.sink.error(next.z, e);
          continue;
        }
        if (!this.disposed) {
          this.sink.slice(next.z, reduced.data, performance.now() - t0, { level: next.level, width: reduced.width, height: reduced.height });
        }
      }
    } finally {
      this.running = false;
    }
  }
}

interface Request {
  z: number;
  priority: SlicePriority;
  level: number;
}

function takeNext(queue: Request[]): Request | undefined {
  for (let i = queue.length - 1; i >= 0; i--) {
    if (queue[i].priority === 'show') return queue.splice(i, 1)[0];
  }
  return queue.shift();
}

/** The ArrayBuffer holding exactly a typed array's bytes (copied only when the array is a view into a larger buffer). */
export function exactBuffer(pixels: PixelArray): ArrayBuffer {
  const buf = pixels.buffer as ArrayBuffer;
  if (pixels.byteOffset === 0 && pixels.byteLength === buf.byteLength) return buf;
  return buf.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength);
}
