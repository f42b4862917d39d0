// Which flips/rotations MSDNet trains on, averages over (TTA) and re-estimates BatchNorm on (`--set augment=`).
// All 8 (augment.ts's dihedral k = 0..7) make the network rotation/flip-invariant; on slices whose structures or
// artefacts have one orientation (a limited-angle scan's missing wedge) that throws information away, so 'auto'
// keeps only the identity and the half turn (k = 0, 2), which keep a slice's orientation statistics (docs/models.md).

import { StackSegError } from '../../../shared/errors';
import { gaussianSmooth } from '../../features/filters';
import { normalizeSlice } from '../normalize';
import type { TrainInput } from '../segmenter';

export type AugmentMode = 'all' | 'half-turn' | 'off';
export type AugmentParam = AugmentMode | 'auto' | boolean;

/** dihedral k of each group; 0 (the identity) first, so a one-element group draws nothing. */
export const TRANSFORMS: Readonly<Record<AugmentMode, readonly number[]>> = {
  all: [0, 1, 2, 3, 4, 5, 6, 7], 'half-turn': [0, 2], off: [0],
};

/** auto picks 'half-turn' at or above this structure-tensor coherence (foam: limited range 0.42, the rest < 0.02). */
export const COHERENCE_THRESHOLD = 0.1;

/** Global structure tensor [sum gx², sum gy², sum gx·gy] of the slice smoothed with sigma 1 (central differences). */
export function structureTensor(image: Float32Array, width: number, height: number): [number, number, number] {
  const img = gaussianSmooth(image.subarray(0, width * height), width, height, 1);
  let xx = 0, yy = 0, xy = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1, i = y * width + 1; x < width - 1; x++, i++) {
      const gx = (img[i + 1] - img[i - 1]) / 2, gy = (img[i + width] - img[i - width]) / 2;
      xx += gx * gx; yy += gy * gy; xy += gx * gy;
    }
  }
  return [xx, yy, xy];
}

/** (l1 - l2) / (l1 + l2) of a structure tensor: 0 = no preferred orientation, 1 = all gradients parallel. */
export function coherence([xx, yy, xy]: readonly number[]): number {
  const tr = xx + yy;
  if (!(tr > 0)) return 0; // a constant image has no orientation
  // l1 - l2 = sqrt((xx - yy)² + 4 xy²), l1 + l2 = trace
  return Math.sqrt((xx - yy) ** 2 + 4 * xy * xy) / tr;
}

/** Coherence of one slice; with several channels (channel-major) channel 0. */
export function orientationCoherence(image: Float32Array, width: number, height: number): number {
  return coherence(structureTensor(image, width, height));
}

/** The auto rule over (normalised) slices: their structure tensors summed, then the threshold. */
export function autoAugment(slices: ReadonlyArray<{ image: Float32Array; width: number; height: number }>): { augment: AugmentMode; augmentReason: string } {
  const J = [0, 0, 0];
  for (const s of slices) structureTensor(s.image, s.width, s.height).forEach((v, i) => { J[i] += v; });
  const c = coherence(J), shown = c.toFixed(2);
  return c >= COHERENCE_THRESHOLD
    ? { augment: 'half-turn', augmentReason: `auto: slices have a preferred orientation (structure-tensor coherence ${shown} >= ${COHERENCE_THRESHOLD}): identity and half turn only` }
    : { augment: 'all', augmentReason: `auto: slices have no preferred orientation (structure-tensor coherence ${shown} < ${COHERENCE_THRESHOLD}): all 8 flips/rotations` };
}

/** An augment value as given (old records: true/false) -> its mode; 'auto' stays (needs the slices). */
export function augmentMode(value: unknown): AugmentMode | 'auto' {
  if (value === true || value === undefined) return 'all';
  if (value === false) return 'off';
  if (value === 'auto' || value === 'all' || value === 'half-turn' || value === 'off') return value;
  throw new StackSegError(`MSDNet augment=${String(value)} is not one of auto|all|half-turn|off`, { hint: 'e.g. --set augment=auto', code: 'usage' });
}

/** The transforms of a resolved mode; 'auto' is decided on `slices` (normalised images) here. */
export function augmentTransforms(value: unknown, slices: () => ReadonlyArray<{ image: Float32Array; width: number; height: number }>): readonly number[] {
  const mode = augmentMode(value);
  return TRANSFORMS[mode === 'auto' ? autoAugment(slices()).augment : mode];
}

/**
 * augment=auto (the default): 'half-turn' where the labelled slices have a preferred orientation, else 'all'.
 * The resolved value goes into params (stackseg.json records it), the reason into metrics.json (like contextReason).
 */
export function resolveAugment(input: TrainInput): { input: TrainInput; report: Record<string, unknown> } {
  if (augmentMode(input.params.augment) !== 'auto') return { input, report: {} };
  const n = input.width * input.height;
  const auto = autoAugment(input.slices.map((s) => ({ image: normalizeSlice(s.image.subarray(0, n), input.norm), width: input.width, height: input.height })));
  return { input: { ...input, params: { ...input.params, augment: auto.augment } }, report: auto };
}

/** A recorded transform list (model.json modelTopology.transforms): non-empty, unique integers 0..7, with 0. */
export function recordedTransforms(value: unknown, tta: boolean, file: string): number[] {
  if (value === undefined) return tta ? [...TRANSFORMS.all] : [0]; // models from before augment=auto
  const ok = Array.isArray(value) && value.length > 0 && value.every((k) => Number.isInteger(k) && k >= 0 && k <= 7)
    && new Set(value).size === value.length && value.includes(0);
  if (!ok) {
    throw new StackSegError(`model.json records transforms ${JSON.stringify(value)}: expected distinct integers 0..7 including 0`,
      { file, hint: 'the model file is damaged or from another tool; retrain the model' });
  }
  return [...(value as number[])];
}
