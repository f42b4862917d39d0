// A full-size (default 2048x2048) uint16 stack with truth, made from the foam phantom (/work/shared/data/foam): each
// slice is the foam slice z mod 32 upsampled bilinearly by an integer factor, plus deterministic Gaussian noise (2 % of
// the foam contrast) so that upsampling does not leave a trivially smooth image; truth and the sparse labels of slice 0
// are upsampled by nearest neighbour (brush strokes become factor x thicker, as painted on the big slice).
//
// API
//   loadFoam(dataDir, variant): Promise<Foam>                       the 256x256x32 stack, truth and slice-0 labels
//   bigSlice(foam, z, factor, seed?): Uint16Array                    slice z of the big stack
//   bigTruth(foam, z, factor) / bigLabels(foam, factor): Uint8Array
//   writeBigStack(dir, foam, factor, depth): Promise<{ image, truth, labels }>   TIFF files for the CLI (image
//        uncompressed; truth and labels deflate; labels on slice 0 only)
import { join } from 'node:path';
import { openStack, writeStack } from '../src/core/tiff';
import { mulberry32, gaussian } from '../src/core/random';

export interface Foam { w: number; h: number; depth: number; slices: Float32Array[]; truth: Uint8Array[]; labels: Uint8Array }

export async function loadFoam(dataDir = '/work/shared/data/foam', variant = 'hq'): Promise<Foam> {
  const s = await openStack(join(dataDir, `${variant}.tif`));
  const t = await openStack(join(dataDir, 'truth.tif'));
  const { width: w, height: h, depth } = s.info;
  const slices: Float32Array[] = [], truth: Uint8Array[] = [];
  for (let z = 0; z < depth; z++) { slices.push(Float32Array.from(await s.readSlice(z))); truth.push(Uint8Array.from(await t.readSlice(z))); }
  const l = await openStack(join(dataDir, 'sparse_labels_slice0.tif'));
  const labels = Uint8Array.from(await l.readSlice(0));
  await s.close(); await t.close(); await l.close();
  return { w, h, depth, slices, truth, labels };
}

/** Foam intensities (~0 void, ~0.9 foam) map to uint16 as 1000 + 40000 v. */
export function bigSlice(foam: Foam, z: number, factor: number, seed = 1): Uint16Array {
  const { w, h } = foam;
  const src = foam.slices[z % foam.depth];
  const W = w * factor, H = h * factor;
  const out = new Uint16Array(W * H);
  const rng = mulberry32((seed * 7919 + z) >>> 0);
  for (let Y = 0; Y < H; Y++) {
    const fy = Math.min(h - 1, Math.max(0, (Y + 0.5) / factor - 0.5)), y0 = Math.floor(fy), y1 = Math.min(h - 1, y0 + 1), ty = fy - y0;
    for (let X = 0; X < W; X++) {
      const fx = Math.min(w - 1, Math.max(0, (X + 0.5) / factor - 0.5)), x0 = Math.floor(fx), x1 = Math.min(w - 1, x0 + 1), tx = fx - x0;
      const v = (1 - ty) * ((1 - tx) * src[y0 * w + x0] + tx * src[y0 * w + x1]) + ty * ((1 - tx) * src[y1 * w + x0] + tx * src[y1 * w + x1]);
      const noisy = 1000 + 40000 * (v + 0.018 * gaussian(rng));
      out[Y * W + X] = Math.max(0, Math.min(65535, Math.round(noisy)));
    }
  }
  return out;
}

function nearest(src: Uint8Array, w: number, h: number, factor: number): Uint8Array {
  const W = w * factor, H = h * factor;
  const out = new Uint8Array(W * H);
  for (let Y = 0; Y < H; Y++) { const row = Math.floor(Y / factor) * w; for (let X = 0; X < W; X++) out[Y * W + X] = src[row + Math.floor(X / factor)]; }
  return out;
}

export function bigTruth(foam: Foam, z: number, factor: number): Uint8Array { return nearest(foam.truth[z % foam.depth], foam.w, foam.h, factor); }
export function bigLabels(foam: Foam, factor: number): Uint8Array { return nearest(foam.labels, foam.w, foam.h, factor); }

export async function writeBigStack(dir: string, foam: Foam, factor: number, depth: number): Promise<{ image: string; truth: string; labels: string }> {
  const W = foam.w * factor, H = foam.h * factor;
  const image = join(dir, 'big.tif'), truth = join(dir, 'big.truth.tif'), labels = join(dir, 'big.labels.tif');
  // Slice z repeats slice z mod 32 (the foam has 32), noise included: 32 distinct slices, generated once.
  const cache = new Map<number, Uint16Array>();
  const slice = (z: number) => { const k = z % foam.depth; if (!cache.has(k)) cache.set(k, bigSlice(foam, k, factor)); return cache.get(k)!; };
  await writeStack(image, { width: W, height: H, depth, dtype: 'uint16', getSlice: slice });
  cache.clear();
  // Truth and labels compressed (mostly runs; labels are all zero past slice 0), as the CLI wants labels of every slice.
  await writeStack(truth, { width: W, height: H, depth, dtype: 'uint8', getSlice: (z) => bigTruth(foam, z, factor) }, { compression: 'deflate' });
  const zero = new Uint8Array(W * H), first = bigLabels(foam, factor);
  await writeStack(labels, { width: W, height: H, depth, dtype: 'uint8', getSlice: (z) => (z === 0 ? first : zero) }, { compression: 'deflate' });
  return { image, truth, labels };
}
