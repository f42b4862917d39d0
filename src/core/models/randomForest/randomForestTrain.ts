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
export interface TrainingData {
  x: Float32Array; y: Uint8Array; nFeatures: number; nSamples: number; w?: Float32Array;
  /** Every feature already quantised (binFeatures, the forest's maxBins): training skips that step. */
  bins?: { edges: Float32Array[]; binned: Uint8Array };
}

/** Pixels with label != 0; pixelWeights (optional, per pixel) become per-sample weights. */
export function gatherLabeledPixels(features: Float32Array, nFeatures: number, labels: ArrayLike<number>, pixelWeights?: ArrayLike<number>): TrainingData {
  const idx = labelledPixels(features, nFeatures, labels);
  const n = idx.length;
  const into: TrainingData = { x: new Float32Array(nFeatures * n), y: new Uint8Array(n), nFeatures, nSamples: n, w: pixelWeights ? new Float32Array(n) : undefined };
  writeSamples(features, labels, pixelWeights, idx, into, 0);
  return into;
}

/**
 * gatherLabeledPixels written into `into` at samples offset.. (feature f's values at f * into.nSamples + offset + j):
 * workers gather the rows of one slice each straight into one shared set. Returns the samples written.
 */
export function gatherLabeledPixelsInto(features: Float32Array, nFeatures: number, labels: ArrayLike<number>, pixelWeights: ArrayLike<number> | undefined,
  into: TrainingData, offset: number): number {
  const idx = labelledPixels(features, nFeatures, labels);
  if (into.nFeatures !== nFeatures) throw new StackSegError(`feature array has ${features.length} values, expected ${nFeatures} x ${labels.length}`);
  if (offset + idx.length > into.nSamples) throw new StackSegError(`${idx.length} samples do not fit at ${offset} of a set of ${into.nSamples}`);
  writeSamples(features, labels, pixelWeights, idx, into, offset);
  return idx.length;
}

/** The pixels with a label != 0, in order (after checking that features hold nFeatures planes of the labels' size). */
function labelledPixels(features: Float32Array, nFeatures: number, labels: ArrayLike<number>): Int32Array {
  const nPixels = labels.length;
  if (features.length !== nFeatures * nPixels) throw new StackSegError(`feature array has ${features.length} values, expected ${nFeatures} x ${nPixels}`);
  let n = 0;
  for (let p = 0; p < nPixels; p++) if (labels[p] !== 0) n++;
  const idx = new Int32Array(n);
  for (let p = 0, k = 0; p < nPixels; p++) if (labels[p] !== 0) idx[k++] = p;
  return idx;
}

/** Samples idx (pixels) written at offset.. of `into`: labels, weights (1 without pixelWeights) and features. */
function writeSamples(features: Float32Array, labels: ArrayLike<number>, pixelWeights: ArrayLike<number> | undefined, idx: Int32Array,
  into: TrainingData, offset: number): void {
  const n = idx.length, nPixels = labels.length, N = into.nSamples;
  for (let i = 0; i < n; i++) into.y[offset + i] = labels[idx[i]];
  if (into.w) for (let i = 0; i < n; i++) into.w[offset + i] = pixelWeights ? pixelWeights[idx[i]] : 1;
  for (let f = 0; f < into.nFeatures; f++) {
    const src = f * nPixels, dst = f * N + offset;
    for (let i = 0; i < n; i++) into.x[dst + i] = features[src + idx[i]];
  }
}

