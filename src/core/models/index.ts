// Training and loading any model kind behind the Segmenter interface.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { MODEL_HEADER_FILE } from './modelHeader';
import { RandomForestSegmenter } from './randomForest/randomForestSegmenter';
import type { ModelKind } from '../../shared/models/registry';
import type { ModelFileHeader, Segmenter, TrainInput } from './segmenter';

export async function trainSegmenter(kind: ModelKind, input: TrainInput): Promise<Segmenter> {
  switch (kind) {
    case 'rf': return RandomForestSegmenter.train(input);
    case 'kmeans': return (await import('./kmeans/kmeansSegmenter')).KMeansSegmenter.train(input);
    case 'threshold': return (await import('./threshold/thresholdSegmenter')).ThresholdSegmenter.train(input);
    case 'msdnet': return (await import('./msdnet/msdnetSegmenter')).MsdnetSegmenter.train(input);
  }
}

export async function loadSegmenter(modelDir: string): Promise<Segmenter> {
  const file = join(modelDir, MODEL_HEADER_FILE);
  let json: ModelFileHeader & Record<string, unknown>;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new StackSegError(`cannot read the trained model (${(e as Error).message})`, { file, hint: 'pass a job folder whose training succeeded' });
  }
  if (json.format !== 'stackseg-model') throw new StackSegError('not a StackSeg model', { file });
  switch (json.kind) {
    case 'rf': return RandomForestSegmenter.fromFile(json as never);
    case 'kmeans': return (await import('./kmeans/kmeansSegmenter')).KMeansSegmenter.fromFile(json as never);
    case 'threshold': return (await import('./threshold/thresholdSegmenter')).ThresholdSegmenter.fromFile(json as never);
    case 'msdnet': return (await import('./msdnet/msdnetSegmenter')).MsdnetSegmenter.load(modelDir, json as never);
    default: throw new StackSegError(`unknown model kind "${String(json.kind)}"`, { file });
  }
}
