// Event-loop delay of the thread that runs the viewer's slice server (the extension host) while a user sweeps
// through a 2048 x 2048 x 20 uint16 stack: levels read in this thread (CachedLevels, the old way) against levels
// read in the level worker (WorkerLevels, dist/levelWorker.js). Prints p50/p99/max delay and slice latencies.
//   npm run build && flock /tmp/heavy.lock node bench/run.mjs slice_server_loop [-- --sweeps 2]

import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WorkerLevels } from '../src/core/levels/client';
import { CachedLevels, type LevelReader } from '../src/core/levels/levels';
import { previewLevel } from '../src/shared/pyramid';
import { openStack, writeStack } from '../src/core/tiff';
import { SliceServer } from '../src/host/sliceServer';

const WORKER = resolve(__dirname, '../../dist/levelWorker.js');
const SIZE = 2048, DEPTH = 20;
const STEP_MS = 33; // a held arrow key: one slice per frame or two
const args = process.argv.slice(2);
const sweeps = Number(args[args.indexOf('--sweeps') + 1]) || 2;

async function stackFile(compression: 'none' | 'deflate'): Promise<string> {
  const dir = '/tmp/stackseg-bench';
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/u16_${DEPTH}x${SIZE}x${SIZE}_${compression}.tif`;
  if (!existsSync(path)) {
    await writeStack(path, {
      width: SIZE, height: SIZE, depth: DEPTH, dtype: 'uint16',
      getSlice: (z) => Uint16Array.from({ length: SIZE * SIZE }, (_, i) => (((i % SIZE) * 7 + (i >> 11) * 3 + z * 11) & 0xfff) + ((i * 2654435761) >>> 28)),
    }, { compression });
  }
  return path;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function sweep(path: string, mode: 'host thread' | 'worker') {
  const stack = await openStack(path);
  const levels: LevelReader = mode === 'worker' ? WorkerLevels.create(WORKER, stack.info)! : new CachedLevels(stack);
  if (!levels) throw new Error(`${WORKER} is missing: npm run build first`);
  const preview = previewLevel(SIZE, SIZE);
  const asked = new Map<string, number>();
  const latencies: number[] = [];
  const reads: number[] = [];
  let served = 0;
  let skipped = 0;
  const server = new SliceServer(levels, {
    slice: (z, _px, readMs, shape) => {
      served++;
      reads.push(readMs);
      const t = asked.get(`${z}@${shape.level}`);
      asked.delete(`${z}@${shape.level}`);
      if (t !== undefined && shape.level === preview) latencies.push(performance.now() - t);
      return new Promise((r) => setImmediate(r)); // postMessage resolves once handed on
    },
    error: (z, e) => { throw new Error(`slice ${z}: ${String(e)}`); },
    skipped: (z, f) => { skipped++; asked.delete(`${z}@${f}`); },
  });
  // `pressedAt`: when the key was pressed (the step's due time): a blocked loop delays seeing it, and that counts.
  const ask = (z: number, priority: 'show' | 'prefetch', f: number, pressedAt: number) => {
    if (z < 0 || z >= DEPTH) return;
    if (priority === 'show' && !asked.has(`${z}@${f}`)) asked.set(`${z}@${f}`, pressedAt);
    server.request(z, priority, f);
  };
  const out: string[] = [];
  for (let s = 0; s < sweeps; s++) {
    asked.clear();
    latencies.length = 0;
    reads.length = 0;
    served = 0;
    skipped = 0;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const t0 = performance.now();
    // Down the stack and back, as the webview asks: the focus at the preview and display level, two previews ahead.
    const path = [...Array(DEPTH).keys(), ...[...Array(DEPTH).keys()].reverse()];
    let dir = 1;
    for (let i = 0; i < path.length; i++) {
      const z = path[i];
      if (i > 0) dir = Math.sign(z - path[i - 1]) || dir;
      const due = t0 + i * STEP_MS;
      ask(z, 'show', preview, due);
      ask(z, 'show', preview / 2, due);
      ask(z + dir, 'prefetch', preview, due);
      ask(z + 2 * dir, 'prefetch', preview, due);
      server.focus(z);
      await new Promise((r) => setTimeout(r, Math.max(0, due + STEP_MS - performance.now())));
    }
    while (server.pending().length > 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    delay.disable();
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    const lat = [...latencies].sort((a, b) => a - b);
    const rd = [...reads].sort((a, b) => a - b);
    out.push(`  sweep ${s + 1}${s === 0 ? ' (decoding)' : ' (from caches)'}: ${(performance.now() - t0).toFixed(0)} ms, event-loop delay p50=${ms(delay.percentile(50))} p99=${ms(delay.percentile(99))} max=${ms(delay.max)} ms; `
      + `key->preview p50=${pct(lat, 50).toFixed(1)} p95=${pct(lat, 95).toFixed(1)} ms (n=${lat.length}); read p50=${pct(rd, 50).toFixed(1)} ms; ${served} served, ${skipped} dropped`);
  }
  server.dispose();
  await stack.close();
  console.log(`${mode}:\n${out.join('\n')}`);
}

async function main() {
  for (const compression of ['none', 'deflate'] as const) {
    const path = await stackFile(compression);
    console.log(`\n${SIZE}x${SIZE}x${DEPTH} uint16, ${compression}, a slice every ${STEP_MS} ms`);
    for (const mode of ['host thread', 'worker'] as const) await sweep(path, mode);
  }
}

void main();
