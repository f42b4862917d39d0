// Training only, on the labelled 2048^2 foam slice (bench/big_phantom.ts) with the rf defaults: wall and CPU seconds
// per thread count, repeated; the same training rf_big.ts times, without the segmentation.
//   node bench/run.mjs rf_train [--threads 1,2] [--reps 2] [--factor 8] [--set key=value]...
import { loadavg } from 'node:os';
import { RandomForestSegmenter } from '../src/core/models/randomForest/randomForestSegmenter';
import { fitNormalization } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { bigLabels, bigSlice, loadFoam } from './big_phantom';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const factor = Number(arg('--factor', '8')), reps = Number(arg('--reps', '2'));
const threadList = arg('--threads', '1,2').split(',').map(Number);
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });

async function main() {
  const foam = await loadFoam();
  const W = foam.w * factor, H = foam.h * factor;
  const image = bigSlice(foam, 0, factor), labels = bigLabels(foam, factor);
  const norm = fitNormalization(Float32Array.from(image.filter((_, i) => i % 31 === 0)));
  for (const threads of threadList) {
    for (let r = 0; r < reps; r++) {
      const params = resolveParams('rf', { ...overrides, threads: String(threads) });
      const c0 = process.cpuUsage(), t0 = performance.now();
      const model = await RandomForestSegmenter.train({ width: W, height: H, slices: [{ z: 0, image: Float32Array.from(image), labels }], sample: new Float32Array(0),
        norm, params, onProgress: () => undefined });
      const wall = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
      const rep = model.trainingReport() as { fitSeconds: number; trainAccuracy: number };
      const json = JSON.stringify(model.forest.toJSON());
      let hash = 0;
      for (let i = 0; i < json.length; i++) hash = (Math.imul(hash, 31) + json.charCodeAt(i)) | 0;
      await model.dispose();
      console.log(`threads ${threads}: train ${wall.toFixed(2)} s (fill+fit ${rep.fitSeconds.toFixed(2)}), process cpu ${((c.user + c.system) / 1e6).toFixed(2)} s, `
        + `train accuracy ${rep.trainAccuracy.toFixed(6)}, forest hash ${(hash >>> 0).toString(16)}; load ${loadavg()[0].toFixed(1)}`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
