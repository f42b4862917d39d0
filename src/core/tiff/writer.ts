// Streaming multi-page TIFF writer: one strip per page, little-endian, optional deflate, BigTIFF when the file
// could pass 4 GB. Each page is written as [directory][page-0 description][pixels], so a page is written as soon
// as it arrives (bounded memory) and every offset is known when it is written. Temp name + rename.
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { StackSegError } from '../../shared/errors';
import type { DType, PixelArray } from '../../shared/types';
import { PIXEL_ARRAYS } from '../../shared/types';

const deflateAsync = promisify(deflate);

export interface StackSpec {
  width: number;
  height: number;
  depth: number;
  /** uint8 / uint16 / float32 are what ImageJ reads; the other dtypes are written for round trips too. */
  dtype: DType;
}

export interface WriteOptions {
  /** Force BigTIFF even for small files (tests, tools that expect it). Otherwise chosen when over 4 GB. */
  bigTiff?: boolean;
  compression?: 'none' | 'deflate';
  /** Write an ImageJ hyperstack description (images=/slices=); default true for uint8/uint16/float32. */
  imagej?: boolean;
  /** Voxel depth for the ImageJ description. */
  spacing?: number;
  /**
   * An ImageJ hyperstack: `depth` pages hold channels x slices x frames planes in ImageJ's order (channel fastest,
   * then slice, then frame); the description says `channels=C slices=Z frames=T hyperstack=true`.
   */
  hyperstack?: { channels: number; frames?: number };
  unit?: string;
}

const BITS: Record<DType, [bits: number, format: number]> = {
  uint8: [8, 1], int8: [8, 2], uint16: [16, 1], int16: [16, 2], uint32: [32, 1], int32: [32, 2], float32: [32, 3], float64: [64, 3],
};
const CLASSIC_LIMIT = 2 ** 32 - 1;

export class StackWriter {
  private position: number;
  private written = 0;
  private done = false;
  private readonly description: Buffer | undefined;

  private constructor(
    readonly path: string,
    readonly tmpPath: string,
    private handle: fsp.FileHandle,
    readonly spec: StackSpec,
    readonly bigTiff: boolean,
    private readonly compress: boolean,
    description: string | undefined,
  ) {
    this.description = description === undefined ? undefined : Buffer.from(description + '\0', 'latin1');
    this.position = bigTiff ? 16 : 8;
  }

