// Conversions between stored pixel types and the float32 the models work on.

import { StackSegError } from '../shared/errors';
import type { PixelArray } from '../shared/types';

/** Copies a slice to float32, refusing NaN/Inf (which would silently poison training and percentiles). */
export function toFloat32(data: PixelArray, file: string, z: number): Float32Array {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const out = data instanceof Float32Array ? new Float32Array(data) : Float32Array.from(data);
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) {
        throw new StackSegError(`slice ${z} holds NaN or Inf values (first at pixel index ${i})`, {
          file, page: z, hint: 'replace non-finite values (e.g. numpy.nan_to_num) or crop them away before segmenting',
        });
      }
    }
    return out;
  }
  return Float32Array.from(data as ArrayLike<number>);
}

/** Labels must be unsigned 8-bit class indices (0 = unlabeled). */
export function toLabels(data: PixelArray, file: string, z: number): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
      throw new StackSegError(`label value ${v} is not a class index 0..255`, { file, page: z, hint: 'labels must be uint8 with 0 = unlabeled and 1..255 = class' });
    }
    out[i] = v;
  }
  return out;
}

/** Percentile of a sample (sorted copy); p in [0, 100]. */
export function percentile(sample: Float32Array, p: number): number {
  if (sample.length === 0) return 0;
  const sorted = Float32Array.from(sample).sort();
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
