// K-means as a Segmenter: clusters of normalised intensity, fitted on the stack sample, numbered dark to bright.
// Several channels (`--set channel=all`): clusters of the per-channel normalised vectors, numbered by channel 0.

import { fitKMeans, KMeansModel, type KMeansJSON } from './kmeans';
import { channelCount, normalizeChannels } from '../../features/channels';
import type { ModelParams } from '../../../shared/models/registry';
import type { ModelFileHeader, Normalization, Prediction, Segmenter, TrainInput } from '../segmenter';
import { writeHeader } from '../modelHeader';

export class KMeansSegmenter implements Segmenter {
  readonly kind = 'kmeans' as const;
  readonly backend = 'js';
  readonly concurrency = 1;

  constructor(readonly model: KMeansModel, readonly norm: Normalization, readonly params: ModelParams, private readonly seconds = 0) {}

  get classes(): readonly number[] { return Array.from({ length: this.params.k as number }, (_, i) => i + 1); }

  static async train(input: TrainInput): Promise<KMeansSegmenter> {
    const t0 = performance.now();
    // The sample is channel-major with C channels (the same pixels in each): feature-major points of C dimensions.
    const C = channelCount(input.norm);
    const model = fitKMeans(normalizeChannels(input.sample, input.norm), C, {
      k: input.params.k as number, maxIterations: input.params.iterations as number,
      sampleSize: input.params.sampleSize as number, seed: input.params.seed as number,
    });
    return new KMeansSegmenter(model, input.norm, input.params, (performance.now() - t0) / 1000);
  }

  static fromFile(json: ModelFileHeader & { kmeans: KMeansJSON }): KMeansSegmenter {
    return new KMeansSegmenter(KMeansModel.fromJSON(json.kmeans), json.norm, json.params);
  }

  async predict(image: Float32Array, width: number, height: number): Promise<Prediction> {
    return { labels: this.model.predict(normalizeChannels(image, this.norm, width * height), width * height) };
  }

  async save(dir: string): Promise<void> {
    await writeHeader(dir, { kind: 'kmeans', params: this.params, classes: [...this.classes], norm: this.norm }, { kmeans: this.model.toJSON() });
  }

  trainingReport(): Record<string, unknown> {
    const j = this.model.toJSON();
    return { fitSeconds: this.seconds, centers: j.centers, iterations: j.iterations };
  }
}
