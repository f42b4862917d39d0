// Random Forest as a Segmenter: normalise, filter bank, optional threshold fill of unlabelled pixels, histogram forest.

import { computeFeatures, featureNames, type FeatureFamily, type FeatureOptions } from '../../features/bank';
import { applyThresholdFill, fitThresholdFill, type FillMode } from '../../features/pseudolabels';
import { RandomForest, type ForestJSON } from './randomForest';
import { concatTrainingData, fillCandidates, gatherLabeledPixels, labelClasses, type ForestOptions, type TrainingData } from './randomForestTrain';
import { normalizeSlice } from '../normalize';
import type { ModelParams } from '../../../shared/models/registry';
import { writeHeader } from '../modelHeader';
import { FeaturePool, predictSliceSync } from '../../features/pool';
import { threadBudget } from '../../features/threads';
import type { ModelFileHeader, Normalization, Prediction, Segmenter, TrainInput, ZContext } from '../segmenter';
import { autoDims, resolveDims } from '../../features/volumeChunks';
import { RandomForest3dPredictor, trainRandomForest3d } from './randomForest3dSegmenter';
import { channelCount, channelFeatureNames, channelPlanes, modelChannels, normalizeChannels } from '../../features/channels';
import { ChannelPredictor, forEachChannelBlock } from '../../features/channelBank';

export function featureOptionsFrom(params: ModelParams): FeatureOptions {
  const families = String(params.features).split(',').map((s) => s.trim());
  return {
    raw: families.includes('raw'),
    families: families.filter((f) => f !== 'raw') as FeatureFamily[],
    sigmas: params.sigmas as number[],
    truncate: 4,
    // Absent in models saved before it existed: 0, the exact bank they were trained on.
    halfScaleFrom: Number(params.halfScaleFrom ?? 0),
  };
}

function forestOptionsFrom(params: ModelParams): Partial<ForestOptions> & { nTrees: number } {
  return {
    nTrees: params.trees as number, maxDepth: params.depth as number,
    maxFeatures: params.maxFeatures as ForestOptions['maxFeatures'], minSamplesLeaf: params.minSamplesLeaf as number,
    classWeight: params.classWeights as 'none' | 'balanced', seed: params.seed as number,
  };
}

/** Gives the event loop a turn (a SIGTERM arrives through it), then throws if the job was cancelled. */
async function turn(signal?: AbortSignal): Promise<void> {
  if (!signal) return;
  await new Promise<void>((r) => setImmediate(r));
  signal.throwIfAborted();
}

/**
 * Share of training samples the forest classifies as labelled, predicted in blocks with a cancel point between them
 * (1000 deep trees over 200k samples take ~25 s).
 */
export async function trainingAccuracy(forest: RandomForest, data: TrainingData, signal?: AbortSignal): Promise<number> {
  const n = data.nSamples, B = 8192;
  let correct = 0;
  for (let s0 = 0; s0 < n; s0 += B) {
    await turn(signal);
    correct += forest.countCorrect(data, s0, Math.min(n, s0 + B));
  }
  return n ? correct / n : 0;
}

/** Training sets at least this large have their training accuracy measured in the worker pool. */
const POOL_ACCURACY_SAMPLES = 100_000;

/** trainingAccuracy, split over the pool's workers when the set is large. */
function accuracyOf(forest: RandomForest, data: TrainingData, pool: FeaturePool | null | undefined, signal?: AbortSignal): Promise<number> {
  return pool && data.nSamples >= POOL_ACCURACY_SAMPLES ? pool.trainingAccuracy(forest, data, signal) : trainingAccuracy(forest, data, signal);
}

/** A single training slice at least this large has its features computed in strips over the worker pool. */
const SPLIT_FEATURE_PIXELS = 1 << 20;

/** Filled (pseudo-labelled) pixels kept for training at most, over all training slices (see fillFraction). */
const MAX_FILL_PIXELS = 250_000;

/** Training sets at least this large (samples x features) train in the worker pool. */
const PARALLEL_TRAIN_VALUES = 20_000_000;

/**
 * Drops the slices' feature arrays once their samples are gathered: a 2048^2 slice's full bank is 688 MB, and the
 * trees train for seconds after (the caller's own references are untouched).
 */
function releaseFeatures(slices: ForestTrainingSlice[]): void {
  for (const s of slices) s.features = new Float32Array(0);
}

/** Pixels with a label != 0 become samples (with per-pixel weights when given). */
export interface LabelSet { labels: Uint8Array; weights?: Float32Array }

