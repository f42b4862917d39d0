// Least-recently-used cache bounded in bytes, not entries (a slice can be 64 KB or 64 MB). One home for the host's
// decoded-slice and level caches (src/core/tiff, src/core/io, src/core/levels) and the webview's slice store
// (webview/sliceStore.ts). Pure: no DOM, no node.

import type { PixelArray } from './types';

/** Anything with a size in bytes: typed arrays. */
export interface Sized { readonly byteLength: number }

export interface SliceCacheOptions {
  /**
   * A value larger than the whole budget: stored (evicting all but `keep`; the webview must show the slice it
   * just got) or, by default, refused so the cache never holds more than its budget (the host's caches).
   */
  keepOversize?: boolean;
}

export class SliceCache<V extends Sized = PixelArray, K = number> {
  private entries = new Map<K, V>();
  private used = 0;
  private readonly keepOversize: boolean;

  constructor(readonly capacityBytes: number, options: SliceCacheOptions = {}) {
    this.keepOversize = options.keepOversize ?? false;
  }

  get bytes(): number { return this.used; }
  get size(): number { return this.entries.size; }
  has(key: K): boolean { return this.entries.has(key); }

  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Stores `value` under `key`, then evicts the least recently used entries, never `key` itself nor `keep`. */
  set(key: K, value: V, keep?: K): void {
    if (value.byteLength > this.capacityBytes && !this.keepOversize) return;
    const old = this.entries.get(key);
    if (old) { this.used -= old.byteLength; this.entries.delete(key); }
    this.entries.set(key, value);
    this.used += value.byteLength;
    for (const [k, v] of this.entries) {
      if (this.used <= this.capacityBytes || this.entries.size <= 1) break;
      if (k === key || k === keep) continue;
      this.entries.delete(k);
      this.used -= v.byteLength;
    }
  }

  clear(): void { this.entries.clear(); this.used = 0; }
}
