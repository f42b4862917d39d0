// StackSeg side of bench/rf_speed.mjs, through the app's own rf adapter (models/adapters/rf.ts) with the registry's
// default rf parameters (override with --set key=value): features of slice 0 + train, then segment every slice with
// the worker pool (one slice per worker in flight, as the job engine does), or in this thread (--sync, no pool).
// Prints one JSON line.
import { availableParallelism } from 'node:os';
import { RandomForestSegmenter } from '../src/core/models/randomForest/randomForestSegmenter';
import { SegmentationEvaluator } from '../src/core/metrics';
import { fitNormalizationFromSource } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { openStack } from '../src/core/tiff';
import { join } from 'node:path';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const dataDir = arg('--data', '/work/shared/data/foam');
const variant = arg('--variant', 'hq');
const sync = args.includes('--sync');
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });

async function main() {
  const stack = await openStack(join(dataDir, `${variant}.tif`));
  const { width: w, height: h, depth } = stack.info;
  const slices: Float32Array[] = [];
  for (let z = 0; z < depth; z++) slices.push(Float32Array.from(await stack.readSlice(z)));
  const sparse = (await (await openStack(join(dataDir, 'sparse_labels_slice0.tif'))).readSlice(0)) as Uint8Array;
  const truthStack = await openStack(join(dataDir, 'truth.tif'));
  const norm = await fitNormalizationFromSource(stack);
  const params = resolveParams('rf', overrides);
  const t0 = performance.now();
  const model = await RandomForestSegmenter.train({ width: w, height: h, slices: [{ z: 0, image: slices[0], labels: sparse }], sample: new Float32Array(0),
    norm, params, onProgress: () => undefined });
  const t2 = performance.now();
  const report = model.trainingReport() as { featureSeconds: number; fitSeconds: number };
  if (sync) (model as unknown as { pool: null }).pool = null; // no workers: predict in this thread
  const cpu0 = process.cpuUsage();
  const labels: Uint8Array[] = new Array(depth);
  const inFlight = model.concurrency;
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < depth) { const z = next++; labels[z] = (await model.predict(slices[z], w, h, false)).labels; }
  }));
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0); // all threads of this process: segment CPU / wall ~ threads kept busy
  const threads = Math.max(1, model.concurrency / 2); // two slices in flight per worker
  await model.dispose();
  const ev = new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] });
  for (let z = 0; z < depth; z++) ev.add(labels[z], await truthStack.readSlice(z));
  console.log(JSON.stringify({ features_s: report.featureSeconds, train_s: (t2 - t0) / 1000 - report.featureSeconds, segment_s: (t3 - t2) / 1000,
    total_s: (t3 - t0) / 1000, segment_cpu_s: (cpu.user + cpu.system) / 1e6, f1: ev.result().meanOverSlices[0].f1, threads, cores: availableParallelism(), fill: params.fill }));
}
main().catch((e) => { console.error(e); process.exit(1); });
