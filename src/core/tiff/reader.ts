// Lazy TIFF stack reader: opening parses the directories only; a slice is read (positioned reads) and decoded
// on demand, and kept in a byte-bounded LRU cache.
import { StackSegError } from '../../shared/errors';
import type { PixelArray, SliceSource, StackInfo } from '../../shared/types';
import { resolveAxes, type StackAxes } from './axes';
import { swapInPlace } from './codecs';
import { COMPRESSION_NAMES, parsePages, rowBytes, type PageTable } from './ifd';
import { decodePage, truncatedPage } from './page';
import { allocPixels, DTYPE_BYTES } from '../../shared/types';
import { dtypeOf, isDirect } from './samples';
import { parseImageJDescription, expandImageJPages, imagejLutColors } from './imagej';
import { SliceCache } from '../../shared/lru';
import { FileBytes } from './source';

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export interface OpenOptions {
  /** Bytes of decoded slices kept in memory; 0 disables the cache. Default 256 MB. */
  cacheBytes?: number;
}

export class TiffStack implements SliceSource {
  private cache: SliceCache;
  /** Keyed by plane: page * samples + sample. */
  private inflight = new Map<number, Promise<PixelArray>>();
  private closed = false;
  private warnedPrecision = false;

  private constructor(readonly info: StackInfo, private table: PageTable, private axes: StackAxes, private src: FileBytes, cacheBytes: number) {
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
      const axes = resolveAxes(table, imagej, path);
      const dtype = dtypeOf(table.bitsPerSample, table.sampleFormat);
      const comp = table.compression[0];
      const info: StackInfo = {
        path, width: table.width, height: table.height, depth: axes.depth, dtype, bytesPerPixel: DTYPE_BYTES[dtype],
        bigTiff: table.bigTiff, littleEndian: table.littleEndian, compression: COMPRESSION_NAMES[comp] ?? String(comp),
        tiled: table.tileWidth[0] > 0, fileBytes: src.size, channels: axes.channels, frames: axes.frames, axes: axes.axes,
      };
      const notes = sampleNotes(table, axes);
      if (notes.length) info.notes = notes;
      const lutColors = imagejLutColors(table.imagejMeta);
      if (axes.colors) info.channelColors = axes.colors;
      else if (lutColors && lutColors.length === axes.channels) info.channelColors = lutColors;
      if (imagej) info.imagej = { slices: imagej.slices, channels: imagej.channels, frames: imagej.frames, spacing: imagej.spacing, unit: imagej.unit };
      const pixelSize = omePixelSize(table.description);
      if (pixelSize) info.pixelSize = pixelSize;
      return new TiffStack(info, table, axes, src, opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
    } catch (e) {
      await src.close();
      if (e instanceof StackSegError) throw e;
      throw new StackSegError(`cannot read the TIFF directories (${(e as Error).message ?? String(e)})`, { file: path, hint: 'the file is damaged or not a TIFF; re-save it' });
    }
  }

  /** Bytes of decoded slices now cached (for tests and diagnostics). */
  get cachedBytes(): number { return this.cache.bytes; }
  get cachedSlices(): number { return this.cache.size; }

  /** Slice z of channel c at time point t: always one plane of one channel, never channels interleaved. */
  readSlice(z: number, c = 0, t = 0): Promise<PixelArray> { return this.read(z, c, t, true); }

  /**
   * Like readSlice, but a cached slice comes back as the cache's own array: read it, never modify or transfer it.
   * For callers that only reduce the slice: a copy costs fresh memory, and first-touched pages are slow (~40 ms
   * for 8 MB on some VMs).
   */
  readSliceShared(z: number, c = 0, t = 0): Promise<PixelArray> { return this.read(z, c, t, false); }

