// Lazy TIFF stack reader: opening parses the directories only; a slice is read (positioned reads) and decoded
// on demand, and kept in a byte-bounded LRU cache.
import { StackSegError } from '../errors';
import type { DType, PixelArray, SliceSource, StackInfo } from '../types';
import { inflateChunk, inflateChunkAsync, lzwDecode, packbitsDecode, swapInPlace, undoFloatPredictor, undoHorizontalPredictor } from './codecs';
import { COMPRESSION_NAMES, parsePages, type PageTable } from './ifd';
import { parseImageJDescription, expandImageJPages } from './imagej';
import { SliceCache } from './lru';
import { FileBytes } from './source';

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export interface OpenOptions {
  /** Bytes of decoded slices kept in memory; 0 disables the cache. Default 256 MB. */
  cacheBytes?: number;
}

type Ctor = { new (n: number): PixelArray; new (b: ArrayBuffer, o: number, n: number): PixelArray };
const CTORS: Record<DType, Ctor> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
} as unknown as Record<DType, Ctor>;

export function allocPixels(dtype: DType, length: number): PixelArray {
  return new CTORS[dtype](length);
}

function dtypeOf(bits: number, format: number): DType {
  if (format === 3) return bits === 64 ? 'float64' : 'float32';
  const signed = format === 2;
  if (bits === 8) return signed ? 'int8' : 'uint8';
  if (bits === 16) return signed ? 'int16' : 'uint16';
  return signed ? 'int32' : 'uint32';
}

export class TiffStack implements SliceSource {
  private cache: SliceCache;
  private inflight = new Map<number, Promise<PixelArray>>();
  private closed = false;

  private constructor(readonly info: StackInfo, private table: PageTable, private src: FileBytes, cacheBytes: number) {
    this.cache = new SliceCache(cacheBytes);
  }

