// Random Forest segmentation seconds per slice with 1 and 2 channels (`--set channel=all`) at a few slice sizes, with
// the app's rf adapter and default parameters: one forest per channel count, trained on a 256^2 slice of a synthetic
// 2-channel pattern, then slices segmented with the model's own concurrency (as the job engine does).
//   node bench/rf_channels.mjs [--sizes 512,1024] [--depth 6] [--threads 2] [--set key=value]...
import { loadavg } from 'node:os';
import { RandomForestSegmenter } from '../src/core/models/randomForest/randomForestSegmenter';
import { fitNormalization } from '../src/core/models/normalize';
import type { Normalization } from '../src/core/models/segmenter';
import { resolveParams } from '../src/shared/models/registry';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const sizes = arg('--sizes', '512,1024').split(',').map(Number), depth = Number(arg('--depth', '6'));
const threads = arg('--threads', '2');
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

/** C planes of a W x W slice z: channel 0 blobs in uint16 counts, channel 1 stripes on a 0..1 scale, plus noise. */
function slice(W: number, C: number, z: number): Float32Array {
  const n = W * W, out = new Float32Array(C * n);
  let s = 12345 + z;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) {
    const x = i % W, y = Math.floor(i / W);
    out[i] = 1000 + 800 * Math.sin(x * 0.11 + z) * Math.cos(y * 0.09) + 150 * rnd();
    if (C > 1) out[n + i] = 0.5 + 0.4 * Math.sin((x + y) * 0.05 + z) + 0.1 * rnd();
  }
  return out;
}

function normOf(C: number): Normalization {
  const img = slice(256, C, 0), n = 256 * 256;
  const channels = Array.from({ length: C }, (_, c) => ({ ...fitNormalization(img.subarray(c * n, (c + 1) * n)), channel: c }));
  const { channel: _, ...first } = channels[0];
  return C > 1 ? { ...first, channels } : first;
}

async function main() {
  console.log(`rf segmentation, threads=${threads}, ${depth} slices per size; load average ${load()}`);
  for (const C of [1, 2]) {
    const norm = normOf(C), w = 256, n = w * w;
    const image = slice(w, C, 0);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % 7 ? 0 : (image[i] > 1000) !== (C > 1 && image[n + i] > 0.5) ? 2 : 1));
    const params = resolveParams('rf', { ...overrides, threads });
    const trained = await RandomForestSegmenter.train({ width: w, height: w, slices: [{ z: 0, image, labels }], sample: new Float32Array(0), norm, params, onProgress: () => undefined });
    for (const W of sizes) {
      const model = new RandomForestSegmenter(trained.forest, trained.norm, trained.params);
      const slices = Array.from({ length: depth }, (_, z) => slice(W, C, z + 1));
      await model.predict(slices[0], W, W, false); // starts and warms the pool
      const cpu0 = process.cpuUsage(), t0 = performance.now();
      let next = 0;
      const inFlight = model.concurrency;
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < depth) { const z = next++; await model.predict(slices[z], W, W, false); }
      }));
      const seg = (performance.now() - t0) / 1000, c = process.cpuUsage(cpu0);
      await model.dispose();
      console.log(`${C} channel${C > 1 ? 's' : ''} ${W}^2: ${(seg / depth).toFixed(3)} s/slice (${inFlight} in flight, process cpu ${((c.user + c.system) / 1e6 / depth).toFixed(2)} s/slice); load ${load()}`);
    }
    await trained.dispose();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
