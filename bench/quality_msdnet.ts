// StackSeg MSDNet on the foam benchmark (shared/data/foam/README.md): train on slice 0 with sparse_labels_slice0.tif
// (1 = background, 2 = foam), segment all 32 slices, F1 of label 2 against truth 1, averaged over slices.
// Run through bench/quality_msdnet.mjs. Options: --variants hq,noisy --epochs 200 --pseudo --no-tta --seed 0
// --set key=value (registry msdnet parameters, e.g. --set contextSlices=1 for 2.5-D: 3 slices as input channels)
import { openStack } from '../src/core/tiff';
import { trainMsdnet } from '../src/core/models/msdnet/msdnet';
import { resolveParams } from '../src/shared/models/registry';
import { mirrorIndex } from '../src/core/features/volumeChunks';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const dataDir = arg('--data', '/work/shared/data/foam');
const variants = arg('--variants', 'hq,fewangles,limitedrange,noisy,noisy_fewangles,rings').split(',');
// --defaults: the registry's msdnet defaults (what `stackseg run --model msdnet` uses with no --set).
const defaults = args.includes('--defaults') ? resolveParams('msdnet', {}) : undefined;
const epochs = Number(arg('--epochs', String(defaults?.epochs ?? 200)));
const seed = Number(arg('--seed', '0'));
const pseudoLabels = args.includes('--pseudo') || defaults?.pseudoLabels === true;
const tta = !args.includes('--no-tta');
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });
const sets = Object.keys(overrides).length ? resolveParams('msdnet', overrides) : undefined;
const setOnly = sets ? Object.fromEntries(Object.keys(overrides).map((k) => [k, sets[k]])) : {};
const k = Number(setOnly.contextSlices ?? 0);

const toFloat = (a: ArrayLike<number>) => (a instanceof Float32Array ? a : Float32Array.from(a));

async function main() {
  const labels = await openStack(`${dataDir}/sparse_labels_slice0.tif`);
  const sparse = Uint8Array.from(await labels.readSlice(0));
  const truth = await openStack(`${dataDir}/truth.tif`);
  const results: Record<string, { f1: number; train_s: number; segment_s: number; epochs?: number; stopped?: string }> = {};
  for (const v of variants) {
    const stack = await openStack(`${dataDir}/${v}.tif`);
    const { width, height, depth } = stack.info;
    const t0 = performance.now();
    // 2.5-D: slices z-k..z+k, mirrored at the ends (as segmentation's z window, volumeChunks.ts contextWindow).
    const window = async (z: number) => (k ? await Promise.all(Array.from({ length: 2 * k + 1 }, async (_, i) => toFloat(await stack.readSlice(mirrorIndex(z - k + i, depth))))) : undefined);
    const model = await trainMsdnet([{ image: toFloat(await stack.readSlice(0)), labels: sparse, width, height, context: await window(0) }],
      { ...defaults, epochs, seed, tta, pseudoLabels, lrSchedule: 'cosine', bnRecompute: true, backend: 'auto', ...setOnly });
    const t1 = performance.now();
    let f1Sum = 0;
    for (let z = 0; z < depth; z++) {
      const { labels: pred } = await model.predict(toFloat(await stack.readSlice(z)), width, height, { context: await window(z) });
      const t = await truth.readSlice(z);
      let tp = 0, fp = 0, fn = 0;
      for (let i = 0; i < pred.length; i++) {
        const p = pred[i] === 2, g = t[i] === 1;
        if (p && g) tp++; else if (p) fp++; else if (g) fn++;
      }
      f1Sum += (2 * tp) / Math.max(1, 2 * tp + fp + fn);
    }
    results[v] = { f1: f1Sum / depth, train_s: (t1 - t0) / 1000, segment_s: (performance.now() - t1) / 1000, epochs: model.trainingInfo?.losses.length, stopped: model.trainingInfo?.stopped };
    console.error(`${v}: F1 ${results[v].f1.toFixed(4)} (train ${results[v].train_s.toFixed(1)} s, ${results[v].epochs} epochs, stopped: ${results[v].stopped}, segment ${results[v].segment_s.toFixed(1)} s, ${model.backend})`);
    model.dispose();
    await stack.close();
  }
  await Promise.all([labels.close(), truth.close()]);
  console.log(JSON.stringify({ epochs, seed, tta, pseudoLabels, set: setOnly, results }));
}
main().catch((e) => { console.error(e); process.exit(1); });
