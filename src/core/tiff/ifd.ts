// TIFF / BigTIFF directory parser. Keeps per-page layout in typed arrays (no object per page or per tag) so that
// opening a stack of many thousands of pages stays fast and small.
import { StackSegError } from '../../shared/errors';
import type { FileBytes } from './source';

export const TAG = {
  NewSubfileType: 254, ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259,
  Photometric: 262, FillOrder: 266, ImageDescription: 270, StripOffsets: 273, SamplesPerPixel: 277, RowsPerStrip: 278, StripByteCounts: 279,
  PlanarConfiguration: 284, Predictor: 317, TileWidth: 322, TileLength: 323, TileOffsets: 324, TileByteCounts: 325,
  SampleFormat: 339, IJMetadataByteCounts: 50838, IJMetadata: 50839,
} as const;

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/** Growable Float64Array (offsets may pass 2^32 in BigTIFF; doubles are exact up to 2^53). */
class NumberList {
  data = new Float64Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  trimmed(): Float64Array { return this.data.slice(0, this.length); }
}

/** Per-page layout after validation: every page has the same width, height and sample type. */
export interface PageTable {
  count: number;
  width: number;
  height: number;
  bitsPerSample: number;
  sampleFormat: number; // 1 uint, 2 int, 3 float
  /** Samples per pixel (RGB: 3) and how they are stored: 1 interleaved in one plane, 2 one plane per sample. */
  samplesPerPixel: number;
  planar: number;
  /** 2: the bits of every byte are stored reversed (lowest first); undone before decompression, as libtiff does. */
  fillOrder: number;
  photometric: number;
  littleEndian: boolean;
  bigTiff: boolean;
  description?: string;
  /** ImageJ's private metadata of page 0 (tags 50838/50839: LUTs, ranges, labels), when present. */
  imagejMeta?: { counts: number[]; data: number[] };
  compression: Uint16Array;
  predictor: Uint8Array;
  /** 0 for stripped pages. */
  tileWidth: Uint32Array;
  tileHeight: Uint32Array;
  rowsPerStrip: Uint32Array;
  chunkStart: Uint32Array;
  chunkCount: Uint32Array;
  chunkOffsets: Float64Array;
  chunkByteCounts: Float64Array;
}

export const COMPRESSION_NAMES: Record<number, string> = {
  1: 'none', 2: 'CCITT RLE', 3: 'CCITT Group 3', 4: 'CCITT Group 4', 5: 'lzw', 6: 'old-style JPEG', 7: 'JPEG',
  8: 'deflate', 32946: 'deflate', 32773: 'packbits', 34712: 'JPEG 2000', 34887: 'LERC', 34925: 'LZMA',
  50000: 'Zstandard', 50001: 'WebP', 50002: 'JPEG XL', 34926: 'Zstandard',
};
export const SUPPORTED_COMPRESSION = new Set([1, 5, 8, 32946, 32773, 50000, 34926]);

const MAX_SLICE_BYTES = 2 ** 31 - 1;

interface RawPage {
  width: number; height: number; bits: number; format: number; spp: number; compression: number; predictor: number;
  planar: number; fillOrder: number; photometric: number; mixedBits?: boolean;
  tileWidth: number; tileHeight: number; rowsPerStrip: number; offsets?: number[]; counts?: number[]; subfile: number;
  description?: string; chunkStart: number; ijCounts?: number[]; ijData?: number[];
}