  /**
   * Rows y0..y0+rows-1 of slice z (channel c, time point t) read straight from the file, without the rest of the
   * page: for uncompressed strip pages of one sample per pixel (3 views cut XZ planes from a few rows of each slice).
   * From the cache when the slice is there; undefined when the page is stored otherwise (read the slice then).
   */
  async readRows(z: number, y0: number, rows: number, c = 0, t = 0): Promise<PixelArray | undefined> {
    if (this.closed) throw new StackSegError('the stack was closed', { file: this.info.path, page: z });
    this.checkIndex(z, c, t);
    const { width: w, height: h, dtype } = this.info;
    if (!Number.isInteger(y0) || !Number.isInteger(rows) || y0 < 0 || rows < 1 || y0 + rows > h) throw new Error(`rows ${y0}..${y0 + rows - 1} are outside 0..${h - 1}`);
    const key = this.planeKey(z, c, t);
    const hit = this.cache.get(key);
    if (hit) return hit.slice(y0 * w, (y0 + rows) * w);
    const tb = this.table;
    const page = Math.floor(key / this.axes.samples);
    const bits = tb.bitsPerSample;
    if (tb.compression[page] !== 1 || tb.tileWidth[page] !== 0 || tb.samplesPerPixel !== 1 || !isDirect(bits, tb.sampleFormat) || tb.fillOrder === 2) return undefined;
    const out = allocPixels(dtype, w * rows);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const rb = rowBytes(w, 1, bits);
    const rps = tb.rowsPerStrip[page];
    const start = tb.chunkStart[page];
    const reads: Promise<unknown>[] = [];
    for (let y = y0; y < y0 + rows;) {
      const strip = Math.floor(y / rps);
      const n = Math.min(y0 + rows, (strip + 1) * rps) - y;
      const len = n * rb;
      const at = (y - y0) * rb;
      reads.push(this.src.readInto(bytes, at, len, tb.chunkOffsets[start + strip] + (y - strip * rps) * rb).then((got) => (got < len ? truncatedPage(this.info.path, page) : got)));
      y += n;
    }
    await Promise.all(reads);
    if (!tb.littleEndian && bits > 8) swapInPlace(bytes, bits / 8);
    return out;
  }

  /** Cache key of (z, c, t): page * samples + sample. */
  private planeKey(z: number, c: number, t: number): number {
    const a = this.axes;
    const page = a.pageIndex[(t * a.pageChannels + Math.floor(c / a.samples)) * a.depth + z];
    return page * a.samples + (c % a.samples);
  }

  private checkIndex(z: number, c: number, t: number): void {
    const { depth, path } = this.info;
    const channels = this.axes.channels;
    const frames = this.axes.frames;
    if (!Number.isInteger(z) || z < 0 || z >= depth) {
      throw new StackSegError(`slice ${z} is out of range (the stack has ${depth} slices)`, { file: path, hint: `use a slice index from 0 to ${depth - 1}` });
    }
    if (!Number.isInteger(c) || c < 0 || c >= channels) {
      throw new StackSegError(`channel ${c} is out of range (the stack has ${channels} channel${channels === 1 ? '' : 's'})`, { file: path, hint: `use a channel from 0 to ${channels - 1}` });
    }
    if (!Number.isInteger(t) || t < 0 || t >= frames) {
      throw new StackSegError(`time point ${t} is out of range (the stack has ${frames} time point${frames === 1 ? '' : 's'})`, { file: path, hint: `use a time point from 0 to ${frames - 1}` });
    }
  }

  private async read(z: number, c: number, t: number, copy: boolean): Promise<PixelArray> {
    if (this.closed) throw new StackSegError('the stack was closed', { file: this.info.path, page: z });
    this.checkIndex(z, c, t);
    const key = this.planeKey(z, c, t);
    const sequential = z === this.lastRequested + 1 && c === this.lastC && t === this.lastT;
    this.lastRequested = z;
    this.lastC = c;
    this.lastT = t;
    const hit = this.cache.get(key);
    let result: Promise<PixelArray>;
    if (hit) result = Promise.resolve(copy ? hit.slice() : hit);
    else {
      const pending = this.inflight.get(key);
      if (pending) result = copy ? pending.then((a) => a.slice()) : pending;
      else {
        const decoding = this.decode(key);
        result = copy && this.cache.capacityBytes > 0 ? decoding.then((a) => a.slice()) : decoding;
      }
    }
    // Reading slice after slice (export, segmentation, scrolling): decode the next one while the caller works
    // on this one, so file reads and zlib (libuv thread pool) overlap with the caller.
    if (sequential && z + 1 < this.info.depth && this.cache.capacityBytes >= 3 * this.sliceBytes) {
      const next = this.planeKey(z + 1, c, t);
      if (!this.cache.has(next) && !this.inflight.has(next)) this.decode(next).catch(() => undefined); // errors resurface when the slice is really asked for
    }
    return result;
  }

