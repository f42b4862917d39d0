// Decoding of one TIFF page: positioned reads of its strips or tiles, decompression, predictors, bit and byte order,
// into one array per sample (samples.ts converts what is not read as stored). TiffStack (reader.ts) caches the result.
import { StackSegError } from '../../shared/errors';
import type { DType } from '../../shared/types';
import { inflateChunk, inflateChunkAsync, lzwDecode, packbitsDecode, reverseBits, swapInPlace, undoFloatPredictor, undoHorizontalPredictor, zstdDecoder } from './codecs';
import { rowBytes, type PageTable } from './ifd';
import { allocPixels } from '../../shared/types';
import { convertSamples, isDirect, type Converted } from './samples';
import type { FileBytes } from './source';

/** What decoding needs of an open stack: its directories, the file, and the slice size and type. */
export interface PageSource { table: PageTable; src: FileBytes; path: string; width: number; height: number; dtype: DType }

export function truncatedPage(path: string, page: number): never {
  throw new StackSegError(`truncated file: pixel data of page ${page} is cut short`, { file: path, page, hint: 'the file was not fully written or copied; copy it again' });
}

/**
 * Decodes page `page`: planar pages only the strips/tiles of `sample`, interleaved pages all samples (one array
 * each). Standard samples decode straight into the output array; others (half floats, 64-bit integers, packed
 * bits, interleaved samples) into the file's layout first, then convertSamples.
 */