export async function parsePages(src: FileBytes, path: string): Promise<PageTable> {
  const fail = (what: string, hint?: string, page?: number): never => { throw new StackSegError(what, { file: path, page, hint }); };
  if (src.size < 8) fail('not a TIFF file (too short for a TIFF header)', 'open a .tif/.tiff image stack');
  const head = src.read(0, 16);
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') fail('not a TIFF file (wrong magic bytes)', 'open a .tif/.tiff image stack');
  const le = order === 'II';
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const magic = u16(head, 2);
  if (magic !== 42 && magic !== 43) fail(`not a TIFF file (magic number ${magic}, expected 42 or 43)`, 'open a .tif/.tiff image stack');
  const big = magic === 43;
  if (big && head.length < 16) fail('truncated file: BigTIFF header is cut short', 'the file was not fully written or copied; copy it again');
  let next = big ? u64(head, 8) : u32(head, 4);
  const entrySize = big ? 20 : 12;
  const inlineBytes = big ? 8 : 4;

  const readValues = (entry: Buffer, o: number, wantAscii = false): number[] | string => {
    const type = u16(entry, o + 2);
    const count = big ? u64(entry, o + 4) : u32(entry, o + 4);
    const size = TYPE_SIZE[type];
    if (!size) return [];
    const total = size * count;
    let buf: Buffer;
    let at: number;
    if (total <= inlineBytes) { buf = entry; at = o + (big ? 12 : 8); } else {
      const pos = big ? u64(entry, o + 12) : u32(entry, o + 8);
      if (pos + total > src.size) fail(`truncated file: tag ${u16(entry, o)} data at byte ${pos} lies past the end of the file (${src.size} bytes)`, 'the file was not fully written or copied; copy it again');
      buf = src.read(pos, total);
      at = 0;
    }
    if (wantAscii || type === 2) return buf.toString('latin1', at, at + count).replace(/\0+$/, '');
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const p = at + i * size;
      switch (type) {
        case 1: case 7: out[i] = buf[p]; break;
        case 6: out[i] = buf.readInt8(p); break;
        case 3: out[i] = u16(buf, p); break;
        case 8: out[i] = le ? buf.readInt16LE(p) : buf.readInt16BE(p); break;
        case 4: case 13: out[i] = u32(buf, p); break;
        case 9: out[i] = le ? buf.readInt32LE(p) : buf.readInt32BE(p); break;
        case 16: case 17: case 18: out[i] = u64(buf, p); break;
        default: out[i] = 0; // rationals/floats: not needed for layout
      }
    }
    return out;
  };

  const raws: RawPage[] = [];
  const visited = new Set<number>();
  const offsets = new NumberList();
  const counts = new NumberList();
  while (next !== 0) {
    await src.maybeYield();
    const index = raws.length;
    if (visited.has(next)) fail(`directory loop: page ${index} points back to the directory at byte ${next}`, 'the file is corrupt; re-save it with ImageJ/Fiji or tifffile', index);
    visited.add(next);
    if (next + (big ? 8 : 2) > src.size) fail(`truncated file: directory of page ${index} at byte ${next} lies past the end of the file (${src.size} bytes)`, 'the file was not fully written or copied; copy it again', index);
    const countBuf = src.read(next, big ? 8 : 2);
    const n = big ? u64(countBuf, 0) : u16(countBuf, 0);
    if (n === 0 || n > 4096) fail(`the directory of page ${index} has ${n} entries`, 'the file is corrupt; re-save it with ImageJ/Fiji or tifffile', index);
    const dirBytes = n * entrySize + (big ? 8 : 4);
    const dir = src.read(next + (big ? 8 : 2), dirBytes);
    if (dir.length < dirBytes) fail(`truncated file: directory of page ${index} is cut short at the end of the file`, 'the file was not fully written or copied; copy it again', index);
    const page: RawPage = { width: 0, height: 0, bits: 1, format: 1, spp: 1, compression: 1, predictor: 1, planar: 1, fillOrder: 1, photometric: 1, tileWidth: 0, tileHeight: 0, rowsPerStrip: 0, subfile: 0, chunkStart: 0 };
    for (let e = 0; e < n; e++) {
      const o = e * entrySize;
      const tag = u16(dir, o);
      switch (tag) {
        case TAG.NewSubfileType: page.subfile = (readValues(dir, o) as number[])[0] ?? 0; break;
        case TAG.ImageWidth: page.width = (readValues(dir, o) as number[])[0] ?? 0; break;
        case TAG.ImageLength: page.height = (readValues(dir, o) as number[])[0] ?? 0; break;
        case TAG.BitsPerSample: {
          const bits = readValues(dir, o) as number[];
          page.bits = bits[0] ?? 1;
          page.mixedBits = bits.some((b) => b !== page.bits);
          break;
        }
        case TAG.Photometric: page.photometric = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.FillOrder: page.fillOrder = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.PlanarConfiguration: page.planar = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.Compression: page.compression = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.SamplesPerPixel: page.spp = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.RowsPerStrip: page.rowsPerStrip = (readValues(dir, o) as number[])[0] ?? 0; break;
        case TAG.Predictor: page.predictor = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.TileWidth: page.tileWidth = (readValues(dir, o) as number[])[0] ?? 0; break;
        case TAG.TileLength: page.tileHeight = (readValues(dir, o) as number[])[0] ?? 0; break;
        case TAG.SampleFormat: page.format = (readValues(dir, o) as number[])[0] ?? 1; break;
        case TAG.StripOffsets: case TAG.TileOffsets: page.offsets = readValues(dir, o) as number[]; break;
        case TAG.StripByteCounts: case TAG.TileByteCounts: page.counts = readValues(dir, o) as number[]; break;
        case TAG.ImageDescription: if (index === 0) page.description = readValues(dir, o, true) as string; break;
        case TAG.IJMetadataByteCounts: if (index === 0) page.ijCounts = readValues(dir, o) as number[]; break;
        // Raw bytes (type BYTE/UNDEFINED); bounded so a damaged tag cannot make opening slow.
        case TAG.IJMetadata: if (index === 0 && (big ? u64(dir, o + 4) : u32(dir, o + 4)) <= 1 << 20) page.ijData = readValues(dir, o) as number[]; break;
        default: break;
      }
    }
    next = big ? u64(dir, n * entrySize) : u32(dir, n * entrySize);
    // Reduced-resolution thumbnails/previews are not slices of the stack.
    if (index > 0 && (page.subfile & 1) === 1) continue;
    validatePage(page, index, path, fail);
    if (!page.tileWidth) checkStrips(page, raws.length, fail);
    if (!page.counts) page.counts = [chunkBytes(page)];
    const start = offsets.length;
    for (let i = 0; i < page.offsets!.length; i++) {
      const off = page.offsets![i];
      const len = page.counts[i] ?? 0;
      if (off + len > src.size) fail(`truncated file: pixel data of page ${raws.length} ends at byte ${off + len}, past the end of the file (${src.size} bytes)`, 'the file was not fully written or copied; copy it again', raws.length);
      offsets.push(off);
      counts.push(len);
    }
    // Keep memory flat: the number lists hold the offsets, the page keeps only its start index.
    page.offsets = undefined;
    page.counts = undefined;
    page.chunkStart = start;
    raws.push(page);
  }
  if (raws.length === 0) fail('the file has no pages (no image directories)', 'the file is empty or corrupt; re-save it');

  const first = raws[0];
  for (let i = 1; i < raws.length; i++) {
    const p = raws[i];
    if (p.width !== first.width || p.height !== first.height) fail(`page ${i} is ${p.width}x${p.height} but page 0 is ${first.width}x${first.height}`, 'all pages of a stack must have the same size; save the slices as one stack of equal pages', i);
    if (p.bits !== first.bits || p.format !== first.format) fail(`page ${i} has a different sample type (${sampleTypeName(p)}) than page 0 (${sampleTypeName(first)})`, 'all pages of a stack must have the same data type; convert them to one type', i);
    if (p.spp !== first.spp || (p.spp > 1 && p.planar !== first.planar)) fail(`page ${i} has ${p.spp} samples per pixel (planar configuration ${p.planar}) but page 0 has ${first.spp} (${first.planar})`, 'all pages of a stack must have the same samples per pixel; save the stack again as one kind of image', i);
  }

  const count = raws.length;
  const table: PageTable = {
    count, width: first.width, height: first.height, bitsPerSample: first.bits, sampleFormat: first.format,
    samplesPerPixel: first.spp, planar: first.spp > 1 ? first.planar : 1, fillOrder: first.fillOrder, photometric: first.photometric,
    littleEndian: le, bigTiff: big, description: first.description,
    ...(first.ijCounts && first.ijData && Array.isArray(first.ijData) ? { imagejMeta: { counts: first.ijCounts, data: first.ijData } } : {}),
    compression: new Uint16Array(count), predictor: new Uint8Array(count), tileWidth: new Uint32Array(count),
    tileHeight: new Uint32Array(count), rowsPerStrip: new Uint32Array(count), chunkStart: new Uint32Array(count),
    chunkCount: new Uint32Array(count), chunkOffsets: offsets.trimmed(), chunkByteCounts: counts.trimmed(),
  };
  for (let i = 0; i < count; i++) {
    const p = raws[i];
    table.compression[i] = p.compression;
    table.predictor[i] = p.predictor;
    table.tileWidth[i] = p.tileWidth;
    table.tileHeight[i] = p.tileWidth ? p.tileHeight : 0;
    table.rowsPerStrip[i] = p.rowsPerStrip && p.rowsPerStrip < p.height ? p.rowsPerStrip : p.height;
    table.chunkStart[i] = p.chunkStart;
    table.chunkCount[i] = (i + 1 < count ? raws[i + 1].chunkStart : offsets.length) - p.chunkStart;
  }
  return table;
}

