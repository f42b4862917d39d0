// Foam benchmark for the StackSeg random forest: train on slice 0's sparse labels (with the rf parameters of the app,
// fill included, via adapters/rf.ts trainForestWithFill), segment 32 slices, foam F1 (pred 2 vs truth 1) averaged over
// slices, for several seeds. Prints a table: F1 per seed, mean, the goal (reference RF seed 0) and pass/fail.
// Run: node bench/quality_rf.mjs [--seeds 0,1,2] [--variants hq,noisy] [--data DIR] [--set key=value]...
// (rf parameters as in registry.ts, e.g. --set fill=none --set fillWeight=0.01 --set trees=30)
import { featureOptionsFrom, trainForestWithFill } from '../src/core/models/randomForest/randomForestSegmenter';
import { resolveParams } from '../src/shared/models/registry';
import type { RandomForest } from '../src/core/models/randomForest/randomForest';
import { SegmentationEvaluator } from '../src/core/metrics';
import { openStack } from '../src/core/tiff';
import { foamSparseLabels, openFoamVariant } from './foam_rf';

const REF_SEED0: Record<string, number> = { hq: 0.974, fewangles: 0.934, limitedrange: 0.852, noisy: 0.935, noisy_fewangles: 0.917, rings: 0.965 };
const args = process.argv.slice(2);
const arg = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const dataDir = arg('--data', '/work/shared/data/foam');
const seeds = arg('--seeds', '0,1,2').split(',').map(Number);
const variants = arg('--variants', Object.keys(REF_SEED0).join(',')).split(',');
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });

async function main() {
  const truth = await openStack(`${dataDir}/truth.tif`);
  const sparse = await foamSparseLabels(dataDir);
  const base = resolveParams('rf', overrides);
  const fo = featureOptionsFrom(base);
  console.log(`rf parameters: ${JSON.stringify(base)}`);
  console.log(`variant          ${seeds.map((s) => `seed ${s}`.padStart(8)).join('')}     mean     goal   pass   (train s, segment s)`);
  const means: number[] = [];
  let passed = 0;
  for (const v of variants) {
    const t0 = performance.now();
    const foam = await openFoamVariant(dataDir, v, base, fo, sparse);
    const { width: w, height: h, depth, n0, f0, names } = foam;
    const forests: RandomForest[] = [];
    for (const seed of seeds) {
      const { forest } = await trainForestWithFill([{ normalised: n0, features: f0, labels: sparse }], w, h, { ...base, seed }, names);
      forest.settle = Number(base.settle ?? 0); // as RandomForestSegmenter predicts
      forests.push(forest);
    }
    const t1 = performance.now();
    const evals = seeds.map(() => new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] }));
    for (let z = 0; z < depth; z++) {
      const f = await foam.features(z);
      const t = await truth.readSlice(z);
      forests.forEach((forest, k) => evals[k].add(forest.predict(f, w * h).labels, t));
    }
    const t2 = performance.now();
    const f1s = evals.map((e) => e.result().meanOverSlices[0].f1 ?? 0);
    const mean = f1s.reduce((a, b) => a + b, 0) / f1s.length;
    means.push(mean);
    const ok = REF_SEED0[v] === undefined || mean >= REF_SEED0[v];
    if (ok) passed++;
    console.log(`${(v + (foam.is3d ? ' 3d' : '')).padEnd(16)} ${f1s.map((x) => x.toFixed(4).padStart(8)).join('')} ${mean.toFixed(4).padStart(8)} ${(REF_SEED0[v]?.toFixed(3) ?? '-').padStart(8)} ${ok ? '  yes' : '   NO'}   (${((t1 - t0) / 1000).toFixed(1)}, ${((t2 - t1) / 1000).toFixed(1)})`);
    await foam.close();
  }
  console.log(`goal (reference RF seed 0): ${variants.map((v) => `${v} ${REF_SEED0[v] ?? '-'}`).join(', ')}`);
  console.log(`mean over variants: ${(means.reduce((a, b) => a + b, 0) / means.length).toFixed(4)}; passed ${passed}/${variants.length}`);
  await truth.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
