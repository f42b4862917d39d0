// Test data for the real-VS-Code suites, written with the project's own TIFF writer.
// run.mjs bundles this file with esbuild (the suites are plain .mjs and cannot import TypeScript).
import { promises as fsp } from 'node:fs';
import { writeStack } from '../../../src/core/tiff/writer';

/**
 * A uint16 CT-like stack big enough to show slice-switch latency and honest link numbers (its levels compress about
 * 2x, as a real reconstruction does, bench/level_codec.mjs): a round field of view (0 outside), a matrix (12000) with
 * pores (2000) and inclusions (30000) that are spheres through the slices (neighbouring slices look alike, each
 * slice differs), edges smoothed over 4 pixels, and Gaussian noise of ~1 % correlated over neighbours (reconstruction
 * noise is). The live-preview suite paints on a dense disc (40000) of radius side / 6 at x = width * (0.3 + 0.4 z /
 * (depth - 1)), y = height / 2, and on the matrix around (1700, 1000) of slice 0, which no sphere covers.
 */
export async function writePerfStack(path: string, width = 2048, height = 2048, depth = 20): Promise<void> {
  let seed = 20480; // mulberry32: the same stack on every run
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const side = Math.min(width, height);
  const spheres = Array.from({ length: 90 }, (_, i) => ({
    x: rnd() * width, y: rnd() * height, z: rnd() * depth * 1.4 - depth * 0.2,
    r: (0.01 + 0.06 * rnd()) * side, v: i % 3 === 0 ? 30000 : 2000,
  }));
  const fov2 = (0.48 * side) ** 2;
  const clear = { x: width * (1700 / 2048), y: height * (1000 / 2048), r: side * (60 / 2048) }; // matrix for the live suite
  const kept = spheres.filter((s) => Math.hypot(s.x - clear.x, s.y - clear.y) > s.r + clear.r);
  const value = new Float32Array(width * height);
  const noise = new Float32Array(width * height);
  await writeStack(path, {
    width, height, depth, dtype: 'uint16',
    getSlice(z: number) {
      value.fill(12000);
      // Each sphere's cut through slice z: only its bounding box is visited (the stack is written in seconds).
      const disc = { x: width * (0.3 + 0.4 * (z / Math.max(1, depth - 1))), y: height / 2, r: side / 6, z, v: 40000 };
      for (const s of [...kept, disc]) {
        const r2 = s.r * s.r - ((z - s.z) * side / depth / 4) ** 2; // spheres are flattened along z
        if (r2 <= 0) continue;
        const r = Math.sqrt(r2);
        const x0 = Math.max(0, Math.floor(s.x - r - 2)), x1 = Math.min(width - 1, Math.ceil(s.x + r + 2));
        const y0 = Math.max(0, Math.floor(s.y - r - 2)), y1 = Math.min(height - 1, Math.ceil(s.y + r + 2));
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            const d = Math.hypot(x - s.x, y - s.y) - r;
            if (d >= 2) continue;
            const i = y * width + x;
            value[i] = d < -2 ? s.v : value[i] + ((s.v - value[i]) * (2 - d)) / 4;
          }
        }
      }
      for (let i = 0; i < noise.length; i += 2) { // Box-Muller, two samples per draw
        const m = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * 150, a = 2 * Math.PI * rnd();
        noise[i] = m * Math.cos(a);
        if (i + 1 < noise.length) noise[i + 1] = m * Math.sin(a);
      }
      const px = new Uint16Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const dx = x - width / 2, dy = y - height / 2;
          if (dx * dx + dy * dy > fov2) continue;
          const i = y * width + x;
          const n = (noise[i] + (x > 0 ? noise[i - 1] : 0) + (y > 0 ? noise[i - width] : 0)) / 1.7;
          px[i] = Math.max(0, Math.min(65535, Math.round(value[i] + n)));
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
