// MSDNet with its job defaults on a large foam stack (bench/big_phantom.ts: the foam upsampled by --factor, 2 %
// noise), trained as a job trains (Random Forest teacher, the whole stack as volume) once per --crops value, within
// the default time budget: what a CPU makes of 1024² or 2048² slices with and without training on crops. Prints per
// cropSize the training seconds, epochs, steps, why it stopped, and foam F1 over the stack (segmented with tta as
// --set says; off by default here, since 8 passes of every large slice on a CPU measure inference, not training).
//   node bench/msdnet_big.mjs [--factor 4] [--depth 5] [--crops 0,256] [--set key=value]...
import { loadavg } from 'node:os';
import { bigLabels, bigSlice, bigTruth, loadFoam } from './big_phantom';
import { MsdnetSegmenter } from '../src/core/models/msdnet/msdnetSegmenter';
import { fitNormalization } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { SegmentationEvaluator } from '../src/core/metrics';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const factor = Number(arg('--factor', '4')), depth = Number(arg('--depth', '5'));
const crops = arg('--crops', '0,256').split(',').map(Number);
const overrides: Record<string, string> = { tta: 'false' };
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

async function main() {
  const foam = await loadFoam();
  const W = foam.w * factor, H = foam.h * factor;
  const planes = Array.from({ length: depth }, (_, z) => Float32Array.from(bigSlice(foam, z, factor)));
  const labels = bigLabels(foam, factor);
  const norm = fitNormalization(Float32Array.from(planes[0].filter((_, i) => i % 31 === 0)));
  console.log(`stack ${W}x${H}x${depth} (foam x${factor}), labels on slice 0; ${JSON.stringify(overrides)}; load ${load()}`);
  for (const cropSize of crops) {
    const params = resolveParams('msdnet', { ...overrides, cropSize: String(cropSize) });
    const t0 = performance.now();
    const model = await MsdnetSegmenter.train({
      width: W, height: H, slices: [{ z: 0, image: planes[0], labels }], sample: new Float32Array(0), norm, params,
      volume: { depth, info: { width: W, height: H, depth, dtype: 'uint16' } as never, read: async (z) => planes[z] }, onProgress: () => undefined,
    });
    const train = (performance.now() - t0) / 1000;
    const r = model.trainingReport() as { epochs?: number; steps?: number; stopped?: string; teacher?: { seconds?: number } };
    const t1 = performance.now();
    const ev = new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] });
    for (let z = 0; z < depth; z++) {
      const ctx = { z, depth, slice: (zz: number) => planes[zz] };
      ev.add((await model.predict(planes[z], W, H, false, undefined, ctx)).labels, bigTruth(foam, z, factor));
    }
    const seg = (performance.now() - t1) / 1000;
    console.log(`cropSize ${cropSize}: train ${train.toFixed(1)} s (teacher ${r.teacher?.seconds?.toFixed(1)} s), ${r.epochs} epochs, ${r.steps} steps, stopped: ${r.stopped}; `
      + `segment ${seg.toFixed(1)} s; foam F1 ${ev.result().meanOverSlices[0].f1?.toFixed(4)}; load ${load()}`);
    await model.dispose?.();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