/**
 * One training slice: normalised intensities, all features (feature-major) and the user's labels. With `gather`, the
 * features are not held: gather(sets) returns the samples of each label set (a big slice's features computed in parts
 * over the workers, gathered part by part: the same samples, in the same order, without the 688 MB bank of 2048^2).
 */
export interface ForestTrainingSlice { normalised: Float32Array; features: Float32Array; labels: Uint8Array; gather?: (sets: LabelSet[]) => Promise<TrainingData[]> }

/**
 * Trains the forest of `params` on labelled slices, with the optional threshold fill of unlabelled pixels
 * (params fill, fillWeight, fillBand, fillSigma, fillTrees; see registry.ts): fillTrees of the trees learn from the
 * filled slices, the rest from the user's labels alone, and the forest averages both. The fill is skipped (and
 * reported) when the labels do not hold exactly two classes. Each slice's `features` is emptied once gathered.
 */
export async function trainForestWithFill(slices: ForestTrainingSlice[], width: number, height: number, params: ModelParams, names: string[],
  pool?: FeaturePool | null, signal?: AbortSignal): Promise<{ forest: RandomForest; data: TrainingData; report: Record<string, unknown> }> {
  const opts = forestOptionsFrom(params);
  // Large training sets: the trees are split over the pool's threads (the forest is the same as trained here). Small
  // ones train faster in this thread: fresh workers would each re-bin the data with cold code (measured 2x slower).
  const train = (data: TrainingData, o: Partial<ForestOptions> & { nTrees: number }) =>
    (pool && data.nSamples * data.nFeatures >= PARALLEL_TRAIN_VALUES ? pool.trainForest(data, o, names, signal) : RandomForest.trainAsync(data, o, names, 0, signal));
  const mode = String(params.fill ?? 'none') as 'none' | FillMode;
  const sigma = Number(params.fillSigma ?? 0);
  await turn(signal);
  // Samples of each slice for each label set (the strokes; with the fill also strokes + filled pixels), in pixel order.
  const gather = (s: ForestTrainingSlice, sets: LabelSet[]) => (s.gather ? s.gather(sets)
    : Promise.resolve(sets.map((set) => gatherLabeledPixels(s.features, names.length, set.labels, set.weights))));
  // The fill applies when the labels hold exactly two classes (fitThresholdFill is null otherwise).
  if (mode === 'none' || labelClasses(slices) !== 2) {
    const sparse = concatTrainingData(await Promise.all(slices.map(async (s) => (await gather(s, [{ labels: s.labels }]))[0])));
    releaseFeatures(slices);
    const report = mode === 'none' ? { fill: 'none' } : { fill: 'skipped (needs exactly 2 labelled classes)' };
    return { forest: await train(sparse, opts), data: sparse, report };
  }
  // fillFraction < 1 keeps that share of the filled pixels (a fixed hash pattern), each weighing 1/fraction more:
  // the same total pseudo-label weight for less training time.
  // At full size (a 2048^2 slice has ~4 M unlabelled pixels) the share is lowered further so that at most
  // MAX_FILL_PIXELS are kept: the same total pseudo-label weight, bounded training time.
  let unlabelled = 0;
  for (const s of slices) for (let i = 0; i < s.labels.length; i++) if (!s.labels[i]) unlabelled++;
  const fraction = Math.min(1, Math.max(1e-3, Math.min(Number(params.fillFraction ?? 1), MAX_FILL_PIXELS / Math.max(1, unlabelled))));
  const weight = Number(params.fillWeight ?? 0.01) / fraction;
  const kept = (i: number) => fraction >= 1 || Math.imul(i + 1, 0x9e3779b1) >>> 0 < fraction * 4294967296;
  // The pixels the fill may label (strokes, and unlabelled pixels the hash keeps) are known before the fill: their
  // features are gathered (in the worker pool for a big slice) while this thread fits and applies the fill (~0.4 s at
  // 2048^2); then each candidate gets its fill label and weight, and those the fill leaves unlabelled are dropped.
  const pending = slices.map((s) => {
    const candidates = new Uint8Array(s.labels.length);
    for (let i = 0; i < candidates.length; i++) candidates[i] = s.labels[i] || kept(i) ? 1 : 0;
    const got = gather(s, [{ labels: s.labels }, { labels: candidates }]);
    got.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled rejection
    return { candidates, got };
  });
  const fit = fitThresholdFill(slices, width, height, { sigma: sigma > 0 ? sigma : 'auto' })!;
  let filledPixels = 0;
  const filledParts: TrainingData[] = [], sparseParts: TrainingData[] = [];
  for (const [k, s] of slices.entries()) {
    await turn(signal); // the fill of a large slice takes a while: a cancel point per slice
    const f = applyThresholdFill(fit, s.normalised, width, height, s.labels, { mode: mode as FillMode, band: Number(params.fillBand ?? 0.25) });
    for (let i = 0; i < f.pseudo.length; i++) {
      if (f.pseudo[i] && !kept(i)) { f.pseudo[i] = 0; f.labels[i] = 0; }
      filledPixels += f.pseudo[i];
    }
    const [sp, candidates] = await pending[k].got;
    sparseParts.push(sp); filledParts.push(fillCandidates(candidates, pending[k].candidates, f, weight));
  }
  const sparse = concatTrainingData(sparseParts), filled = concatTrainingData(filledParts);
  releaseFeatures(slices);
  const nTrees = opts.nTrees;
  const nFilled = Math.round(nTrees * Math.min(1, Math.max(0, Number(params.fillTrees ?? 1))));
  const parts: RandomForest[] = [];
  if (nFilled > 0) parts.push(await train(filled, { ...opts, nTrees: nFilled }));
  if (nTrees - nFilled > 0) parts.push(await train(sparse, { ...opts, nTrees: nTrees - nFilled }));
  const report = { fill: mode, fillSigma: fit.sigma, fillNoise: fit.noise, fillThreshold: fit.threshold, filledPixels, filledTrees: nFilled, fillFraction: fraction };
  return { forest: RandomForest.merge(parts), data: sparse, report };
}

