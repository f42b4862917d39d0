// Worker-thread entry (bundled by esbuild.mjs to dist/featureWorker.js): features + forest prediction of one slice.
// Methods (FeatureMethods, over src/shared/rpc.ts; see pool.ts): `init` { forest, features, norm } (a notification)
// once, then
// `predict` { image, width, height, probabilities } -> { labels, probabilities? }
// `features` { image, width, height, rows? } -> Float32Array (normalised, feature-major; with rows [y0, y1) only
//   those rows, computed in strips: a big training slice is split over the workers)
// Prediction runs in strips of rows (strips.ts): memory per worker is bounded by a strip's features, not the slice's.
// `train` { data, options, names, firstTree } -> ForestJSON (some trees of a forest trained in parts)
// 'init' may come again (a pool created for training gets its forest afterwards).
// Pixel buffers are transferred, not copied.

import { parentPort } from 'node:worker_threads';
import { RpcServer } from '../../shared/rpc';
import { RandomForest, type ForestJSON } from '../models/randomForest/randomForest';
import type { ForestOptions, TrainingData } from '../models/randomForest/randomForestTrain';
import { normalizeSlice, type IntensityNormalization } from '../models/normalize';
import { computeFeatures, featureCount, type FeatureOptions } from './bank';
import { predictInStrips, StripFeatures, stripHalo, stripRows } from './strips';

export interface FeatureMethods {
  init: { params: { forest?: ForestJSON; features: FeatureOptions; norm: IntensityNormalization; stripBytes?: number }; result: void };
  predict: { params: { image: Float32Array; width: number; height: number; probabilities: boolean }; result: { labels: Uint8Array; probabilities?: Float32Array } };
  features: { params: { image: Float32Array; width: number; height: number; rows?: [number, number] }; result: Float32Array };
  train: { params: { data: TrainingData; options: Partial<ForestOptions>; names?: string[]; firstTree: number }; result: ForestJSON };
}

let forest: RandomForest | undefined;
/** Feature indices the forest splits on; prediction computes only these (the forest is remapped to read them). */
let used: number[] | undefined;
/** Strip engines of the last slice size: one for prediction (forest's features), one for all features. */
let stripCache: { key: string; predict?: StripFeatures; all?: StripFeatures } | undefined;
let features: FeatureOptions | undefined;
let stripBytes: number | undefined;
let norm: IntensityNormalization | undefined;

const server = new RpcServer<FeatureMethods>({
  init: (msg) => {
    const full = msg.forest ? RandomForest.fromJSON(msg.forest) : undefined;
    used = full?.usedFeatures();
    forest = full && used ? full.selectFeatures(used) : undefined;
    features = msg.features;
    norm = msg.norm;
    stripBytes = msg.stripBytes;
    warmUp();
  },
  train: (msg) => RandomForest.train(msg.data, msg.options, msg.names, msg.firstTree).toJSON(),
  features: (msg, ctx) => {
    if (!features || !norm) throw new Error('feature worker used before init');
    const x = normalizeSlice(msg.image, norm);
    const f = msg.rows ? strips(msg.width, msg.height, 'all').rowsFeatures(x, msg.rows[0], msg.rows[1]) : computeFeatures(x, msg.width, msg.height, features);
    ctx.transfer(f.buffer as ArrayBuffer);
    return f;
  },
  predict: (msg, ctx) => {
    if (!features || !norm) throw new Error('feature worker used before init');
    const x = normalizeSlice(msg.image, norm);
    if (!forest || !used) throw new Error('feature worker has no forest to predict with');
    const r = predictInStrips(forest, strips(msg.width, msg.height, 'predict'), x, msg.probabilities);
    ctx.transfer(r.labels.buffer as ArrayBuffer, ...(r.probabilities ? [r.probabilities.buffer as ArrayBuffer] : []));
    return { labels: r.labels, probabilities: r.probabilities };
  },
}, (msg, transfer) => parentPort!.postMessage(msg, transfer));
parentPort?.on('message', (m) => server.receive(m));

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
