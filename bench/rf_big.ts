// Random Forest at full size: a 2048x2048xDEPTH uint16 foam stack with truth (bench/big_phantom.ts), trained on the
// sparse labels of slice 0 (upsampled) with the app's rf adapter and default parameters, then every slice segmented
// through the worker pool (two slices in flight per worker, as the job engine does), for each thread count asked.
// Prints per thread count: train seconds (features, fit), segment seconds per slice, Mvoxel/s, CPU seconds, foam F1
// and the speed-up over the first thread count; then (with --cli) peak RSS of `stackseg run` on a stack written to
// disk, and (with --ref) the scikit-learn + scipy reference (bench/rf_ref.py) on the same stack.
//   node bench/rf_big.mjs [--depth 8] [--threads 1,2] [--factor 8] [--cli 256] [--ref 4] [--set key=value]...
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { SegmentationEvaluator } from '../src/core/metrics';
import { RandomForestSegmenter } from '../src/core/models/randomForest/randomForestSegmenter';
import { fitNormalization } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { writeStack } from '../src/core/tiff';
import { bigLabels, bigSlice, bigTruth, loadFoam, writeBigStack } from './big_phantom';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const depth = Number(arg('--depth', '8')), factor = Number(arg('--factor', '8'));
const threadList = arg('--threads', '1,2').split(',').map(Number);
const cliDepth = Number(arg('--cli', '0')), refDepth = Number(arg('--ref', '0'));
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

