// Robust intensity normalisation, fitted once per stack and stored in every model, so that a float32 reconstruction
// (values ~0..1) and uint16 detector counts (0..65535) reach the filters and models on the same [0, 1] scale.
//
// API
//   fitNormalization(values, { lowPercentile = 0.5, highPercentile = 99.5 }): IntensityNormalization
//   sampleSlices(slices, maxSamples = 200_000, seed = 0): Float32Array     strided random sample of several slices
//   fitNormalizationFromSource(source, opts?): Promise<IntensityNormalization>   reads up to 8 evenly spaced slices
//   normalizeSlice(slice, norm, out?): Float32Array      (v - low) / (high - low); NOT clipped, so outliers keep order
//
// Percentiles are taken over finite values only (NaN/Inf in reconstructions are ignored when fitting and mapped to 0).

import { StackSegError } from '../../shared/errors';
import type { PixelArray, SliceSource } from '../../shared/types';

export interface IntensityNormalization {
  kind: 'percentile';
  lowPercentile: number;
  highPercentile: number;
  /** Intensity that maps to 0. */
  low: number;
  /** Intensity that maps to 1. */
  high: number;
}

export interface NormalizationOptions { lowPercentile?: number; highPercentile?: number; maxSamples?: number; seed?: number; maxSlices?: number }

/** Percentile of sorted finite values with linear interpolation (numpy's default). */
function percentileSorted(sorted: Float64Array | Float32Array, p: number): number {
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function fitNormalization(values: ArrayLike<number>, opts: NormalizationOptions = {}): IntensityNormalization {
  const lowPercentile = opts.lowPercentile ?? 0.5;
  const highPercentile = opts.highPercentile ?? 99.5;
  if (!(lowPercentile >= 0 && highPercentile <= 100 && lowPercentile < highPercentile)) {
    throw new StackSegError(`normalisation percentiles ${lowPercentile}/${highPercentile} are invalid`, { hint: 'need 0 <= low < high <= 100' });
  }
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (Number.isFinite(v)) finite[n++] = v; }
  if (n === 0) throw new StackSegError('no finite pixel values to normalise', { hint: 'the stack is empty or all NaN' });
  const sorted = finite.subarray(0, n).sort();
  let low = percentileSorted(sorted, lowPercentile);
  let high = percentileSorted(sorted, highPercentile);
  if (!(high > low)) {
    // Nearly constant image: fall back to the full range, then to a unit range, so division stays finite.
    low = sorted[0];
    high = sorted[n - 1] > low ? sorted[n - 1] : low + 1;
  }
  return { kind: 'percentile', lowPercentile, highPercentile, low, high };
}

/** Deterministic pseudo-random sample of pixels from several slices (xorshift PRNG). */
export function sampleSlices(slices: ArrayLike<number>[], maxSamples = 200_000, seed = 0): Float32Array {
  const total = slices.reduce((a, s) => a + s.length, 0);
  if (total <= maxSamples) {
    const out = new Float32Array(total);
    let k = 0;
    for (const s of slices) for (let i = 0; i < s.length; i++) out[k++] = s[i];
    return out;
  }
  const out = new Float32Array(maxSamples);
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const perSlice = Math.ceil(maxSamples / slices.length);
  let k = 0;
  for (const s of slices) {
    for (let j = 0; j < perSlice && k < maxSamples; j++) {
      state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
      out[k++] = s[state % s.length];
    }
  }
  return out.subarray(0, k);
}

export async function fitNormalizationFromSource(source: SliceSource, opts: NormalizationOptions = {}): Promise<IntensityNormalization> {
  const depth = source.info.depth;
  const count = Math.min(depth, opts.maxSlices ?? 8);
  const slices: PixelArray[] = [];
  for (let i = 0; i < count; i++) slices.push(await source.readSlice(Math.floor(((i + 0.5) * depth) / count)));
  return fitNormalization(sampleSlices(slices, opts.maxSamples ?? 200_000, opts.seed ?? 0), opts);
}

export function normalizeSlice(slice: ArrayLike<number>, norm: IntensityNormalization, out = new Float32Array(slice.length)): Float32Array {
  const scale = 1 / (norm.high - norm.low);
  const low = norm.low;
  for (let i = 0; i < slice.length; i++) {
    const v = (slice[i] - low) * scale;
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}
