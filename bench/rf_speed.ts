// StackSeg side of bench/rf_speed.mjs: features of slice 0 + train (30 trees, depth 8) + segment every slice,
// with the worker pool (os.availableParallelism() threads) or in-thread (--sync). Prints one JSON line.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { computeFeatures, DEFAULT_FEATURE_OPTIONS, featureCount } from '../src/core/features/bank';
import { FeaturePool } from '../src/core/features/pool';
import { gatherLabeledPixels, RandomForest } from '../src/core/models/forest';
import { SegmentationEvaluator } from '../src/core/metrics';
import { fitNormalizationFromSource, normalizeSlice } from '../src/core/models/normalize';
import { openStack } from '../src/core/tiff';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const dataDir = arg('--data', '/work/shared/data/foam');
const variant = arg('--variant', 'hq');
const sync = args.includes('--sync');

async function main() {
  const stack = await openStack(join(dataDir, `${variant}.tif`));
  const { width: w, height: h, depth } = stack.info;
  const slices: Float32Array[] = [];
  for (let z = 0; z < depth; z++) slices.push(Float32Array.from(await stack.readSlice(z)));
  const sparse = (await (await openStack(join(dataDir, 'sparse_labels_slice0.tif'))).readSlice(0)) as Uint8Array;
  const truthStack = await openStack(join(dataDir, 'truth.tif'));
  const norm = await fitNormalizationFromSource(stack);
  const fo = DEFAULT_FEATURE_OPTIONS;
  const t0 = performance.now();
  const f0 = computeFeatures(normalizeSlice(slices[0], norm), w, h, fo);
  const t1 = performance.now();
  const forest = RandomForest.train(gatherLabeledPixels(f0, featureCount(fo), sparse), { seed: 0 });
  const t2 = performance.now();
  let labels: Uint8Array[];
  const pool = sync ? null : FeaturePool.create({ forest: forest.toJSON(), features: fo, norm, workerPath: join(__dirname, 'featureWorker.js') });
  if (pool) {
    labels = await Promise.all(slices.map((s) => pool.predict(s, w, h).then((r) => r.labels)));
    await pool.close();
  } else {
    labels = slices.map((s) => forest.predict(computeFeatures(normalizeSlice(s, norm), w, h, fo), w * h).labels);
  }
  const t3 = performance.now();
  const ev = new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] });
  for (let z = 0; z < depth; z++) ev.add(labels[z], await truthStack.readSlice(z));
  console.log(JSON.stringify({ features_s: (t1 - t0) / 1000, train_s: (t2 - t1) / 1000, segment_s: (t3 - t2) / 1000, total_s: (t3 - t0) / 1000,
    f1: ev.result().meanOverSlices[0].f1, threads: pool ? pool.size : 1, cores: availableParallelism() }));
}
main().catch((e) => { console.error(e); process.exit(1); });
