// How the rf `settle` rule trades trees for labels on the foam variants (seed 0, trained as quality_rf.ts does): for
// each settle, the mean trees a pixel walks (labels only, WebAssembly forest2c), the pixels whose label differs from
// all trees, and foam F1. settle 0 = the exact rule (labels of all trees).
//   node bench/run.mjs rf_settle [--variants hq,noisy] [--settle 0,1,1.5,2,2.5]
import { computeFeatures, featureNames } from '../src/core/features/bank';
import { FeatureBank3d, featureNames3d } from '../src/core/features/bank3d';
import { autoDims, resolveDims, zRatioOf } from '../src/core/features/volumeChunks';
import { featureOptionsFrom, trainForestWithFill } from '../src/core/models/randomForest/randomForestSegmenter';
import { forestWalk } from '../src/core/models/randomForest/randomForestPredict';
import { fitNormalizationFromSource, normalizeSlice } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { SegmentationEvaluator } from '../src/core/metrics';
import { openStack } from '../src/core/tiff';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const dataDir = arg('--data', '/work/shared/data/foam');
const variants = arg('--variants', 'hq,fewangles,limitedrange,noisy,noisy_fewangles,rings').split(',');
const settles = arg('--settle', '0,1,1.5,2,2.5').split(',').map(Number);

async function main() {
  const truth = await openStack(`${dataDir}/truth.tif`);
  const sparseStack = await openStack(`${dataDir}/sparse_labels_slice0.tif`);
  const sparse = (await sparseStack.readSlice(0)) as Uint8Array;
  await sparseStack.close();
  const base = resolveParams('rf', {});
  const fo = featureOptionsFrom(base);
  for (const v of variants) {
    const stack = await openStack(`${dataDir}/${v}.tif`);
    const { width: w, height: h, depth } = stack.info; const n = w * h;
    const norm = await fitNormalizationFromSource(stack);
    const n0 = normalizeSlice(await stack.readSlice(0), norm);
    const asked = resolveDims(base, depth);
    const dims = asked === 'auto' ? autoDims([{ normalised: n0, labels: sparse }], w, h).dims : asked;
    const vol = dims === '3d' ? await Promise.all(Array.from({ length: depth }, async (_, z) => normalizeSlice(await stack.readSlice(z), norm))) : [];
    const bank = dims === '3d' ? new FeatureBank3d(w, h, fo, zRatioOf(stack.info, base)) : null;
    const names = bank ? featureNames3d(fo) : featureNames(fo);
    const sel = names.map((_, i) => i);
    const feats = async (z: number, nn: Float32Array) => { if (!bank) return computeFeatures(nn, w, h, fo); const out = new Float32Array(names.length * n); bank.compute((zz) => vol[zz], z, depth, sel, out); return out; };
    const f0 = await feats(0, n0);
    const forest = (await trainForestWithFill([{ normalised: n0, features: f0, labels: sparse }], w, h, { ...base, seed: 0 }, names)).forest;
    const evals = settles.map(() => new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] }));
    const walked = settles.map(() => 0), changed = settles.map(() => 0);
    let pixels = 0;
    for (let z = 0; z < depth; z++) {
      const f = z === 0 ? f0 : await feats(z, normalizeSlice(await stack.readSlice(z), norm));
      const tr = await truth.readSlice(z);
      forest.settle = 0;
      const all = forest.predict(f, n).labels;
      pixels += n;
      settles.forEach((settle, k) => {
        forest.settle = settle;
        const w0 = forestWalk.treePixels;
        const lab = forest.predictLabelsRange(f, n, 0, n);
        walked[k] += forestWalk.treePixels - w0;
        for (let p = 0; p < n; p++) if (lab[p] !== all[p]) changed[k]++;
        evals[k].add(lab, tr);
      });
    }
    console.log(`${v}${bank ? ' 3d' : ''}`);
    settles.forEach((settle, k) => console.log(`  settle ${String(settle).padEnd(4)} trees walked ${(walked[k] / pixels).toFixed(1).padStart(5)} of ${forest.nTrees}   labels unlike all trees ${(changed[k] / pixels * 1e6).toFixed(0).padStart(5)} ppm   F1 ${evals[k].result().meanOverSlices[0].f1!.toFixed(4)}`));
    await stack.close();
  }
  await truth.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
