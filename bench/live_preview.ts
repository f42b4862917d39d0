// Live preview latency: stroke end -> prediction back from the preview worker (dist/previewWorker.js), on 512x512
// and 2048x2048 slices. First stroke on a slice includes its features; later strokes only train + predict.
//   npm run build && node bench/run.mjs live_preview

import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { makeSample } from '../src/core/sample';
import type { PreviewMethods } from '../src/core/models/previewWorker';
import { RpcClient } from '../src/shared/rpc';

const WORKER = resolve(__dirname, '../../dist/previewWorker.js');

function tile(src: Float32Array | Uint8Array, sw: number, w: number, out: Float32Array | Uint8Array) {
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) out[y * w + x] = src[(y % sw) * sw + (x % sw)];
  return out;
}

async function measure(size: number) {
  const s = makeSample({ width: 512, height: 512, depth: 1, seed: 5 });
  const image = tile(s.image, 512, size, new Float32Array(size * size)) as Float32Array;
  const allLabels = tile(s.labels, 512, size, new Uint8Array(size * size)) as Uint8Array;
  const worker = new Worker(WORKER);
  const rpc = new RpcClient<PreviewMethods>((m, t) => worker.postMessage(m, t));
  worker.on('message', (m) => rpc.receive(m));
  const ask = async (labels: Uint8Array) => {
    const t0 = performance.now();
    const r = await rpc.call('predict', { labels, width: size, height: size });
    return { ms: performance.now() - t0, r };
  };
  rpc.notify('image', { key: `bench-${size}`, image, width: size, height: size });
  // Strokes revealed progressively: the first k rows of the sparse labels.
  const times: number[] = [];
  let first = 0;
  for (let k = 1; k <= 6; k++) {
    const partial = allLabels.slice();
    partial.fill(0, Math.floor((size * size * k) / 6));
    const { ms } = await ask(partial);
    if (k === 1) first = ms; else times.push(ms);
  }
  await worker.terminate();
  times.sort((a, b) => a - b);
  console.log(`${size}x${size}: first stroke on the slice ${first.toFixed(0)} ms (features included); later strokes median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms`);
}

(async () => { for (const s of [512, 2048]) await measure(s); })().catch((e) => { console.error(e); process.exit(1); });
