/**
 * MSDNet (mixed-scale dense network, Pelt & Sethian 2018) for sparse-label slice segmentation, on tfjs-core.
 *
 * API (used by the CLI / job runner):
 *
 *   const model = await trainMsdnet(slices, params, onProgress?, signal?);
 *     slices: { image: Float32Array, labels: Uint8Array, width, height }[] — image row-major, raw values (normalised
 *             here with percentiles unless params.normalization says otherwise); labels 0 = unlabelled, k = class k.
 *     params: Partial<MsdnetParams> (the registry's msdnet keys; unknown keys are ignored).
 *     onProgress(epoch, loss): after each epoch (1-based), mean cross-entropy over the labelled pixels.
 *     signal: AbortSignal, checked between steps and (native engine) within a step every ~20 ms; aborting rejects
 *             with StackSegError code 'cancelled'.
 *   const { labels, probs } = await model.predict(image, width, height);
 *     labels: Uint8Array of the original label values (e.g. 1, 2); probs: Float32Array [pixel * classes + c],
 *     classes in the order of model.classValues. Raw image, normalised with the training normalisation.
 *   await model.save(dir);            // dir/model.json (tfjs weightsManifest) + dir/weights.bin, atomic
 *   const again = await loadMsdnet(dir, backend?);   // usable on any other stack
 *   model.backend, model.trainingInfo (loss curve, seconds, steps), model.dispose()
 */

import { StackSegError } from '../../../shared/errors';
import { mulberry32 } from '../../random';
import { initBackend, tf, type BackendPreference } from '../tfBackend';
import { applyMapChannels, croppedDihedral, dihedral, accumulateInverse, interleave, normalize, type Normalization } from './augment';
import { channelNormalization, imageChannels, inputPlanes, inputSpec, planesPerChannel, type InputSmoothing, type InputSpec } from './inputPlanes';
import { createWeights, dilationOf, disposeWeights, forward, trainableVariables, type MsdnetArch, type MsdnetWeights } from './network';
import { BATCHNORM_MOMENTUM, recomputeBatchNorm, updateRunningStats } from './batchnorm';
import { loadWeights, saveWeights } from './io';
import { fillPseudoLabels, pseudoLabelMode, trainingTargets, type PseudoLabelMode, type SoftLabels } from './pseudo';
import { classTable } from './classes';
import { NativeMsdnet, type NativeParams, type StepResult } from './native';
import { batchNormRegion, cropCore, cropGrid, cropInputRegion, drawEpoch, EpochSchedule, type StopReason } from './schedule';
import { augmentTransforms, TRANSFORMS, type AugmentParam } from './symmetry';

export interface MsdnetParams {
  layers: number;
  width: number;
  dilations: number[];
  /** Passes over the training slices; each pass is one optimizer step per slice. */
  epochs: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  /** 'cosine' decays the learning rate to 0 over the epochs. */
  lrSchedule: 'constant' | 'cosine';
  /** 'balanced' weights classes by inverse frequency of their labelled pixels; or explicit per-class weights. */
  classWeights: 'none' | 'balanced' | number[];
  /** Flips/rotations (symmetry.ts TRANSFORMS) drawn in training, averaged by tta, used by bnRecompute; true = 'all',
   *  false = 'off'; 'auto' decides on the slices' orientation coherence. */
  augment: AugmentParam;
  /** Average softmax over the augment transforms at prediction. */
  tta: boolean;
  /** Re-estimate BatchNorm statistics on the augment copies of the training slices before eval mode. */
  bnRecompute: boolean;
  /** 'percentile' (1st/99th of the training slices), 'none' (images already normalised), or fixed values. */
  normalization: 'percentile' | 'none' | Normalization;
  /** Unlabelled pixels: the teacher's soft labels (TrainingSlice.teacher), the nearest-class-mean fill (pseudo.ts), or none; true = fill. */
  pseudoLabels: boolean | PseudoLabelMode;
  /** Loss weight of a teacher-labelled pixel (a painted one weighs its class weight). */
  teacherWeight: number;
  /** Time budget in seconds (0 = none): the cosine schedule shrinks to the epochs that fit (msdnet/schedule.ts). */
  maxSeconds: number;
  /** 2.5-D: k slices each side of a slice are extra input channels (2k+1 in all; TrainingSlice.context). */
  contextSlices: number;
  /** Fixed Gaussian-smoothed input planes per channel, one per sigma (0 = none; inputPlanes.ts). */
  inputSigmas: number[];
  /** '2d': the slice smoothed in-plane; '3d': the z window Gaussian-weighted too; '3d-only': that, with the slice alone as raw input. */
  inputSmoothing: InputSmoothing;
  /** Slices larger than this train on crops of this size that tile them once an epoch at a random shift (0 = whole slices; schedule.ts cropGrid, drawEpoch). */
  cropSize: number;
  /** Stop when the loss plateaus (msdnet/schedule.ts); epochs is then an upper bound. */
  plateau: boolean;
  backend: BackendPreference;
  seed: number;
}