/** The samples of several parts in one set; `shared`: in SharedArrayBuffers (the worker pool trains on them as is). */
export function concatTrainingData(parts: TrainingData[], shared = false): TrainingData {
  if (parts.length === 1 && !shared) return parts[0];
  const nFeatures = parts[0]?.nFeatures ?? 0;
  const n = parts.reduce((a, p) => a + p.nSamples, 0);
  const buffer = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const x = new Float32Array(buffer(4 * nFeatures * n));
  const y = new Uint8Array(buffer(n));
  const w = parts.some((p) => p.w) ? new Float32Array(buffer(4 * n)).fill(1) : undefined;
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

/** How many distinct label values (other than 0) the slices hold. */
export function labelClasses(slices: { labels: Uint8Array }[]): number {
  const seen = new Uint8Array(256);
  for (const s of slices) for (let i = 0; i < s.labels.length; i++) seen[s.labels[i]] = 1;
  return seen.reduce((a, v, c) => a + (c ? v : 0), 0);
}

/**
 * The filled set of one slice from the samples of its candidate pixels (mask, pixel order): each gets the fill's
 * label (the stroke's where painted) and weight (`weight` if filled, else 1); candidates the fill left unlabelled are
 * dropped. The same samples, in the same order, as gathering the pixels with fill labels directly.
 */
export function fillCandidates(c: TrainingData, mask: Uint8Array, fill: { labels: Uint8Array; pseudo: Uint8Array }, weight: number): TrainingData {
  const n = c.nSamples, F = c.nFeatures;
  const pixel = new Int32Array(n);
  for (let p = 0, j = 0; p < mask.length; p++) if (mask[p]) pixel[j++] = p;
  let m = 0;
  for (let j = 0; j < n; j++) if (fill.labels[pixel[j]]) m++;
  const alloc = (bytes: number) => (c.x.buffer instanceof SharedArrayBuffer ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  let { x, y } = c;
  if (m < n) { // the confident fill leaves some unlabelled: keep the others' samples
    const keep = new Int32Array(m);
    for (let j = 0, k = 0; j < n; j++) if (fill.labels[pixel[j]]) keep[k++] = j;
    x = new Float32Array(alloc(4 * F * m));
    for (let f = 0; f < F; f++) for (let k = 0; k < m; k++) x[f * m + k] = c.x[f * n + keep[k]];
    y = new Uint8Array(alloc(m));
    for (let k = 0; k < m; k++) pixel[k] = pixel[keep[k]];
  }
  const w = new Float32Array(alloc(4 * m));
  for (let k = 0; k < m; k++) { const p = pixel[k]; y[k] = fill.labels[p]; w[k] = fill.pseudo[p] ? weight : 1; }
  return { x, y, w, nFeatures: F, nSamples: m };
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

/** Class values present in y (ascending, 0 excluded) and each sample's class index. */
export function classIndices(y: Uint8Array): { classes: number[]; yi: Uint8Array } {
  const seen = new Uint8Array(256);
  for (let i = 0; i < y.length; i++) seen[y[i]] = 1;
  seen[0] = 0;
  const classes: number[] = [];
  for (let c = 0; c < 256; c++) if (seen[c]) classes.push(c);
  const classIndex = new Int16Array(256).fill(-1);
  classes.forEach((c, i) => (classIndex[c] = i));
  const yi = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) yi[i] = classIndex[y[i]];
  return { classes, yi };
}

/**
 * Quantises features f0..f1-1 of `data` into `binned` (feature-major, nSamples per feature) and returns their edges.
 * Workers that train parts of one forest each bin a share of the features into one shared array (binning all 41
 * features of 900 k samples is ~1 s), then all read it (data.bins).
 */
export function binFeatures(data: TrainingData, maxBins: number, f0: number, f1: number, binned: Uint8Array,
  { classes, yi } = classIndices(data.y)): Float32Array[] {
  const n = data.nSamples, C = classes.length;
  const edges: Float32Array[] = [];
  for (let f = f0; f < f1; f++) {
    const vals = data.x.subarray(f * n, (f + 1) * n);
    const e = binEdges(vals, yi, C, maxBins);
    edges.push(e);
    binValues(e, vals, binned, f * n);
  }
  return edges;
}

/**
 * Grows the trees; yields after each quantised feature and each batch of nodes (the cancel points). firstTree: index of
 * the first tree in a larger forest trained in parts, so that tree t uses the random stream of tree firstTree + t.
 * data.bins (binFeatures of every feature, with these maxBins) skips the quantisation.
 */
export function* growTrees(data: TrainingData, options: Partial<ForestOptions>, featureNames: string[] | undefined, firstTree: number): Generator<void, ForestTables, void> {
  const opts: ForestOptions = { ...DEFAULT_FOREST_OPTIONS, ...options };
  validateOptions(opts);
  const { x, y, nFeatures, nSamples: n } = data;
  if (n === 0) throw new StackSegError('no labelled pixels to train on', { hint: 'paint at least one stroke of two classes' });
  if (x.length !== nFeatures * n || y.length !== n) throw new StackSegError('training data arrays have inconsistent sizes');
  if (featureNames && featureNames.length !== nFeatures) throw new StackSegError(`${featureNames.length} feature names for ${nFeatures} features`);
  const { classes, yi } = classIndices(y);
  if (classes.length < 2) throw new StackSegError(`labels contain ${classes.length} class(es); at least 2 are needed`, { hint: 'paint strokes of at least two classes' });
  const C = classes.length;
  const counts = new Float64Array(C);
  for (let i = 0; i < n; i++) counts[yi[i]]++;
  const cw = new Float64Array(C).fill(1);
  if (opts.classWeight === 'balanced') for (let c = 0; c < C; c++) cw[c] = n / (C * counts[c]);
  else if (typeof opts.classWeight === 'object') for (let c = 0; c < C; c++) cw[c] = opts.classWeight[String(classes[c])] ?? 1;

  // Quantise every feature once (or take the shared bins of a forest trained in parts).
  let edges: Float32Array[], binned: Uint8Array;
  if (data.bins) {
    ({ edges, binned } = data.bins);
    if (edges.length !== nFeatures || binned.length !== nFeatures * n) throw new StackSegError('training data bins have inconsistent sizes');
  } else {
    edges = [];
    binned = new Uint8Array(nFeatures * n);
    for (let f = 0; f < nFeatures; f++) {
      edges.push(...binFeatures(data, opts.maxBins, f, f + 1, binned, { classes, yi }));
      yield;
    }
  }

  const mtry = resolveMaxFeatures(opts.maxFeatures, nFeatures);
  const feature: number[] = [], threshold: number[] = [], left: number[] = [], value: number[] = [], roots: number[] = [];
  const importances = new Float64Array(nFeatures);
  const hist = new Float64Array(256 * C);
  const histCount = new Float64Array(256);
  const countBins = opts.minSamplesLeaf > 1;
  const perm = Int32Array.from({ length: nFeatures }, (_, i) => i);
  // Draws per tree: n (the classic bootstrap; the same random stream as before maxSamples existed) or the cap.
  const draws = opts.maxSamples > 0 ? Math.min(n, opts.maxSamples) : n;
  const cap = opts.bootstrap ? draws : n;
  const drawCount = opts.bootstrap && draws * 16 >= n ? new Int32Array(n) : undefined;
  const drawn = new Int32Array(opts.bootstrap && !drawCount ? draws : 0);
  // Each tree works on a compact copy of its samples (m <= draws): their bins, class, multiplicity and weight at
  // positions 0..m-1, a feature's bins copied on its first use. The node loops then stay in a few hundred kB instead of
  // reading the whole binned set at random (cache misses dominated); the same sums in the same order as before.
  const sampleOf = new Int32Array(cap);
  const tBins = new Uint8Array(nFeatures * cap), tHave = new Uint8Array(nFeatures);
  const tY = new Uint8Array(cap), tMult = new Float64Array(cap), tWeight = new Float64Array(cap);

  for (let t = 0; t < opts.nTrees; t++) {
    const rng = makeRng((opts.seed * 1000003 + (t + firstTree) * 7919 + 1) >>> 0);
    for (let f = 0; f < nFeatures; f++) perm[f] = f; // every tree starts alike, so trees do not depend on earlier ones
    // The tree's samples in ascending order with their multiplicities: counted in an Int32Array that is scanned once
    // (4 bytes a sample, not the Float64Array fill and scan of before), or, when the draws are few, sorted.
    let m = 0;
    if (drawCount) {
      for (let k = 0; k < draws; k++) drawCount[Math.floor(rng() * n)]++;
      for (let i = 0; i < n; i++) if (drawCount[i]) { sampleOf[m] = i; tMult[m] = drawCount[i]; drawCount[i] = 0; m++; }
    } else if (opts.bootstrap) {
      for (let k = 0; k < draws; k++) drawn[k] = Math.floor(rng() * n);
      drawn.sort();
      for (let k = 0; k < draws; k++) {
        if (m > 0 && sampleOf[m - 1] === drawn[k]) tMult[m - 1]++;
        else { sampleOf[m] = drawn[k]; tMult[m] = 1; m++; }
      }
    } else if (draws === n) {
      for (let i = 0; i < n; i++) { sampleOf[i] = i; tMult[i] = 1; }
      m = n;
    } else {
      for (let k = 0; k < n; k++) if (rng() * n < draws) { sampleOf[m] = k; tMult[m] = 1; m++; }
    }
    for (let k = 0; k < m; k++) { const i = sampleOf[k]; tY[k] = yi[i]; tWeight[k] = tMult[k] * cw[yi[i]] * (data.w ? data.w[i] : 1); }
    tHave.fill(0);
    const idx = new Int32Array(m);
    for (let k = 0; k < m; k++) idx[k] = k;
    roots.push(feature.length);
    // Node work items: [node id, start, end, depth]
    const stack: [number, number, number, number][] = [];
    const newNode = () => { feature.push(-1); threshold.push(0); left.push(-1); for (let c = 0; c < C; c++) value.push(0); return feature.length - 1; };
    stack.push([newNode(), 0, m, 0]);
    const tot = new Float64Array(C);
    let work = 0;
    while (stack.length) {
      // A cancel point after about NODE_BATCH_WORK sample visits (a deep tree has many tiny nodes).
      if (work >= NODE_BATCH_WORK) { work = 0; yield; }
      const [node, start, end, depth] = stack.pop()!;
      work += (end - start) * mtry + 64;
      tot.fill(0);
      let totMult = 0;
      for (let k = start; k < end; k++) { const i = idx[k]; tot[tY[i]] += tWeight[i]; totMult += tMult[i]; }
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
        const off = f * cap;
        if (!tHave[f]) { tHave[f] = 1; const src = f * n; for (let k = 0; k < m; k++) tBins[off + k] = binned[src + sampleOf[k]]; }
        let minB = 255, maxB = 0;
        if (countBins) {
          histCount.fill(0, 0, nb);
          for (let k = start; k < end; k++) {
            const i = idx[k]; const b = tBins[off + i];
            hist[b * C + tY[i]] += tWeight[i]; histCount[b] += tMult[i];
            if (b < minB) minB = b; if (b > maxB) maxB = b;
          }
        } else {
          // minSamplesLeaf 1: counts are not needed (an empty bin scores as its left neighbour, so it never wins).
          for (let k = start; k < end; k++) {
            const i = idx[k]; const b = tBins[off + i];
            hist[b * C + tY[i]] += tWeight[i];
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
      const off = bestF * cap, xoff = bestF * n;
      let lo = start, hi = end - 1, maxLeft = -Infinity, minRight = Infinity;
      while (lo <= hi) {
        const i = idx[lo];
        const v = x[xoff + sampleOf[i]];
        if (tBins[off + i] <= bestBin) { if (v > maxLeft) maxLeft = v; lo++; }
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
