// StackSeg side of bench/msdnet_speed.mjs: trains MSDNet (12 layers, width 1, dilations 1..6, Adam) on one random
// SIZE x SIZE slice with about 2/3 of the pixels labelled (as msdnet_ref.py) and prints one JSON line: the median time
// of one epoch (= one forward + backward + Adam step on the whole slice, with a random flip/rotation).
import { trainMsdnet } from '../src/core/models/msdnet/msdnet';
import { initBackend, type BackendPreference } from '../src/core/models/tfBackend';
import { mulberry32 } from '../src/core/random';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const epochs = Number(arg('--epochs', '20'));
const size = Number(arg('--size', '256'));
const backend = arg('--backend', 'auto') as BackendPreference;

async function main() {
  const info = await initBackend(backend);
  const rand = mulberry32(0);
  const image = Float32Array.from({ length: size * size }, () => rand());
  const labels = Uint8Array.from({ length: size * size }, () => Math.floor(rand() * 3)); // 0 = unlabelled
  const stamps: number[] = [];
  const t0 = performance.now();
  const model = await trainMsdnet([{ image, labels, width: size, height: size }], { epochs, backend, bnRecompute: false }, () => stamps.push(performance.now()));
  const times = stamps.map((t, i) => (t - (i ? stamps[i - 1] : t0)) / 1000);
  const steady = (times.length > 4 ? times.slice(2) : times).sort((a, b) => a - b);
  console.log(JSON.stringify({ impl: 'stackseg', engine: model.trainingInfo?.engine, backend: info.backend, size, epochs, median_s: steady[steady.length >> 1],
    mean_s: steady.reduce((a, b) => a + b, 0) / steady.length }));
}
main().catch((e) => { console.error(e); process.exit(1); });
