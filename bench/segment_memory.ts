// Segmenting streams slices: peak RSS of `stackseg run` on a 512x512xDEPTH float32 stack stays bounded.
//   npm run build && node bench/run.mjs segment_memory [--depth 1000] [--rf-depth 100]
// Prints the stack size, wall time and peak RSS (VmHWM of the CLI process, worker threads included).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeSample } from '../src/core/sample';
import { writeStack } from '../src/core/tiff/writer';

const arg = (k: string, d: number) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
const DEPTH = arg('depth', 1000), RF_DEPTH = arg('rf-depth', 100), W = 512;
const CLI = resolve(__dirname, '../../dist/cli.js');

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-mem-'));
  try {
    const tile = makeSample({ width: 128, height: 128, depth: 8, seed: 3 });
    const tiled = (src: Float32Array | Uint8Array, z: number, out: Float32Array | Uint8Array) => {
      const n = 128 * 128, off = (z % tile.depth) * n;
      for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) out[y * W + x] = src[off + (y % 128) * 128 + (x % 128)];
      return out;
    };
    const image = join(dir, 'big.tif'), labels = join(dir, 'big.labels.tif');
    await writeStack(image, { width: W, height: W, depth: DEPTH, dtype: 'float32', getSlice: (z) => tiled(tile.image, z, new Float32Array(W * W)) as Float32Array });
    await writeStack(labels, { width: W, height: W, depth: 1, dtype: 'uint8', getSlice: () => tiled(tile.labels, 0, new Uint8Array(W * W)) as Uint8Array });
    console.log(`stack ${W}x${W}x${DEPTH} float32, ${(statSync(image).size / 2 ** 30).toFixed(2)} GiB`);
    await measure('threshold', ['run', '--image', image, '--model', 'threshold', '--out', join(dir, 'job-threshold')]);
    const rfImage = join(dir, 'rf.tif');
    await writeStack(rfImage, { width: W, height: W, depth: RF_DEPTH, dtype: 'float32', getSlice: (z) => tiled(tile.image, z, new Float32Array(W * W)) as Float32Array });
    await measure(`rf (${RF_DEPTH} slices)`, ['run', '--image', rfImage, '--labels', labels, '--model', 'rf', '--out', join(dir, 'job-rf')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(name: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    let peak = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]));
      } catch { /* exited */ }
    }, 50);
    child.on('error', fail);
    child.on('close', (code) => {
      clearInterval(poll);
      console.log(`${name.padEnd(20)} exit ${code}  ${((performance.now() - t0) / 1000).toFixed(1)} s  peak RSS ${(peak / 1024).toFixed(0)} MB`);
      done();
    });
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
