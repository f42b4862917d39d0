// Optional pseudo-labels for the unlabelled pixels of the training slices. Painted strokes lie where the class is
// certain, away from edges, so nothing tells the network where a boundary belongs (docs/quality.md: on the foam
// set almost every error is 1 px off the true edge). Filling the unlabelled pixels with the nearest-class-mean rule
// on a lightly smoothed image (the midpoint threshold for 2 classes) — computed from the painted pixels only — gives
// it that edge. Painted pixels keep their labels.

import { gaussianSmooth } from '../../features/filters';
import { applyThresholdFill, fitThresholdFill } from '../../features/pseudolabels';

/**
 * Labels with every unlabelled pixel set to the class whose painted-pixel mean (after blurring) is nearest.
 * sigma 'auto' (default), 2 classes: the Random Forest's fill (features/pseudolabels.ts): the least smoothing at which
 * the painted classes are 5x their noise apart, so clean images keep their thin walls' edges (a fixed 0.7 cost
 * limitedrange .02 F1 against the raw midpoint, docs/quality.md); other class counts fall back to sigma 0.7.
 */
export function fillPseudoLabels(image: Float32Array, labels: Uint8Array, width: number, height: number,
  classValues: number[], sigma: number | 'auto' = 'auto'): Uint8Array {
  if (sigma === 'auto') {
    const fit = fitThresholdFill([{ normalised: image, labels }], width, height, { sigma: 'auto' });
    if (fit) return applyThresholdFill(fit, image, width, height, labels, { mode: 'midpoint' }).labels;
    sigma = 0.7;
  }
  const smooth = sigma > 0 ? gaussianSmooth(image, width, height, sigma) : image;
  const sums = new Float64Array(256), counts = new Float64Array(256);
  for (let i = 0; i < labels.length; i++) if (labels[i]) { sums[labels[i]] += smooth[i]; counts[labels[i]]++; }
  const means = classValues.filter((v) => counts[v] > 0).map((v) => ({ v, mean: sums[v] / counts[v] }));
  if (means.length < 2) return labels; // this slice alone cannot place a boundary
  const out = labels.slice();
  for (let i = 0; i < out.length; i++) {
    if (out[i]) continue;
    let best = means[0];
    for (const m of means) if (Math.abs(smooth[i] - m.mean) < Math.abs(smooth[i] - best.mean)) best = m;
    out[i] = best.v;
  }
  return out;
}

/** Which pseudo-labels MSDNet trains on (registry `pseudoLabels`; true/false from older callers mean fill/off). */
export type PseudoLabelMode = 'teacher' | 'fill' | 'off';
export function pseudoLabelMode(v: unknown): PseudoLabelMode {
  if (v === true || v === 'fill') return 'fill';
  if (v === 'teacher') return 'teacher';
  return 'off';
}

/** A teacher's class probabilities on a slice, class-major (teacher.ts TeacherPrediction). */
export interface SoftLabels { classes: readonly number[]; probs: Float32Array }

/**
 * Loss targets [pixel * C + c] (the loss weight of class c at the pixel) and their sum, the loss denominator.
 * A labelled pixel: its class's weight. An unlabelled one with a teacher: its probabilities times `teacherWeight`
 * (soft targets: where the teacher hesitates, at edges, both classes get part of the weight).
 */
export function trainingTargets(labels: Uint8Array, classIndex: Int16Array, classWeights: number[], classes: number,
  teacher?: SoftLabels, teacherWeight = 1): { targets: Float32Array; denominator: number } {
  const n = labels.length, out = new Float32Array(n * classes);
  const teach = teacher ? teacher.classes.map((v) => classIndex[v] ?? -1) : [];
  let denominator = 0;
  for (let p = 0; p < n; p++) {
    const c = classIndex[labels[p]];
    if (labels[p] && c >= 0) { out[p * classes + c] = classWeights[c]; denominator += classWeights[c]; continue; }
    if (!teacher || labels[p]) continue;
    for (let j = 0; j < teach.length; j++) {
      const k = teach[j];
      if (k < 0) continue;
      const w = teacherWeight * classWeights[k] * teacher.probs[j * n + p];
      out[p * classes + k] += w;
      denominator += w;
    }
  }
  return { targets: out, denominator };
}
