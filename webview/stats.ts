// Slice statistics for auto-contrast and the histogram widget. Pure (no DOM).
// Integer data up to 16 bits is counted exactly (one bin per value); wider or float data is binned into
// FLOAT_BINS bins between its finite min and max, so percentiles are exact to one bin width.

import type { DType, PixelArray } from '../src/shared/types';
import { lutDomain } from './lut';

export const FLOAT_BINS = 4096;

export interface Histogram {
  /** Smallest and largest finite value in the slice (NaN, NaN when there is none). */
  min: number;
  max: number;
  /** counts[i] = pixels with value in [start + i*binWidth, start + (i+1)*binWidth). */
  counts: Uint32Array;
  start: number;
  binWidth: number;
  /** Finite pixels counted. */
  total: number;
}

export function computeHistogram(src: PixelArray, dtype: DType): Histogram {
  const domain = lutDomain(dtype);
  if (domain) {
    const counts = new Uint32Array(domain.size);
    const n = src.length;
    const off = -domain.offset;
    if (off === 0) for (let i = 0; i < n; i++) counts[src[i]]++;
    else for (let i = 0; i < n; i++) counts[src[i] + off]++;
    let lo = 0;
    while (lo < counts.length && counts[lo] === 0) lo++;
    let hi = counts.length - 1;
    while (hi >= 0 && counts[hi] === 0) hi--;
    const empty = lo > hi;
    return { min: empty ? NaN : lo + domain.offset, max: empty ? NaN : hi + domain.offset, counts, start: domain.offset, binWidth: 1, total: n };
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v - v !== 0) continue; // NaN and ±Infinity
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const counts = new Uint32Array(FLOAT_BINS);
  if (!(min <= max) || !Number.isFinite(min) || !Number.isFinite(max)) {
    return { min: NaN, max: NaN, counts, start: 0, binWidth: 1, total: 0 };
  }
  const binWidth = max > min ? (max - min) / FLOAT_BINS : 1;
  const k = 1 / binWidth;
  let total = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!(v >= min && v <= max)) continue; // NaN, ±Infinity
    let b = ((v - min) * k) | 0;
    if (b >= FLOAT_BINS) b = FLOAT_BINS - 1;
    counts[b]++;
    total++;
  }
  return { min, max, counts, start: min, binWidth, total };
}

/**
 * Value at percentile p (0..100): the lower edge of the bin holding the ceil(p% of total)-th pixel,
 * clamped to [min, max]. Exact for integer data up to 16 bits.
 */
export function percentile(h: Histogram, p: number): number {
  if (h.total === 0) return NaN;
  const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * h.total));
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i];
    if (seen >= rank) {
      const v = h.start + i * h.binWidth;
      return Math.min(h.max, Math.max(h.min, h.binWidth === 1 && Number.isInteger(h.start) ? v : v + h.binWidth / 2));
    }
  }
  return h.max;
}

export const AUTO_CONTRAST_PERCENTILES = [0.5, 99.5] as const;

/** Window from the low/high percentiles; widened to min/max when they coincide (flat images). */
export function autoWindow(h: Histogram, low: number = AUTO_CONTRAST_PERCENTILES[0], high: number = AUTO_CONTRAST_PERCENTILES[1]): { min: number; max: number } {
  if (h.total === 0) return { min: 0, max: 1 };
  let min = percentile(h, low);
  let max = percentile(h, high);
  if (!(max > min)) {
    min = h.min;
    max = h.max;
  }
  if (!(max > min)) max = min + 1;
  return { min, max };
}

/** Re-bins a histogram into `bins` display bins over [lo, hi] (for drawing). */
export function displayBins(h: Histogram, lo: number, hi: number, bins: number): Float64Array {
  const out = new Float64Array(bins);
  if (h.total === 0 || !(hi > lo)) return out;
  const k = bins / (hi - lo);
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c === 0) continue;
    const v = h.start + (i + 0.5) * h.binWidth;
    const b = Math.floor((v - lo) * k);
    if (b >= 0 && b < bins) out[b] += c;
  }
  return out;
}
