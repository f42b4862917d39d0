// Every model folder holds stackseg.json: what kind of model it is, its parameters, classes and normalisation,
// plus (for rf/kmeans/threshold) the model itself. MSDNet keeps its tfjs model.json + weights.bin beside it.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ModelFileHeader } from './segmenter';

export const MODEL_HEADER_FILE = 'stackseg.json';

export async function writeHeader(dir: string, h: Omit<ModelFileHeader, 'format' | 'version'>, payload: Record<string, unknown> = {}): Promise<void> {
  const header: ModelFileHeader = { format: 'stackseg-model', version: 1, ...h };
  await fs.writeFile(join(dir, MODEL_HEADER_FILE), JSON.stringify({ ...header, ...payload }));
}