  static async open(path: string, opts: OpenOptions = {}): Promise<TiffStack> {
    let src: FileBytes;
    try {
      src = await FileBytes.open(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StackSegError(code === 'ENOENT' ? 'file not found' : `cannot open the file (${code ?? String(e)})`, { file: path, hint: 'check the path and permissions' });
    }
    try {
      let table = await parsePages(src, path);
      src.dropCache();
      const imagej = table.description ? parseImageJDescription(table.description) : undefined;
      if (imagej?.images && table.count === 1 && imagej.images > 1) table = expandImageJPages(table, imagej.images, src.size, path);
      const dtype = dtypeOf(table.bitsPerSample, table.sampleFormat);
      const comp = table.compression[0];
      const info: StackInfo = {
        path, width: table.width, height: table.height, depth: table.count, dtype, bytesPerPixel: table.bitsPerSample / 8,
        bigTiff: table.bigTiff, littleEndian: table.littleEndian, compression: COMPRESSION_NAMES[comp] ?? String(comp),
        tiled: table.tileWidth[0] > 0, fileBytes: src.size,
      };
      if (imagej) info.imagej = { slices: imagej.slices, channels: imagej.channels, frames: imagej.frames, spacing: imagej.spacing, unit: imagej.unit };
      return new TiffStack(info, table, src, opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
    } catch (e) {
      await src.close();
      if (e instanceof StackSegError) throw e;
      throw new StackSegError(`cannot read the TIFF directories (${(e as Error).message ?? String(e)})`, { file: path, hint: 'the file is damaged or not a TIFF; re-save it' });
    }
  }

  /** Bytes of decoded slices now cached (for tests and diagnostics). */
  get cachedBytes(): number { return this.cache.bytes; }
  get cachedSlices(): number { return this.cache.size; }

  readSlice(z: number): Promise<PixelArray> { return this.read(z, true); }

  /**
   * Like readSlice, but a cached slice comes back as the cache's own array: read it, never modify or transfer it.
   * For callers that only reduce the slice: a copy costs fresh memory, and first-touched pages are slow (~40 ms
   * for 8 MB on some VMs).
   */
  readSliceShared(z: number): Promise<PixelArray> { return this.read(z, false); }

  private async read(z: number, copy: boolean): Promise<PixelArray> {
    if (this.closed) throw new StackSegError('the stack was closed', { file: this.info.path, page: z });
    if (!Number.isInteger(z) || z < 0 || z >= this.info.depth) {
      throw new StackSegError(`slice ${z} is out of range (the stack has ${this.info.depth} slices)`, { file: this.info.path, hint: `use a slice index from 0 to ${this.info.depth - 1}` });
    }
    const sequential = z === this.lastRequested + 1;
    this.lastRequested = z;
    const hit = this.cache.get(z);
    let result: Promise<PixelArray>;
    if (hit) result = Promise.resolve(copy ? hit.slice() : hit);
    else {
      const pending = this.inflight.get(z);
      if (pending) result = copy ? pending.then((a) => a.slice()) : pending;
      else {
        const decoding = this.decode(z);
        result = copy && this.cache.capacityBytes > 0 ? decoding.then((a) => a.slice()) : decoding;
      }
    }
    // Reading slice after slice (export, segmentation, scrolling): decode the next one while the caller works
    // on this one, so file reads and zlib (libuv thread pool) overlap with the caller.
    if (sequential && z + 1 < this.info.depth && this.cache.capacityBytes >= 3 * this.sliceBytes
      && !this.cache.has(z + 1) && !this.inflight.has(z + 1)) {
      this.decode(z + 1).catch(() => undefined); // errors resurface when the slice is really asked for
    }
    return result;
  }

  private lastRequested = -2;
  private get sliceBytes(): number { return this.info.width * this.info.height * this.info.bytesPerPixel; }

  /** One decode per slice at a time; the result goes into the cache (when enabled). */
  private decode(z: number): Promise<PixelArray> {
    const decoding = this.decodePage(z).catch((e: unknown) => {
      if (e instanceof StackSegError) throw e;
      // zlib, RangeError from inconsistent sizes, ...: corrupt pixel data, reported as such.
      throw new StackSegError(`page ${z} has corrupt ${this.info.compression} pixel data (${(e as Error).message ?? String(e)})`, { file: this.info.path, page: z, hint: 'the file is damaged; re-save or copy it again' });
    }).then((a) => {
      if (this.cache.capacityBytes > 0 && !this.closed) this.cache.set(z, a);
      return a;
    }).finally(() => this.inflight.delete(z));
    this.inflight.set(z, decoding);
    return decoding;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.inflight.values());
    this.cache.clear();
    await this.src.close();
  }

  private truncated(z: number): never {
    throw new StackSegError(`truncated file: pixel data of page ${z} is cut short`, { file: this.info.path, page: z, hint: 'the file was not fully written or copied; copy it again' });
  }

  private async decodePage(z: number): Promise<PixelArray> {
    const t = this.table;
    const { width: w, height: h, dtype } = this.info;
    const bps = this.info.bytesPerPixel;
    const out = allocPixels(dtype, w * h);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const comp = t.compression[z];
    const start = t.chunkStart[z];
    const count = t.chunkCount[z];
    const offs = t.chunkOffsets;
    const lens = t.chunkByteCounts;
    const swap = !t.littleEndian && bps > 1;

    if (comp === 1 && t.tileWidth[z] === 0) {
      // Fast path: uncompressed strips. Usually contiguous, so one read straight into the output.
      const rps = t.rowsPerStrip[z];
      let contiguous = true;
      for (let i = 1; i < count; i++) if (offs[start + i] !== offs[start + i - 1] + lens[start + i - 1]) { contiguous = false; break; }
      if (contiguous) {
        const n = await this.src.readInto(bytes, 0, bytes.length, offs[start]);
        if (n < bytes.length) this.truncated(z);
      } else {
        const reads: Promise<number>[] = [];
        for (let i = 0; i < count; i++) {
          const row0 = i * rps;
          if (row0 >= h) break;
          const len = Math.min(rps, h - row0) * w * bps;
          reads.push(this.src.readInto(bytes, row0 * w * bps, len, offs[start + i]).then((n) => (n < len ? this.truncated(z) : n)));
        }
        await Promise.all(reads);
      }
      if (swap) swapInPlace(bytes, bps);
      return out;
    }

    let raw = await this.readChunks(start, count);
    const pred = t.predictor[z];
    const deflated = comp === 8 || comp === 32946;
    // Large strips/tiles: inflate them in parallel on the libuv thread pool. Small ones inline: a thread hop
    // costs more than it saves (measured: 128 strips of 64 KB, 27 ms inline vs 70 ms on the pool).
    if (deflated) {
      let total = 0;
      for (const c of raw) total += c.length;
      const tw = t.tileWidth[z];
      const expected = (tw ? tw * t.tileHeight[z] : w * t.rowsPerStrip[z]) * bps;
      raw = count > 1 && total / count >= 256 * 1024
        ? await Promise.all(raw.map((c) => inflateChunkAsync(c, expected)))
        : raw.map((c) => inflateChunk(c, expected));
    }
    const decode = (chunk: Uint8Array, target: Uint8Array): void => {
      if (deflated) target.set(chunk.length > target.length ? chunk.subarray(0, target.length) : chunk);
      else if (comp === 5) lzwDecode(chunk, target);
      else if (comp === 32773) packbitsDecode(chunk, target);
      else target.set(chunk.length > target.length ? chunk.subarray(0, target.length) : chunk);
    };
    // Predictor 2 adds integers: swap to host order first. Predictor 3 regroups bytes in file order: swap after.
    const unpredict = (target: Uint8Array, rowLength: number, rows: number): void => {
      if (pred === 3) undoFloatPredictor(target, bps, rowLength, rows);
      if (swap) swapInPlace(target, bps);
      if (pred === 2) undoHorizontalPredictor(target, bps, rowLength, rows);
    };

    const tw = t.tileWidth[z];
    if (tw === 0) {
      const rps = t.rowsPerStrip[z];
      for (let i = 0; i < count; i++) {
        const row0 = i * rps;
        if (row0 >= h) break;
        const rows = Math.min(rps, h - row0);
        const target = bytes.subarray(row0 * w * bps, (row0 + rows) * w * bps);
        decode(raw[i], target);
        unpredict(target, w, rows);
      }
      return out;
    }
    const th = t.tileHeight[z];
    const across = Math.ceil(w / tw);
    const tile = new Uint8Array(tw * th * bps);
    for (let i = 0; i < count; i++) {
      const tx = (i % across) * tw;
      const ty = Math.floor(i / across) * th;
      if (ty >= h) break;
      tile.fill(0);
      decode(raw[i], tile);
      unpredict(tile, tw, th);
      const cols = Math.min(tw, w - tx) * bps;
      const rows = Math.min(th, h - ty);
      for (let r = 0; r < rows; r++) bytes.set(tile.subarray(r * tw * bps, r * tw * bps + cols), ((ty + r) * w + tx) * bps);
    }
    return out;
  }

  /** Reads the compressed chunks of one page: one read when they lie close together (the usual layout). */
  private async readChunks(start: number, count: number): Promise<Uint8Array[]> {
    const offs = this.table.chunkOffsets;
    const lens = this.table.chunkByteCounts;
    let lo = Infinity;
    let hi = 0;
    let sum = 0;
    for (let i = start; i < start + count; i++) {
      if (lens[i] === 0) continue;
      lo = Math.min(lo, offs[i]);
      hi = Math.max(hi, offs[i] + lens[i]);
      sum += lens[i];
    }
    const chunks = new Array<Uint8Array>(count);
    if (sum === 0) return chunks.fill(new Uint8Array(0));
    if (hi - lo <= sum * 1.25 + 65536) {
      const span = Buffer.allocUnsafe(hi - lo);
      const n = await this.src.readIntoFast(span, 0, span.length, lo);
      for (let i = 0; i < count; i++) {
        const o = offs[start + i] - lo;
        chunks[i] = lens[start + i] === 0 ? new Uint8Array(0) : span.subarray(o, Math.min(o + lens[start + i], n));
      }
      return chunks;
    }
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const buf = Buffer.allocUnsafe(lens[start + i]);
      const n = await this.src.readInto(buf, 0, buf.length, offs[start + i]);
      chunks[i] = buf.subarray(0, n);
    }));
    return chunks;
  }
}

export function openStack(path: string, opts?: OpenOptions): Promise<TiffStack> {
  return TiffStack.open(path, opts);
}

/** Reads every slice into one array (z-major). For tests and small stacks. */
export async function readStack(path: string): Promise<{ info: StackInfo; data: PixelArray }> {
  const stack = await openStack(path, { cacheBytes: 0 });
  try {
    const { width, height, depth, dtype } = stack.info;
    const plane = width * height;
    const data = allocPixels(dtype, plane * depth);
    for (let z = 0; z < depth; z++) (data as Uint8Array).set(await stack.readSlice(z) as Uint8Array, z * plane);
    return { info: stack.info, data };
  } finally {
    await stack.close();
  }
}
