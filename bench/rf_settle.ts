// How the rf `settle` rule trades trees for labels on the foam variants (seed 0, trained as quality_rf.ts does): for
// each settle, the mean trees a pixel walks (labels only, WebAssembly forest2c), the pixels whose label differs from
// all trees, and foam F1. settle 0 = the exact rule (labels of all trees). For scale, the last line per variant is
// how many labels a forest trained with seed 1 gives unlike seed 0's (both exact): the forest's own run-to-run spread.
//   node bench/run.mjs rf_settle [--variants hq,noisy] [--settle 0,1,1.5,2,2.5]
import { featureOptionsFrom, trainForestWithFill } from '../src/core/models/randomForest/randomForestSegmenter';
import { forestWalk } from '../src/core/models/randomForest/randomForestPredict';
import { resolveParams } from '../src/shared/models/registry';
import { SegmentationEvaluator } from '../src/core/metrics';
import { openStack } from '../src/core/tiff';
import { foamSparseLabels, openFoamVariant } from './foam_rf';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const dataDir = arg('--data', '/work/shared/data/foam');
const variants = arg('--variants', 'hq,fewangles,limitedrange,noisy,noisy_fewangles,rings').split(',');
const settles = arg('--settle', '0,1,1.5,2,2.5').split(',').map(Number);

async function main() {
  const truth = await openStack(`${dataDir}/truth.tif`);
  const sparse = await foamSparseLabels(dataDir);
  const base = resolveParams('rf', {});
  const fo = featureOptionsFrom(base);
  for (const v of variants) {
    const foam = await openFoamVariant(dataDir, v, base, fo, sparse);
    const { width: w, height: h, depth, n0, f0, names } = foam, n = w * h;
    const forest = (await trainForestWithFill([{ normalised: n0, features: f0, labels: sparse }], w, h, { ...base, seed: 0 }, names)).forest;
    const other = (await trainForestWithFill([{ normalised: n0, features: f0, labels: sparse }], w, h, { ...base, seed: 1 }, names)).forest;
    other.settle = 0;
    let seedChanged = 0;
    const evals = settles.map(() => new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] }));
    const walked = settles.map(() => 0), changed = settles.map(() => 0);
    let pixels = 0;
    for (let z = 0; z < depth; z++) {
      const f = await foam.features(z);
      const tr = await truth.readSlice(z);
      forest.settle = 0;
      const all = forest.predict(f, n).labels;
      pixels += n;
      const lab1 = other.predict(f, n).labels;
      for (let p = 0; p < n; p++) if (lab1[p] !== all[p]) seedChanged++;
      settles.forEach((settle, k) => {
        forest.settle = settle;
        const w0 = forestWalk.treePixels;
        const lab = forest.predictLabelsRange(f, n, 0, n);
        walked[k] += forestWalk.treePixels - w0;
        for (let p = 0; p < n; p++) if (lab[p] !== all[p]) changed[k]++;
        evals[k].add(lab, tr);
      });
    }
    console.log(`${v}${foam.is3d ? ' 3d' : ''}`);
    settles.forEach((settle, k) => console.log(`  settle ${String(settle).padEnd(4)} trees walked ${(walked[k] / pixels).toFixed(1).padStart(5)} of ${forest.nTrees}   labels unlike all trees ${(changed[k] / pixels * 1e6).toFixed(0).padStart(5)} ppm   F1 ${evals[k].result().meanOverSlices[0].f1!.toFixed(4)}`));
    console.log(`  seed 1 vs seed 0 (settle 0): labels unlike ${(seedChanged / pixels * 1e6).toFixed(0).padStart(5)} ppm`);
    await foam.close();
  }
  await truth.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
