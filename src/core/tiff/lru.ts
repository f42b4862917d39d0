// Least-recently-used cache of decoded slices, bounded in bytes (not in entries: slices can be 64 KB or 64 MB).
import type { PixelArray } from '../../shared/types';

export class SliceCache {
  private entries = new Map<number, PixelArray>();
  private used = 0;

  constructor(readonly capacityBytes: number) {}

  get bytes(): number { return this.used; }
  get size(): number { return this.entries.size; }
  has(z: number): boolean { return this.entries.has(z); }

  get(z: number): PixelArray | undefined {
    const hit = this.entries.get(z);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(z);
      this.entries.set(z, hit);
    }
    return hit;
  }

  set(z: number, slice: PixelArray): void {
    if (slice.byteLength > this.capacityBytes) return;
    const old = this.entries.get(z);
    if (old) { this.used -= old.byteLength; this.entries.delete(z); }
    while (this.used + slice.byteLength > this.capacityBytes && this.entries.size > 0) {
      const [oldest, arr] = this.entries.entries().next().value as [number, PixelArray];
      this.entries.delete(oldest);
      this.used -= arr.byteLength;
    }
    this.entries.set(z, slice);
    this.used += slice.byteLength;
  }

  clear(): void { this.entries.clear(); this.used = 0; }
}
