// Where the time of the random forest goes on one big slice, in this thread (no workers): features (all, and only
// those the forest uses), the threshold fill, gathering, tree building, prediction. Wall and CPU seconds per step
// (CPU is robust to other processes on a shared machine; wall is what a user waits).
//   node bench/run.mjs rf_profile [--factor 8] [--reps 3] [--set key=value]...
import { computeFeatures, featureNames } from '../src/core/features/bank';
import { applyThresholdFill, fitThresholdFill } from '../src/core/features/pseudolabels';
import { featureOptionsFrom, trainForestWithFill } from '../src/core/models/randomForest/randomForestSegmenter';
import { gatherLabeledPixels } from '../src/core/models/randomForest/randomForestTrain';
import { predictSliceSync } from '../src/core/features/pool';
import { StripFeatures, stripBudgetBytes, stripHalo, stripRows } from '../src/core/features/strips';
import { forestWalk } from '../src/core/models/randomForest/randomForestPredict';
import { fitNormalization, normalizeSlice } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { bigLabels, bigSlice, loadFoam } from './big_phantom';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const factor = Number(arg('--factor', '8')), reps = Number(arg('--reps', '3'));
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });

const rows: [string, number, number][] = [];
async function time<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  let best = Infinity, bestCpu = Infinity, r!: T;
  for (let k = 0; k < reps; k++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    r = await f();
    const wall = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
    best = Math.min(best, wall); bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  }
  rows.push([name, best, bestCpu]);
  return r;
}

async function main() {
  const foam = await loadFoam();
  const img = bigSlice(foam, 0, factor), labels = bigLabels(foam, factor);
  const W = foam.w * factor, H = foam.h * factor, n = W * H;
  const norm = fitNormalization(img.filter((_, i) => i % 97 === 0));
  const params = resolveParams('rf', overrides);
  const fo = featureOptionsFrom(params);
  const names = featureNames(fo);
  const f32 = Float32Array.from(img);
  const x = await time('normalise', () => normalizeSlice(f32, norm));
  const all = await time(`features all (${names.length})`, () => computeFeatures(x, W, H, fo));
  if (args.includes('--train-only')) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const r = await trainForestWithFill([{ normalised: x, features: all, labels }], W, H, params, names);
    const c = process.cpuUsage(c0);
    console.log(`train wall ${((performance.now() - t0) / 1000).toFixed(2)} s cpu ${((c.user + c.system) / 1e6).toFixed(2)} s ${JSON.stringify(r.report)}`);
    return;
  }
  if (args.includes('--predict-only')) {
    const { forest } = await trainForestWithFill([{ normalised: x, features: all, labels }], W, H, params, names);
    await time('predict (all features given)', () => forest.predict(all, n));
    for (const [name, wall, cpu] of rows) console.log(`${name.padEnd(36)} wall ${wall.toFixed(3).padStart(7)} s  cpu ${cpu.toFixed(3).padStart(7)} s`);
    return;
  }
  const fit = await time('fill: fit (auto sigma)', () => fitThresholdFill([{ normalised: x, labels }], W, H, { sigma: 'auto' }));
  if (fit) await time('fill: apply', () => applyThresholdFill(fit, x, W, H, labels, { mode: 'midpoint' }));
  await time('gather sparse', () => gatherLabeledPixels(all, names.length, labels));
  const { forest, report } = await time('train total (fill+gather+trees)', () => trainForestWithFill([{ normalised: x, features: all, labels }], W, H, params, names));
  const used = forest.usedFeatures();
  const sub = forest.selectFeatures(used);
  const f = await time(`features used (${used.length})`, () => computeFeatures(x, W, H, fo, used));
  await time('predict', () => sub.predict(f, n));
  const walked: string[] = [];
  for (const settle of [0, Number(params.settle), 1]) {
    sub.settle = settle;
    const w0 = { ...forestWalk };
    await time(`predict labels (settle ${settle})`, () => sub.predictLabelsRange(f, n, 0, n));
    walked.push(`settle ${settle}: ${((forestWalk.treePixels - w0.treePixels) / (forestWalk.pixels - w0.pixels)).toFixed(1)}`);
    if (settle > 0) await time(`predict with probabilities (settle ${settle})`, () => sub.predictRange(f, n, 0, n));
  }
  forest.settle = Number(params.settle);
  await time('strips: features used + predict (a worker)', () => predictSliceSync(forest, fo, norm, f32, W, H, false));
  // The filter bank alone, in windows as a worker of 2 computes them (its strip budget; the engine made once).
  const strips = new StripFeatures(W, H, fo, used, stripRows(W, H, used.length, stripHalo(fo), stripBudgetBytes(2)));
  await time('strips: features used only (2-worker windows)', () => { for (let y0 = 0; y0 < H; y0 += strips.rows) strips.window(x, y0); });
  console.log(`mean trees walked per pixel (labels only) of ${forest.nTrees}: ${walked.join(', ')}`);
  console.log(`${W}x${H}, labelled ${labels.reduce((a, v) => a + (v ? 1 : 0), 0)}, fill ${JSON.stringify(report)}`);
  console.log(`used features: ${used.map((i) => names[i]).join(' ')}`);
  for (const [name, wall, cpu] of rows) console.log(`${name.padEnd(36)} wall ${wall.toFixed(3).padStart(7)} s  cpu ${cpu.toFixed(3).padStart(7)} s`);
}
main().catch((e) => { console.error(e); process.exit(1); });
