// The classes an MSDNet learns: the label values present in the training slices, their output index and their loss
// weight. Shared by the tfjs/native trainer (msdnet.ts) and the torch backend, so both learn the same classes.

import { StackSegError } from '../../../shared/errors';

export interface ClassTable {
  /** The label values present, increasing: output channel c predicts classValues[c]. */
  classValues: number[];
  /** Label value -> output channel, -1 for values not learned (0 = unlabelled). */
  classIndex: Int16Array;
  /** Loss weight per output channel. */
  classWeights: number[];
  /** Labelled pixels per class (the training report's labelledPixels). */
  counts: number[];
}

export function classTable(slices: readonly { labels: Uint8Array }[], weights: unknown): ClassTable {
  const present = new Set<number>();
  for (const s of slices) for (let i = 0; i < s.labels.length; i++) if (s.labels[i] !== 0) present.add(s.labels[i]);
  const classValues = [...present].sort((a, b) => a - b);
  if (classValues.length < 2) {
    throw new StackSegError(`MSDNet needs labels of at least 2 classes; found ${classValues.length ? `only class ${classValues[0]}` : 'none'}`,
      { hint: 'paint strokes of each class (e.g. background and foreground)' });
  }
  const classIndex = new Int16Array(256).fill(-1);
  classValues.forEach((v, c) => { classIndex[v] = c; });
  const counts = classValues.map((v) => slices.reduce((n, s) => n + s.labels.reduce((m, l) => m + (l === v ? 1 : 0), 0), 0));
  let classWeights: number[];
  if (weights === 'balanced') {
    const total = counts.reduce((a, b) => a + b, 0);
    classWeights = counts.map((n) => total / (classValues.length * n));
  } else if (Array.isArray(weights)) {
    if (weights.length !== classValues.length) {
      throw new StackSegError(`classWeights has ${weights.length} values for ${classValues.length} classes (${classValues.join(', ')})`, { hint: 'give one weight per class', code: 'usage' });
    }
    classWeights = weights as number[];
  } else classWeights = classValues.map(() => 1);
  return { classValues, classIndex, classWeights, counts };
}
