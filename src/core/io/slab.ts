// Slice access over chunked 3D arrays (HDF5, Zarr). A chunk that spans several slices is decompressed whole, so
// reading one slice from it costs as much as reading all of them: the source reads the chunk row's slab once
// ([z0, z0 + chunkDepth)) and keeps its slices in the byte-bounded cache, never the whole dataset.

import { StackSegError } from '../../shared/errors';
import { SliceCache } from '../../shared/lru';
import { DEFAULT_CACHE_BYTES } from '../tiff/reader';
import { allocPixels } from '../../shared/types';
import type { DType, PixelArray, SliceSource, StackInfo } from '../../shared/types';

/** Largest slab read in one go; deeper chunks are read slice by slice (slower, but bounded memory). */
const MAX_SLAB_BYTES = 256 * 1024 * 1024;
/** Largest slab read ahead (reads in order): one more slab of memory at most. */
const MAX_AHEAD_BYTES = 64 * 1024 * 1024;

export abstract class SlabStack implements SliceSource {
  private cache: SliceCache;
  private inflight = new Map<number, Promise<PixelArray>>();
  protected closed = false;

  /** No cache asked for and slabs of one slice: nothing would ever be read from the cache. */
  private readonly uncached: boolean;
  /** Whether the cache holds two slabs: the one being read and the next, read ahead. */
  private readonly roomAhead: boolean;
  /** The slab (start slice) read last: reads in order read the next slab ahead, decoding it in parallel. */
  private lastSlab = -1;
  private ahead?: { z: number; p: Promise<PixelArray> };

  protected constructor(readonly info: StackInfo, private readonly chunkDepth: number, cacheBytes = DEFAULT_CACHE_BYTES) {
    // The cache must hold a slab, or a slab read would decode the chunk again for every slice.
    const sliceBytes = info.width * info.height * info.bytesPerPixel;
    this.cache = new SliceCache(Math.max(cacheBytes, this.slabDepth() * sliceBytes));
    this.uncached = cacheBytes === 0 && this.slabDepth() === 1;
    const slabBytes = this.slabDepth() * sliceBytes;
    this.roomAhead = slabBytes <= MAX_AHEAD_BYTES && Math.max(cacheBytes, slabBytes) >= 2 * slabBytes;
  }

  /** Reads slices [z0, z1) as one array (z-major) of info.dtype. */
  protected abstract readSlab(z0: number, z1: number): Promise<PixelArray>;
  protected abstract release(): Promise<void>;

  private slabDepth(): number {
    const sliceBytes = this.info.width * this.info.height * this.info.bytesPerPixel;
    return Math.max(1, Math.min(this.chunkDepth, Math.floor(MAX_SLAB_BYTES / Math.max(1, sliceBytes))));
  }

  async readSlice(z: number): Promise<PixelArray> {
    // A fresh one-slice slab that no cache or other caller holds is the caller's own: no copy (a fresh 512 KB array
    // costs as much as decoding the chunk, in page faults).
    if (this.uncached && !this.closed && !this.inflight.has(z) && Number.isInteger(z) && z >= 0 && z < this.info.depth) {
      const got = this.ahead?.z === z ? this.ahead.p : this.readSlab(z, z + 1);
      this.ahead = undefined;
      if (z === this.lastSlab + 1 && z + 1 < this.info.depth) {
        const p = this.readSlab(z + 1, z + 2);
        p.catch(() => undefined); // reported to the read that takes it
        this.ahead = { z: z + 1, p };
      }
      this.lastSlab = z;
      return got;
    }
    return (await this.readSliceShared(z)).slice();
  }

