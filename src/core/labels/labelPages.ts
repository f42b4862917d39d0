// A labels TIFF opened for lazy reading: the directories are parsed once (offsets, byte counts, and StackSeg's
// per-page label counts), and a page is read and decoded only when someone asks for it. Handles the files StackSeg
// writes (deflate pages, one strip each, counts tag) and plain uint8 stacks (uncompressed or deflate strips, as
// tifffile, Fiji and older StackSeg versions write them); anything else (tiles, LZW, predictors) is read by the
// generic reader instead (labelFile.ts). Keeps the file open: a save renames a new file over the name, and this
// handle still reads the pages it indexed. Node only.

import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { inflate, inflateSync } from 'node:zlib';
import { StackSegError } from '../../shared/errors';
import { FileBytes } from '../tiff/source';

const inflateAsync = promisify(inflate);
const readAsync = promisify(read);

/**
 * Private tag on every page StackSeg writes (LONG array): [version 1, strip bytes, labeled pixels, class, count,
 * class, count, ...]. Lets an open know which pages are empty and what the side panel shows without decoding
 * pixels. Tags 10000-32767 on later pages stop ImageJ's reader, so it sits in the reusable private range.
 */
export const COUNTS_TAG = 65427;
const COUNTS_VERSION = 1;

/** class/count pairs of one page: [k1, c1, k2, c2, ...] for the classes present. */
export type ClassPairs = Uint32Array;

export function countPairs(data: Uint8Array): { labeled: number; pairs: ClassPairs } {
  const counts = new Float64Array(256);
  let i = 0;
  if (data.byteOffset % 4 === 0) {
    // Labels are mostly zeros: skip them four at a time.
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
    for (let w = 0; w < words.length; w++) {
      if (words[w] === 0) continue;
      const p = w << 2;
      counts[data[p]]++; counts[data[p + 1]]++; counts[data[p + 2]]++; counts[data[p + 3]]++;
    }
    i = words.length << 2;
  }
  for (; i < data.length; i++) counts[data[i]]++;
  let labeled = 0;
  const pairs: number[] = [];
  for (let k = 1; k < 256; k++) if (counts[k] > 0) { pairs.push(k, counts[k]); labeled += counts[k]; }
  return { labeled, pairs: Uint32Array.from(pairs) };
}

/** Where each page's strips lie and what it holds, as written into a new file (labelWrite.ts) or parsed from one. */
export interface PageIndex {
  width: number;
  height: number;
  depth: number;
  compression: Uint16Array;
  rowsPerStrip: Uint32Array;
  /** Strips of page z: stripStart[z] .. stripStart[z + 1] - 1. */
  stripStart: Uint32Array;
  stripOffsets: Float64Array;
  stripBytes: Float64Array;
  /** Labeled pixels per page; NaN where the file does not say (no counts tag): labelFile.ts scans those. */
  labeled: Float64Array;
  pairs: (ClassPairs | undefined)[];
}

export class LabelPages {
  /** Pages decoded (lazy loads and scans) and raw strips read: the tests count them. */
  pagesDecoded = 0;
  rawReads = 0;
  private closed = false;

  private constructor(public path: string, private readonly fd: number, readonly index: PageIndex, private readonly stamp: { size: number; mtimeMs: number }) {}

  /** Indexes `path` when it is a labels file this reader handles (else undefined: use the generic reader). */
  static async open(path: string): Promise<LabelPages | undefined> {
    const src = await FileBytes.open(path);
    let index: PageIndex | undefined;
    try {
      index = await parseIndex(src);
    } catch {
      index = undefined; // the generic reader gives the one clear message
    } finally {
      src.dropCache();
      await src.close();
    }
    if (!index) return undefined;
    return LabelPages.withIndex(path, index);
  }

  /** Opens `path` for reading pages at the places `index` says (a file just written). */
  static withIndex(path: string, index: PageIndex): LabelPages {
    const fd = openSync(path, 'r');
    const st = fstatSync(fd);
    return new LabelPages(path, fd, index, { size: st.size, mtimeMs: st.mtimeMs });
  }

  get width(): number { return this.index.width; }
  get height(): number { return this.index.height; }
  get depth(): number { return this.index.depth; }

  labeled(z: number): number { return this.index.labeled[z]; }
  pairs(z: number): ClassPairs { return this.index.pairs[z] ?? new Uint32Array(0); }
  setCounts(z: number, labeled: number, pairs: ClassPairs): void {
    this.index.labeled[z] = labeled;
    this.index.pairs[z] = pairs;
  }

  /** One deflate strip: its bytes can go into a new file as they are. */
  copyable(z: number): boolean {
    const c = this.index.compression[z];
    return (c === 8 || c === 32946) && this.index.stripStart[z + 1] - this.index.stripStart[z] === 1;
  }