  private lastRequested = -2;
  private lastC = 0;
  private lastT = 0;
  private get sliceBytes(): number { return this.info.width * this.info.height * this.info.bytesPerPixel; }

  /** One decode per plane at a time; the result goes into the cache (when enabled). */
  private decode(key: number): Promise<PixelArray> {
    const samples = this.axes.samples;
    const page = Math.floor(key / samples);
    const decoding = this.decodePlane(page, key % samples).catch((e: unknown) => {
      if (e instanceof StackSegError) throw e;
      // zlib, RangeError from inconsistent sizes, ...: corrupt pixel data, reported as such.
      throw new StackSegError(`page ${page} has corrupt ${this.info.compression} pixel data (${(e as Error).message ?? String(e)})`, { file: this.info.path, page, hint: 'the file is damaged; re-save or copy it again' });
    }).then((planes) => {
      // Interleaved samples (RGB) are decoded together: keep all of them, the other channels come next.
      const wanted = key % samples;
      const first = planes.length === 1 ? wanted : 0;
      if (this.cache.capacityBytes > 0 && !this.closed) planes.forEach((a, i) => { if (i + first !== wanted) this.cache.set(page * samples + first + i, a); });
      const a = planes[wanted - first];
      if (this.cache.capacityBytes > 0 && !this.closed) this.cache.set(key, a);
      return a;
    }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, decoding);
    return decoding;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.inflight.values());
    this.cache.clear();
    await this.src.close();
  }

  /** Page `page` decoded (page.ts): planar pages only `sample`, interleaved pages all samples (one array each). */
  private async decodePlane(page: number, sample: number): Promise<PixelArray[]> {
    const { width, height, dtype, path } = this.info;
    const res = await decodePage({ table: this.table, src: this.src, path, width, height, dtype }, page, sample);
    if (res.lostPrecision && !this.warnedPrecision) {
      this.warnedPrecision = true;
      (this.info.notes ??= []).push(`page ${page} holds 64-bit integers beyond ±2^53: read as float64, they lose precision`);
    }
    return res.planes;
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

/** What opening tells about samples that are not read as stored. */
function sampleNotes(table: PageTable, axes: StackAxes): string[] {
  const notes: string[] = [];
  const { bitsPerSample: bits, sampleFormat: format } = table;
  if (format === 3 && bits === 16) notes.push('16-bit (half) floats are read as float32');
  if (format !== 3 && bits === 64) notes.push('64-bit integers are read as float64 (exact up to ±2^53)');
  if (bits === 1) notes.push('1-bit (bilevel) pixels are read as uint8 0 and 1');
  else if (format !== 3 && bits % 8 !== 0) notes.push(`${bits}-bit samples are read as ${dtypeOf(bits, format)}`);
  if (table.photometric === 3) notes.push('palette (indexed colour) image: the pixel values are the palette indices');
  if (axes.framesAsSlices) notes.push(`a time series with one slice per time point: its ${axes.depth} frames are the stack's slices`);
  return notes;
}

/** OME-XML's PhysicalSizeX / PhysicalSizeZ of the (first) Pixels element, when both are positive numbers. */
export function omePixelSize(description: string | undefined): { x: number; z: number } | undefined {
  if (!description?.includes('<OME') || !description.includes('<Pixels')) return undefined;
  const pixels = /<Pixels\b[^>]*>/.exec(description)?.[0] ?? '';
  const attr = (name: string) => Number(new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(pixels)?.[1]);
  const x = attr('PhysicalSizeX'), z = attr('PhysicalSizeZ');
  return x > 0 && z > 0 ? { x, z } : undefined;
}
