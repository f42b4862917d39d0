// Slurm runner vs local runner on a foam stack (rf): wall time and overhead, per-chunk segmentation time and merge
// cost, and from those the expected time for a 2048x2048x2000 stack on 1, 8 and 64 nodes.
//   scripts/slurm-cluster.sh start && npm run build && SLURM_CONF=/tmp/stackseg-slurm/slurm.conf node bench/run.mjs slurm_scaling [--image PATH]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli.js');
const FOAM = resolve(__dirname, '../../../shared/data/foam');
const argImage = process.argv.indexOf('--image');
const image = argImage > 0 ? resolve(process.argv[argImage + 1]) : join(FOAM, 'hq.tif');
const labels = join(FOAM, 'sparse_labels_slice0.tif');

function stackseg(args: string[]): { seconds: number; json: any } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stackseg ${args[0]} failed: ${r.stderr}`);
  return { seconds: (performance.now() - t0) / 1000, json: JSON.parse(r.stdout) };
}

const dir = mkdtempSync(join(tmpdir(), 'stackseg-slurm-bench-'));
try {
  const common = ['--image', image, '--labels', labels, '--model', 'rf', '--set', 'seed=0'];
  const local = stackseg(['run', ...common, '--out', join(dir, 'local')]);
  const slurm = stackseg(['run', ...common, '--runner', 'slurm', '--chunks', '2', '--out', join(dir, 'slurm')]);
  const outDir = join(dir, 'slurm', 'slurm');
  const chunkSeconds = readdirSync(outDir).filter((f) => f.startsWith('segment-') && f.endsWith('.out')).map((f) => {
    const text = readFileSync(join(outDir, f), 'utf8');
    const json = JSON.parse(text.slice(text.indexOf('{\n  "mask"')));
    return { slices: json.slices[1] - json.slices[0], seconds: json.seconds as number };
  });
  const trainSeconds = slurm.json.timings.train as number, merge = slurm.json.timings.merge as number;
  const info = stackseg(['info', image]).json;
  // Both array tasks ran at once on this one node: its throughput is all slices over the slower chunk's time.
  const perSlice = Math.max(...chunkSeconds.map((c) => c.seconds)) / chunkSeconds.reduce((a, c) => a + c.slices, 0);
  const sliceBytes = info.width * info.height;
  const mergePerByte = merge / (sliceBytes * info.depth);
  console.log(`stack ${info.width}x${info.height}x${info.depth} ${info.dtype}; rf 30 trees depth 8`);
  console.log(`local runner:  wall ${local.seconds.toFixed(1)} s (train ${local.json.timings.train.toFixed(1)} s, segment ${local.json.timings.segment.toFixed(1)} s)`);
  console.log(`slurm runner:  wall ${slurm.seconds.toFixed(1)} s (train ${trainSeconds.toFixed(1)} s, chunks ${chunkSeconds.map((c) => `${c.slices} slices ${c.seconds.toFixed(1)} s`).join(', ')}, merge ${merge.toFixed(2)} s)`);
  console.log(`slurm overhead vs local: ${(slurm.seconds - local.seconds).toFixed(1)} s (${((slurm.seconds / local.seconds - 1) * 100).toFixed(0)} %) on one 2-core node; both array tasks share it`);
  // Extrapolation: per-slice cost scales with pixels; each node runs one array task using all its cores like here.
  const bigSlices = 2000, scale = (2048 * 2048) / (info.width * info.height);
  const perBigSlice = perSlice * scale;
  const mergeBig = mergePerByte * 2048 * 2048 * bigSlices;
  console.log(`\nexpected for 2048x2048x2000 (per slice ${perBigSlice.toFixed(2)} s on a node like this one, merge ${mergeBig.toFixed(0)} s, training ~${trainSeconds.toFixed(0)} s + queue):`);
  for (const nodes of [1, 8, 64]) {
    const seg = (bigSlices / nodes) * perBigSlice;
    console.log(`  ${String(nodes).padStart(2)} node(s): segment ${(seg / 60).toFixed(1)} min + merge ${(mergeBig / 60).toFixed(1)} min = ${((seg + mergeBig + trainSeconds) / 60).toFixed(1)} min`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
