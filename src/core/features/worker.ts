// Worker-thread entry (bundled by esbuild.mjs to dist/featureWorker.js): features + forest prediction of one slice.
// Methods (FeatureMethods, over src/shared/rpc.ts; see pool.ts): `init` { forest, features, norm } (a notification)
// once, then
// `predict` { image, width, height, probabilities } -> { labels, probabilities? }
// `features` { image, width, height, rows? } -> Float32Array (normalised, feature-major; with rows [y0, y1) only
//   those rows, computed in strips: a big training slice is split over the workers)
// Prediction runs in strips of rows (strips.ts): memory per worker is bounded by a strip's features, not the slice's.
// `gather` { image (normalised, shared), width, height, rows, nFeatures, sets } -> samples per set: the training
//   samples of rows [y0, y1), their features computed here and written into each set's shared arrays at its offset
//   (nothing goes back: not 86 MB of features per part, nor samples to concatenate)
// `accuracy` { forest, data (shared), s0, s1 } -> how many of samples s0..s1-1 the forest labels as data.y does
// `bin` { data, maxBins, f0, f1, binned } -> edges of features f0..f1-1, their bins written into the shared `binned`
// `train` { data, options, names, firstTree } -> ForestJSON (some trees of a forest trained in parts; data.bins shared)
// 'init' may come again (a pool created for training gets its forest afterwards).
// Pixel buffers are transferred, not copied.
// Several channels (norm.channels, `--set channel=all`): images hold C planes channel-major, each normalised with its
// own entry; features are the C banks concatenated, channel 0's first, and prediction is channelBank.ts's
// ChannelPredictor: the same layout and values as the job's in-thread path (features/channels.ts).

import { parentPort } from 'node:worker_threads';
import { RpcServer } from '../../shared/rpc';
import { RandomForest, type ForestJSON } from '../models/randomForest/randomForest';
import { binFeatures, gatherLabeledPixelsInto, type ForestOptions, type TrainingData } from '../models/randomForest/randomForestTrain';
import { normalizeSlice } from '../models/normalize';
import type { Normalization } from '../models/segmenter';
import { computeFeatures, featureCount, type FeatureOptions } from './bank';
import { ChannelPredictor } from './channelBank';
import { channelCount, channelPlanes, normalizeChannels } from './channels';
import { predictInStrips, StripFeatures, stripHalo, stripRows } from './strips';

export interface FeatureMethods {
  init: { params: { forest?: ForestJSON; features: FeatureOptions; norm: Normalization; stripBytes?: number }; result: void };
  predict: { params: { image: Float32Array; width: number; height: number; probabilities: boolean }; result: { labels: Uint8Array; probabilities?: Float32Array } };
  features: { params: { image: Float32Array; width: number; height: number; rows?: [number, number] }; result: Float32Array };
  train: { params: { data: TrainingData; options: Partial<ForestOptions>; names?: string[]; firstTree: number }; result: ForestJSON };
  gather: {
    params: {
      image: Float32Array; width: number; height: number; rows: [number, number]; nFeatures: number;
      sets: { labels: Uint8Array; weights?: Float32Array; into: TrainingData; offset: number }[];
    };
    result: number[];
  };
  accuracy: { params: { forest: ForestJSON; data: TrainingData; s0: number; s1: number }; result: number };
  bin: { params: { data: TrainingData; maxBins: number; f0: number; f1: number; binned: Uint8Array }; result: Float32Array[] };
}

let forest: RandomForest | undefined;
/** Feature indices the forest splits on; prediction computes only these (the forest is remapped to read them). */
let used: number[] | undefined;
/** Strip engines of the last slice size: one for prediction (forest's features), one for all features. */
let stripCache: { key: string; predict?: StripFeatures; all?: StripFeatures } | undefined;
/** Features of the training rows a `gather` request computes, reused by the next one (dropped before training). */
let gatherScratch: Float32Array<ArrayBuffer> | undefined;
/** Several channels: the whole forest (ChannelPredictor selects its features) and the predictor of the last size. */
let channelForest: RandomForest | undefined;
let channelPredictor: ChannelPredictor | undefined;
let features: FeatureOptions | undefined;
let stripBytes: number | undefined;
let norm: Normalization | undefined;

