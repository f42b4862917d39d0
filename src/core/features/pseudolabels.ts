// Optional semi-supervised fill of the unlabelled pixels of a training slice (two classes only).
//
// API
//   fillByMidpointThreshold(normalised, width, height, labels, { sigma = 0.7 }): { labels, pseudo, threshold, low, high }
//        Smooths the slice with a Gaussian (sigma), takes the mean smoothed value of each of the two labelled classes,
//        and gives every unlabelled pixel the class whose side of the midpoint it is on. `pseudo` marks filled pixels
//        (1) so the trainer can weight them below the user's strokes (see RandomForest sample weights).
//
// Why: brush labels lie where the class is certain, away from edges, so nothing tells a forest where the boundary
// between them is, and where it lands varies with the seed. For partial-volume images the 50 % boundary sits at the
// midpoint of the two class intensities, which is what the fill encodes; the user's strokes still dominate.

import { StackSegError } from '../errors';
import { gaussianSmooth } from './filters';

export function fillByMidpointThreshold(normalised: Float32Array, width: number, height: number, labels: Uint8Array, opts: { sigma?: number } = {}) {
  const g = gaussianSmooth(normalised, width, height, opts.sigma ?? 0.7);
  const sum = new Float64Array(256), count = new Float64Array(256);
  for (let i = 0; i < labels.length; i++) if (labels[i]) { sum[labels[i]] += g[i]; count[labels[i]]++; }
  const classes = [...count.keys()].filter((c) => c > 0 && count[c] > 0);
  if (classes.length !== 2) throw new StackSegError(`the threshold fill needs exactly 2 labelled classes, found ${classes.length}`, { hint: 'turn fill off for more classes' });
  let [low, high] = classes;
  if (sum[low] / count[low] > sum[high] / count[high]) [low, high] = [high, low];
  const threshold = 0.5 * (sum[low] / count[low] + sum[high] / count[high]);
  const out = Uint8Array.from(labels);
  const pseudo = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (!labels[i]) { out[i] = g[i] < threshold ? low : high; pseudo[i] = 1; }
  return { labels: out, pseudo, threshold, low, high };
}