  /** Opens `path + '.tmp-<pid>'` and writes the header; pages follow with appendSlice, close() renames. */
  static async create(path: string, spec: StackSpec, opts: WriteOptions = {}): Promise<StackWriter> {
    const { width, height, depth, dtype } = spec;
    for (const [k, v] of Object.entries({ width, height, depth })) {
      if (!Number.isInteger(v) || v <= 0) throw new StackSegError(`cannot write a stack with ${k} ${v}`, { file: path, hint: 'width, height and depth must be positive integers' });
    }
    if (!(dtype in BITS)) throw new StackSegError(`cannot write dtype ${dtype}`, { file: path, hint: `use one of ${Object.keys(BITS).join(', ')}` });
    const imagejType = dtype === 'uint8' || dtype === 'uint16' || dtype === 'float32';
    const sliceBytes = width * height * BITS[dtype][0] / 8;
    const compress = opts.compression === 'deflate';
    // Upper bound of the file size; deflate can expand incompressible data by a few bytes per 16 KB block.
    const perPage = (compress ? Math.ceil(sliceBytes * 1.001) + 64 : sliceBytes) + 14 * 20 + 16;
    const wantImageJ = opts.imagej ?? imagejType;
    const description = wantImageJ ? imagejDescription(spec, opts) : undefined;
    const estimate = 16 + depth * perPage + (description?.length ?? 0);
    const bigTiff = opts.bigTiff ?? estimate > CLASSIC_LIMIT;
    const tmpPath = `${path}.tmp-${process.pid}`;
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(tmpPath, 'w');
    } catch (e) {
      throw new StackSegError(`cannot create the output file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: path, hint: 'check that the folder exists and is writable' });
    }
    const writer = new StackWriter(path, tmpPath, handle, spec, bigTiff, compress, description);
    await writer.write(tiffHeader(bigTiff), 0);
    return writer;
  }

  /** Alias of create(), for streaming producers. */
  static open(path: string, spec: StackSpec, opts?: WriteOptions): Promise<StackWriter> { return StackWriter.create(path, spec, opts); }

  get slicesWritten(): number { return this.written; }

  /** Appends the next slice (row-major, width*height samples of spec.dtype). */
  async appendSlice(slice: PixelArray): Promise<void> {
    const { width, height, depth, dtype } = this.spec;
    const z = this.written;
    if (this.done) throw new StackSegError('the writer is already closed', { file: this.path, page: z });
    if (z >= depth) throw new StackSegError(`more slices than the declared depth ${depth}`, { file: this.path, page: z, hint: 'declare the right depth when creating the writer' });
    if (slice.length !== width * height) throw new StackSegError(`slice ${z} has ${slice.length} pixels, expected ${width}x${height} = ${width * height}`, { file: this.path, page: z });
    if (!(slice instanceof PIXEL_ARRAYS[dtype])) throw new StackSegError(`slice ${z} is a ${slice.constructor.name}, expected ${PIXEL_ARRAYS[dtype].name} for dtype ${dtype}`, { file: this.path, page: z });
    let pixels: Uint8Array = new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength);
    if (this.compress) pixels = await deflateAsync(pixels, { level: 6 });

    const big = this.bigTiff;
    const [bits, format] = BITS[dtype];
    const ifdStart = this.position;
    const page = { width, height, bits, format, compression: this.compress ? 8 : 1, dataBytes: pixels.length };
    const { ifd, dataStart, nextIfd } = pageDirectory(big, ifdStart, page, z === 0 ? this.description : undefined, z + 1 < depth);
    if (!big && dataStart + pixels.length > CLASSIC_LIMIT) {
      throw new StackSegError('the stack grew past 4 GB in a classic TIFF', { file: this.path, page: z, hint: 'write with bigTiff: true' });
    }
    await this.write(ifd, ifdStart);
    await this.write(pixels, dataStart);
    this.position = nextIfd || dataStart + pixels.length;
    this.written++;
  }

  /** Finishes the file and renames it into place; fails (and removes the temp file) if slices are missing. */
  async close(): Promise<void> {
    if (this.done) return;
    if (this.written !== this.spec.depth) {
      await this.abort();
      throw new StackSegError(`only ${this.written} of ${this.spec.depth} slices were written`, { file: this.path, hint: 'the output was not created; run again' });
    }
    this.done = true;
    await this.handle.close();
    await fsp.rename(this.tmpPath, this.path);
  }

  /** Drops the partial file. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await fsp.rm(this.tmpPath, { force: true });
  }

  private async write(buf: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, done, Math.min(buf.length - done, 1 << 30), position + done);
      done += bytesWritten;
    }
  }
}

function align8(n: number): number { return Math.ceil(n / 8) * 8; }

/** The 8-byte (classic) or 16-byte (BigTIFF) little-endian header; the first directory follows it. */
export function tiffHeader(big: boolean): Buffer {
  const h = Buffer.alloc(big ? 16 : 8);
  h.write('II', 0, 'latin1');
  if (big) { h.writeUInt16LE(43, 2); h.writeUInt16LE(8, 4); h.writeBigUInt64LE(16n, 8); } else { h.writeUInt16LE(42, 2); h.writeUInt32LE(8, 4); }
  return h;
}

/** One strip of one sample per pixel: its size, sample type (BitsPerSample, SampleFormat) and Compression tag. */
export interface PageFields { width: number; height: number; bits: number; format: number; compression: number; dataBytes: number }

/**
 * The directory of a page at ifdStart as StackWriter lays it out: [directory][description (page 0)], the pixels at
 * the next 8-byte boundary (dataStart), the next directory after them when `more` (nextIfd, else 0). `ifd` holds
 * the bytes from ifdStart to dataStart. The preallocated Slurm mask (jobs/runners/prealloc.ts) writes the same.
 */
export function pageDirectory(big: boolean, ifdStart: number, page: PageFields, desc: Buffer | undefined, more: boolean): { ifd: Buffer; dataStart: number; nextIfd: number } {
  const { width, height, bits, format, compression, dataBytes } = page;
  const entries: Array<[tag: number, type: number, count: number, value: number]> = [
    [254, 4, 1, 0], [256, 4, 1, width], [257, 4, 1, height], [258, 3, 1, bits], [259, 3, 1, compression], [262, 3, 1, 1],
  ];
  const entrySize = big ? 20 : 12;
  const countSize = big ? 8 : 2;
  const descCount = desc?.length ?? 0;
  const ifdEntries = entries.length + (desc ? 1 : 0) + 6;
  const ifdBytes = countSize + ifdEntries * entrySize + (big ? 8 : 4);
  const descStart = ifdStart + ifdBytes;
  // Start pixels on an 8-byte boundary: not needed by TIFF, but cheap and friendly to memory-mapping readers.
  const dataStart = align8(descStart + descCount);
  const nextIfd = more ? align8(dataStart + dataBytes) : 0;
  if (desc) entries.push([270, 2, descCount, descStart]);
  entries.push([273, big ? 16 : 4, 1, dataStart], [277, 3, 1, 1], [278, 4, 1, height], [279, big ? 16 : 4, 1, dataBytes], [284, 3, 1, 1], [339, 3, 1, format]);

  const ifd = Buffer.alloc(dataStart - ifdStart);
  let o = 0;
  if (big) { ifd.writeBigUInt64LE(BigInt(ifdEntries), 0); o = 8; } else { ifd.writeUInt16LE(ifdEntries, 0); o = 2; }
  for (const [tag, type, count, value] of entries) {
    ifd.writeUInt16LE(tag, o);
    ifd.writeUInt16LE(type, o + 2);
    if (big) ifd.writeBigUInt64LE(BigInt(count), o + 4); else ifd.writeUInt32LE(count, o + 4);
    const v = o + (big ? 12 : 8);
    // Values are left-justified in the value field: SHORT in 2 bytes, LONG in 4, LONG8/offsets in 8.
    if (type === 3) ifd.writeUInt16LE(value, v);
    else if (type === 16 || (big && type === 2)) ifd.writeBigUInt64LE(BigInt(value), v);
    else ifd.writeUInt32LE(value, v);
    o += entrySize;
  }
  if (big) ifd.writeBigUInt64LE(BigInt(nextIfd), o); else ifd.writeUInt32LE(nextIfd, o);
  if (desc) desc.copy(ifd, descStart - ifdStart);
  return { ifd, dataStart, nextIfd };
}

/** The ImageJ hyperstack description (images=/slices=) of a stack; labels files write it too (labelWrite.ts). */
export function imagejDescription(spec: StackSpec, opts: WriteOptions): string {
  const lines = ['ImageJ=1.11a'];
  const hyper = opts.hyperstack;
  if (hyper) {
    const frames = hyper.frames ?? 1;
    const slices = spec.depth / (hyper.channels * frames);
    if (!Number.isInteger(slices) || slices < 1) throw new Error(`a hyperstack of ${hyper.channels} channels x ${frames} frames cannot hold ${spec.depth} pages`);
    lines.push(`images=${spec.depth}`, `channels=${hyper.channels}`, `slices=${slices}`);
    if (frames > 1) lines.push(`frames=${frames}`);
    lines.push('hyperstack=true', 'mode=composite');
  } else if (spec.depth > 1) lines.push(`images=${spec.depth}`, `slices=${spec.depth}`);
  if (opts.unit) lines.push(`unit=${opts.unit.replace(/µ/g, '\\u00B5')}`);
  if (opts.spacing !== undefined) lines.push(`spacing=${opts.spacing}`);
  if (spec.depth > 1) lines.push('loop=false');
  return lines.join('\n') + '\n';
}

/** Writes a whole stack, one slice at a time (getSlice is called in order 0..depth-1). */
export async function writeStack(
  path: string,
  source: StackSpec & { getSlice(z: number): PixelArray | Promise<PixelArray> },
  opts?: WriteOptions,
): Promise<void> {
  const writer = await StackWriter.create(path, source, opts);
  try {
    for (let z = 0; z < source.depth; z++) await writer.appendSlice(await source.getSlice(z));
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