function sampleTypeName(p: { bits: number; format: number }): string {
  return `${p.bits}-bit ${p.format === 3 ? 'float' : p.format === 2 ? 'signed int' : 'unsigned int'}`;
}

/** Bytes of one row of `width` pixels of `samples` samples: rows start on a byte boundary (1-bit, 12-bit). */
export function rowBytes(width: number, samples: number, bits: number): number {
  return Math.ceil((width * samples * bits) / 8);
}

function chunkBytes(p: RawPage): number {
  const spc = p.planar === 2 ? 1 : p.spp;
  if (p.tileWidth) return p.tileHeight * rowBytes(p.tileWidth, spc, p.bits);
  const rows = p.rowsPerStrip && p.rowsPerStrip < p.height ? p.rowsPerStrip : p.height;
  return rows * rowBytes(p.width, spc, p.bits);
}

/** Sample sizes StackSeg reads: the standard ones, half floats, and packed unsigned integers of 1 to 32 bits. */
function readableBits(bits: number, format: number): boolean {
  if (format === 3) return bits === 16 || bits === 32 || bits === 64;
  if (format === 2) return bits === 8 || bits === 16 || bits === 32 || bits === 64;
  return (bits >= 1 && bits <= 32) || bits === 64;
}

/**
 * The strips must cover the page: ceil(height / RowsPerStrip) of them (per sample plane when planar). A writer that
 * got RowsPerStrip wrong is read by the strips it wrote when they can hold the page (one strip = the whole page;
 * k strips = ceil(height / k) rows each, byte counts permitting; a strip that then decodes short is still an error);
 * otherwise one clear error instead of rows of zeros.
 */
