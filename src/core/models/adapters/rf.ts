// Random Forest as a Segmenter: normalise, filter bank, histogram forest.

import { computeFeatures, featureNames, type FeatureFamily, type FeatureOptions } from '../../features/bank';
import { concatTrainingData, gatherLabeledPixels, RandomForest, type ForestJSON, type ForestOptions } from '../forest';
import { normalizeSlice } from '../normalize';
import type { ModelParams } from '../registry';
import { writeHeader } from './header';
import { FeaturePool } from '../../features/pool';
import type { ModelFileHeader, Normalization, Prediction, Segmenter, TrainInput } from '../segmenter';

export function featureOptionsFrom(params: ModelParams): FeatureOptions {
  const families = String(params.features).split(',').map((s) => s.trim());
  return {
    raw: families.includes('raw'),
    families: families.filter((f) => f !== 'raw') as FeatureFamily[],
    sigmas: params.sigmas as number[],
    truncate: 4,
  };
}

function forestOptionsFrom(params: ModelParams): Partial<ForestOptions> {
  return {
    nTrees: params.trees as number, maxDepth: params.depth as number,
    maxFeatures: params.maxFeatures as ForestOptions['maxFeatures'], minSamplesLeaf: params.minSamplesLeaf as number,
    classWeight: params.classWeights as 'none' | 'balanced', seed: params.seed as number,
  };
}

export class RandomForestSegmenter implements Segmenter {
  readonly kind = 'rf' as const;
  readonly backend = 'js';

  constructor(
    readonly forest: RandomForest,
    readonly norm: Normalization,
    readonly params: ModelParams,
    private readonly report: Record<string, unknown> = {},
  ) {}

  get classes(): readonly number[] { return this.forest.classes; }

  get featureOptions(): FeatureOptions { return featureOptionsFrom(this.params); }

  static async train(input: TrainInput): Promise<RandomForestSegmenter> {
    const fo = featureOptionsFrom(input.params);
    const names = featureNames(fo);
    const t0 = performance.now();
    const parts = input.slices.map((s, i) => {
      input.signal?.throwIfAborted();
      input.onProgress({ percent: (40 * i) / input.slices.length, message: `features of slice ${s.z}` });
      const f = computeFeatures(normalizeSlice(s.image, input.norm), input.width, input.height, fo);
      return gatherLabeledPixels(f, names.length, s.labels);
    });
    const data = concatTrainingData(parts);
    const tFeatures = (performance.now() - t0) / 1000;
    input.signal?.throwIfAborted();
    input.onProgress({ percent: 50, message: `training ${input.params.trees} trees on ${data.nSamples} pixels` });
    const t1 = performance.now();
    const forest = RandomForest.train(data, forestOptionsFrom(input.params), names);
    const tTrain = (performance.now() - t1) / 1000;
    const { labels } = forest.predict(data.x, data.nSamples);
    let correct = 0;
    for (let i = 0; i < data.nSamples; i++) if (labels[i] === data.y[i]) correct++;
    const importances = forest.featureImportances();
    const top = names.map((n, i) => ({ feature: n, importance: importances[i] })).sort((a, b) => b.importance - a.importance).slice(0, 10);
    return new RandomForestSegmenter(forest, input.norm, input.params, {
      trainAccuracy: correct / data.nSamples, labeledPixels: data.nSamples, features: names.length,
      featureSeconds: tFeatures, fitSeconds: tTrain, topFeatures: top,
    });
  }

  private pool: FeaturePool | null | undefined;

  /** Slices predicted at once: one per worker thread when the worker bundle is there. */
  get concurrency(): number { return this.workers()?.size ?? 1; }

  private workers(): FeaturePool | null {
    if (this.pool === undefined) this.pool = FeaturePool.create({ forest: this.forest.toJSON(), features: this.featureOptions, norm: this.norm });
    return this.pool;
  }

  async predict(image: Float32Array, width: number, height: number, withProbabilities = true): Promise<Prediction> {
    const pool = this.workers();
    if (pool) {
      const r = await pool.predict(image, width, height, { probabilities: withProbabilities });
      return { labels: r.labels, probs: r.probabilities };
    }
    const used = this.forest.usedFeatures();
    const f = computeFeatures(normalizeSlice(image, this.norm), width, height, this.featureOptions, used);
    const { labels, probabilities } = this.forest.selectFeatures(used).predict(f, width * height);
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