export const MSDNET_DEFAULTS: MsdnetParams = {
  layers: 12, width: 1, dilations: [1, 2, 3, 4, 5, 6], epochs: 50, learningRate: 0.01, optimizer: 'adam',
  lrSchedule: 'cosine', classWeights: 'none', augment: 'all', tta: true, bnRecompute: true,
  normalization: 'percentile', pseudoLabels: false, teacherWeight: 1, maxSeconds: 0, plateau: false, backend: 'auto', seed: 0, contextSlices: 0,
  inputSigmas: [0], inputSmoothing: '2d', cropSize: 0,
};

/** context (2.5-D, contextSlices = k): the raw slices z-k..z+k (image is the middle one), mirrored at the ends (volumeChunks.ts contextWindow). */
export interface TrainingSlice { image: Float32Array; labels: Uint8Array; width: number; height: number; context?: Float32Array[]; teacher?: SoftLabels }
/** planned: the epochs the schedule now expects (fewer than params.epochs when the time budget binds). */
export type ProgressFn = (epoch: number, loss: number, planned: number) => void;

/** engine: 'native-simd' (msdnet/native.ts: Adam on CPU, WebAssembly SIMD) or 'tfjs' (the backend's kernels). */
export interface TrainingInfo { losses: number[]; seconds: number; steps: number; labelledPixels: number[]; engine: 'native-simd' | 'tfjs'; stopped?: StopReason }

export class MsdnetModel {
  /** Pixels of one inference pass; larger slices go in tiles (softmaxTiled). 1024² passes in tfjs-wasm, 2048² aborts. */
  static maxTilePixels = 1 << 20;

  constructor(
    readonly arch: MsdnetArch,
    readonly weights: MsdnetWeights,
    /** Label value of each output class, e.g. [1, 2]. */
    readonly classValues: number[],
    readonly normalization: Normalization,
    readonly tta: boolean,
    readonly backend: string,
    readonly trainingInfo?: TrainingInfo,
    /** The input planes (inputPlanes.ts); recorded in model.json. */
    readonly inputs: InputSpec = { contextSlices: (arch.inChannels / imageChannels(normalization) - 1) / 2, sigmas: [], smoothing: '2d' },
    /** The dihedral k that tta averages over (those of training's augment); recorded in model.json. */
    readonly transforms: readonly number[] = tta ? TRANSFORMS.all : TRANSFORMS.off,
  ) {}

