// Training and loading any model kind behind the Segmenter interface.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../errors';
import { MODEL_HEADER_FILE } from './adapters/header';
import { RandomForestSegmenter } from './adapters/rf';
import type { ModelKind } from './registry';
import type { ModelFileHeader, Segmenter, TrainInput } from './segmenter';

export async function trainSegmenter(kind: ModelKind, input: TrainInput): Promise<Segmenter> {
  switch (kind) {
    case 'rf': return RandomForestSegmenter.train(input);
    case 'kmeans': return (await import('./adapters/kmeans')).KMeansSegmenter.train(input);
    case 'threshold': return (await import('./adapters/threshold')).ThresholdSegmenter.train(input);
    case 'msdnet': return (await import('./adapters/msdnet')).MsdnetSegmenter.train(input);
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
    case 'kmeans': return (await import('./adapters/kmeans')).KMeansSegmenter.fromFile(json as never);
    case 'threshold': return (await import('./adapters/threshold')).ThresholdSegmenter.fromFile(json as never);
    case 'msdnet': return (await import('./adapters/msdnet')).MsdnetSegmenter.load(modelDir, json as never);
    default: throw new StackSegError(`unknown model kind "${String(json.kind)}"`, { file });
  }
}
