// Histogram-binned random forest (Gini, bootstrap, feature subsampling), trained on labelled pixels.
//
// API
//   DEFAULT_FOREST_OPTIONS                          30 trees, depth 8, sqrt features, min leaf 1, seed 0, no class weights
//   gatherLabeledPixels(features, nFeatures, labels, pixelWeights?): TrainingData   pixels with label != 0 of a slice
//   concatTrainingData(parts): TrainingData                            several slices into one set
//   RandomForest.train(data, options?, featureNames?): RandomForest
//   forest.predict(features, nPixels): { labels: Uint8Array, probabilities: Float32Array }
//        features feature-major [feature][pixel] (as computeFeatures gives); labels are the ORIGINAL label values
//        (e.g. 1, 2); probabilities are class-major [class][pixel] in the order of forest.classes, averaged over all
//        trees. 1 - max probability is an uncertainty map.
//   forest.toJSON(): ForestJSON  /  RandomForest.fromJSON(json)        versioned, plain JSON
//   forest.featureImportances(): Float64Array                          Gini importance, sums to 1
//   RandomForest.merge(forests): RandomForest                         all trees of several forests in one
//   forest.usedFeatures(): number[]  /  forest.selectFeatures(indices)  prediction on only the features splits read
//
// How it works: every feature is quantised to <= maxBins bins. Bin edges are quantiles of the training samples plus
// per-class quantiles (including each class's min and max), so the gap between two well separated classes is always
// bounded by edges. Each node histograms (bin x class) weights for a random subset of features and takes the split
// with the best Gini decrease. The stored threshold is then moved to the midpoint between the largest left and the
// smallest right sample value in the node (as scikit-learn does), because with sparse brush labels the gap between
// classes is where the object boundary lies and a bin edge at one end of the gap would shift every boundary.
// Trees are flat tables (Int32Array/Float32Array) for fast prediction.

import { mulberry32 } from '../../random';
import { StackSegError } from '../../../shared/errors';
import { predictTwoClasses } from '../../features/simd';
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

export interface ForestJSON {
  format: 'stackseg-forest';
  version: 1;
  options: ForestOptions;
  classes: number[];
  nFeatures: number;
  featureNames?: string[];
  treeRoots: number[];
  /** Per node: split feature or -1 for a leaf. */
  feature: number[];
  threshold: number[];
  /** Index of the left child; the right child is left + 1. */
  left: number[];
  /** Per node, nClasses class probabilities (leaf values). */
  value: number[];
  importances: number[];
}

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

const makeRng = mulberry32;

/** Sample-feature visits between two cancel points of tree building (~1-5 ms of work). */
const NODE_BATCH_WORK = 1 << 18;
/** trainAsync gives the event loop a turn at least this often (ms). */
const YIELD_MS = 20;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

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

export class RandomForest {
  private constructor(
    readonly options: ForestOptions,
    /** Label values, ascending; index = class index in probabilities. */
    readonly classes: number[],
    readonly nFeatures: number,
    readonly featureNames: string[] | undefined,
    private readonly treeRoots: Int32Array,
    private readonly feature: Int32Array,
    private readonly threshold: Float32Array,
    private readonly left: Int32Array,
    private readonly value: Float32Array,
    private readonly importances: Float64Array,
  ) {}

  /** Two-class prediction in WebAssembly when available (tests turn it off to compare with the JS loop). */
  static wasmPrediction = true;

  get nTrees(): number { return this.treeRoots.length; }
  get nNodes(): number { return this.feature.length; }