  /** Segments one slice (raw values). With tta the softmax is averaged over the model's transforms. */
  async predict(image: Float32Array, width: number, height: number, options: { tta?: boolean; signal?: AbortSignal; context?: Float32Array[] } = {}): Promise<{ labels: Uint8Array; probs: Float32Array }> {
    // Several stack channels (imageChannels): C = channels x planes (inputPlanes.ts), each channel normalised on its own.
    const IC = imageChannels(this.normalization), C = this.arch.inChannels;
    checkSlice(image.length / IC, width, height, 'image');
    const x = interleave(inputPlanes(image, options.context, IC, this.inputs, width, height, this.normalization));
    const classes = this.arch.classes;
    const probs = new Float32Array(width * height * classes);
    const ks = (options.tta ?? this.tta) ? this.transforms : [0];
    for (const k of ks) {
      const t = dihedral(k, width, height);
      const data = await this.softmaxTiled(applyMapChannels(x, t, C), t.width, t.height, options.signal);
      accumulateInverse(probs, data, t, classes);
      await new Promise((r) => setImmediate(r)); // let the event loop breathe between passes
      if (options.signal?.aborted) throw cancelled(); // and a cancel arrive (up to 8 passes of a large slice take seconds)
    }
    const labels = new Uint8Array(width * height);
    for (let p = 0; p < labels.length; p++) {
      let best = 0;
      for (let c = 0; c < classes; c++) {
        probs[p * classes + c] /= ks.length;
        if (probs[p * classes + c] > probs[p * classes + best]) best = c;
      }
      labels[p] = this.classValues[best];
    }
    return { labels, probs };
  }

  /**
   * Softmax of the network on an interleaved image, in tiles of at most maxTilePixels with a halo of the
   * receptive radius (every pixel reads exactly what it reads in one pass, so the result is the same): XNNPACK in
   * tfjs-wasm aborts on a 2048² slice, and a tile bounds the memory of a pass at any slice size.
   */
  private async softmaxTiled(x: Float32Array, width: number, height: number, signal?: AbortSignal): Promise<Float32Array> {
    const C = this.arch.inChannels, classes = this.arch.classes;
    const pass = async (data: Float32Array, w: number, h: number) => {
      const input = tf.tensor4d(data, [1, h, w, C]);
      const softmax = tf.tidy(() => tf.softmax(forward(this.arch, this.weights, input, 'running')));
      const out = (await softmax.data()) as Float32Array;
      input.dispose();
      softmax.dispose();
      return out;
    };
    const most = MsdnetModel.maxTilePixels;
    if (width * height <= most) return pass(x, width, height);
    const halo = receptiveRadius(this.arch), core = Math.max(64, Math.floor(Math.sqrt(most)) - 2 * halo);
    const out = new Float32Array(width * height * classes);
    for (let y0 = 0; y0 < height; y0 += core) {
      for (let x0 = 0; x0 < width; x0 += core) {
        if (signal?.aborted) throw cancelled();
        const cw = Math.min(core, width - x0), ch = Math.min(core, height - y0);
        // The tile around this core, as a training crop reads it (schedule.ts cropInputRegion); rows copied whole.
        const { x: ax, y: ay, width: tw, height: th } = cropInputRegion({ x: x0, y: y0, width: cw, height: ch }, width, height, halo);
        const tile = new Float32Array(tw * th * C);
        for (let y = 0; y < th; y++) tile.set(x.subarray(((ay + y) * width + ax) * C, ((ay + y) * width + ax + tw) * C), y * tw * C);
        const soft = await pass(tile, tw, th);
        for (let y = y0; y < y0 + ch; y++) {
          const from = ((y - ay) * tw + (x0 - ax)) * classes;
          out.set(soft.subarray(from, from + cw * classes), (y * width + x0) * classes);
        }
        await new Promise((r) => setImmediate(r));
      }
    }
    return out;
  }

  save(dir: string): Promise<void> {
    return saveWeights(dir, this);
  }

  dispose(): void {
    disposeWeights(this.weights);
  }
}

/** How far (pixels) an output reads its input: each 3x3 layer reaches its dilation further; the 1x1 head adds nothing. */
export function receptiveRadius(arch: MsdnetArch): number {
  let r = 0;
  for (let l = 0; l < arch.layers; l++) r += dilationOf(arch, l);
  return r;
}

function checkSlice(length: number, width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || length !== width * height) {
    throw new StackSegError(`MSDNet ${what} has ${length} values but is said to be ${width} x ${height}`,
      { hint: 'pass row-major pixel data of exactly width*height values' });
  }
}

