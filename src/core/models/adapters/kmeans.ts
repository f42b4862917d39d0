// TEMPORARY placeholder until src/core/models/kmeans.ts lands (not committed).
import type { Segmenter, TrainInput } from '../segmenter';
export class KMeansSegmenter {
  static async train(_i: TrainInput): Promise<Segmenter> { throw new Error('kmeans not yet'); }
  static fromFile(_j: unknown): Segmenter { throw new Error('kmeans not yet'); }
}
