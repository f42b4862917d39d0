// Saving and loading an MSDNet in tfjs format: model.json (topology + weightsManifest) and one weights.bin of
// little-endian float32, written by hand because tfjs-node's file:// handler is not available here.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../../../shared/errors';
import { writeFileAtomic } from '../../fsutil';
import { tf } from '../tfBackend';
import type { Normalization } from './augment';
import { imageChannels, recordedSpec, type InputSpec } from './inputPlanes';
import { createWeights, namedWeights, type MsdnetArch, type MsdnetWeights } from './network';
import { recordedTransforms } from './symmetry';

export const MSDNET_FORMAT = 'stackseg-msdnet';
const WEIGHTS_FILE = 'weights.bin';

interface WeightEntry { name: string; shape: number[]; dtype: 'float32' }
interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: null;
  modelTopology: { arch: MsdnetArch; classValues: number[]; normalization: Normalization; tta: boolean; inputs?: InputSpec; transforms?: number[] };
  weightsManifest: Array<{ paths: string[]; weights: WeightEntry[] }>;
  trainingInfo?: unknown;
}

export interface SavableModel {
  arch: MsdnetArch; weights: MsdnetWeights; classValues: number[]; normalization: Normalization; tta: boolean;
  backend: string; trainingInfo?: unknown;
  /** The input planes (inputPlanes.ts); absent = the plain 2.5-D planes inChannels implies. */
  inputs?: InputSpec;
  /** The dihedral k tta averages over (symmetry.ts); absent = tta ? all 8 : [0] (models from before augment=auto). */
  transforms?: readonly number[];
}

export async function saveWeights(dir: string, m: SavableModel): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const named = namedWeights(m.weights);
  const arrays = await Promise.all(named.map(([, v]) => v.data() as Promise<Float32Array>));
  const bytes = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
  let offset = 0;
  for (const a of arrays) {
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset); // typed arrays are little-endian on every supported platform
    offset += a.byteLength;
  }
  const json: ModelJson = {
    format: MSDNET_FORMAT,
    generatedBy: `StackSeg MSDNet (tfjs-core ${tf.version_core}, trained on ${m.backend})`,
    convertedBy: null,
    modelTopology: { arch: m.arch, classValues: m.classValues, normalization: m.normalization, tta: m.tta, ...(m.inputs ? { inputs: m.inputs } : {}),
      ...(m.transforms ? { transforms: [...m.transforms] } : {}) },
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: named.map(([name, v]) => ({ name, shape: v.shape, dtype: 'float32' })) }],
    trainingInfo: m.trainingInfo,
  };
  await writeFileAtomic(join(dir, WEIGHTS_FILE), bytes);
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json, null, 2) + '\n');
}

export async function loadWeights(dir: string): Promise<Omit<SavableModel, 'backend'>> {
  const jsonPath = join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (e) {
    throw new StackSegError(`cannot read the MSDNet model: ${(e as Error).message}`, { file: jsonPath, hint: 'pass the model/ folder of a finished msdnet job' });
  }
  if (json.format !== MSDNET_FORMAT || !json.modelTopology?.arch || !json.weightsManifest?.[0]) {
    throw new StackSegError(`not a StackSeg MSDNet model (format "${json.format}")`, { file: jsonPath, hint: 'pass the model/ folder of an msdnet job' });
  }
  const { arch, classValues, normalization, tta } = json.modelTopology;
  const inputs = recordedSpec(json.modelTopology.inputs, arch.inChannels, imageChannels(normalization), jsonPath);
  const transforms = recordedTransforms(json.modelTopology.transforms, tta ?? false, jsonPath);
  const group = json.weightsManifest[0];
  const binPath = join(dir, group.paths[0]);
  const buf = await fs.readFile(binPath);
  const floats = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const weights = createWeights(arch, 0);
  const byName = new Map(namedWeights(weights));
  let offset = 0;
  for (const entry of group.weights) {
    const v = byName.get(entry.name);
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (!v || v.shape.join() !== entry.shape.join() || offset + size > floats.length) {
      throw new StackSegError(`weight ${entry.name} [${entry.shape}] does not fit the architecture or the file`, { file: binPath, hint: 'the model files are damaged or from another version; retrain' });
    }
    v.assign(tf.tensor(floats.subarray(offset, offset + size), entry.shape));
    offset += size;
  }
  if (offset !== floats.length || group.weights.length !== byName.size) {
    throw new StackSegError(`weights file holds ${floats.length} values, manifest describes ${offset}`, { file: binPath, hint: 'the model files are damaged; retrain' });
  }
  return { arch, weights, classValues, normalization, tta: tta ?? false, inputs, transforms };
}
