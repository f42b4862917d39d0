// Training of the histogram-binned random forest (randomForest.ts): the training set of labelled pixels, the options,
// and the tree growing itself (quantise each feature once, then per node histogram a random subset of features and
// take the split with the best Gini decrease). Trees come out as flat node tables (ForestTables).

import { mulberry32 } from '../../random';
import { StackSegError } from '../../../shared/errors';
import { binEdges, binValues } from './randomForestBins';

export type ClassWeight = 'none' | 'balanced' | Record<string, number>;

export interface ForestOptions {
  nTrees: number;
  maxDepth: number;
  /** Features tried per node: 'sqrt' (default), 'log2', 'all', or a count. */
  maxFeatures: 'sqrt' | 'log2' | 'all' | number;
  minSamplesLeaf: number;
  bootstrap: boolean;
  seed: number;
  /** 'balanced' = n / (nClasses * count_c); an object maps label value -> weight. */
  classWeight: ClassWeight;
  maxBins: number;
  /**
   * Bootstrap draws per tree, at most (sklearn's max_samples); 0 = as many as there are samples. A full-size slice
   * with the threshold fill gives ~0.9 M samples that repeat the same few patterns: 100 k per tree trains 9x faster
   * with the same boundaries. Without bootstrap, a random subset of this size.
   */
  maxSamples: number;
}

export const DEFAULT_FOREST_OPTIONS: ForestOptions = {
  nTrees: 30, maxDepth: 8, maxFeatures: 'sqrt', minSamplesLeaf: 1, bootstrap: true, seed: 0, classWeight: 'none', maxBins: 256,
  maxSamples: 100_000,
};

/** Feature-major samples: x[f * nSamples + i]; y holds label values (1..255); w optional per-sample weights. */
export interface TrainingData { x: Float32Array; y: Uint8Array; nFeatures: number; nSamples: number; w?: Float32Array }