async function main() {
  const foam = await loadFoam();
  const W = foam.w * factor, H = foam.h * factor, n = W * H;
  const slices = Array.from({ length: Math.max(1, depth) }, (_, z) => bigSlice(foam, z, factor)); // --depth 0: CLI / reference only
  const labels = bigLabels(foam, factor);
  const norm = fitNormalization(Float32Array.from(slices[0].filter((_, i) => i % 31 === 0)));
  console.log(`stack ${W}x${H}x${depth} uint16 (foam x${factor}), ${labels.reduce((a, v) => a + (v ? 1 : 0), 0)} labelled pixels; load average ${load()}`);
  let base: number | undefined;
  for (const threads of depth > 0 ? threadList : []) {
    const params = resolveParams('rf', { ...overrides, threads: String(threads) });
    const t0 = performance.now();
    const model = await RandomForestSegmenter.train({ width: W, height: H, slices: [{ z: 0, image: Float32Array.from(slices[0]), labels }], sample: new Float32Array(0),
      norm, params, onProgress: () => undefined });
    const train = (performance.now() - t0) / 1000;
    const rep = model.trainingReport() as { featureSeconds: number; fitSeconds: number; threads: number };
    const cpu0 = process.cpuUsage(), t1 = performance.now();
    const out: Uint8Array[] = new Array(depth);
    let next = 0;
    await Promise.all(Array.from({ length: model.concurrency }, async () => {
      while (next < depth) { const z = next++; out[z] = (await model.predict(Float32Array.from(slices[z]), W, H, false)).labels; }
    }));
    const seg = (performance.now() - t1) / 1000, c = process.cpuUsage(cpu0);
    await model.dispose();
    const ev = new SegmentationEvaluator({ classes: [{ pred: 2, truth: 1 }] });
    for (let z = 0; z < depth; z++) ev.add(out[z], bigTruth(foam, z, factor));
    const mvox = (depth * n) / seg / 1e6;
    base ??= mvox;
    console.log(`threads ${threads} (pool ${rep.threads}): train ${train.toFixed(2)} s (features ${rep.featureSeconds.toFixed(2)}, fill+fit ${rep.fitSeconds.toFixed(2)}); `
      + `segment ${seg.toFixed(2)} s = ${(seg / depth).toFixed(3)} s/slice = ${mvox.toFixed(2)} Mvoxel/s (cpu ${((c.user + c.system) / 1e6).toFixed(1)} s, speed-up ${(mvox / base).toFixed(2)}x); `
      + `foam F1 ${ev.result().meanOverSlices[0].f1?.toFixed(4)}; load ${load()}`);
  }
  if (cliDepth > 0 || refDepth > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'stackseg-big-'));
    try {
      if (cliDepth > 0) {
        const f = await writeBigStack(dir, foam, factor, cliDepth);
        const cli = resolve(arg('--cli-path', 'dist/cli.js'));
        const r = await measure(process.execPath, [cli, 'run', '--image', f.image, '--labels', f.labels, '--truth', f.truth, '--class', '2=1', '--model', 'rf', '--out', join(dir, 'job'),
          ...Object.entries(overrides).flatMap(([k, v]) => ['--set', `${k}=${v}`])]);
        const job = (() => { try { return JSON.parse(readFileSync(join(dir, 'job', 'job.json'), 'utf8')); } catch { return undefined; } })();
        console.log(`job timings ${JSON.stringify(job?.timings)} summary ${JSON.stringify(job?.summary)?.slice(0, 400)}`);
        console.log(`stackseg run ${W}x${H}x${cliDepth}: exit ${r.code}, ${r.seconds.toFixed(1)} s (${(r.seconds / cliDepth).toFixed(2)} s/slice incl. training and I/O), peak RSS ${(r.peakKb / 1024).toFixed(0)} MB; load ${load()}`);
        rmSync(f.image); rmSync(f.truth);
      }
      if (refDepth > 0) {
        // rf_ref.py reads DIR/VARIANT.tif, DIR/sparse_labels_slice0.tif and DIR/truth.tif.
        await writeStack(join(dir, 'big.tif'), { width: W, height: H, depth: refDepth, dtype: 'uint16', getSlice: (z) => slices[z % depth] ?? bigSlice(foam, z, factor) });
        await writeStack(join(dir, 'truth.tif'), { width: W, height: H, depth: refDepth, dtype: 'uint8', getSlice: (z) => bigTruth(foam, z, factor) });
        await writeStack(join(dir, 'sparse_labels_slice0.tif'), { width: W, height: H, depth: 1, dtype: 'uint8', getSlice: () => labels });
        const t0 = performance.now();
        const r = spawnSync(arg('--python', '/usr/bin/python3'), ['bench/rf_ref.py', '--data', dir, '--variant', 'big'], { encoding: 'utf8' });
        const wall = (performance.now() - t0) / 1000;
        const last = r.stdout.trim().split('\n').pop() ?? '';
        if (r.status !== 0) console.log(`reference failed: ${r.stderr.slice(-400)}`);
        else {
          const j = JSON.parse(last);
          console.log(`reference (scipy + sklearn, ${W}x${H}x${refDepth}): features ${j.features_s.toFixed(1)} s, train ${j.train_s.toFixed(1)} s, segment ${j.segment_s.toFixed(1)} s `
            + `= ${(j.segment_s / refDepth).toFixed(2)} s/slice = ${((refDepth * n) / j.segment_s / 1e6).toFixed(2)} Mvoxel/s, foam F1 ${j.f1.toFixed(4)} (process ${wall.toFixed(0)} s); load ${load()}`);
        }
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }
}

/** Wall seconds and peak RSS (VmHWM, worker threads included) of a child process. */
function measure(cmd: string, argv: string[]): Promise<{ code: number | null; seconds: number; peakKb: number }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    let peakKb = 0;
    const timeline: string[] = []; // RSS every 5 s: where the peak happens (training or segmentation)
    let lastMark = 0;
    const poll = setInterval(() => {
      try {
        const st = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const m = /VmHWM:\s+(\d+) kB/.exec(st), rss = /VmRSS:\s+(\d+) kB/.exec(st);
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
        const t = (performance.now() - t0) / 1000;
        if (rss && t - lastMark >= 5) { lastMark = t; timeline.push(`${t.toFixed(0)}s:${(Number(rss[1]) / 1024).toFixed(0)}`); }
      } catch { /* exited */ }
    }, 100);
    child.on('error', fail);
    child.on('close', (code) => { clearInterval(poll); if (timeline.length) console.log(`RSS MB over time: ${timeline.join(' ')}`); done({ code, seconds: (performance.now() - t0) / 1000, peakKb }); });
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