export class RandomForestSegmenter implements Segmenter {
  readonly kind = 'rf' as const;
  readonly backend = 'js';

  constructor(
    readonly forest: RandomForest,
    readonly norm: Normalization,
    readonly params: ModelParams,
    private readonly report: Record<string, unknown> = {},
    trainingPool?: FeaturePool | null,
  ) {
    // Absent in models saved before it existed: 0, the full forest's labels.
    forest.settle = Number(params.settle ?? 0);
    // The pool that trained the forest predicts with it: its threads are started and warm.
    if (trainingPool) { trainingPool.setForest(forest.toJSON()); this.pool = trainingPool; }
  }

  get classes(): readonly number[] { return this.forest.classes; }

  get featureOptions(): FeatureOptions { return featureOptionsFrom(this.params); }

  static async train(input: TrainInput): Promise<RandomForestSegmenter> {
    // dims=3d (or auto on a deep enough stack): the 3-D bank (randomForest3dSegmenter.ts); the model records the dims it used.
    let dims = resolveDims(input.params, input.volume?.depth ?? 1), dimsReason = `dims=${dims}`;
    const n = input.width * input.height, C = channelCount(input.norm);
    // Several channels: the first one decides auto dims (it looks at one intensity); the threshold fill is skipped.
    const first = (image: Float32Array) => normalizeChannels(image, input.norm, n).subarray(0, n);
    if (dims === 'auto') ({ dims, reason: dimsReason } = autoDims(input.slices.map((s) => ({ normalised: first(s.image), labels: s.labels })), input.width, input.height));
    if (dims === '3d') return trainRandomForest3d(input, dimsReason);
    if (input.params.dims !== undefined && input.params.dims !== '2d') input = { ...input, params: { ...input.params, dims: '2d' } };
    const fo = featureOptionsFrom(input.params);
    if (C > 1) return trainChannels(input, fo, dimsReason);
    const names = featureNames(fo);
    const t0 = performance.now();
    // The worker pool starts now (its threads load while slice features are computed), computes the features of
    // several labelled slices, trains the trees in parallel, and then predicts with the forest (kept warm).
    const budget = threadBudget(Number(input.params.threads ?? 0));
    const pool = FeaturePool.create({ features: fo, norm: input.norm, size: budget.threads });
    let done = 0;
    const inPool = pool && input.slices.length > 1;
    const parts: ForestTrainingSlice[] = [];
    const one = async (s: TrainInput['slices'][number]): Promise<ForestTrainingSlice> => {
      if (!inPool) await turn(input.signal); // one at a time: a cancel point between slices
      const normalised = normalizeSlice(s.image, input.norm);
      // One big slice: its rows are split over the workers and only the training samples are kept (gather); several
      // slices: one slice per worker. (Slices under SPLIT_FEATURE_PIXELS stay in this thread: fresh workers would run
      // them with cold code.)
      if (!inPool && pool && input.width * input.height >= SPLIT_FEATURE_PIXELS) {
        const gather = (sets: LabelSet[]) => pool.gatherSplit(s.image, input.width, input.height, names.length, sets, input.signal);
        input.onProgress({ percent: (40 * ++done) / input.slices.length, message: `slice ${s.z}` });
        return { normalised, features: new Float32Array(0), labels: s.labels, gather };
      }
      const features = inPool ? await pool.features(s.image, input.width, input.height, input.signal)
        : computeFeatures(normalised, input.width, input.height, fo);
      input.onProgress({ percent: (40 * ++done) / input.slices.length, message: `features of slice ${s.z}` });
      return { normalised, features, labels: s.labels };
    };
    try {
      if (inPool) parts.push(...await Promise.all(input.slices.map(one)));
      else for (const s of input.slices) parts.push(await one(s));
    } catch (e) { await pool?.close(); throw e; }
    const tFeatures = (performance.now() - t0) / 1000;
    input.signal?.throwIfAborted();
    input.onProgress({ percent: 50, message: `training ${input.params.trees} trees` });
    const t1 = performance.now();
    const { forest, data, report: fillReport } = await trainForestWithFill(parts, input.width, input.height, input.params, names, pool, input.signal)
      .catch(async (e) => { await pool?.close(); throw e; });
    const tTrain = (performance.now() - t1) / 1000;
    const accuracy = await accuracyOf(forest, data, pool, input.signal).catch(async (e) => { await pool?.close(); throw e; });
    const importances = forest.featureImportances();
    const top = names.map((n, i) => ({ feature: n, importance: importances[i] })).sort((a, b) => b.importance - a.importance).slice(0, 10);
    return new RandomForestSegmenter(forest, input.norm, input.params, {
      trainAccuracy: accuracy, labeledPixels: data.nSamples, features: names.length,
      dims: '2d', dimsReason, featureSeconds: tFeatures, fitSeconds: tTrain, topFeatures: top, ...fillReport, threads: pool?.size ?? 1, threadsFrom: budget.source,
    }, pool);
  }