const server = new RpcServer<FeatureMethods>({
  init: (msg) => {
    const full = msg.forest ? RandomForest.fromJSON(msg.forest) : undefined;
    const multi = channelCount(msg.norm) > 1;
    channelForest = multi ? full : undefined;
    channelPredictor = undefined;
    used = multi ? undefined : full?.usedFeatures();
    forest = full && used ? full.selectFeatures(used) : undefined;
    features = msg.features;
    norm = msg.norm;
    stripBytes = msg.stripBytes;
    warmUp();
  },
  train: (msg) => {
    // The training slice's strip engines (its window of all features, ~180 MB at 2048^2) are done with: the trees'
    // data and bins need the memory now, and prediction builds its own engine.
    stripCache = undefined;
    gatherScratch = undefined;
    return RandomForest.train(msg.data, msg.options, msg.names, msg.firstTree).toJSON();
  },
  gather: (msg) => {
    if (!features || !norm) throw new Error('feature worker used before init');
    // The image is the pool's normalised copy, shared by all parts: read, never normalised again here.
    // One scratch for the parts' features (consumed here): not 86 MB of fresh memory per part (page faults, GC).
    const need = msg.nFeatures * (msg.rows[1] - msg.rows[0]) * msg.width;
    if (!gatherScratch || gatherScratch.length < need) gatherScratch = new Float32Array(need);
    const f = sliceFeatures(msg.image, msg.width, msg.height, msg.rows, true, gatherScratch.subarray(0, need));
    return msg.sets.map((s) => gatherLabeledPixelsInto(f, msg.nFeatures, s.labels, s.weights, s.into, s.offset));
  },
  accuracy: (msg) => RandomForest.fromJSON(msg.forest).countCorrect(msg.data, msg.s0, msg.s1),
  bin: (msg) => binFeatures(msg.data, msg.maxBins, msg.f0, msg.f1, msg.binned),
  features: (msg, ctx) => {
    if (!features || !norm) throw new Error('feature worker used before init');
    const f = sliceFeatures(msg.image, msg.width, msg.height, msg.rows);
    ctx.transfer(f.buffer as ArrayBuffer);
    return f;
  },
  predict: (msg, ctx) => {
    if (!features || !norm) throw new Error('feature worker used before init');
    const r = predictSlice(msg.image, msg.width, msg.height, msg.probabilities);
    ctx.transfer(r.labels.buffer as ArrayBuffer, ...(r.probabilities ? [r.probabilities.buffer as ArrayBuffer] : []));
    return { labels: r.labels, probabilities: r.probabilities };
  },
}, (msg, transfer) => parentPort!.postMessage(msg, transfer));
parentPort?.on('message', (m) => server.receive(m));

/**
 * Normalised features of a slice, feature-major; with rows, those rows only. C channels: C * F planes, channel c's F
 * features at planes [c * F, (c + 1) * F) (as channelBank.ts forEachChannelBlock's blocks).
 */
function sliceFeatures(image: Float32Array, width: number, height: number, rows?: [number, number], normalised = false, into?: Float32Array<ArrayBuffer>): Float32Array {
  const C = channelCount(norm!);
  if (C === 1) {
    // In place: the image was transferred here (no 16 MB per slice).
    const x = normalised ? image : normalizeSlice(image, norm!, image as Float32Array<ArrayBuffer>);
    return rows ? strips(width, height, 'all').rowsFeatures(x, rows[0], rows[1], into) : computeFeatures(x, width, height, features!);
  }
  const n = width * height, F = featureCount(features!), [y0, y1] = rows ?? [0, height], m = (y1 - y0) * width;
  const planes = channelPlanes(normalised ? image : normalizeChannels(image, norm!, n), n, C);
  const out = into ?? new Float32Array(C * F * m), engine = strips(width, height, 'all');
  planes.forEach((p, c) => engine.rowsFeatures(p, y0, y1, out.subarray(c * F * m, (c + 1) * F * m)));
  return out;
}

function predictSlice(image: Float32Array, width: number, height: number, probabilities: boolean): { labels: Uint8Array; probabilities?: Float32Array } {
  const C = channelCount(norm!);
  if (C > 1) {
    if (!channelForest) throw new Error('feature worker has no forest to predict with');
    if (channelPredictor?.width !== width || channelPredictor.height !== height) channelPredictor = new ChannelPredictor(channelForest, features!, width, height);
    const n = width * height;
    return channelPredictor.predict(channelPlanes(normalizeChannels(image, norm!, n), n, C), probabilities);
  }
  if (!forest || !used) throw new Error('feature worker has no forest to predict with');
  return predictInStrips(forest, strips(width, height, 'predict'), normalizeSlice(image, norm!, image as Float32Array<ArrayBuffer>), probabilities);
}

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
  if (!features || !norm) return;
  const w = 64, h = 64, C = channelCount(norm);
  // Raw intensities across each channel's range (the slice is normalised as a real one is).
  const chans = norm.channels ?? [norm];
  const image = Float32Array.from({ length: C * w * h }, (_, i) => {
    const c = chans[Math.floor(i / (w * h))];
    return c.low + (c.high - c.low) * (0.5 + 0.5 * Math.sin(i * 0.3) * Math.cos(i * 0.017));
  });
  try {
    for (let k = 0; k < 3; k++) {
      if (forest || channelForest) predictSlice(image, w, h, true);
      else sliceFeatures(image, w, h);
    }
  } catch { /* warm-up only */ }
  // The warm-up's 64^2 engines are not kept for real slices.
  stripCache = undefined;
  channelPredictor = undefined;
}
