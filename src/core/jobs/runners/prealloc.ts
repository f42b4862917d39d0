// A mask TIFF written in place by many tasks at once: every page directory is written up front and the file is
// sized to its final length (sparse), so each task pwrite()s its slices at known offsets and nothing is merged.
// The layout is byte for byte the one StackWriter writes uncompressed ([directory][page-0 description][pixels],
// 8-byte aligned, BigTIFF past 4 GB), so a Slurm job's mask equals the local runner's.

import { promises as fs } from 'node:fs';
import { StackSegError } from '../../../shared/errors';
import { imagejDescription, pageDirectory, tiffHeader } from '../../tiff/writer';

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

/** StackWriter's page-0 description of a uint8 stack (NUL-terminated). */
function description(spec: PreallocSpec): Buffer {
  return Buffer.from(imagejDescription({ ...spec, dtype: 'uint8' }, {}) + '\0', 'latin1');
}

/** The layout of a uint8 stack as StackWriter.create(path, {dtype: 'uint8'}) writes it, uncompressed. */
export function uint8Layout(spec: PreallocSpec, forceBigTiff = false): PreallocLayout {
  const { width, height, depth } = spec;
  for (const [k, v] of Object.entries(spec)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new StackSegError(`cannot preallocate a mask with ${k} ${v}`, { hint: 'width, height and depth must be positive integers' });
  }
  const sliceBytes = width * height;
  const desc = description(spec);
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

/** Page z's directory (with page 0's description), written by StackWriter's own code (pageDirectory). */
function directory(l: PreallocLayout, z: number): Buffer {
  const { width, height, depth } = l.spec;
  const page = { width, height, bits: 8, format: 1, compression: 1, dataBytes: l.sliceBytes };
  const { ifd, dataStart } = pageDirectory(l.bigTiff, l.ifdOffset(z), page, z === 0 ? description(l.spec) : undefined, z + 1 < depth);
  // uint8Layout's offsets and the writer's layout must agree, or tasks would write pixels over directories.
  if (dataStart !== l.dataOffset(z)) throw new Error(`prealloc layout: page ${z} pixels at ${l.dataOffset(z)}, the writer puts them at ${dataStart}`);
  return ifd;
}

/** Creates path (must not exist) with every directory written and its final size; pixels read as 0 until written. */
export async function preallocateMask(path: string, spec: PreallocSpec, forceBigTiff = false): Promise<PreallocLayout> {
  const l = uint8Layout(spec, forceBigTiff);
  const fh = await fs.open(path, 'wx');
  try {
    await fh.truncate(l.fileSize);
    await fh.write(tiffHeader(l.bigTiff), 0, undefined, 0);
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
