// The random forest on the anisotropic 3-D filter bank (features/bank3d.ts): training reads the z window around each
// labelled slice through a ring buffer; prediction gets the window from the caller (segmentation.ts streams a ring of
// 2 halo + 1 raw slices) and keeps their normalised copies while they stay in the window.
//
// Features are computed in this thread (the worker pool computes the 2-D bank only); see docs/models.md.
// Several channels (`--set channel=all`): the bank runs on each channel and the features are concatenated, channel
// by channel (features/channels.ts); the ring holds normalised channel-major slices.

import { StackSegError } from '../../../shared/errors';
import { FeatureBank3d } from '../../features/bank3d';
import { SliceRing, zRatioOf } from '../../features/volumeChunks';
import type { RandomForest } from './randomForest';
import type { ModelParams } from '../../../shared/models/registry';
import type { Normalization, Prediction, TrainInput, ZContext } from '../segmenter';
import { featureOptionsFrom, RandomForestSegmenter, trainForestWithFill, trainingAccuracy, withoutFill, type ForestTrainingSlice } from './randomForestSegmenter';
import { channelCount, channelFeatureNames, channelRuns, modelChannels, normalizeChannels } from '../../features/channels';

/** Trains the forest of input.params on 3-D features; the model records dims=3d and the spacing ratio it used. */
export async function trainRandomForest3d(input: TrainInput, dimsReason = 'dims=3d'): Promise<RandomForestSegmenter> {
  const vol = input.volume;
  if (!vol) throw new StackSegError('3-D features need the whole stack, and this caller passed single slices', { hint: 'use --set dims=2d here' });
  const zRatio = zRatioOf(vol.info, input.params);
  let params: ModelParams = { ...input.params, dims: '3d', spacing: zRatio };
  const n = input.width * input.height, C = channelCount(input.norm);
  const skipped = C > 1 ? withoutFill(params) : undefined; // the fill thresholds one intensity
  if (skipped) params = skipped.params;
  const { width: w, height: h } = input;
  const fo = featureOptionsFrom(params);
  const bank = new FeatureBank3d(w, h, fo, zRatio);
  const F = bank.names.length;
  const names = channelFeatureNames(bank.names, modelChannels(input.norm)), all = bank.names.map((_, i) => i);
  const t0 = performance.now();
  const ring = new SliceRing(vol.depth, bank.halo, async (z) => normalizeChannels(await vol.read(z), input.norm, n));
  const parts: ForestTrainingSlice[] = [];
  // In z order, so the ring reads each slice of overlapping windows once.
  const slices = [...input.slices].sort((a, b) => a.z - b.z);
  for (const [k, s] of slices.entries()) {
    await new Promise<void>((r) => setImmediate(r));
    input.signal?.throwIfAborted();
    const get = await ring.centre(s.z);
    const features = new Float32Array(names.length * n);
    for (let c = 0; c < C; c++) bank.compute((zz) => get(zz).subarray(c * n, (c + 1) * n), s.z, vol.depth, all, features.subarray(c * F * n, (c + 1) * F * n));
    parts.push({ normalised: get(s.z).subarray(0, n), features, labels: s.labels });
    input.onProgress({ percent: (40 * (k + 1)) / slices.length, message: `3-D features of slice ${s.z}` });
  }
  const tFeatures = (performance.now() - t0) / 1000;
  input.onProgress({ percent: 50, message: `training ${params.trees} trees` });
  const t1 = performance.now();
  const { forest, data, report } = await trainForestWithFill(parts, w, h, params, names, null, input.signal);
  const tTrain = (performance.now() - t1) / 1000;
  const accuracy = await trainingAccuracy(forest, data, input.signal);
  const importances = forest.featureImportances();
  const top = names.map((n, i) => ({ feature: n, importance: importances[i] })).sort((a, b) => b.importance - a.importance).slice(0, 10);
  return new RandomForestSegmenter(forest, input.norm, params, {
    trainAccuracy: accuracy, labeledPixels: data.nSamples, features: names.length, ...(C > 1 ? { channels: modelChannels(input.norm) } : {}), dims: '3d', dimsReason, zRatio, zHalo: bank.halo,
    featureSeconds: tFeatures, fitSeconds: tTrain, topFeatures: top, ...report, ...skipped?.skipped, threads: 1,
  });
}

/** Prediction of one slice from its z window, with the features the forest splits on only. */
export class RandomForest3dPredictor {
  readonly bank: FeatureBank3d;
  private readonly used: number[];
  private readonly sub: RandomForest;
  private readonly normalised = new Map<number, Float32Array>();
  private buffer: Float32Array | undefined;

  /**
   * Runs of `used` that share a channel and a sigma (features of one sigma are computed together): a cancel point
   * between them. `local`: the runs' indices into one channel's bank.
   */
  private readonly groups: { channel: number; local: number[]; from: number; to: number }[] = [];

  constructor(forest: RandomForest, params: ModelParams, private readonly norm: Normalization, readonly width: number, readonly height: number) {
    this.bank = new FeatureBank3d(width, height, featureOptionsFrom(params), Number(params.spacing) > 0 ? Number(params.spacing) : 1);
    const F = this.bank.names.length;
    const keyOf = (f: number) => `${String(Math.floor(f / F)).padStart(4, '0')}:${this.bank.names[f % F].split('_s')[1] ?? ''}`;
    // Grouped by channel and sigma (any order of the used features predicts the same with selectFeatures of that order).
    this.used = forest.usedFeatures().sort((a, b) => (keyOf(a) === keyOf(b) ? a - b : keyOf(a) < keyOf(b) ? -1 : 1));
    this.sub = forest.selectFeatures(this.used);
    for (let i = 0; i < this.used.length; i++) {
      if (i === 0 || keyOf(this.used[i]) !== keyOf(this.used[i - 1])) this.groups.push(...channelRuns([this.used[i]], F).map((r) => ({ ...r, from: i, to: i + 1 })));
      else { const g = this.groups[this.groups.length - 1]; g.to = i + 1; g.local.push(this.used[i] % F); }
    }
  }

  /** One slice; between sigmas the event loop gets a turn and an abort of `signal` stops it (a 2048² slice takes ~20 s). */
  async predict(context: ZContext | undefined, withProbabilities: boolean, signal?: AbortSignal): Promise<Prediction> {
    if (!context) throw new StackSegError('this model uses 3-D features: it needs the slices around the one it segments', { hint: 'segment with stackseg segment / a job (they stream the z window), or train with --set dims=2d' });
    const { z, depth } = context, h = this.bank.halo, n = this.width * this.height;
    for (const k of [...this.normalised.keys()]) if (k < z - h || k > z + h) this.normalised.delete(k);
    const get = (zz: number) => {
      let s = this.normalised.get(zz);
      if (!s) { s = normalizeChannels(context.slice(zz), this.norm, n); this.normalised.set(zz, s); }
      return s;
    };
    if (this.buffer?.length !== this.used.length * n) this.buffer = new Float32Array(this.used.length * n);
    for (const { channel, local, from, to } of this.groups) {
      if (signal) { await new Promise<void>((r) => setImmediate(r)); signal.throwIfAborted(); }
      this.bank.compute((zz) => get(zz).subarray(channel * n, (channel + 1) * n), z, depth, local, this.buffer.subarray(from * n, to * n));
    }
    const r = this.sub.predict(this.buffer, n);
    return { labels: r.labels, probs: withProbabilities ? r.probabilities : undefined };
  }
}
