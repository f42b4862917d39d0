// `--set maskFormat=h5|zarr`: besides mask.tif, a job on an HDF5 or Zarr image writes its mask in that format too
// (mask.h5 with one dataset /mask, or mask.zarr, a Zarr v2 array), chunked as the input is, so that the pipeline
// that made the data reads the mask with the same tools. Written from mask.tif slab by slab (bounded memory) under
// a temporary name, then renamed.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { StackSegError, UsageError } from '../../shared/errors';
import { tempNameFor, writeFailure } from '../fsutil';
import { openStack } from '../tiff/reader';
import type { PixelArray, SliceSource, StackInfo } from '../../shared/types';
import { Hdf5Stack, loadH5wasm } from './hdf5';
import { openSource } from './index';
import { ZarrStack } from './zarr';

export type MaskFormat = 'h5' | 'zarr';
export const MASK_FORMATS: readonly MaskFormat[] = ['h5', 'zarr'];
/** Where each format goes in job.json's outputs and its file name in the job folder. */
export const MASK_OUTPUT: Record<MaskFormat, { key: 'maskH5' | 'maskZarr'; name: string }> = {
  h5: { key: 'maskH5', name: 'mask.h5' },
  zarr: { key: 'maskZarr', name: 'mask.zarr' },
};

const deflate = promisify(zlib.deflate);
/** Largest slab of mask slices held at once while writing. */
const SLAB_BYTES = 64 * 1024 * 1024;

export function parseMaskFormat(raw: string): MaskFormat {
  const v = raw.trim().toLowerCase().replace(/^\./, '');
  const f = v === 'hdf5' ? 'h5' : v;
  if (!(MASK_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--set maskFormat=${raw}: not a mask format`, 'use --set maskFormat=h5 or --set maskFormat=zarr (mask.tif is always written)');
  return f as MaskFormat;
}

/** Refuses maskFormat for an image that is not HDF5 / Zarr, before any work. */
export function checkMaskFormat(format: MaskFormat | undefined, info: StackInfo): void {
  if (!format) return;
  if (info.format === 'hdf5' || info.format === 'zarr') return;
  const what = info.format === 'folder' ? 'a folder of TIFFs' : 'a TIFF';
  throw new StackSegError(`--set maskFormat=${format} writes the mask in the input's format (HDF5 or Zarr), and this image is ${what}`, {
    file: info.path, hint: 'leave out --set maskFormat: mask.tif is always written',
  });
}

/** The input's chunk shape (z, y, x) clipped to the mask; one slice per chunk when the input is not chunked. */
async function inputChunks(imageSpec: string, depth: number, height: number, width: number): Promise<number[]> {
  let src: SliceSource | undefined;
  try {
    src = await openSource(imageSpec, { cacheBytes: 0 });
    const c = src instanceof Hdf5Stack || src instanceof ZarrStack ? src.chunkShape : undefined;
    return [Math.min(c?.[0] ?? 1, depth), Math.min(c?.[1] ?? height, height), Math.min(c?.[2] ?? width, width)];
  } finally {
    await src?.close();
  }
}

/**
 * Writes jobDir/mask.h5 or jobDir/mask.zarr from the mask TIFF, chunked as the image is. Returns the path, its
 * job.json key and the chunk shape.
 */
export async function writeMaskAs(format: MaskFormat, maskTif: string, imageSpec: string, jobDir: string): Promise<{ key: 'maskH5' | 'maskZarr'; path: string; chunks: number[] }> {
  const { key, name } = MASK_OUTPUT[format];
  const path = join(jobDir, name);
  const mask = await openStack(maskTif, { cacheBytes: 0 });
  const tmp = tempNameFor(path);
  try {
    const { width: W, height: H, depth: D } = mask.info;
    const chunks = await inputChunks(imageSpec, D, H, W);
    // Whole chunk rows at a time, as many as fit in SLAB_BYTES (at least one).
    const rowDepth = chunks[0] * Math.max(1, Math.floor(SLAB_BYTES / (chunks[0] * H * W * mask.info.bytesPerPixel)));
    const slabs = async function* () {
      for (let z0 = 0; z0 < D; z0 += rowDepth) {
        const z1 = Math.min(D, z0 + rowDepth);
        const first = await mask.readSlice(z0);
        const slab = new (first.constructor as new (n: number) => PixelArray)((z1 - z0) * H * W);
        slab.set(first, 0);
        for (let z = z0 + 1; z < z1; z++) slab.set(await mask.readSlice(z), (z - z0) * H * W);
        yield { z0, z1, slab };
      }
    };
    if (format === 'h5') await writeH5(tmp, mask.info, chunks, slabs());
    else await writeZarr(tmp, mask.info, chunks, slabs());
    await fs.rm(path, { recursive: true, force: true });
    await fs.rename(tmp, path);
    return { key, path, chunks };
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw await writeFailure(e, path);
  } finally {
    await mask.close();
  }
}