  /**
   * firstTree: index of this forest's first tree in a larger forest trained in parts (in parallel): tree t uses the
   * random stream of tree firstTree + t, so merging the parts in order equals training all trees at once.
   */
  static train(data: TrainingData, options: Partial<ForestOptions> = {}, featureNames?: string[], firstTree = 0, checkpoint?: () => void): RandomForest {
    const steps = RandomForest.trainSteps(data, options, featureNames, firstTree);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      checkpoint?.();
    }
  }

  /**
   * RandomForest.train that gives the event loop a turn every ~YIELD_MS of work and throws the signal's reason once
   * it is aborted: a SIGTERM (delivered by the event loop) stops training of any size within a node batch.
   */
  static async trainAsync(data: TrainingData, options: Partial<ForestOptions> = {}, featureNames?: string[], firstTree = 0, signal?: AbortSignal): Promise<RandomForest> {
    signal?.throwIfAborted();
    const steps = RandomForest.trainSteps(data, options, featureNames, firstTree);
    let last = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() - last >= YIELD_MS) {
        await yieldToEventLoop();
        signal?.throwIfAborted();
        last = performance.now();
      }
    }
  }

  /** The training itself; yields after each quantised feature and each batch of nodes (the cancel points). */
  private static *trainSteps(data: TrainingData, options: Partial<ForestOptions>, featureNames: string[] | undefined, firstTree: number): Generator<void, RandomForest, void> {
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
    return new RandomForest(opts, classes, nFeatures, featureNames, Int32Array.from(roots), Int32Array.from(feature),
      Float32Array.from(threshold), Int32Array.from(left), Float32Array.from(value), importances);
  }

  /** Labels (original values) and class-major probabilities for nPixels pixels of feature-major features. */
  predict(features: Float32Array, nPixels: number): { labels: Uint8Array; probabilities: Float32Array } {
    if (features.length !== this.nFeatures * nPixels) {
      throw new StackSegError(`feature array has ${features.length} values, the model expects ${this.nFeatures} features x ${nPixels} pixels`,
        { hint: 'segment with the same feature settings the model was trained with' });
    }
    return this.predictRange(features, nPixels, 0, nPixels);
  }

  /**
   * predict() of pixels p0..p1-1 of feature planes that hold planeSize pixels each (features[f * planeSize + p]), e.g.
   * the rows of a strip inside the larger window its features were computed on. Outputs hold p1 - p0 pixels.
   */
  predictRange(features: Float32Array, planeSize: number, p0: number, p1: number): { labels: Uint8Array; probabilities: Float32Array } {
    if (!(p0 >= 0 && p1 >= p0 && p1 <= planeSize && features.length >= this.nFeatures * planeSize)) {
      throw new StackSegError(`pixel range ${p0}..${p1} does not fit ${this.nFeatures} feature planes of ${planeSize} pixels`);
    }
    const C = this.classes.length;
    const nPixels = p1 - p0;
    const { feature, threshold, left, value, treeRoots } = this;
    const nTrees = treeRoots.length;
    const labels = new Uint8Array(nPixels);
    if (RandomForest.wasmPrediction && C === 2 && nPixels > 0 && this.nFeatures * nPixels < 2 ** 29) {
      // Two classes (the common case): WebAssembly, compiled ahead (no JS warm-up per worker), same numbers.
      const r = predictTwoClasses(features, planeSize, p0, nPixels, this.nFeatures, feature, threshold, left, value, treeRoots);
      if (r) {
        const [c0, c1] = this.classes;
        for (let p = 0; p < nPixels; p++) labels[p] = r.winner[p] ? c1 : c0;
        return { labels, probabilities: r.probabilities };
      }
    }
    const probabilities = new Float32Array(C * nPixels);
    const inv = 1 / nTrees;
    // Tree-major over blocks of pixels: one tree's few nodes stay hot while its split features stream by. Sums run
    // over trees in order, in double, so results equal the pixel-major loop.
    // Start of each split node's feature plane (-1 for leaves): no multiplication per step.
    const offset = Int32Array.from(feature, (f) => (f < 0 ? -1 : f * planeSize));
    const B = 4096;
    const acc = new Float64Array(B * C);
    for (let b0 = p0; b0 < p1; b0 += B) {
      const b1 = Math.min(p1, b0 + B);
      acc.fill(0);
      for (let t = 0; t < nTrees; t++) {
        const root = treeRoots[t], rootOffset = offset[root];
        for (let p = b0; p < b1; p++) {
          let node = root, o = rootOffset;
          while (o >= 0) {
            node = features[o + p] <= threshold[node] ? left[node] : left[node] + 1;
            o = offset[node];
          }
          const vo = node * C, ao = (p - b0) * C;
          for (let c = 0; c < C; c++) acc[ao + c] += value[vo + c];
        }
      }
      for (let p = b0; p < b1; p++) {
        const ao = (p - b0) * C, q = p - p0;
        let best = 0;
        for (let c = 0; c < C; c++) { probabilities[c * nPixels + q] = acc[ao + c] * inv; if (acc[ao + c] > acc[ao + best]) best = c; }
        labels[q] = this.classes[best];
      }
    }
    return { labels, probabilities };
  }

  featureImportances(): Float64Array { return Float64Array.from(this.importances); }

  /** One forest holding the trees of all given forests (same classes and features): averages their probabilities. */
  static merge(forests: RandomForest[]): RandomForest {
    if (forests.length === 1) return forests[0];
    const [a] = forests;
    for (const f of forests) {
      if (f.nFeatures !== a.nFeatures || f.classes.join() !== a.classes.join()) throw new StackSegError('only forests with the same classes and features can be merged');
    }
    const roots: number[] = [], feature: number[] = [], threshold: number[] = [], left: number[] = [], value: number[] = [];
    const imp = new Float64Array(a.nFeatures);
    const nTrees = forests.reduce((s, f) => s + f.nTrees, 0);
    for (const f of forests) {
      const base = feature.length;
      for (const r of f.treeRoots) roots.push(r + base);
      for (let i = 0; i < f.nNodes; i++) {
        feature.push(f.feature[i]); threshold.push(f.threshold[i]); left.push(f.left[i] < 0 ? -1 : f.left[i] + base);
      }
      for (const v of f.value) value.push(v);
      for (let k = 0; k < imp.length; k++) imp[k] += (f.importances[k] * f.nTrees) / nTrees;
    }
    return new RandomForest({ ...a.options, nTrees }, a.classes, a.nFeatures, a.featureNames, Int32Array.from(roots), Int32Array.from(feature),
      Float32Array.from(threshold), Int32Array.from(left), Float32Array.from(value), imp);
  }

  /** Indices of the features that some split reads, ascending: the only ones prediction needs. */
  usedFeatures(): number[] {
    const used = new Set<number>();
    for (const f of this.feature) if (f >= 0) used.add(f);
    return [...used].sort((a, b) => a - b);
  }

  /**
   * The same forest reading a compact feature array that holds only `features` (indices into this forest's features,
   * in that order), e.g. computeFeatures(..., select = forest.usedFeatures()). Predictions are identical.
   */
  selectFeatures(features: readonly number[]): RandomForest {
    const pos = new Int32Array(this.nFeatures).fill(-1);
    features.forEach((f, i) => { if (f >= 0 && f < this.nFeatures) pos[f] = i; });
    const feature = this.feature.map((f) => {
      if (f >= 0 && pos[f] < 0) throw new StackSegError(`feature ${f} is split on but not in the selected features`);
      return f < 0 ? f : pos[f];
    });
    const names = this.featureNames ? features.map((f) => this.featureNames![f]) : undefined;
    const imp = Float64Array.from(features, (f) => this.importances[f]);
    return new RandomForest(this.options, this.classes, features.length, names, this.treeRoots, feature, this.threshold, this.left, this.value, imp);
  }

  toJSON(): ForestJSON {
    return {
      format: 'stackseg-forest', version: 1, options: this.options, classes: this.classes, nFeatures: this.nFeatures,
      featureNames: this.featureNames, treeRoots: Array.from(this.treeRoots), feature: Array.from(this.feature),
      threshold: Array.from(this.threshold), left: Array.from(this.left), value: Array.from(this.value), importances: Array.from(this.importances),
    };
  }

  static fromJSON(json: unknown, file?: string): RandomForest {
    const j = json as Partial<ForestJSON>;
    if (!j || j.format !== 'stackseg-forest') throw new StackSegError('not a StackSeg forest model', { file, hint: 'expected "format": "stackseg-forest"' });
    if (j.version !== 1) throw new StackSegError(`forest model version ${j.version} is not supported`, { file, hint: 'retrain the model with this StackSeg version' });
    const need = ['options', 'classes', 'nFeatures', 'treeRoots', 'feature', 'threshold', 'left', 'value'] as const;
    for (const k of need) if (j[k] === undefined) throw new StackSegError(`forest model lacks "${k}"`, { file, hint: 'the file is truncated or was edited' });
    const C = j.classes!.length, nNodes = j.feature!.length;
    if (j.threshold!.length !== nNodes || j.left!.length !== nNodes || j.value!.length !== nNodes * C) {
      throw new StackSegError('forest model node tables have inconsistent lengths', { file, hint: 'the file is corrupted; retrain' });
    }
    return new RandomForest(j.options!, j.classes!, j.nFeatures!, j.featureNames, Int32Array.from(j.treeRoots!), Int32Array.from(j.feature!),
      Float32Array.from(j.threshold!), Int32Array.from(j.left!), Float32Array.from(j.value!),
      Float64Array.from(j.importances ?? new Array(j.nFeatures!).fill(0)));
  }
}
