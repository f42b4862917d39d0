// Serves slice requests from one webview, one decode at a time: the slice the user is waiting for (`show`)
// goes before queued prefetches, and the newest `show` first (older ones are usually already stale).
// Imports nothing from vscode so it is unit-tested.

import type { PixelArray, SliceSource } from '../core/types';
import type { SlicePriority } from '../protocol';

/** Prefetches beyond this are dropped, oldest first (the user has moved on). */
export const MAX_QUEUED_PREFETCH = 16;

export interface SliceSink {
  /** `readMs`: time the source took to decode the slice. */
  slice(z: number, pixels: PixelArray, readMs: number): void;
  error(z: number, error: unknown): void;
}

export class SliceServer {
  private readonly queue: { z: number; priority: SlicePriority }[] = [];
  private running = false;
  private disposed = false;

  constructor(private readonly source: SliceSource, private readonly sink: SliceSink) {}

  request(z: number, priority: SlicePriority): void {
    if (this.disposed) return;
    const i = this.queue.findIndex((r) => r.z === z);
    if (i >= 0) {
      if (priority === 'prefetch') return;
      this.queue.splice(i, 1);
    }
    this.queue.push({ z, priority });
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
        let pixels: PixelArray;
        const t0 = performance.now();
        try {
          pixels = await this.source.readSlice(next.z);
        } catch (e) {
          if (!this.disposed) this.sink.error(next.z, e);
          continue;
        }
        if (!this.disposed) this.sink.slice(next.z, pixels, performance.now() - t0);
      }
    } finally {
      this.running = false;
    }
  }
}

function takeNext(queue: { z: number; priority: SlicePriority }[]): { z: number; priority: SlicePriority } | undefined {
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