export async function decodePage(p: PageSource, page: number, sample: number): Promise<Converted> {
  const t = p.table;
  const { width: w, height: h, dtype } = p;
  const bits = t.bitsPerSample;
  const planar = t.samplesPerPixel > 1 && t.planar === 2;
  const spc = planar ? 1 : t.samplesPerPixel; // samples per pixel within a chunk
  const bps = bits === 8 || bits === 16 || bits === 32 || bits === 64 ? bits / 8 : 1;
  const rb = rowBytes(w, spc, bits);
  const direct = spc === 1 && isDirect(bits, t.sampleFormat);
  const out = direct ? allocPixels(dtype, w * h) : undefined;
  const bytes = out ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(rb * h);
  const finish = (): Converted => (out ? { planes: [out], lostPrecision: false } : convertSamples(bytes, w, h, spc, bits, t.sampleFormat, dtype));
  const comp = t.compression[page];
  let start = t.chunkStart[page];
  let count = t.chunkCount[page];
  if (planar) { count /= t.samplesPerPixel; start += sample * count; }
  const offs = t.chunkOffsets;
  const lens = t.chunkByteCounts;
  const swap = !t.littleEndian && bps > 1;
  const reversed = t.fillOrder === 2;

  if (comp === 1 && t.tileWidth[page] === 0) {
    // Fast path: uncompressed strips. Usually contiguous, so one read straight into the output.
    const rps = t.rowsPerStrip[page];
    let contiguous = true;
    for (let i = 1; i < count; i++) if (offs[start + i] !== offs[start + i - 1] + lens[start + i - 1]) { contiguous = false; break; }
    if (contiguous) {
      const n = await p.src.readInto(bytes, 0, bytes.length, offs[start]);
      if (n < bytes.length) truncatedPage(p.path, page);
    } else {
      const reads: Promise<number>[] = [];
      for (let i = 0; i < count; i++) {
        const row0 = i * rps;
        if (row0 >= h) break;
        const len = Math.min(rps, h - row0) * rb;
        reads.push(p.src.readInto(bytes, row0 * rb, len, offs[start + i]).then((n) => (n < len ? truncatedPage(p.path, page) : n)));
      }
      await Promise.all(reads);
    }
    if (reversed) reverseBits(bytes);
    if (swap) swapInPlace(bytes, bps);
    return finish();
  }

  let raw = await readChunks(p, start, count);
  if (reversed) for (const c of raw) reverseBits(c); // the chunks are this read's own bytes
  const pred = t.predictor[page];
  const deflated = comp === 8 || comp === 32946;
  const zstd = comp === 50000 || comp === 34926;
  const tw = t.tileWidth[page];
  const expected = tw ? t.tileHeight[page] * rowBytes(tw, spc, bits) : t.rowsPerStrip[page] * rb;
  // Large strips/tiles: inflate them in parallel on the libuv thread pool. Small ones inline: a thread hop
  // costs more than it saves (measured: 128 strips of 64 KB, 27 ms inline vs 70 ms on the pool).
  if (deflated) {
    let total = 0;
    for (const c of raw) total += c.length;
    raw = count > 1 && total / count >= 256 * 1024
      ? await Promise.all(raw.map((c) => inflateChunkAsync(c, expected)))
      : raw.map((c) => inflateChunk(c, expected));
  } else if (zstd) {
    const decodeZstd = await zstdDecoder();
    raw = raw.map((c) => (c.length ? decodeZstd(c, expected) : c));
  }
  const decode = (chunk: Uint8Array, target: Uint8Array): number => {
    if (comp === 5) return lzwDecode(chunk, target);
    if (comp === 32773) return packbitsDecode(chunk, target);
    const n = Math.min(chunk.length, target.length);
    target.set(chunk.subarray(0, n));
    return n;
  };
  // Predictor 2 adds integers: swap to host order first. Predictor 3 regroups bytes in file order: swap after.
  const unpredict = (target: Uint8Array, rowLength: number, rows: number): void => {
    if (pred === 3) undoFloatPredictor(target, bps, rowLength * spc, rows, spc);
    if (swap) swapInPlace(target, bps);
    if (pred === 2) undoHorizontalPredictor(target, bps, rowLength * spc, rows, spc);
  };

  if (tw === 0) {
    const rps = t.rowsPerStrip[page];
    for (let i = 0; i < count; i++) {
      const row0 = i * rps;
      if (row0 >= h) break;
      const rows = Math.min(rps, h - row0);
      const target = bytes.subarray(row0 * rb, (row0 + rows) * rb);
      // A strip that decodes short is an error, never rows of zeros (tiles cut at the edge are left alone).
      const n = decode(raw[i], target);
      if (n < target.length) {
        throw new StackSegError(`strip ${i} of page ${page} decodes to ${n} bytes where its ${rows} rows need ${target.length}`,
          { file: p.path, page, hint: 'the file is truncated, or its RowsPerStrip/StripByteCounts are wrong; re-save it with Fiji or tifffile' });
      }
      unpredict(target, w, rows);
    }
    return finish();
  }
  const th = t.tileHeight[page];
  const across = Math.ceil(w / tw);
  const trb = rowBytes(tw, spc, bits);
  const tile = new Uint8Array(th * trb);
  for (let i = 0; i < count; i++) {
    const tx = (i % across) * tw;
    const ty = Math.floor(i / across) * th;
    if (ty >= h) break;
    tile.fill(0);
    decode(raw[i], tile);
    unpredict(tile, tw, th);
    const cols = rowBytes(Math.min(tw, w - tx), spc, bits);
    const x0 = (tx * spc * bits) / 8; // tile widths are multiples of 16: whole bytes
    const rows = Math.min(th, h - ty);
    for (let r = 0; r < rows; r++) bytes.set(tile.subarray(r * trb, r * trb + cols), (ty + r) * rb + x0);
  }
  return finish();
}

/** Reads the compressed chunks of one page: one read when they lie close together (the usual layout). */
async function readChunks(p: PageSource, start: number, count: number): Promise<Uint8Array[]> {
  const offs = p.table.chunkOffsets;
  const lens = p.table.chunkByteCounts;
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
    const n = await p.src.readIntoFast(span, 0, span.length, lo);
    for (let i = 0; i < count; i++) {
      const o = offs[start + i] - lo;
      chunks[i] = lens[start + i] === 0 ? new Uint8Array(0) : span.subarray(o, Math.min(o + lens[start + i], n));
    }
    return chunks;
  }
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const buf = Buffer.allocUnsafe(lens[start + i]);
    const n = await p.src.readInto(buf, 0, buf.length, offs[start + i]);
    chunks[i] = buf.subarray(0, n);
  }));
  return chunks;
}
