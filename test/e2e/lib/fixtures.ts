// Test data for the real-VS-Code suites, written with the project's own TIFF writer.
// run.mjs bundles this file with esbuild (the suites are plain .mjs and cannot import TypeScript).
import { promises as fsp } from 'node:fs';
import { writeStack } from '../../../src/core/tiff/writer';

/** A uint16 stack big enough to show slice-switch latency: a gradient plus a per-slice disc, so slices differ. */
export async function writePerfStack(path: string, width = 2048, height = 2048, depth = 20): Promise<void> {
  await writeStack(path, {
    width, height, depth, dtype: 'uint16',
    getSlice(z: number) {
      const px = new Uint16Array(width * height);
      const cx = width * (0.3 + 0.4 * (z / Math.max(1, depth - 1)));
      const cy = height / 2;
      const r2 = (Math.min(width, height) / 6) ** 2;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r2;
          // Cheap hash noise keeps the histogram wide, like real detector data.
          const noise = ((x * 73856093) ^ (y * 19349663) ^ (z * 83492791)) & 1023;
          px[y * width + x] = (inDisc ? 40000 : 10000 + ((x + y) & 8191)) + noise;
        }
      }
      return px;
    },
  }, { compression: 'none' });
}

/** A 512 x 512 foam stack for the live-preview timing: each slice of `src` (256 x 256) tiled 2 x 2; `depth` slices. */
export async function writeTiledFoam(path: string, src: string | undefined, depth = 4): Promise<void> {
  if (!src) return writeSyntheticFoam(path, 512, 512, depth);
  const { readStack } = await import('../../../src/core/tiff');
  const { info, data } = await readStack(src);
  const w = info.width, h = info.height, n = w * h;
  await writeStack(path, {
    width: 2 * w, height: 2 * h, depth: Math.min(depth, info.depth), dtype: 'float32',
    getSlice(z: number) {
      const out = new Float32Array(4 * n);
      for (let y = 0; y < 2 * h; y++) for (let x = 0; x < 2 * w; x++) out[y * 2 * w + x] = Number(data[z * n + (y % h) * w + (x % w)]);
      return out;
    },
  });
}

/** Stand-in for ../shared/data/foam/hq.tif when the shared data is absent: float32 32 x 256 x 256 with round voids. */
export async function writeSyntheticFoam(path: string, width = 256, height = 256, depth = 32): Promise<void> {
  await writeStack(path, {
    width, height, depth, dtype: 'float32',
    getSlice(z: number) {
      const px = new Float32Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const cellX = (x + z * 3) % 32 - 16;
          const cellY = y % 32 - 16;
          px[y * width + x] = cellX * cellX + cellY * cellY < 100 ? 0 : 0.02 + 0.0001 * ((x * 31 + y * 17 + z) % 50);
        }
      }
      return px;
    },
  });
}

/**
 * A file named .tif that no reader can open: a valid little-endian TIFF header whose first directory offset points
 * far past the end of the file. The viewer must show an error message, not crash or hang.
 */
export async function writeBadTiff(path: string): Promise<void> {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, 0x7fff_0000, true);
  for (let i = 8; i < bytes.length; i++) bytes[i] = (i * 37) & 0xff;
  await fsp.writeFile(path, bytes);
}

/**
 * A stack with labels and truth beside it for the jobs tests: foam noisy.tif with slice 0's sparse labels expanded
 * to a full-depth noisy.labels.tif (as the editor saves them), or the generated sample when the foam data is absent.
 */
export async function writeJobStacks(ws: string, foamDir?: string): Promise<{ image: string; labels: string; truth: string; depth: number }> {
  const { join } = await import('node:path');
  const { readStack } = await import('../../../src/core/tiff');
  const image = join(ws, 'noisy.tif'), labels = join(ws, 'noisy.labels.tif'), truth = join(ws, 'noisy.truth.tif');
  if (foamDir) {
    await fsp.copyFile(join(foamDir, 'noisy.tif'), image);
    await fsp.copyFile(join(foamDir, 'truth.tif'), truth);
    const sparse = await readStack(join(foamDir, 'sparse_labels_slice0.tif'));
    const { width, height } = sparse.info;
    const depth = (await readStack(truth)).info.depth;
    await writeStack(labels, { width, height, depth, dtype: 'uint8', getSlice: (z) => (z === 0 ? (sparse.data as Uint8Array) : new Uint8Array(width * height)) });
    return { image, labels, truth, depth };
  }
  const { makeSample } = await import('../../../src/core/sample');
  const s = makeSample({ width: 128, height: 128, depth: 8, seed: 2 });
  const n = 128 * 128;
  const spec = { width: 128, height: 128, depth: 8 };
  await writeStack(image, { ...spec, dtype: 'float32', getSlice: (z) => s.image.subarray(z * n, (z + 1) * n) });
  await writeStack(labels, { ...spec, dtype: 'uint8', getSlice: (z) => s.labels.subarray(z * n, (z + 1) * n) });
  await writeStack(truth, { ...spec, dtype: 'uint8', getSlice: (z) => s.truth.subarray(z * n, (z + 1) * n) });
  return { image, labels, truth, depth: 8 };
}

/** Hyperstack geometry of writeHyperstack (test/e2e/channels.ui.mjs checks pixel values against hyperValue). */
export const HYPER = { width: 96, height: 64, depth: 4, channels: 2, frames: 3 };

/**
 * Value of pixel (x, y) of slice z, channel c, time point t in writeHyperstack's file: channel 0 is dim with a
 * bright disc in the middle, channel 1 bright with a dark square at the top left, so a mixed-up channel shows.
 */
export function hyperValue(x: number, y: number, z: number, c: number, t: number): number {
  const { width, height } = HYPER;
  if (c === 0) return ((x - width / 2) ** 2 + (y - height / 2) ** 2 < 15 * 15 ? 6000 : 1000) + 100 * z + 1000 * t;
  return (x < 24 && y < 24 ? 2000 : 20000) + 100 * z + 1000 * t + x;
}

/** A 2-channel, 3-time-point ImageJ hyperstack (channels=2 slices=4 frames=3 hyperstack=true), uint16. */
export async function writeHyperstack(path: string): Promise<void> {
  const { width, height, depth, channels, frames } = HYPER;
  await writeStack(path, {
    width, height, depth: depth * channels * frames, dtype: 'uint16',
    getSlice(p: number) { // ImageJ's page order: channel fastest, then slice, then time point
      const c = p % channels, z = Math.floor(p / channels) % depth, t = Math.floor(p / (channels * depth));
      const px = new Uint16Array(width * height);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = hyperValue(x, y, z, c, t);
      return px;
    },
  }, { hyperstack: { channels, frames } });
}