  /** Decodes page z (synchronous: a labels page is a few KB of deflate, or one positioned read). */
  readPage(z: number): Uint8Array {
    this.check(z);
    const { width, height } = this.index;
    let out: Uint8Array | undefined;
    this.forStrips(z, (at, bytes, rows, row0) => {
      const buf = Buffer.allocUnsafe(bytes);
      readFully(this.fd, buf, at);
      let raw = buf;
      if (this.index.compression[z] !== 1) {
        try { raw = inflateSync(buf); } catch (e) { throw this.corrupt(z, e as Error); }
        // One strip inflated into a buffer of its own: used as the slice, no copy.
        if (rows === height && raw.length === width * height && raw.byteOffset === 0 && raw.buffer.byteLength === raw.length) {
          out = new Uint8Array(raw.buffer, 0, raw.length);
          return;
        }
      }
      out ??= new Uint8Array(width * height);
      this.place(z, out, raw, rows, row0);
    });
    this.pagesDecoded++;
    return out!;
  }

  /** Like readPage, without blocking the thread on large reads or inflates (scans, saves). */
  async readPageAsync(z: number): Promise<Uint8Array> {
    this.check(z);
    const { width, height } = this.index;
    const out = new Uint8Array(width * height);
    const strips: [number, number, number, number][] = [];
    this.forStrips(z, (at, bytes, rows, row0) => strips.push([at, bytes, rows, row0]));
    for (const [at, bytes, rows, row0] of strips) {
      const buf = Buffer.allocUnsafe(bytes);
      for (let done = 0; done < bytes;) {
        const { bytesRead } = await readAsync(this.fd, buf, done, bytes - done, at + done);
        if (bytesRead === 0) throw this.corrupt(z, new Error(`unexpected end of file at byte ${at + done}`));
        done += bytesRead;
      }
      const raw = this.index.compression[z] === 1 ? buf : await inflateAsync(buf).catch((e: Error) => { throw this.corrupt(z, e); });
      this.place(z, out, raw, rows, row0);
    }
    this.pagesDecoded++;
    return out;
  }

  /** The compressed bytes of a copyable page, as stored. */
  readRaw(z: number): Buffer {
    this.check(z);
    const i = this.index.stripStart[z];
    const buf = Buffer.allocUnsafe(this.index.stripBytes[i]);
    readFully(this.fd, buf, this.index.stripOffsets[i]);
    this.rawReads++;
    return buf;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { closeSync(this.fd); } catch { /* already gone */ }
  }

  private forStrips(z: number, each: (at: number, bytes: number, rows: number, row0: number) => void): void {
    const { height, rowsPerStrip, stripStart, stripOffsets, stripBytes } = this.index;
    const rps = rowsPerStrip[z];
    for (let i = stripStart[z], row0 = 0; i < stripStart[z + 1]; i++, row0 += rps) {
      each(stripOffsets[i], stripBytes[i], Math.min(rps, height - row0), row0);
    }
  }

  private place(z: number, out: Uint8Array, raw: Buffer, rows: number, row0: number): void {
    const w = this.index.width;
    if (raw.length < rows * w) throw this.corrupt(z, new Error(`a strip holds ${raw.length} bytes, expected ${rows * w}`));
    out.set(raw.subarray(0, rows * w), row0 * w);
  }

  /** True when the file no longer holds what was indexed: another program rewrote it in place (not by rename). */
  stale(): boolean {
    if (this.closed) return true;
    const st = fstatSync(this.fd);
    return st.size !== this.stamp.size || st.mtimeMs !== this.stamp.mtimeMs;
  }

  /** The page must be in range and the file the one indexed. */
  private check(z: number): void {
    if (this.closed) throw new StackSegError('the labels file was closed', { file: this.path });
    if (!Number.isInteger(z) || z < 0 || z >= this.index.depth) throw new StackSegError(`label slice ${z} is outside 0..${this.index.depth - 1}`, { file: this.path });
    if (this.stale()) {
      throw new StackSegError(`changed on disk while it was open: slice ${z + 1} can no longer be read from it`, {
        file: this.path, code: 'labels-changed', hint: 'reload the labels from disk (File > Revert File); unsaved strokes can be saved as a copy first',
      });
    }
  }

  private corrupt(z: number, e: Error): StackSegError {
    return new StackSegError(`label slice ${z + 1} cannot be decoded (${e.message})`, { file: this.path, page: z, hint: 'the file is damaged; restore it from its .bak copy beside it' });
  }
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, buf.length - done, position + done);
    if (got === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += got;
  }
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4, 16: 8, 17: 8 };

