// Optional semi-supervised fill of the unlabelled pixels of training slices (two classes only).
//
// API
//   fitThresholdFill(slices: { normalised, labels }[], width, height, { sigma = 0.7 | 'auto' }): ThresholdFill | null
//        Smooths each slice with a Gaussian (sigma) and takes the mean smoothed value of each of the two labelled
//        classes over all slices. null when the labels do not hold exactly two classes (the fill does not apply).
//        sigma 'auto': the smallest of AUTO_FILL_SIGMAS at which the std of the more uniform labelled class is at
//        most AUTO_FILL_NOISE (20 %) of the gap between the class means (noisy images get smoothed more).
//   applyThresholdFill(fill, normalised, width, height, labels, { mode, band }): { labels, pseudo }
//        mode 'midpoint': every unlabelled pixel gets the class whose side of the midpoint its smoothed value is on.
//        mode 'confident': only pixels clearly on one side: smoothed value below low + band * (high - low) or above
//        high - band * (high - low) (band 0.25 = outside the 25 %..75 % points between the class means); the rest
//        stay unlabelled so the forest decides them from the features. `pseudo` marks filled pixels (1) so the trainer
//        can weight them below the user's strokes (see RandomForest sample weights).
//
// Why: brush labels lie where the class is certain, away from edges, so nothing tells a forest where the boundary
// between them is, and where it lands varies with the seed. For partial-volume images the 50 % boundary sits at the
// midpoint of the two class intensities, which is what the fill encodes; the user's strokes still dominate.
// The apply step reuses the fit's last smoothing of the same image (held weakly), so the image must not change between them.

import { gaussianSmooth } from './filters';

export type FillMode = 'midpoint' | 'confident';

export interface ThresholdFill {
  sigma: number;
  /** Label values of the darker and the brighter class, and their mean smoothed values. */
  low: number; high: number; lowMean: number; highMean: number;
  threshold: number;
  /** Std of the smoothed values of the more uniform class over the gap between the class means. */
  noise: number;
}

/** Sigmas tried by sigma 'auto', and the noise (std of the cleaner class / class-mean gap) it accepts. */
export const AUTO_FILL_SIGMAS = [0.3, 0.5, 0.7, 1, 1.4, 2];
export const AUTO_FILL_NOISE = 0.2;

export function fitThresholdFill(slices: { normalised: Float32Array; labels: Uint8Array }[], width: number, height: number,
  opts: { sigma?: number | 'auto' } = {}): ThresholdFill | null {
  const auto = opts.sigma === 'auto';
  const tries = auto ? AUTO_FILL_SIGMAS : [typeof opts.sigma === 'number' ? opts.sigma : 0.7];
  let fit: ThresholdFill | null = null;
  for (const sigma of tries) {
    fit = fitAt(slices, width, height, sigma);
    // 'auto': the least smoothing at which the labelled pixels are clean enough (a 5:1 contrast-to-noise ratio);
    // more smoothing than needed moves thin walls' boundaries, less leaves noise in the fill.
    if (!fit || !auto || fit.noise <= AUTO_FILL_NOISE) break;
  }
  return fit;
}

/**
 * The last smoothing: fitThresholdFill's last sigma is the one applyThresholdFill then smooths the same image with, so
 * that step reuses it (~0.1 s of a 2048^2 slice). Weak references: nothing is kept alive for it.
 */
let lastSmooth: { image: WeakRef<Float32Array>; g: WeakRef<Float32Array>; sigma: number; width: number; height: number } | undefined;

function smoothed(image: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const hit = lastSmooth;
  if (hit && hit.image.deref() === image && hit.sigma === sigma && hit.width === width && hit.height === height) {
    const g = hit.g.deref();
    if (g) return g;
  }
  const g = gaussianSmooth(image, width, height, sigma);
  lastSmooth = { image: new WeakRef(image), g: new WeakRef(g), sigma, width, height };
  return g;
}

function fitAt(slices: { normalised: Float32Array; labels: Uint8Array }[], width: number, height: number, sigma: number): ThresholdFill | null {
  const sum = new Float64Array(256), sum2 = new Float64Array(256), count = new Float64Array(256);
  for (const s of slices) {
    const g = smoothed(s.normalised, width, height, sigma);
    for (let i = 0; i < s.labels.length; i++) { const c = s.labels[i]; if (c) { sum[c] += g[i]; sum2[c] += g[i] * g[i]; count[c]++; } }
  }
  const classes = [...count.keys()].filter((c) => c > 0 && count[c] > 0);
  if (classes.length !== 2) return null;
  let [low, high] = classes;
  if (sum[low] / count[low] > sum[high] / count[high]) [low, high] = [high, low];
  const lowMean = sum[low] / count[low], highMean = sum[high] / count[high];
  const std = (c: number) => Math.sqrt(Math.max(0, sum2[c] / count[c] - (sum[c] / count[c]) ** 2));
  const noise = Math.min(std(low), std(high)) / Math.max(1e-12, highMean - lowMean);
  return { sigma, low, high, lowMean, highMean, threshold: 0.5 * (lowMean + highMean), noise };
}

export function applyThresholdFill(fill: ThresholdFill, normalised: Float32Array, width: number, height: number, labels: Uint8Array,
  opts: { mode?: FillMode; band?: number } = {}): { labels: Uint8Array; pseudo: Uint8Array } {
  const g = smoothed(normalised, width, height, fill.sigma);
  const mode = opts.mode ?? 'midpoint';
  const band = mode === 'confident' ? Math.min(0.5, Math.max(0, opts.band ?? 0.25)) : 0.5;
  const span = fill.highMean - fill.lowMean;
  const lowBelow = fill.lowMean + band * span, highAbove = fill.highMean - band * span;
  const out = Uint8Array.from(labels);
  const pseudo = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) continue;
    if (mode === 'midpoint') { out[i] = g[i] < fill.threshold ? fill.low : fill.high; pseudo[i] = 1; }
    else if (g[i] < lowBelow) { out[i] = fill.low; pseudo[i] = 1; }
    else if (g[i] > highAbove) { out[i] = fill.high; pseudo[i] = 1; }
  }
  return { labels: out, pseudo };
}
