// A mask TIFF written in place by many tasks at once: every page directory is written up front and the file is
// sized to its final length (sparse), so each task pwrite()s its slices at known offsets and nothing is merged.
// The layout is byte for byte the one StackWriter writes uncompressed ([directory][page-0 description][pixels],
// 8-byte aligned, BigTIFF past 4 GB), so a Slurm job's mask equals the local runner's.

import { promises as fs } from 'node:fs';
import { StackSegError } from '../../../shared/errors';

export interface PreallocSpec { width: number; height: number; depth: number }

export interface PreallocLayout {
  spec: PreallocSpec;
  bigTiff: boolean;
  sliceBytes: number;
  /** Where page z's directory starts (pages follow one another). */
  ifdOffset: (z: number) => number;
  /** Where page z's pixels start. */
  dataOffset: (z: number) => number;
  fileSize: number;
}

const CLASSIC_LIMIT = 2 ** 32 - 1;
const align8 = (n: number) => Math.ceil(n / 8) * 8;

function description(depth: number): Buffer {
  const lines = ['ImageJ=1.11a'];
  if (depth > 1) lines.push(`images=${depth}`, `slices=${depth}`, 'loop=false');
  return Buffer.from(lines.join('\n') + '\n' + '\0', 'latin1');
}

/** The layout of a uint8 stack as StackWriter.create(path, {dtype: 'uint8'}) writes it, uncompressed. */
export function uint8Layout(spec: PreallocSpec, forceBigTiff = false): PreallocLayout {
  const { width, height, depth } = spec;
  for (const [k, v] of Object.entries(spec)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new StackSegError(`cannot preallocate a mask with ${k} ${v}`, { hint: 'width, height and depth must be positive integers' });
  }
  const sliceBytes = width * height;
  const desc = description(depth);
  const estimate = 16 + depth * (sliceBytes + 14 * 20 + 16) + desc.length - 1; // StackWriter's estimate (no NUL)
  const bigTiff = forceBigTiff || estimate > CLASSIC_LIMIT;
  const ifdBytes = (entries: number) => (bigTiff ? 8 + entries * 20 + 8 : 2 + entries * 12 + 4);
  const first = bigTiff ? 16 : 8;
  const data0 = align8(first + ifdBytes(13) + desc.length);
  // Every later page: [12-entry directory][pixels], 8-byte aligned.
  const ifd1 = align8(data0 + sliceBytes);
  const pageStride = align8(align8(ifdBytes(12)) + sliceBytes);
  const ifdOffset = (z: number) => (z === 0 ? first : ifd1 + (z - 1) * pageStride);
  const dataOffset = (z: number) => (z === 0 ? data0 : align8(ifdOffset(z) + ifdBytes(12)));
  const fileSize = dataOffset(depth - 1) + sliceBytes;
  if (!bigTiff && fileSize > CLASSIC_LIMIT) throw new StackSegError('the mask would pass 4 GB in a classic TIFF', { hint: 'report this: BigTIFF should have been chosen' });
  return { spec, bigTiff, sliceBytes, ifdOffset, dataOffset, fileSize };
}

