// Threshold as a Segmenter: Otsu on the stack sample (raw units) or a fixed value; 1 below, 2 at or above.

import { fitThreshold, ThresholdModel, type ThresholdJSON } from './threshold';
import type { ModelParams } from '../../../shared/models/registry';
import type { ModelFileHeader, Normalization, Prediction, Segmenter, TrainInput } from '../segmenter';
import { writeHeader } from '../modelHeader';
import { StackSegError } from '../../../shared/errors';

export class ThresholdSegmenter implements Segmenter {
  readonly kind = 'threshold' as const;
  readonly backend = 'js';
  readonly classes = [1, 2] as const;
  readonly concurrency = 1;

  constructor(readonly model: ThresholdModel, readonly norm: Normalization, readonly params: ModelParams) {}

  static async train(input: TrainInput): Promise<ThresholdSegmenter> {
    // One intensity per pixel: jobs refuse `--set channel=all` before reading (runJob.ts); this guards other callers.
    if ((input.norm.channels?.length ?? 1) > 1) {
      throw new StackSegError(`threshold works on one channel, and this input holds ${input.norm.channels!.length}`, { hint: 'pick one channel with --set channel=N, or use k-means or rf for several channels' });
    }
    const model = fitThreshold(input.sample, { method: input.params.method as 'otsu' | 'fixed', value: input.params.value as number });
    return new ThresholdSegmenter(model, input.norm, input.params);
  }

  static fromFile(json: ModelFileHeader & { threshold: ThresholdJSON }): ThresholdSegmenter {
    return new ThresholdSegmenter(ThresholdModel.fromJSON(json.threshold), json.norm, json.params);
  }

  async predict(image: Float32Array): Promise<Prediction> {
    return { labels: this.model.predict(image) };
  }

  async save(dir: string): Promise<void> {
    await writeHeader(dir, { kind: 'threshold', params: this.params, classes: [1, 2], norm: this.norm }, { threshold: this.model.toJSON() });
  }

  trainingReport(): Record<string, unknown> {
    return { method: this.model.method, threshold: this.model.value };
  }
}
