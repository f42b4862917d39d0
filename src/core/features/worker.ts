// Worker-thread entry (bundled by esbuild.mjs to dist/featureWorker.js): features + forest prediction of one slice.
// Protocol (see pool.ts): { type: 'init', forest, features, norm } once, then
// { type: 'predict', id, image, width, height, probabilities } -> { id, labels, probabilities? } | { id, error }
// { type: 'features', id, image, width, height } -> { id, features } (normalised, feature-major)
// { type: 'train', id, data, options, names, firstTree } -> { id, forest } (some trees of a forest trained in parts)
// 'init' may come again (a pool created for training gets its forest afterwards).
// Pixel buffers are transferred, not copied.

import { parentPort } from 'node:worker_threads';
import { RandomForest, type ForestJSON, type ForestOptions, type TrainingData } from '../models/forest';
import { normalizeSlice, type IntensityNormalization } from '../models/normalize';
import { computeFeatures, type FeatureOptions } from './bank';

export type WorkerRequest =
  | { type: 'init'; forest?: ForestJSON; features: FeatureOptions; norm: IntensityNormalization }
  | { type: 'predict'; id: number; image: Float32Array; width: number; height: number; probabilities: boolean }
  | { type: 'features'; id: number; image: Float32Array; width: number; height: number }
  | { type: 'train'; id: number; data: TrainingData; options: Partial<ForestOptions>; names?: string[]; firstTree: number };

export type WorkerReply =
  | { id: number; labels: Uint8Array; probabilities?: Float32Array }
  | { id: number; features: Float32Array }
  | { id: number; forest: ForestJSON }
  | { id: number; error: string };

let forest: RandomForest | undefined;
/** Feature indices the forest splits on; prediction computes only these (the forest is remapped to read them). */
let used: number[] | undefined;
let predictBuffer: Float32Array | undefined;
let features: FeatureOptions | undefined;
let norm: IntensityNormalization | undefined;

parentPort?.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'init') {
    const full = msg.forest ? RandomForest.fromJSON(msg.forest) : undefined;
    used = full?.usedFeatures();
    forest = full && used ? full.selectFeatures(used) : undefined;
    features = msg.features;
    norm = msg.norm;
    warmUp();
    return;
  }
  try {
    if (msg.type === 'train') {
      const part = RandomForest.train(msg.data, msg.options, msg.names, msg.firstTree);
      parentPort!.postMessage({ id: msg.id, forest: part.toJSON() } satisfies WorkerReply);
      return;
    }
    if (!features || !norm) throw new Error('feature worker used before init');
    // Prediction reuses one feature buffer (it never leaves this thread); 'features' replies transfer theirs.
    const f = msg.type === 'predict' ? (predictBuffer = computeFeatures(normalizeSlice(msg.image, norm), msg.width, msg.height, features, used, predictBuffer))
      : computeFeatures(normalizeSlice(msg.image, norm), msg.width, msg.height, features);
    if (msg.type === 'features') {
      parentPort!.postMessage({ id: msg.id, features: f } satisfies WorkerReply, [f.buffer as ArrayBuffer]);
      return;
    }
    if (!forest) throw new Error('feature worker has no forest to predict with');
    const r = forest.predict(f, msg.width * msg.height);
    const reply: WorkerReply = { id: msg.id, labels: r.labels, probabilities: msg.probabilities ? r.probabilities : undefined };
    parentPort!.postMessage(reply, msg.probabilities ? [r.labels.buffer as ArrayBuffer, r.probabilities.buffer as ArrayBuffer] : [r.labels.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
  }
});

/**
 * Runs the feature and prediction code on a small synthetic slice so that it is compiled before real slices arrive:
 * a pool made at training start warms up while the forest trains (otherwise each worker's first slices run slowly).
 */
function warmUp(): void {
  if (!features) return;
  const w = 64, h = 64;
  const image = Float32Array.from({ length: w * h }, (_, i) => Math.sin(i * 0.3) * Math.cos(i * 0.017));
  try {
    for (let k = 0; k < 3; k++) {
      const f = computeFeatures(image, w, h, features, forest ? used : undefined);
      forest?.predict(f, w * h);
    }
  } catch { /* warm-up only */ }
}
