// Histogram-binned random forest (Gini, bootstrap, feature subsampling), trained on labelled pixels. Training lives in
// randomForestTrain.ts, the prediction loops (JS and WebAssembly) in randomForestPredict.ts; this class holds a
// trained forest's node tables and what is done with them.
//
// API
//   DEFAULT_FOREST_OPTIONS                          30 trees, depth 8, sqrt features, min leaf 1, seed 0, no class weights
//   gatherLabeledPixels(features, nFeatures, labels, pixelWeights?): TrainingData   pixels with label != 0 of a slice
//   concatTrainingData(parts): TrainingData                            several slices into one set
//        (these three in randomForestTrain.ts)
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

import { StackSegError } from '../../../shared/errors';
import { predictForest, predictTwoClasses, type ForestNodes } from './randomForestPredict';
import { growTrees, type ForestOptions, type TrainingData } from './randomForestTrain';

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
  /** RandomForest.settle; absent = 0 (exact). */
  settle?: number;
}

/** Largest settle accepted (a margin of 10 sqrt(trees left) is already the exact rule for 30 trees). */
const MAX_SETTLE = 10;

/** trainAsync gives the event loop a turn at least this often (ms). */
const YIELD_MS = 20;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

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

  /**
   * Two-class prediction in WebAssembly stops walking trees for a pixel once its vote is settled: |sum1 - sum0| >
   * settle * sqrt(trees left), from 4 trees on; its probabilities are then the mean of the trees walked (see
   * predictTwoClasses). 0: all trees where probabilities are asked for; labels alone stop only where no tree left
   * can change them (the full forest's labels). The rf parameter `settle` sets it; toJSON keeps it.
   */
  settle = 0;

  get nTrees(): number { return this.treeRoots.length; }
  get nNodes(): number { return this.feature.length; }
  private get nodes(): ForestNodes {
    return { treeRoots: this.treeRoots, feature: this.feature, threshold: this.threshold, left: this.left, value: this.value };
  }

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

  /** The training itself (growTrees); yields at its cancel points. */
  private static *trainSteps(data: TrainingData, options: Partial<ForestOptions>, featureNames: string[] | undefined, firstTree: number): Generator<void, RandomForest, void> {
    const t = yield* growTrees(data, options, featureNames, firstTree);
    return new RandomForest(t.options, t.classes, data.nFeatures, featureNames, t.treeRoots, t.feature, t.threshold, t.left, t.value, t.importances);
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
    this.checkRange(features, planeSize, p0, p1);
    const r = this.wasmTwoClasses(features, planeSize, p0, p1, false, this.settle);
    if (r) return { labels: this.winnerLabels(r.winner), probabilities: r.probabilities! };
    return predictForest(features, planeSize, p0, p1, this.nodes, this.classes);
  }

  /**
   * The labels of predictRange alone. With two classes in WebAssembly, a pixel stops walking trees once its vote is
   * settled or no remaining tree can change its winner (settle 0: the full forest's labels; foam at 2048^2: 16 of 30
   * trees on average, 10 with settle 2).
   */
  predictLabelsRange(features: Float32Array, planeSize: number, p0: number, p1: number): Uint8Array {
    this.checkRange(features, planeSize, p0, p1);
    const r = this.wasmTwoClasses(features, planeSize, p0, p1, true, this.settle);
    return r ? this.winnerLabels(r.winner) : predictForest(features, planeSize, p0, p1, this.nodes, this.classes).labels;
  }

  /** How many of samples s0..s1-1 of `data` the forest labels as data.y does (training accuracy; labels only). */
  countCorrect(data: TrainingData, s0: number, s1: number): number {
    const { x, y, nSamples: n } = data;
    let correct = 0;
    // Blocks bound the prediction's scratch memory.
    for (let p0 = s0; p0 < s1; p0 += 1 << 16) {
      const p1 = Math.min(s1, p0 + (1 << 16)), labels = this.predictLabelsRange(x, n, p0, p1);
      for (let i = 0; i < p1 - p0; i++) if (labels[i] === y[p0 + i]) correct++;
    }
    return correct;
  }

  private checkRange(features: Float32Array, planeSize: number, p0: number, p1: number): void {
    if (!(p0 >= 0 && p1 >= p0 && p1 <= planeSize && features.length >= this.nFeatures * planeSize)) {
      throw new StackSegError(`pixel range ${p0}..${p1} does not fit ${this.nFeatures} feature planes of ${planeSize} pixels`);
    }
  }

  /** Two classes (the common case): WebAssembly, compiled ahead (no JS warm-up per worker), same numbers; else null. */
  private wasmTwoClasses(features: Float32Array, planeSize: number, p0: number, p1: number, labelsOnly: boolean, settle = 0) {
    const nPixels = p1 - p0;
    if (!(RandomForest.wasmPrediction && this.classes.length === 2 && nPixels > 0 && this.nFeatures * nPixels < 2 ** 29)) return null;
    return predictTwoClasses(features, planeSize, p0, nPixels, this.nFeatures, this.nodes, labelsOnly, settle);
  }

  /** Class values from forest2c's winners (0 or 1 a byte), 4 bytes a step: no byte carries into the next. */
  private winnerLabels(winner: Uint8Array): Uint8Array {
    const labels = new Uint8Array(winner.length);
    const [c0, c1] = this.classes;
    const n4 = winner.byteOffset % 4 === 0 ? winner.length >> 2 : 0;
    const w32 = new Uint32Array(winner.buffer, n4 ? winner.byteOffset : 0, n4), l32 = new Uint32Array(labels.buffer, 0, n4);
    const base = Math.imul(c0, 0x01010101) >>> 0, up = c1 >= c0, step = Math.abs(c1 - c0);
    for (let i = 0; i < n4; i++) l32[i] = up ? base + Math.imul(w32[i], step) : base - Math.imul(w32[i], step);
    for (let p = 4 * n4; p < winner.length; p++) labels[p] = winner[p] ? c1 : c0;
    return labels;
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
    const merged = new RandomForest({ ...a.options, nTrees }, a.classes, a.nFeatures, a.featureNames, Int32Array.from(roots), Int32Array.from(feature),
      Float32Array.from(threshold), Int32Array.from(left), Float32Array.from(value), imp);
    merged.settle = a.settle;
    return merged;
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
    const selected = new RandomForest(this.options, this.classes, features.length, names, this.treeRoots, feature, this.threshold, this.left, this.value, imp);
    selected.settle = this.settle;
    return selected;
  }

  toJSON(): ForestJSON {
    return {
      format: 'stackseg-forest', version: 1, options: this.options, classes: this.classes, nFeatures: this.nFeatures,
      featureNames: this.featureNames, treeRoots: Array.from(this.treeRoots), feature: Array.from(this.feature),
      threshold: Array.from(this.threshold), left: Array.from(this.left), value: Array.from(this.value), importances: Array.from(this.importances),
      ...(this.settle > 0 ? { settle: this.settle } : {}),
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
    if (j.settle !== undefined && !(typeof j.settle === 'number' && j.settle >= 0 && j.settle <= MAX_SETTLE)) {
      throw new StackSegError(`forest model "settle" must be a number from 0 to ${MAX_SETTLE}, not ${JSON.stringify(j.settle)}`, { file, hint: 'the file was edited; remove "settle" or retrain' });
    }
    const forest = new RandomForest(j.options!, j.classes!, j.nFeatures!, j.featureNames, Int32Array.from(j.treeRoots!), Int32Array.from(j.feature!),
      Float32Array.from(j.threshold!), Int32Array.from(j.left!), Float32Array.from(j.value!),
      Float64Array.from(j.importances ?? new Array(j.nFeatures!).fill(0)));
    forest.settle = j.settle ?? 0;
    return forest;
  }
}