/** The header and page z's directory (with page 0's description), as StackWriter writes them. */
function directory(l: PreallocLayout, z: number): Buffer {
  const { width, height, depth } = l.spec;
  const big = l.bigTiff;
  const desc = z === 0 ? description(depth) : undefined;
  const entries: Array<[number, number, number, number]> = [[254, 4, 1, 0], [256, 4, 1, width], [257, 4, 1, height], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 1]];
  const ifdStart = l.ifdOffset(z), dataStart = l.dataOffset(z);
  const count = entries.length + (desc ? 1 : 0) + 6;
  const entrySize = big ? 20 : 12;
  const ifdBytes = (big ? 8 : 2) + count * entrySize + (big ? 8 : 4);
  if (desc) entries.push([270, 2, desc.length, ifdStart + ifdBytes]);
  entries.push([273, big ? 16 : 4, 1, dataStart], [277, 3, 1, 1], [278, 4, 1, height], [279, big ? 16 : 4, 1, l.sliceBytes], [284, 3, 1, 1], [339, 3, 1, 1]);
  const buf = Buffer.alloc(dataStart - ifdStart);
  let o = big ? 8 : 2;
  if (big) buf.writeBigUInt64LE(BigInt(count), 0); else buf.writeUInt16LE(count, 0);
  for (const [tag, type, n, value] of entries) {
    buf.writeUInt16LE(tag, o);
    buf.writeUInt16LE(type, o + 2);
    if (big) buf.writeBigUInt64LE(BigInt(n), o + 4); else buf.writeUInt32LE(n, o + 4);
    const v = o + (big ? 12 : 8);
    if (type === 3) buf.writeUInt16LE(value, v);
    else if (type === 16 || (big && type === 2)) buf.writeBigUInt64LE(BigInt(value), v);
    else buf.writeUInt32LE(value, v);
    o += entrySize;
  }
  const next = z + 1 < depth ? l.ifdOffset(z + 1) : 0;
  if (big) buf.writeBigUInt64LE(BigInt(next), o); else buf.writeUInt32LE(next, o);
  if (desc) desc.copy(buf, ifdBytes);
  return buf;
}

function header(big: boolean): Buffer {
  const h = Buffer.alloc(big ? 16 : 8);
  h.write('II', 0, 'latin1');
  if (big) { h.writeUInt16LE(43, 2); h.writeUInt16LE(8, 4); h.writeBigUInt64LE(16n, 8); } else { h.writeUInt16LE(42, 2); h.writeUInt32LE(8, 4); }
  return h;
}

/** Creates path (must not exist) with every directory written and its final size; pixels read as 0 until written. */
export async function preallocateMask(path: string, spec: PreallocSpec, forceBigTiff = false): Promise<PreallocLayout> {
  const l = uint8Layout(spec, forceBigTiff);
  const fh = await fs.open(path, 'wx');
  try {
    await fh.truncate(l.fileSize);
    await fh.write(header(l.bigTiff), 0, undefined, 0);
    // Each page's directory on its own: a few hundred bytes each, the file sparse between them.
    for (let z = 0; z < spec.depth; z++) {
      const d = directory(l, z);
      await fh.write(d, 0, d.length, l.ifdOffset(z));
    }
    await fh.datasync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(path, { force: true });
    throw e;
  }
  await fh.close();
  return l;
}

/** An open preallocated mask: writeSlice(z, labels) puts page z's pixels at its offset. */
export class PreallocatedMask {
  private constructor(private readonly fh: fs.FileHandle, readonly layout: PreallocLayout, readonly path: string) {}

  static async open(path: string, spec: PreallocSpec, forceBigTiff = false): Promise<PreallocatedMask> {
    const layout = uint8Layout(spec, forceBigTiff);
    const fh = await fs.open(path, 'r+');
    const st = await fh.stat();
    if (st.size !== layout.fileSize) {
      await fh.close();
      throw new StackSegError(`the preallocated mask is ${st.size} bytes, expected ${layout.fileSize}`, { file: path, hint: 'the file was changed or truncated; submit the job again' });
    }
    return new PreallocatedMask(fh, layout, path);
  }

  async writeSlice(z: number, pixels: Uint8Array): Promise<void> {
    if (!(z >= 0 && z < this.layout.spec.depth)) throw new StackSegError(`slice ${z} is outside the mask's ${this.layout.spec.depth} slices`, { file: this.path });
    if (pixels.length !== this.layout.sliceBytes) throw new StackSegError(`slice ${z} has ${pixels.length} pixels, expected ${this.layout.sliceBytes}`, { file: this.path });
    let done = 0;
    const at = this.layout.dataOffset(z);
    while (done < pixels.length) done += (await this.fh.write(pixels, done, pixels.length - done, at + done)).bytesWritten;
  }

  /** Flushes the pixels to disk (before the task says it is done) and closes. */
  async close(): Promise<void> {
    try { await this.fh.datasync(); } finally { await this.fh.close(); }
  }
}