type Slabs = AsyncGenerator<{ z0: number; z1: number; slab: PixelArray }>;

async function writeH5(tmp: string, info: StackInfo, chunks: number[], slabs: Slabs): Promise<void> {
  const h5 = await loadH5wasm() as unknown as { File: new (p: string, m: string) => H5WFile };
  const { width: W, height: H, depth: D } = info;
  const file = new h5.File(tmp, 'w');
  try {
    const empty = info.dtype === 'uint16' ? new Uint16Array(0) : new Uint8Array(0);
    const ds = file.create_dataset({ name: 'mask', data: empty, shape: [0, H, W], maxshape: [D, H, W], chunks, compression: 'gzip', compression_opts: 4 });
    for await (const { z0, z1, slab } of slabs) {
      ds.resize([z1, H, W]);
      ds.write_slice([[z0, z1], [], []], slab);
    }
  } finally {
    file.close();
  }
}

interface H5WDataset { resize(shape: number[]): number; write_slice(ranges: number[][], data: unknown): void }
interface H5WFile { create_dataset(a: Record<string, unknown>): H5WDataset; close(): void }

/** Zarr v2, zlib-compressed chunks named z.y.x (python3-zarr and zarrita read it; edge chunks padded with 0). */
async function writeZarr(tmp: string, info: StackInfo, chunks: number[], slabs: Slabs): Promise<void> {
  const { width: W, height: H, depth: D } = info;
  const e = info.bytesPerPixel;
  const [cz, cy, cx] = chunks;
  await fs.mkdir(tmp);
  const meta = {
    zarr_format: 2, shape: [D, H, W], chunks, dtype: e === 1 ? '|u1' : '<u2', order: 'C', fill_value: 0,
    compressor: { id: 'zlib', level: 4 }, filters: null, dimension_separator: '.',
  };
  await fs.writeFile(join(tmp, '.zarray'), JSON.stringify(meta, null, 2));
  await fs.writeFile(join(tmp, '.zattrs'), JSON.stringify({ stackseg: { what: 'mask', source: info.path } }, null, 2));
  for await (const { z0, z1, slab } of slabs) {
    const bytes = new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength);
    const jobs: (() => Promise<void>)[] = [];
    for (let iz = z0 / cz; iz * cz < z1; iz++) {
      for (let iy = 0; iy * cy < H; iy++) {
        for (let ix = 0; ix * cx < W; ix++) {
          jobs.push(async () => {
            const chunk = new Uint8Array(cz * cy * cx * e);
            const zs = iz * cz, ys = iy * cy, xs = ix * cx;
            const rowBytes = Math.min(cx, W - xs) * e;
            for (let z = zs; z < Math.min(zs + cz, z1); z++) {
              for (let y = ys; y < Math.min(ys + cy, H); y++) {
                const src = (((z - z0) * H + y) * W + xs) * e;
                chunk.set(bytes.subarray(src, src + rowBytes), (((z - zs) * cy + (y - ys)) * cx) * e);
              }
            }
            await fs.writeFile(join(tmp, `${iz}.${iy}.${ix}`), await deflate(chunk, { level: 4 }));
          });
        }
      }
    }
    for (let i = 0; i < jobs.length; i += 8) await Promise.all(jobs.slice(i, i + 8).map((j) => j()));
  }
}
