// Global threshold segmentation: Otsu on a histogram of a stack sample, or a fixed value.
//
// API
//   otsuThreshold(values, bins = 256): number        threshold in the values' units (the centre of the bin that
//        maximises the between-class variance, as skimage.filters.threshold_otsu); NaN/Inf ignored
//   fitThreshold(sample, { method: 'otsu' | 'fixed', value? }): ThresholdModel
//   model.predict(slice): Uint8Array                  class 1 where v < threshold, class 2 where v >= threshold
//   model.toJSON(): ThresholdJSON / ThresholdModel.fromJSON(json, file?)
// The threshold is stored in raw image units (so "fixed" values match what the user sees in the viewer).

import { StackSegError } from '../../../shared/errors';

export interface ThresholdJSON { format: 'stackseg-threshold'; version: 1; method: 'otsu' | 'fixed'; value: number }

export function otsuThreshold(values: ArrayLike<number>, bins = 256): number {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (Number.isFinite(v)) { if (v < min) min = v; if (v > max) max = v; } }
  if (!(max >= min)) throw new StackSegError('no finite pixel values for Otsu', { hint: 'the image is empty or all NaN' });
  if (max === min) return min;
  const hist = new Float64Array(bins);
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) hist[Math.min(bins - 1, Math.floor((v - min) * scale))]++;
  }
  const centre = (b: number) => min + (b + 0.5) / scale;
  let total = 0, sumAll = 0;
  for (let b = 0; b < bins; b++) { total += hist[b]; sumAll += hist[b] * centre(b); }
  let w0 = 0, sum0 = 0, best = -1, bestB = 0;
  for (let b = 0; b < bins - 1; b++) {
    w0 += hist[b]; sum0 += hist[b] * centre(b);
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0, m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) ** 2;
    if (between > best) { best = between; bestB = b; }
  }
  // skimage returns the centre of the last bin of the lower class, and labels "> t" as foreground; we label
  // ">= t" as class 2, so move to the upper edge of that bin to give the same partition of the histogram.
  return centre(bestB) + 0.5 / scale;
}

export class ThresholdModel {
  constructor(readonly method: 'otsu' | 'fixed', readonly value: number) {}
  predict(slice: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(slice.length);
    const t = this.value;
    for (let i = 0; i < slice.length; i++) out[i] = slice[i] >= t ? 2 : 1;
    return out;
  }
  toJSON(): ThresholdJSON { return { format: 'stackseg-threshold', version: 1, method: this.method, value: this.value }; }
  static fromJSON(json: unknown, file?: string): ThresholdModel {
    const j = json as Partial<ThresholdJSON>;
    if (!j || j.format !== 'stackseg-threshold') throw new StackSegError('not a StackSeg threshold model', { file, hint: 'expected "format": "stackseg-threshold"' });
    if (j.version !== 1) throw new StackSegError(`threshold model version ${j.version} is not supported`, { file, hint: 'retrain the model' });
    if (typeof j.value !== 'number' || !Number.isFinite(j.value)) throw new StackSegError('threshold model has no finite value', { file, hint: 'the file is corrupted; retrain' });
    return new ThresholdModel(j.method === 'fixed' ? 'fixed' : 'otsu', j.value);
  }
}

export function fitThreshold(sample: ArrayLike<number>, opts: { method?: 'otsu' | 'fixed'; value?: number } = {}): ThresholdModel {
  const method = opts.method ?? 'otsu';
  if (method === 'fixed') {
    if (typeof opts.value !== 'number' || !Number.isFinite(opts.value)) throw new StackSegError('a fixed threshold needs a finite value', { hint: 'pass --set value=NUMBER', code: 'usage' });
    return new ThresholdModel('fixed', opts.value);
  }
  return new ThresholdModel('otsu', otsuThreshold(sample));
}