function resolve(params: Partial<MsdnetParams> | Record<string, unknown>): MsdnetParams {
  const out = { ...MSDNET_DEFAULTS };
  for (const key of Object.keys(MSDNET_DEFAULTS) as Array<keyof MsdnetParams>) {
    const v = (params as Record<string, unknown>)[key];
    if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  }
  const int = (v: unknown) => Number.isInteger(v) && (v as number) >= 1; // a fractional dilation trains to NaN
  if (!(int(out.layers) && int(out.width) && int(out.epochs) && Array.isArray(out.dilations) && out.dilations.length > 0 && out.dilations.every(int) && out.learningRate > 0)) {
    throw new StackSegError(`invalid MSDNet parameters: ${JSON.stringify({ layers: out.layers, width: out.width, epochs: out.epochs, dilations: out.dilations, learningRate: out.learningRate })}`,
      { hint: 'layers, width, epochs: integers >= 1; dilations: a non-empty list of integers >= 1 (e.g. 1,2,3); learningRate > 0', code: 'usage' });
  }
  return out;
}

function cancelled(): StackSegError {
  return new StackSegError('MSDNet training cancelled', { code: 'cancelled' });
}

export async function trainMsdnet(slices: TrainingSlice[], params: Partial<MsdnetParams> | Record<string, unknown> = {},
  onProgress?: ProgressFn, signal?: AbortSignal): Promise<MsdnetModel> {
  const p = resolve(params);
  if (slices.length === 0) throw new StackSegError('MSDNet needs at least one labelled slice', { hint: 'paint labels on a slice first' });
  // Several stack channels: each image holds IC planes (channel-major), normalised per channel.
  const IC = Math.max(1, Math.round(slices[0].image.length / (slices[0].width * slices[0].height)));
  slices.forEach((s, i) => { checkSlice(s.image.length / IC, s.width, s.height, `slice ${i} image`); checkSlice(s.labels.length, s.width, s.height, `slice ${i} labels`); });

  const { classValues, classIndex, classWeights, counts } = classTable(slices, p.classWeights);

  const { backend } = await initBackend(p.backend);
  const normalization = p.normalization === 'percentile' ? channelNormalization(slices.map((s) => s.image), IC)
    : p.normalization === 'none' ? { low: 0, high: 1 } : p.normalization;
  const inputs = inputSpec(p), C = IC * planesPerChannel(inputs);
  const centres = slices.map((s) => normalize(s.image.subarray(0, s.width * s.height), normalization));
  // Network inputs: the slice (pseudo-labels read its first channel alone) or its channels x (2k+1 neighbours and
  // smoothed planes) (inputPlanes.ts), interleaved per pixel.
  const images = C === 1 ? centres : slices.map((s) => interleave(inputPlanes(s.image, s.context, IC, inputs, s.width, s.height, normalization)));
  // The fill assigns the nearest class mean of one intensity: with several stack channels it would mislabel classes
  // only the channels together tell apart, so it is left out (the teacher, a multi-channel forest, still works).
  const mode = IC > 1 && pseudoLabelMode(p.pseudoLabels) === 'fill' ? 'off' : pseudoLabelMode(p.pseudoLabels);
  const trainLabels = slices.map((s, i) => (mode === 'fill' ? fillPseudoLabels(centres[i], s.labels, s.width, s.height, classValues) : s.labels));
  // augment=auto (direct callers; jobs resolve it in msdnetSegmenter.ts) decides on the normalised slices.
  const transforms = augmentTransforms(p.augment, () => centres.map((image, i) => ({ image, width: slices[i].width, height: slices[i].height })));
  const built = slices.map((s, i) => trainingTargets(trainLabels[i], classIndex, classWeights, classValues.length, mode === 'teacher' ? s.teacher : undefined, p.teacherWeight));
  const targets = built.map((b) => b.targets), denominators = built.map((b) => b.denominator);

  const arch: MsdnetArch = { layers: p.layers, width: p.width, dilations: p.dilations, inChannels: C, classes: classValues.length };
  const weights = createWeights(arch, p.seed);
  const variables = trainableVariables(weights);
  const optimizer = p.optimizer === 'sgd' ? tf.train.sgd(p.learningRate) : tf.train.adam(p.learningRate);
  const rand = mulberry32(p.seed + 1);
  // On CPU backends the native step is ~4x faster than tfjs's kernels (bench/msdnet_speed.mjs); the GPU keeps tfjs.
  const native = p.optimizer === 'adam' && backend !== 'tensorflow' ? NativeMsdnet.create(arch, readParams(weights)) : null;
  const runMeans = weights.runMeans.map((v) => v.dataSync().slice() as Float32Array);
  const runVars = weights.runVars.map((v) => v.dataSync().slice() as Float32Array);
  const losses: number[] = [];
  const started = performance.now();
  let steps = 0;
  const schedule = new EpochSchedule(p); // the torch backend follows the same schedule
  const grids = slices.map((s) => cropGrid(s.width, s.height, p.cropSize)), halo = receptiveRadius(arch);
  try {
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      const lr = schedule.lr(epoch);
      if (p.optimizer === 'sgd') (optimizer as tf.SGDOptimizer).setLearningRate(lr);
      else (optimizer as unknown as { learningRate: number }).learningRate = lr;
      let epochLoss = 0;
      const order = drawEpoch(slices, grids, transforms, rand);
      let done = 0, counted = 0; // steps of this epoch, and those with a loss
      for (const step of order) {
        if (signal?.aborted) throw cancelled();
        if (done > 0 && schedule.overBudget((performance.now() - started) / 1000)) break; // the budget ends a long epoch
        done++;
        const i = step.slice, s = slices[i], g = grids[i];
        // A crop reads its core (the part inside the slice) plus a receptive-radius halo and takes the loss on the
        // core alone, normalised by the slice's weight scaled to one crop's share of its pixels, so that a pixel
        // weighs the same in every step, whole slice or crop, partial or not; a crop with no labelled pixel
        // (strokes only) teaches nothing.
        const core = g.crops ? cropCore(step, g, s.width, s.height) : null;
        const region = core ? cropInputRegion(core, s.width, s.height, halo) : null;
        const t = region ? croppedDihedral(step.k, region.width, region.height, region.x, region.y, s.width) : dihedral(step.k, s.width, s.height);
        const target = transformTargets(targets[i], t, arch.classes, core ? { ...core, sliceWidth: s.width } : undefined);
        if (core && !(sumOf(target) > 0)) continue;
        const denominator = core ? (denominators[i] * g.width * g.height) / (s.width * s.height) : denominators[i];
        if (!(denominator > 0)) continue;
        counted++;
        if (native) {
          // Run layer by layer, giving the event loop a turn every ~20 ms: cancel stops within a step of a large slice.
          const parts = native.stepParts(applyMapChannels(images[i], t, C), t.width, t.height, target, denominator, lr);
          let r: StepResult | undefined, turn = performance.now();
          while (!r) {
            const it = parts.next();
            if (it.done) r = it.value;
            else if (performance.now() - turn >= 20) {
              await new Promise((resolve) => setImmediate(resolve));
              if (signal?.aborted) throw cancelled();
              turn = performance.now();
            }
          }
          r.means.forEach((m, j) => {
            const l = Math.floor(j / arch.width), o = j % arch.width; // the same EMA as updateRunningStats
            runMeans[l][o] += BATCHNORM_MOMENTUM * (m - runMeans[l][o]);
            runVars[l][o] += BATCHNORM_MOMENTUM * (r.variances[j] - runVars[l][o]);
          });
          epochLoss += r.loss;
          steps++;
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const x = tf.tensor4d(applyMapChannels(images[i], t, C), [1, t.height, t.width, C]);
        const y = tf.tensor2d(target, [t.map.length, arch.classes]);
        const moments: Array<{ mean: tf.Tensor1D; variance: tf.Tensor1D }> = [];
        const loss = optimizer.minimize(() => {
          moments.length = 0;
          const logits = tf.reshape(forward(arch, weights, x, 'batch', moments), [t.map.length, arch.classes]);
          return tf.div(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)))), denominator) as tf.Scalar;
        }, true, variables)!;
        updateRunningStats(weights, moments, BATCHNORM_MOMENTUM);
        epochLoss += (await loss.data())[0];
        tf.dispose([x, y, loss]);
        steps++;
        await new Promise((r) => setImmediate(r)); // lets an abort from the event loop arrive between steps
      }
      // The mean over the steps with a loss (a cut epoch: over those it made).
      epochLoss = counted > 0 ? epochLoss / counted : 0;
      losses.push(epochLoss);
      const stop = schedule.afterEpoch(epochLoss, (performance.now() - started) / 1000);
      onProgress?.(epoch + 1, epochLoss, schedule.planned);
      if (stop) break;
    }
    if (signal?.aborted) throw cancelled();
    if (native) writeParams(weights, native.params, runMeans, runVars);
    if (p.bnRecompute) {
      const regions = slices.map((s, i) => {
        const r = batchNormRegion(s.width, s.height, p.cropSize);
        const image = r.width === s.width && r.height === s.height ? images[i] : applyMapChannels(images[i], croppedDihedral(0, r.width, r.height, r.x, r.y, s.width), C);
        return { image, width: r.width, height: r.height };
      });
      await recomputeBatchNorm(arch, weights, regions, transforms, signal);
    }
  } catch (e) {
    disposeWeights(weights);
    throw e;
  } finally {
    optimizer.dispose();
  }
  const trainingInfo = { losses, seconds: (performance.now() - started) / 1000, steps, labelledPixels: counts, engine: native ? 'native-simd' as const : 'tfjs' as const, stopped: schedule.reason };
  return new MsdnetModel(arch, weights, classValues, normalization, p.tta, backend, trainingInfo, inputs, transforms);
}

