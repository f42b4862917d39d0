// The per-slice filter bank used by the random forest (the ilastik pixel-classification set).
//
// API
//   DEFAULT_FEATURE_OPTIONS                      raw + all 7 families at sigmas 0.7 1 1.6 3.5 5 = 41 features
//   featureNames(opts): string[]                 stable names in output order, e.g. "gaussian_s1.6", "hessian_eig2_s5"
//   featureCount(opts): number
//   computeFeatures(slice, width, height, opts): Float32Array
//        feature-major [feature][pixel]: feature f of pixel p is at f * width*height + p. The slice must already be
//        intensity-normalised (see models/normalize.ts). Feature-major is what the filters produce (no transpose)
//        and what the forest reads: prediction streams each feature plane sequentially.
//   validateFeatureOptions(opts)                 throws StackSegError on unknown families / bad sigmas
//
// Families (per sigma s): gaussian (G_s), gradientMagnitude (|grad G_s|), laplacian (LoG_s), dog (G_s - G_0.66s, as
// ilastik), hessian (2 eigenvalues of the Hessian of G_s, larger first), structureTensor (2 eigenvalues of the
// structure tensor: gradient at s, outer smoothing 0.5 s, as ilastik). 'raw' is the normalised slice, sigma-free.

import { StackSegError } from '../../shared/errors';
import { FeatureEngine } from './featureEngine';
import { featureCount, orderedFamilies, validateFeatureOptions, DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from './featureNames';

export { DEFAULT_FEATURE_OPTIONS, DEFAULT_SIGMAS, FILTER_FAMILIES, featureCount, featureNames, validateFeatureOptions } from './featureNames';
export type { FeatureFamily, FeatureOptions } from './featureNames';

/** The engine of the last slice size and options, reused so scratch buffers are allocated once per worker. */
let cachedEngine: { key: string; engine: FeatureEngine } | undefined;

function engineFor(width: number, height: number, opts: FeatureOptions): FeatureEngine {
  const key = JSON.stringify([width, height, opts.raw, orderedFamilies(opts), opts.sigmas, opts.truncate ?? 4, opts.halfScaleFrom ?? 0]);
  if (cachedEngine?.key !== key) cachedEngine = { key, engine: new FeatureEngine(width, height, opts) };
  return cachedEngine.engine;
}

/**
 * Features of one normalised slice, feature-major [feature][pixel]. With `select` (indices into featureNames(opts)),
 * only those planes are computed, in select order: prediction passes the features its forest splits on. `reuse`: an
 * array of the right size to write into (every value is overwritten).
 */
export function computeFeatures(slice: Float32Array, width: number, height: number, opts: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
  select?: readonly number[], reuse?: Float32Array): Float32Array {
  const n = width * height;
  if (slice.length !== n) throw new StackSegError(`slice has ${slice.length} pixels, expected ${width}x${height}`);
  validateFeatureOptions(opts);
  const count = featureCount(opts);
  const chosen = select ?? Array.from({ length: count }, (_, i) => i);
  for (const f of chosen) if (!(Number.isInteger(f) && f >= 0 && f < count)) throw new StackSegError(`feature index ${f} is not in 0..${count - 1}`);
  // `reuse` (same size) avoids allocating ~10 MB per slice: external-memory pressure triggers full GCs in workers.
  const out = reuse && reuse.length === chosen.length * n ? reuse : new Float32Array(chosen.length * n);
  engineFor(width, height, opts).compute(slice, chosen, out);
  return out;
}
