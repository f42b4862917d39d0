// Foam benchmark for the StackSeg random forest: train on slice 0's sparse labels, segment 32 slices, foam F1
// (pred 2 vs truth 1) averaged over slices, for several seeds. Run: node bench/quality_rf.mjs [--seeds 0,1,2]
// [--variants hq,noisy] [--data DIR] [--set key=value]... (forest options, e.g. --set nTrees=30)
// [--fill-weight W] (fill unlabelled pixels of slice 0 by the sigma-0.7 midpoint threshold, weight W each).
import { computeFeatures, DEFAULT_FEATURE_OPTIONS, featureCount } from '../src/core/features/bank';
import { gatherLabeledPixels, RandomForest, type ForestOptions } from '../src/core/models/forest';
import { fitNormalizationFromSource, normalizeSlice } from '../src/core/models/normalize';
import { SegmentationEvaluator } from '../src/core/metrics';
import { openStack } from '../src/core/tiff';
import { fillByMidpointThreshold } from '../src/core/features/pseudolabels';

const REF_SEED0: Record<string, number> = { hq: 0.974, fewangles: 0.934, limitedrange: 0.852, noisy: 0.935, noisy_fewangles: 0.917, rings: 0.965 };
const args = process.argv.slice(2);
const arg = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const dataDir = arg('--data', '/work/shared/data/foam');
const seeds = arg('--seeds', '0,1,2').split(',').map(Number);
const variants = arg('--variants', Object.keys(REF_SEED0).join(',')).split(',');
const forestOpts: Record<string, unknown> = {};
const fillWeight = Number(arg('--fill-weight', '0')); // 0 = no pseudo-label fill
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); forestOpts[k] = isNaN(Number(v)) ? v : Number(v); } });

async function main() {
  const truth = await openStack(`${dataDir}/truth.tif`);
  const labels = await openStack(`${dataDir}/sparse_labels_slice0.tif`);
  const sparse = (await labels.readSlice(0)) as Uint8Array;
  const nF = featureCount(DEFAULT_FEATURE_OPTIONS);
  console.log(`variant          ${seeds.map((s) => `seed ${s}`.padStart(8)).join('')}     mean   ref s0   pass   (train s, segment s)`);
  const means: number[] = [];
  for (const v of variants) {
    const stack = await openStack(`${dataDir}/${v}.tif`);
    const { width: w, height: h, depth } = stack.info;
    const norm = await fitNormalizationFromSource(stack);
    const t0 = performance.now();
    const n0 = normalizeSlice(await stack.readSlice(0), norm);
    const f0 = computeFeatures(n0, w, h, DEFAULT_FEATURE_OPTIONS);
    let data = gatherLabeledPixels(f0, nF, sparse);
    if (fillWeight > 0) {
      const fill = fillByMidpointThreshold(n0, w, h, sparse);
      data = gatherLabeledPixels(f0, nF, fill.labels, Float32Array.from(fill.pseudo, (p) => (p ? fillWeight : 1)));
    }
    const forests = seeds.map((seed) => RandomForest.train(data, { ...(forestOpts as Partial<ForestOptions>), seed }));
    const t1 = performance.now();
    const evals = seeds.map(() => new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] }));
    for (let z = 0; z < depth; z++) {
      const f = z === 0 ? f0 : computeFeatures(normalizeSlice(await stack.readSlice(z), norm), w, h, DEFAULT_FEATURE_OPTIONS);
      const t = await truth.readSlice(z);
      forests.forEach((forest, k) => evals[k].add(forest.predict(f, w * h).labels, t));
    }
    const t2 = performance.now();
    const f1s = evals.map((e) => e.result().meanOverSlices[0].f1 ?? 0);
    const mean = f1s.reduce((a, b) => a + b, 0) / f1s.length;
    means.push(mean);
    console.log(`${v.padEnd(16)} ${f1s.map((x) => x.toFixed(4).padStart(8)).join('')} ${mean.toFixed(4).padStart(8)} ${REF_SEED0[v]?.toFixed(3).padStart(8)} ${mean >= REF_SEED0[v] ? '  yes' : '   NO'}   (${((t1 - t0) / 1000).toFixed(1)}, ${((t2 - t1) / 1000).toFixed(1)})`);
    await stack.close();
  }
  console.log(`mean over variants: ${(means.reduce((a, b) => a + b, 0) / means.length).toFixed(4)}  forest options ${JSON.stringify(forestOpts)} fill weight ${fillWeight}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