function checkStrips(p: RawPage, index: number, fail: (what: string, hint?: string, page?: number) => never): void {
  const k = p.offsets!.length;
  const hint = 'the file was written by a broken tool or edited; re-save it with Fiji (File > Save As > Tiff) or tifffile';
  if (p.counts && p.counts.length !== k) fail(`page ${index} has ${k} StripOffsets but ${p.counts.length} StripByteCounts`, hint, index);
  const planes = p.spp > 1 && (p as { planar?: number }).planar === 2 ? p.spp : 1;
  const rps = p.rowsPerStrip && p.rowsPerStrip < p.height ? p.rowsPerStrip : p.height;
  const expected = Math.ceil(p.height / rps) * planes;
  if (k === expected) return;
  const perPlane = k / planes;
  const inferred = Math.ceil(p.height / Math.max(1, Math.floor(perPlane)));
  const rowBytes = Math.ceil((p.width * (planes > 1 ? 1 : p.spp) * p.bits) / 8);
  const fits = Number.isInteger(perPlane) && Math.ceil(p.height / inferred) === perPlane && (p.compression !== 1 || !p.counts
    || p.counts.every((c, i) => c >= Math.min(inferred, p.height - (i % perPlane) * inferred) * rowBytes));
  if (!fits) {
    fail(`page ${index} has ${k} strip${k === 1 ? '' : 's'}, but its height ${p.height} and RowsPerStrip ${p.rowsPerStrip || '(unset)'} need ${expected}`, hint, index);
  }
  p.rowsPerStrip = inferred;
}