  readSliceShared(z: number): Promise<PixelArray> {
    if (this.closed) return Promise.reject(new StackSegError('the stack is closed', { file: this.info.path }));
    if (!Number.isInteger(z) || z < 0 || z >= this.info.depth) {
      return Promise.reject(new StackSegError(`slice ${z} is out of range (0..${this.info.depth - 1})`, { file: this.info.path }));
    }
    const d = this.slabDepth();
    const z0 = Math.floor(z / d) * d;
    if (z0 !== this.lastSlab) {
      // Into the next slab in order: the one after it is read (and decoded, in the threadpool) meanwhile.
      if (this.roomAhead && z0 === this.lastSlab + d && z0 + d < this.info.depth && !this.cache.get(z0 + d)) this.loadSlab(z0 + d).catch(() => undefined);
      this.lastSlab = z0;
    }
    const hit = this.cache.get(z);
    if (hit) return Promise.resolve(hit);
    const n = this.info.width * this.info.height;
    return this.loadSlab(z0).then((data) => data.subarray((z - z0) * n, (z - z0 + 1) * n) as PixelArray);
  }

  /** The slab starting at z0, read once however many callers wait, its slices put in the cache. */
  private loadSlab(z0: number): Promise<PixelArray> {
    let slab = this.inflight.get(z0);
    if (!slab) {
      const n = this.info.width * this.info.height;
      const z1 = Math.min(this.info.depth, z0 + this.slabDepth());
      slab = this.readSlab(z0, z1).then((data) => {
        if (!this.closed) for (let k = z0; k < z1; k++) this.cache.set(k, data.subarray((k - z0) * n, (k - z0 + 1) * n) as PixelArray);
        return data;
      }).finally(() => this.inflight.delete(z0));
      this.inflight.set(z0, slab);
    }
    return slab;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    await this.release();
  }
}

/** Converts what a library returns (BigInt64Array for 64-bit integers, Uint8Array for booleans) into a DType array. */
export function toPixelArray(data: unknown, dtype: DType, length: number, file: string): PixelArray {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = Number(data[i]);
    return out;
  }
  if (ArrayBuffer.isView(data) && (data as PixelArray).length === length) {
    const want = allocPixels(dtype, 0).constructor;
    if (data.constructor === want) return data as PixelArray;
    const out = allocPixels(dtype, length);
    out.set(data as unknown as ArrayLike<number>);
    return out;
  }
  throw new StackSegError(`the reader returned ${(data as object)?.constructor?.name ?? typeof data} instead of ${length} ${dtype} values`, { file, hint: 'report this file to the StackSeg developers' });
}

/** Bytes per element and the StackSeg dtype for numeric (kind, bytes, signed); 64-bit integers read as float64. */
export function numericDType(kind: 'int' | 'uint' | 'float' | 'bool', bytes: number): DType | undefined {
  if (kind === 'bool') return 'uint8';
  if (kind === 'float') return bytes === 4 ? 'float32' : bytes === 8 ? 'float64' : undefined;
  if (bytes === 8) return 'float64';
  const map: Record<number, DType> = kind === 'int' ? { 1: 'int8', 2: 'int16', 4: 'int32' } : { 1: 'uint8', 2: 'uint16', 4: 'uint32' };
  return map[bytes];
}

/** Copies the part of a decoded chunk (first element at offset) that lies in slices [z0, z1) into the slab. */
export function placeChunk(c: Uint8Array, offset: number[], chunks: number[], out: Uint8Array, z0: number, z1: number, H: number, W: number, e: number): void {
  const [oz, oy, ox] = offset, [cz, cy, cx] = chunks;
  const rows = Math.min(cy, H - oy), rowBytes = Math.min(cx, W - ox) * e;
  for (let z = Math.max(z0, oz); z < Math.min(z1, oz + cz); z++) {
    const src = (z - oz) * cy * cx * e, dst = ((z - z0) * H + oy) * W * e + ox * e;
    if (cx === W && ox === 0) { out.set(c.subarray(src, src + rows * rowBytes), dst); continue; }
    for (let y = 0; y < rows; y++) out.set(c.subarray(src + y * cx * e, src + y * cx * e + rowBytes), dst + y * W * e);
  }
}