  private pool: FeaturePool | null | undefined;

  /**
   * Slices predicted at once: two per worker thread when the worker bundle is there, so that each worker has the next
   * slice queued (read and decoded by the caller) when it finishes one, instead of idling until the oldest is written.
   */
  get concurrency(): number { if (this.is3d) return 1; const size = this.workers()?.size; return size ? 2 * size : 1; }

  private get is3d(): boolean { return this.params.dims === '3d'; }
  private predictor3d: RandomForest3dPredictor | undefined;
  /** Channels read together (norm.channels): the pool predicts them too; without it, this thread's multi-channel bank. */
  private get channels(): number { return channelCount(this.norm); }
  private predictorC: ChannelPredictor | undefined;

  /** 3-D models read this many slices each side of the one they predict (segmentation.ts streams them). */
  get zHalo(): number {
    if (!this.is3d) return 0;
    return this.predictor3d?.bank.halo ?? new RandomForest3dPredictor(this.forest, this.params, this.norm, 1, 1).bank.halo;
  }

  private workers(): FeaturePool | null {
    if (this.pool === undefined) {
      const size = threadBudget(Number(this.params.threads ?? 0)).threads;
      this.pool = FeaturePool.create({ forest: this.forest.toJSON(), features: this.featureOptions, norm: this.norm, size });
    }
    return this.pool;
  }

  async predict(image: Float32Array, width: number, height: number, withProbabilities = true, signal?: AbortSignal, context?: ZContext): Promise<Prediction> {
    if (this.is3d) {
      signal?.throwIfAborted();
      if (this.predictor3d?.width !== width || this.predictor3d.height !== height) this.predictor3d = new RandomForest3dPredictor(this.forest, this.params, this.norm, width, height);
      return this.predictor3d.predict(context, withProbabilities, signal);
    }
    const pool = this.workers();
    if (pool) {
      const r = await pool.predict(image, width, height, { probabilities: withProbabilities, signal });
      return { labels: r.labels, probs: r.probabilities };
    }
    if (this.channels > 1) {
      signal?.throwIfAborted();
      if (this.predictorC?.width !== width || this.predictorC.height !== height) this.predictorC = new ChannelPredictor(this.forest, this.featureOptions, width, height);
      const r = this.predictorC.predict(channelPlanes(normalizeChannels(image, this.norm, width * height), width * height, this.channels), withProbabilities);
      return { labels: r.labels, probs: r.probabilities };
    }
    const { labels, probabilities } = predictSliceSync(this.forest, this.featureOptions, this.norm, image, width, height, withProbabilities);
    return { labels, probs: probabilities };
  }