function validatePage(p: RawPage, index: number, path: string, fail: (what: string, hint?: string, page?: number) => never): void {
  void path;
  if (p.spp < 1 || p.spp > 256) fail(`page ${index} has ${p.spp} samples per pixel`, 'the file is corrupt; re-save it', index);
  if (p.mixedBits) fail(`page ${index} stores its ${p.spp} samples with different bit depths`, 'save all channels with one data type (Fiji: Image > Type)', index);
  if (p.spp > 1 && p.planar !== 1 && p.planar !== 2) fail(`page ${index} has an unknown PlanarConfiguration ${p.planar}`, 'the file is corrupt; re-save it', index);
  if (p.width <= 0 || p.height <= 0) fail(`page ${index} has no pixels (${p.width}x${p.height})`, 'the file is corrupt; re-save it', index);
  if (p.width > 2 ** 24 || p.height > 2 ** 24 || p.width * p.height * Math.max(1, p.bits / 8) * p.spp > MAX_SLICE_BYTES) fail(`page ${index} is ${p.width}x${p.height} pixels, too large for one slice (over 2 GiB)`, 'crop or tile the stack into smaller slices first', index);
  if (p.format !== 1 && p.format !== 2 && p.format !== 3) fail(`page ${index} has an unsupported SampleFormat ${p.format}`, 'convert to integer or float samples', index);
  if (!readableBits(p.bits, p.format)) fail(`page ${index} has ${p.bits}-bit ${p.format === 3 ? 'floating-point' : p.format === 2 ? 'signed integer' : 'unsigned integer'} samples, which StackSeg does not read`, 'convert to 8-bit, 16-bit or 32-bit float (Fiji: Image > Type)', index);
  if (!SUPPORTED_COMPRESSION.has(p.compression)) fail(`page ${index} uses unsupported compression ${COMPRESSION_NAMES[p.compression] ?? 'code'} (${p.compression})`, 're-save it uncompressed or with LZW/deflate/Zstandard (Fiji: File > Save As > Tiff; tifffile: compression=None or "zlib")', index);
  if (p.predictor !== 1 && p.predictor !== 2 && p.predictor !== 3) fail(`page ${index} uses unsupported predictor ${p.predictor}`, 're-save it without a predictor', index);
  if (p.predictor === 2 && ![8, 16, 32, 64].includes(p.bits)) fail(`page ${index} uses the horizontal predictor on ${p.bits}-bit samples`, 're-save it without a predictor', index);
  if (p.predictor === 3 && p.format !== 3) fail(`page ${index} uses the floating-point predictor on integer samples`, 're-save it without a predictor', index);
  if (p.fillOrder !== 1 && p.fillOrder !== 2) fail(`page ${index} has an unknown FillOrder ${p.fillOrder}`, 'the file is corrupt; re-save it', index);
  if (!p.offsets || p.offsets.length === 0) fail(`page ${index} has no pixel data offsets`, 'the file is corrupt; re-save it', index);
  if (p.spp > 1 && p.planar === 2 && p.offsets.length % p.spp !== 0) fail(`page ${index} stores ${p.spp} sample planes in ${p.offsets.length} strips or tiles, not a multiple of ${p.spp}`, 'the file is corrupt; re-save it', index);
  if (p.tileWidth && !p.tileHeight) fail(`page ${index} has a TileWidth but no TileLength`, 'the file is corrupt; re-save it', index);
  if (!p.counts && p.compression !== 1) fail(`page ${index} is compressed but has no byte counts`, 'the file is corrupt; re-save it', index);
}
