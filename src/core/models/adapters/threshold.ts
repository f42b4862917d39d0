// TEMPORARY placeholder until src/core/models/threshold.ts lands (not committed).
import type { Segmenter, TrainInput } from '../segmenter';
export class ThresholdSegmenter {
  static async train(_i: TrainInput): Promise<Segmenter> { throw new Error('threshold not yet'); }
  static fromFile(_j: unknown): Segmenter { throw new Error('threshold not yet'); }
}