/**
 * Parses the directories of a plain uint8 stack (one sample, strips, no predictor, uncompressed or deflate).
 * Returns undefined for anything else. Metadata reads go through FileBytes' block cache.
 */
async function parseIndex(src: FileBytes): Promise<PageIndex | undefined> {
  if (src.size < 8) return undefined;
  const head = src.read(0, 16);
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const magic = u16(head, 2);
  if (magic !== 42 && magic !== 43) return undefined;
  const big = magic === 43;
  const entrySize = big ? 20 : 12;
  const inline = big ? 8 : 4;
  const values = (dir: Buffer, o: number): number[] => {
    const type = u16(dir, o + 2);
    const count = big ? u64(dir, o + 4) : u32(dir, o + 4);
    const size = TYPE_SIZE[type];
    if (!size || count > 1 << 24) return [];
    let buf = dir, at = o + (big ? 12 : 8);
    if (size * count > inline) {
      const pos = big ? u64(dir, o + 12) : u32(dir, o + 8);
      if (pos + size * count > src.size) throw new Error('tag data past the end');
      buf = src.read(pos, size * count);
      at = 0;
    }
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const p = at + i * size;
      out[i] = size === 1 ? buf[p] : size === 2 ? u16(buf, p) : size === 4 ? u32(buf, p) : u64(buf, p);
    }
    return out;
  };

  let next = big ? u64(head, 8) : u32(head, 4);
  const seen = new Set<number>();
  let width = 0, height = 0;
  const compression: number[] = [], rows: number[] = [], stripStart: number[] = [0], offsets: number[] = [], bytes: number[] = [];
  const labeled: number[] = [], pairs: (ClassPairs | undefined)[] = [];
  while (next !== 0) {
    await src.maybeYield();
    if (seen.has(next) || next + (big ? 8 : 2) > src.size) return undefined;
    seen.add(next);
    const n = big ? u64(src.read(next, 8), 0) : u16(src.read(next, 2), 0);
    if (n === 0 || n > 4096) return undefined;
    const dir = src.read(next + (big ? 8 : 2), n * entrySize + (big ? 8 : 4));
    if (dir.length < n * entrySize + (big ? 8 : 4)) return undefined;
    const t: Record<number, number[]> = {};
    for (let e = 0; e < n; e++) {
      const tag = u16(dir, e * entrySize);
      if (tag !== 270) t[tag] = values(dir, e * entrySize);
    }
    next = big ? u64(dir, n * entrySize) : u32(dir, n * entrySize);
    const one = (tag: number, dflt: number) => t[tag]?.[0] ?? dflt;
    const w = one(256, 0), h = one(257, 0), comp = one(259, 1), rps = Math.min(one(278, h) || h, h);
    if ((one(254, 0) & 1) === 1 || one(258, 1) !== 8 || one(277, 1) !== 1 || one(339, 1) !== 1 || one(317, 1) !== 1
      || one(266, 1) !== 1 || one(262, 1) !== 1 || t[322] || t[324] || ![1, 8, 32946].includes(comp)) return undefined;
    if (w <= 0 || h <= 0 || (compression.length > 0 && (w !== width || h !== height))) return undefined;
    width = w; height = h;
    const offs = t[273] ?? [], counts = t[279] ?? [];
    if (offs.length !== Math.ceil(h / rps) || counts.length !== offs.length) return undefined;
    for (let i = 0; i < offs.length; i++) {
      if (offs[i] + counts[i] > src.size) return undefined;
      if (comp === 1 && counts[i] < Math.min(rps, h - i * rps) * w) return undefined;
      offsets.push(offs[i]);
      bytes.push(counts[i]);
    }
    compression.push(comp);
    rows.push(rps);
    stripStart.push(offsets.length);
    const c = t[COUNTS_TAG];
    const total = counts.reduce((a, b) => a + b, 0);
    let sum = 0;
    for (let i = 3; i + 1 < (c?.length ?? 0); i += 2) sum += c![i + 1];
    // Trusted only when it describes these very strip bytes (a program that rewrote the pixels drops or breaks it).
    if (c && c.length >= 3 && c.length % 2 === 1 && c[0] === COUNTS_VERSION && c[1] === total && c[2] === sum && sum <= w * h) {
      labeled.push(c[2]);
      pairs.push(Uint32Array.from(c.slice(3)));
    } else {
      labeled.push(NaN);
      pairs.push(undefined);
    }
  }
  const depth = compression.length;
  if (depth === 0) return undefined;
  return {
    width, height, depth, compression: Uint16Array.from(compression), rowsPerStrip: Uint32Array.from(rows),
    stripStart: Uint32Array.from(stripStart), stripOffsets: Float64Array.from(offsets), stripBytes: Float64Array.from(bytes),
    labeled: Float64Array.from(labeled), pairs,
  };
}