/** Pixels with label != 0; pixelWeights (optional, per pixel) become per-sample weights. */
export function gatherLabeledPixels(features: Float32Array, nFeatures: number, labels: ArrayLike<number>, pixelWeights?: ArrayLike<number>): TrainingData {
  const nPixels = labels.length;
  if (features.length !== nFeatures * nPixels) throw new StackSegError(`feature array has ${features.length} values, expected ${nFeatures} x ${nPixels}`);
  let n = 0;
  for (let p = 0; p < nPixels; p++) if (labels[p] !== 0) n++;
  const idx = new Int32Array(n);
  for (let p = 0, k = 0; p < nPixels; p++) if (labels[p] !== 0) idx[k++] = p;
  const x = new Float32Array(nFeatures * n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = labels[idx[i]];
  let w: Float32Array | undefined;
  if (pixelWeights) { w = new Float32Array(n); for (let i = 0; i < n; i++) w[i] = pixelWeights[idx[i]]; }
  for (let f = 0; f < nFeatures; f++) {
    const src = f * nPixels, dst = f * n;
    for (let i = 0; i < n; i++) x[dst + i] = features[src + idx[i]];
  }
  return { x, y, nFeatures, nSamples: n, w };
}

export function concatTrainingData(parts: TrainingData[]): TrainingData {
  if (parts.length === 1) return parts[0];
  const nFeatures = parts[0]?.nFeatures ?? 0;
  const n = parts.reduce((a, p) => a + p.nSamples, 0);
  const x = new Float32Array(nFeatures * n);
  const y = new Uint8Array(n);
  const w = parts.some((p) => p.w) ? new Float32Array(n).fill(1) : undefined;
  let off = 0;
  for (const p of parts) {
    if (p.nFeatures !== nFeatures) throw new StackSegError('training slices have different feature counts');
    y.set(p.y, off);
    if (w && p.w) w.set(p.w, off);
    for (let f = 0; f < nFeatures; f++) x.set(p.x.subarray(f * p.nSamples, (f + 1) * p.nSamples), f * n + off);
    off += p.nSamples;
  }
  return { x, y, nFeatures, nSamples: n, w };
}

/** A trained forest's node tables (the private state of RandomForest). */
export interface ForestTables {
  options: ForestOptions;
  /** Label values, ascending; index = class index in probabilities. */
  classes: number[];
  treeRoots: Int32Array;
  /** Per node: split feature or -1 for a leaf. */
  feature: Int32Array;
  threshold: Float32Array;
  /** Index of the left child; the right child is left + 1. */
  left: Int32Array;
  /** Per node, nClasses class probabilities (leaf values). */
  value: Float32Array;
  /** Gini importance per feature, sums to 1 (all 0 when no split was made). */
  importances: Float64Array;
}

const makeRng = mulberry32;

/** Sample-feature visits between two cancel points of tree building (~1-5 ms of work). */
const NODE_BATCH_WORK = 1 << 18;

function resolveMaxFeatures(m: ForestOptions['maxFeatures'], nFeatures: number): number {
  if (m === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (m === 'log2') return Math.max(1, Math.floor(Math.log2(nFeatures)));
  if (m === 'all') return nFeatures;
  if (!(Number.isInteger(m) && m >= 1)) throw new StackSegError(`maxFeatures ${m} is invalid`, { hint: "use 'sqrt', 'log2', 'all' or a positive integer" });
  return Math.min(nFeatures, m);
}

function validateOptions(o: ForestOptions): void {
  const bad = (what: string, hint: string) => new StackSegError(what, { hint, code: 'usage' });
  if (!(Number.isInteger(o.nTrees) && o.nTrees >= 1 && o.nTrees <= 10000)) throw bad(`nTrees ${o.nTrees} is invalid`, 'use an integer 1..10000');
  if (!(Number.isInteger(o.maxDepth) && o.maxDepth >= 1 && o.maxDepth <= 40)) throw bad(`maxDepth ${o.maxDepth} is invalid`, 'use an integer 1..40');
  if (!(Number.isInteger(o.minSamplesLeaf) && o.minSamplesLeaf >= 1)) throw bad(`minSamplesLeaf ${o.minSamplesLeaf} is invalid`, 'use an integer >= 1');
  if (!(Number.isInteger(o.maxBins) && o.maxBins >= 2 && o.maxBins <= 256)) throw bad(`maxBins ${o.maxBins} is invalid`, 'use an integer 2..256');
  if (!(Number.isInteger(o.maxSamples) && o.maxSamples >= 0)) throw bad(`maxSamples ${o.maxSamples} is invalid`, 'use 0 (all samples) or a positive integer');
}

/**
 * Grows the trees; yields after each quantised feature and each batch of nodes (the cancel points). firstTree: index of
 * the first tree in a larger forest trained in parts, so that tree t uses the random stream of tree firstTree + t.
 */
export function* growTrees(data: TrainingData, options: Partial<ForestOptions>, featureNames: string[] | undefined, firstTree: number): Generator<void, ForestTables, void> {
  const opts: ForestOptions = { ...DEFAULT_FOREST_OPTIONS, ...options };
  validateOptions(opts);
  const { x, y, nFeatures, nSamples: n } = data;
  if (n === 0) throw new StackSegError('no labelled pixels to train on', { hint: 'paint at least one stroke of two classes' });
  if (x.length !== nFeatures * n || y.length !== n) throw new StackSegError('training data arrays have inconsistent sizes');
  if (featureNames && featureNames.length !== nFeatures) throw new StackSegError(`${featureNames.length} feature names for ${nFeatures} features`);
  const present = new Set<number>(); for (let i = 0; i < n; i++) present.add(y[i]);
  present.delete(0);
  const classes = [...present].sort((a, b) => a - b);
  if (classes.length < 2) throw new StackSegError(`labels contain ${classes.length} class(es); at least 2 are needed`, { hint: 'paint strokes of at least two classes' });
  const C = classes.length;
  const classIndex = new Int16Array(256).fill(-1);
  classes.forEach((c, i) => (classIndex[c] = i));
  const yi = new Uint8Array(n);
  const counts = new Float64Array(C);
  for (let i = 0; i < n; i++) { yi[i] = classIndex[y[i]]; counts[yi[i]]++; }
  const cw = new Float64Array(C).fill(1);
  if (opts.classWeight === 'balanced') for (let c = 0; c < C; c++) cw[c] = n / (C * counts[c]);
  else if (typeof opts.classWeight === 'object') for (let c = 0; c < C; c++) cw[c] = opts.classWeight[String(classes[c])] ?? 1;

  // Quantise every feature once.
  const edges: Float32Array[] = [];
  const binned = new Uint8Array(nFeatures * n);
  for (let f = 0; f < nFeatures; f++) {
    const vals = x.subarray(f * n, (f + 1) * n);
    const e = binEdges(vals, yi, C, opts.maxBins);
    edges.push(e);
    binValues(e, vals, binned, f * n);
    yield;
  }

  const mtry = resolveMaxFeatures(opts.maxFeatures, nFeatures);
  const feature: number[] = [], threshold: number[] = [], left: number[] = [], value: number[] = [], roots: number[] = [];
  const importances = new Float64Array(nFeatures);
  const hist = new Float64Array(256 * C);
  const histCount = new Float64Array(256);
  const countBins = opts.minSamplesLeaf > 1;
  const mult = new Float64Array(n);
  const weight = new Float64Array(n);
  const perm = Int32Array.from({ length: nFeatures }, (_, i) => i);

  for (let t = 0; t < opts.nTrees; t++) {
    const rng = makeRng((opts.seed * 1000003 + (t + firstTree) * 7919 + 1) >>> 0);
    for (let f = 0; f < nFeatures; f++) perm[f] = f; // every tree starts alike, so trees do not depend on earlier ones
    mult.fill(0);
    // Draws per tree: n (the classic bootstrap; the same random stream as before maxSamples existed) or the cap.
    const draws = opts.maxSamples > 0 ? Math.min(n, opts.maxSamples) : n;
    if (opts.bootstrap) for (let k = 0; k < draws; k++) mult[Math.floor(rng() * n)]++;
    else if (draws === n) mult.fill(1);
    else for (let k = 0; k < n; k++) if (rng() * n < draws) mult[k] = 1;
    const idxList: number[] = [];
    for (let i = 0; i < n; i++) if (mult[i] > 0) { idxList.push(i); weight[i] = mult[i] * cw[yi[i]] * (data.w ? data.w[i] : 1); }
    const idx = Int32Array.from(idxList);
    roots.push(feature.length);
    // Node work items: [node id, start, end, depth]
    const stack: [number, number, number, number][] = [];
    const newNode = () => { feature.push(-1); threshold.push(0); left.push(-1); for (let c = 0; c < C; c++) value.push(0); return feature.length - 1; };
    stack.push([newNode(), 0, idx.length, 0]);
    const tot = new Float64Array(C);
    let work = 0;
    while (stack.length) {
      // A cancel point after about NODE_BATCH_WORK sample visits (a deep tree has many tiny nodes).
      if (work >= NODE_BATCH_WORK) { work = 0; yield; }
      const [node, start, end, depth] = stack.pop()!;
      work += (end - start) * mtry + 64;
      tot.fill(0);
      let totMult = 0;
      for (let k = start; k < end; k++) { const i = idx[k]; tot[yi[i]] += weight[i]; totMult += mult[i]; }
      let W = 0; for (let c = 0; c < C; c++) W += tot[c];
      for (let c = 0; c < C; c++) value[node * C + c] = W > 0 ? tot[c] / W : 1 / C;
      let nonzero = 0; for (let c = 0; c < C; c++) if (tot[c] > 0) nonzero++;
      if (depth >= opts.maxDepth || nonzero < 2 || totMult < 2 * opts.minSamplesLeaf) continue;
      let parentScore = 0; for (let c = 0; c < C; c++) parentScore += tot[c] * tot[c];
      parentScore /= W;
      let bestScore = parentScore + 1e-12 * W, bestF = -1, bestBin = -1;
      let visited = 0;
      for (let j = 0; j < nFeatures && visited < mtry; j++) {
        const r = j + Math.floor(rng() * (nFeatures - j));
        const f = perm[r]; perm[r] = perm[j]; perm[j] = f;
        const nb = edges[f].length + 1;
        hist.fill(0, 0, nb * C);
        const off = f * n;
        let minB = 255, maxB = 0;
        if (countBins) {
          histCount.fill(0, 0, nb);
          for (let k = start; k < end; k++) {
            const i = idx[k]; const b = binned[off + i];
            hist[b * C + yi[i]] += weight[i]; histCount[b] += mult[i];
            if (b < minB) minB = b; if (b > maxB) maxB = b;
          }
        } else {
          // minSamplesLeaf 1: counts are not needed (an empty bin scores as its left neighbour, so it never wins).
          for (let k = start; k < end; k++) {
            const i = idx[k]; const b = binned[off + i];
            hist[b * C + yi[i]] += weight[i];
            if (b < minB) minB = b; if (b > maxB) maxB = b;
          }
        }
        if (minB === maxB) continue; // constant in this node: does not count towards mtry (as scikit-learn)
        visited++;
        const lw = new Float64Array(C);
        let lCount = 0;
        for (let b = minB; b < maxB; b++) {
          for (let c = 0; c < C; c++) lw[c] += hist[b * C + c];
          if (countBins) {
            lCount += histCount[b];
            if (histCount[b] === 0) continue;
            if (lCount < opts.minSamplesLeaf || totMult - lCount < opts.minSamplesLeaf) continue;
          }
          let WL = 0, sL = 0, sR = 0;
          for (let c = 0; c < C; c++) { WL += lw[c]; sL += lw[c] * lw[c]; const rw = tot[c] - lw[c]; sR += rw * rw; }
          const WR = W - WL;
          if (WL <= 0 || WR <= 0) continue;
          const score = sL / WL + sR / WR;
          if (score > bestScore) { bestScore = score; bestF = f; bestBin = b; }
        }
      }
      if (bestF < 0) continue;
      importances[bestF] += bestScore - parentScore;
      // Partition idx[start:end] by bin, and find the gap around the split for the threshold.
      const off = bestF * n, xoff = bestF * n;
      let lo = start, hi = end - 1, maxLeft = -Infinity, minRight = Infinity;
      while (lo <= hi) {
        const i = idx[lo];
        const v = x[xoff + i];
        if (binned[off + i] <= bestBin) { if (v > maxLeft) maxLeft = v; lo++; }
        else { if (v < minRight) minRight = v; idx[lo] = idx[hi]; idx[hi] = i; hi--; }
      }
      let thr = Math.fround((maxLeft + minRight) / 2);
      if (!(thr >= maxLeft && thr < minRight)) thr = maxLeft;
      feature[node] = bestF;
      threshold[node] = thr;
      const l = newNode(); newNode();
      left[node] = l;
      stack.push([l + 1, lo, end, depth + 1]);
      stack.push([l, start, lo, depth + 1]);
    }
    yield;
  }
  let impSum = 0; for (const v of importances) impSum += v;
  if (impSum > 0) for (let f = 0; f < nFeatures; f++) importances[f] /= impSum;
  return {
    options: opts, classes, treeRoots: Int32Array.from(roots), feature: Int32Array.from(feature), threshold: Float32Array.from(threshold),
    left: Int32Array.from(left), value: Float32Array.from(value), importances,
  };
}
