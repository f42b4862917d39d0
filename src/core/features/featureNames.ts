// Names and options of the 2-D filter bank (bank.ts computes it, featureEngine.ts runs it): kept apart so that
// the engine and the bank both import them without importing each other.

import { StackSegError } from '../../shared/errors';
import { FEATURE_FAMILIES as FEATURE_CHOICES } from '../../shared/models/registry';

/** The filter families of the bank: the registry's `features` choices (one list, src/shared/models/registry.ts) less `raw`. */
export type FeatureFamily = Exclude<(typeof FEATURE_CHOICES)[number], 'raw'>;
export const FILTER_FAMILIES: readonly FeatureFamily[] = FEATURE_CHOICES.filter((f): f is FeatureFamily => f !== 'raw');

export interface FeatureOptions {
  /** Include the normalised intensity itself. */
  raw: boolean;
  families: FeatureFamily[];
  sigmas: number[];
  /** Kernel radius in sigmas (scipy's truncate). */
  truncate?: number;
  /**
   * Sigmas >= this are computed on a 2x-decimated grid and upsampled (halfScale.ts): the default bank in about half
   * the time, values within interpolation error. 0 or absent: every sigma exact at full resolution (models saved
   * before it existed).
   * The 3-D bank ignores it.
   */
  halfScaleFrom?: number;
}

export const DEFAULT_SIGMAS = [0.7, 1, 1.6, 3.5, 5];
export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { raw: true, families: [...FILTER_FAMILIES], sigmas: [...DEFAULT_SIGMAS], truncate: 4 };

const FAMILY_OUTPUTS: Record<FeatureFamily, string[]> = {
  gaussian: ['gaussian'],
  gradientMagnitude: ['gradmag'],
  laplacian: ['log'],
  dog: ['dog'],
  hessian: ['hessian_eig1', 'hessian_eig2'],
  structureTensor: ['stensor_eig1', 'stensor_eig2'],
};

/** Smallest halfScaleFrom: 0.66 * 2 exceeds the half grid's pre-smoothing sigma (1). */
export const MIN_HALF_SCALE = 2;

export function validateFeatureOptions(opts: FeatureOptions): void {
  for (const f of opts.families) {
    if (!(f in FAMILY_OUTPUTS)) throw new StackSegError(`unknown feature family "${f}"`, { hint: `use some of ${FILTER_FAMILIES.join(', ')}` });
  }
  for (const s of opts.sigmas) {
    if (!(Number.isFinite(s) && s > 0 && s <= 64)) throw new StackSegError(`feature sigma ${s} is not in (0, 64]`, { hint: 'use sigmas like 0.7,1,1.6,3.5,5' });
  }
  const cut = opts.halfScaleFrom ?? 0;
  if (!(cut === 0 || (Number.isFinite(cut) && cut >= MIN_HALF_SCALE))) {
    // The DoG's inner sigma (0.66 s) must exceed the pre-smoothing (1 pixel) of the half grid.
    throw new StackSegError(`halfScaleFrom ${cut} is neither 0 nor at least ${MIN_HALF_SCALE}`, { hint: `use 0 (off) or a sigma >= ${MIN_HALF_SCALE}, e.g. 3` });
  }
  if (!opts.raw && (opts.families.length === 0 || opts.sigmas.length === 0)) {
    throw new StackSegError('the feature set is empty', { hint: 'enable raw or choose at least one family and one sigma' });
  }
}

/** Families in canonical order, deduplicated, so names do not depend on how the user listed them. */
export function orderedFamilies(opts: FeatureOptions): FeatureFamily[] {
  return FILTER_FAMILIES.filter((f) => opts.families.includes(f));
}

export function featureNames(opts: FeatureOptions = DEFAULT_FEATURE_OPTIONS): string[] {
  const names: string[] = opts.raw ? ['raw'] : [];
  for (const s of opts.sigmas) for (const f of orderedFamilies(opts)) for (const o of FAMILY_OUTPUTS[f]) names.push(`${o}_s${s}`);
  return names;
}

export function featureCount(opts: FeatureOptions = DEFAULT_FEATURE_OPTIONS): number {
  return featureNames(opts).length;
}
