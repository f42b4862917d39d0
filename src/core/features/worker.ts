// Worker-thread entry (bundled by esbuild.mjs to dist/featureWorker.js): features + forest prediction of one slice.
// Protocol (see pool.ts): { type: 'init', forest, features, norm } once, then
// { type: 'predict', id, image, width, height, probabilities } -> { id, labels, probabilities? } | { id, error }
// { type: 'features', id, image, width, height, rows? } -> { id, features } (normalised, feature-major; with rows
//   [y0, y1) only those rows, computed in strips: a big training slice is split over the workers)
// Prediction runs in strips of rows (strips.ts): memory per worker is bounded by a strip's features, not the slice's.
// { type: 'train', id, data, options, names, firstTree } -> { id, forest } (some trees of a forest trained in parts)
// 'init' may come again (a pool created for training gets its forest afterwards).
// Pixel buffers are transferred, not copied.

import { parentPort } from 'node:worker_threads';
import { RandomForest, type ForestJSON } from '../models/randomForest/randomForest';
import type { ForestOptions, TrainingData } from '../models/randomForest/randomForestTrain';
import { normalizeSlice, type IntensityNormalization } from '../models/normalize';
import { computeFeatures, featureCount, type FeatureOptions } from './bank';
import { predictInStrips, StripFeatures, stripHalo, stripRows } from './strips';

export type WorkerRequest =
  | { type: 'init'; forest?: ForestJSON; features: FeatureOptions; norm: IntensityNormalization; stripBytes?: number }
  | { type: 'predict'; id: number; image: Float32Array; width: number; height: number; probabilities: boolean }
  | { type: 'features'; id: number; image: Float32Array; width: number; height: number; rows?: [number, number] }
  | { type: 'train'; id: number; data: TrainingData; options: Partial<ForestOptions>; names?: string[]; firstTree: number };

export type WorkerReply =
  | { id: number; labels: Uint8Array; probabilities?: Float32Array }
  | { id: number; features: Float32Array }
  | { id: number; forest: ForestJSON }
  | { id: number; error: string };

let forest: RandomForest | undefined;
/** Feature indices the forest splits on; prediction computes only these (the forest is remapped to read them). */
let used: number[] | undefined;
/** Strip engines of the last slice size: one for prediction (forest's features), one for all features. */
let stripCache: { key: string; predict?: StripFeatures; all?: StripFeatures } | undefined;
let features: FeatureOptions | undefined;
let stripBytes: number | undefined;
let norm: IntensityNormalization | undefined;

parentPort?.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'init') {
    const full = msg.forest ? RandomForest.fromJSON(msg.forest) : undefined;
    used = full?.usedFeatures();
    forest = full && used ? full.selectFeatures(used) : undefined;
    features = msg.features;
    norm = msg.norm;
    stripBytes = msg.stripBytes;
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
    const x = normalizeSlice(msg.image, norm);
    if (msg.type === 'features') {
      const f = msg.rows ? strips(msg.width, msg.height, 'all').rowsFeatures(x, msg.rows[0], msg.rows[1]) : computeFeatures(x, msg.width, msg.height, features);
      parentPort!.postMessage({ id: msg.id, features: f } satisfies WorkerReply, [f.buffer as ArrayBuffer]);
      return;
    }
    if (!forest || !used) throw new Error('feature worker has no forest to predict with');
    const r = predictInStrips(forest, strips(msg.width, msg.height, 'predict'), x, msg.probabilities);
    const reply: WorkerReply = { id: msg.id, labels: r.labels, probabilities: r.probabilities };
    parentPort!.postMessage(reply, r.probabilities ? [r.labels.buffer as ArrayBuffer, r.probabilities.buffer as ArrayBuffer] : [r.labels.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
  }
});

function strips(width: number, height: number, kind: 'predict' | 'all'): StripFeatures {
  const key = JSON.stringify([width, height, features, used, stripBytes]);
  if (stripCache?.key !== key) stripCache = { key };
  const select = kind === 'predict' ? used! : Array.from({ length: featureCount(features!) }, (_, i) => i);
  return (stripCache[kind] ??= new StripFeatures(width, height, features!, select, stripRows(width, height, select.length, stripHalo(features!), stripBytes)));
}

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