function readParams(w: MsdnetWeights): NativeParams {
  const read = (v: tf.Variable) => v.dataSync().slice() as Float32Array;
  return { filters: w.filters.map(read), biases: w.biases.map(read), gammas: w.gammas.map(read), betas: w.betas.map(read),
    outFilter: read(w.outFilter), outBias: read(w.outBias) };
}

function writeParams(w: MsdnetWeights, p: NativeParams, runMeans: Float32Array[], runVars: Float32Array[]): void {
  const put = (v: tf.Variable, a: Float32Array) => tf.tidy(() => v.assign(tf.tensor(a, v.shape)));
  p.filters.forEach((a, i) => put(w.filters[i], a));
  p.biases.forEach((a, i) => put(w.biases[i], a));
  p.gammas.forEach((a, i) => put(w.gammas[i], a));
  p.betas.forEach((a, i) => put(w.betas[i], a));
  runMeans.forEach((a, i) => put(w.runMeans[i], a));
  runVars.forEach((a, i) => put(w.runVars[i], a));
  put(w.outFilter, p.outFilter);
  put(w.outBias, p.outBias);
}

/** The targets under map t; with `core`, zero outside that rectangle of the slice (a crop's halo takes no loss). */
function transformTargets(targets: Float32Array, t: ReturnType<typeof dihedral>, classes: number,
  core?: { x: number; y: number; width: number; height: number; sliceWidth: number }): Float32Array {
  const out = new Float32Array(t.map.length * classes);
  for (let i = 0; i < t.map.length; i++) {
    if (core) {
      const y = (t.map[i] / core.sliceWidth) | 0, x = t.map[i] - y * core.sliceWidth;
      if (x < core.x || x >= core.x + core.width || y < core.y || y >= core.y + core.height) continue;
    }
    const s = t.map[i] * classes;
    for (let c = 0; c < classes; c++) out[i * classes + c] = targets[s + c];
  }
  return out;
}

function sumOf(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i];
  return sum;
}

export async function loadMsdnet(dir: string, backend: BackendPreference = 'auto'): Promise<MsdnetModel> {
  const info = await initBackend(backend);
  const { arch, weights, classValues, normalization, tta, inputs, transforms } = await loadWeights(dir);
  return new MsdnetModel(arch, weights, classValues, normalization, tta, info.backend, undefined, inputs, transforms);
}
