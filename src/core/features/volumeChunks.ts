// A z window over a stack for the 3-D filter bank (bank3d.ts) and 2.5-D models: the slices within `halo` of the
// slice being worked on, read once each as the window slides and evicted when it leaves, so memory stays at
// 2 halo + 1 slices whatever the depth (a 2000-slice stack never sits in memory).
//
// API
//   new SliceRing(depth, halo, read)       read(z) -> Promise<Float32Array> (e.g. a normalised slice)
//   await ring.centre(z): (zz) => Float32Array   loads slices max(0, z-halo)..min(depth-1, z+halo), drops the others;
//                                           the getter serves any slice in that range (bank3d reflects at the ends)
//   ring.held: number                       slices held now (at most 2 halo + 1)
//   zRatioOf(info, params): number          z spacing / x spacing: `--set spacing=` when > 0, else ImageJ spacing over
//                                           its pixel width, else 1
//   resolveDims(params, depth): '2d' | '3d' | 'auto'   `--set dims=`; auto (a stack of too few slices: 2d) is decided
//                                           by autoDims on the labelled slices
//   autoDims(slices, width, height): { dims, noise, reason }   3d when the labelled classes are noisy in-plane
//   contextWindow(get, z, depth, k): Float32Array[]   slices z-k..z+k for 2.5-D inputs, mirrored at the ends
//                                           (mirrorIndex: d c b | a b c d | c b a, the edge slice not repeated)

import { StackSegError } from '../../shared/errors';
import type { StackInfo } from '../../shared/types';
import type { ModelParams } from '../../shared/models/registry';
import { AUTO_FILL_NOISE, fitThresholdFill } from './pseudolabels';

export class SliceRing {
  private readonly slices = new Map<number, Float32Array>();

  constructor(readonly depth: number, readonly halo: number, private readonly read: (z: number) => Promise<Float32Array>) {}

  get held(): number { return this.slices.size; }

  async centre(z: number): Promise<(zz: number) => Float32Array> {
    const lo = Math.max(0, z - this.halo), hi = Math.min(this.depth - 1, z + this.halo);
    for (const k of [...this.slices.keys()]) if (k < lo || k > hi) this.slices.delete(k);
    for (let k = lo; k <= hi; k++) if (!this.slices.has(k)) this.slices.set(k, await this.read(k));
    const held = this.slices;
    return (zz: number) => {
      const s = held.get(zz);
      if (!s) throw new StackSegError(`slice ${zz} is outside the z window ${lo}..${hi} around slice ${z}`);
      return s;
    };
  }
}

/** Index of position p under 'mirror' borders (scipy's mode 'mirror'): d c b | a b c d | c b a. */
export function mirrorIndex(p: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let q = p % period;
  if (q < 0) q += period;
  return q < n ? q : period - q;
}

/**
 * Slices z-k..z+k from a getter of slices in range, mirrored at the volume's ends. Not 'reflect' (which the filters
 * use): at slice 0 it would repeat slice 0 as its own neighbour, so a 2.5-D network trained on an end slice (often
 * the one labelled) sees two identical channels and may weigh them in any split, which inner slices then punish
 * (foam hq, labels on slice 0: F1 .941 with reflect, .982 with mirror).
 */
export function contextWindow(get: (zz: number) => Float32Array, z: number, depth: number, k: number): Float32Array[] {
  return Array.from({ length: 2 * k + 1 }, (_, i) => get(mirrorIndex(z - k + i, depth)));
}

/** z spacing over x spacing, from --set spacing (when > 0), else the file's metadata, else 1 (isotropic). */
export function zRatioOf(info: Pick<StackInfo, 'imagej'> & { pixelSize?: { x?: number; z?: number } } | undefined, params: ModelParams): number {
  const set = Number(params.spacing ?? 0);
  if (set > 0) return set;
  const px = info?.pixelSize;
  if (px?.x && px.z && px.x > 0 && px.z > 0) return px.z / px.x;
  const ij = info?.imagej;
  if (ij?.spacing && ij.spacing > 0) return ij.spacing / (px?.x && px.x > 0 ? px.x : 1);
  return 1;
}

/** Stacks with fewer slices than this stay 2-D under dims=auto: a z window would mostly be reflection. */
export const AUTO_3D_MIN_DEPTH = 8;

export function resolveDims(params: ModelParams, depth: number): '2d' | '3d' | 'auto' {
  const d = String(params.dims ?? '2d');
  if (d === '2d' || d === '3d') return d;
  return depth >= AUTO_3D_MIN_DEPTH ? 'auto' : '2d';
}

/**
 * dims=auto: 3-D features where they pay. On the foam benchmark they raised F1 only where the slices are noisy
 * (noisy +.010, noisy_fewangles +.006) and were neutral to -.002 elsewhere, so auto measures the in-plane noise of
 * the labelled pixels: the std of the cleaner labelled class over the gap between the two class means, after a
 * light (sigma 0.3) smoothing. At or above AUTO_FILL_NOISE (0.2, a contrast-to-noise ratio under 5:1) the slices
 * are noisy and averaging over neighbouring slices helps (foam: noisy .29, noisy_fewangles .34; the others .03-.18).
 * Other than exactly two labelled classes: 2d. Tried with 3 classes (the worst pair of classes neighbouring in mean
 * deciding) on bench/heldout.mjs's noisy grains: 3-D cost the forest .08-.09 F1 on grains and MSDNet .07, where
 * on the 2-class noisy grains it gained .01 (docs/models.md, "Stacks the defaults were not tuned on").
 */
export function autoDims(slices: { normalised: Float32Array; labels: Uint8Array }[], width: number, height: number): { dims: '2d' | '3d'; noise?: number; reason: string } {
  const fit = fitThresholdFill(slices, width, height, { sigma: 0.3 });
  if (!fit) return { dims: '2d', reason: 'auto: not exactly 2 labelled classes' };
  const noisy = fit.noise >= AUTO_FILL_NOISE;
  return { dims: noisy ? '3d' : '2d', noise: fit.noise, reason: `auto: in-plane noise ${fit.noise.toFixed(3)} ${noisy ? '>=' : '<'} ${AUTO_FILL_NOISE}` };
}