  async dispose(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }

  async save(dir: string): Promise<void> {
    await writeHeader(dir, { kind: 'rf', params: this.params, classes: [...this.classes], norm: this.norm }, { forest: this.forest.toJSON() });
  }

  static fromFile(json: ModelFileHeader & { forest: ForestJSON }): RandomForestSegmenter {
    return new RandomForestSegmenter(RandomForest.fromJSON(json.forest), json.norm, json.params);
  }

  trainingReport(): Record<string, unknown> { return this.report; }
}

/**
 * Several channels (2-D bank): each channel's features, concatenated (channelBank.ts), gathered in parts of rows over
 * the worker pool one slice at a time (in this thread, strip by strip, without the worker bundle), so a slice's C * F
 * feature planes are never held whole; the pool then trains large sets and predicts.
 */
async function trainChannels(input: TrainInput, fo: FeatureOptions, dimsReason: string): Promise<RandomForestSegmenter> {
  const { width: w, height: h } = input;
  const n = w * h, C = channelCount(input.norm);
  const names = channelFeatureNames(featureNames(fo), modelChannels(input.norm));
  const budget = threadBudget(Number(input.params.threads ?? 0));
  const pool = FeaturePool.create({ features: fo, norm: input.norm, size: budget.threads });
  const t0 = performance.now();
  const parts: ForestTrainingSlice[] = [];
  // One slice's parts in the pool at a time: each part request holds a copy of the C-plane slice.
  let previous: Promise<unknown> = Promise.resolve();
  for (const [k, s] of input.slices.entries()) {
    await turn(input.signal);
    const planes = channelPlanes(normalizeChannels(s.image, input.norm, n), n, C);
    const gather = pool ? (sets: LabelSet[]) => {
      const next = previous.catch(() => undefined).then(() => pool.gatherSplit(s.image, w, h, names.length, sets, input.signal));
      previous = next;
      return next;
    } : async (sets: LabelSet[]) => {
      const got: TrainingData[][] = sets.map(() => []);
      forEachChannelBlock(planes, w, h, fo, (f, a, m) => sets.forEach((set, i) => got[i].push(gatherLabeledPixels(f, names.length, set.labels.subarray(a, a + m), set.weights?.subarray(a, a + m)))));
      return got.map((g) => concatTrainingData(g));
    };
    parts.push({ normalised: planes[0], features: new Float32Array(0), labels: s.labels, gather });
    input.onProgress({ percent: (40 * (k + 1)) / input.slices.length, message: `slice ${s.z} (${C} channels)` });
  }
  input.onProgress({ percent: 50, message: `training ${input.params.trees} trees` });
  const t1 = performance.now();
  const { params, skipped } = withoutFill(input.params);
  try {
    const { forest, data } = await trainForestWithFill(parts, w, h, params, names, pool, input.signal);
    const tTrain = (performance.now() - t1) / 1000;
    const accuracy = await accuracyOf(forest, data, pool, input.signal);
    const importances = forest.featureImportances();
    const top = names.map((name, i) => ({ feature: name, importance: importances[i] })).sort((a, b) => b.importance - a.importance).slice(0, 10);
    return new RandomForestSegmenter(forest, input.norm, params, {
      trainAccuracy: accuracy, labeledPixels: data.nSamples, features: names.length, channels: modelChannels(input.norm),
      dims: '2d', dimsReason, featureSeconds: (t1 - t0) / 1000, fitSeconds: tTrain, topFeatures: top, ...skipped, threads: pool?.size ?? 1, threadsFrom: budget.source,
    }, pool);
  } catch (e) {
    await pool?.close();
    throw e;
  }
}

/**
 * The threshold fill labels unlabelled pixels by thresholding one intensity: with several channels that mislabels
 * classes that only the channels together tell apart (measured: F1 0.72 instead of 0.97 on an XOR of two channels),
 * so it is skipped, and said in the training report.
 */
export function withoutFill(params: ModelParams): { params: ModelParams; skipped: Record<string, unknown> } {
  const fill = String(params.fill ?? 'none');
  if (fill === 'none') return { params, skipped: { fill: 'none' } };
  return { params: { ...params, fill: 'none' }, skipped: { fill: `skipped (fill=${fill} thresholds one intensity; several channels are read)` } };
}
