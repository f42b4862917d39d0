// Speed of the StackSeg random forest against the Python reference (bench/rf_ref.py: scipy filters + scikit-learn
// RandomForestClassifier, 30 trees, depth 8, n_jobs=-1), on the same data in the same run, alternating runs so that
// load from other processes hits both alike. Time = features of slice 0 + training + segmenting all 32 slices
// (features + prediction); stacks are read before the clock starts. Prints both, the best of --reps runs, and the ratio.
// StackSeg runs through the app's rf adapter with the default rf parameters (fill included) unless --set overrides them.
// Usage: node bench/rf_speed.mjs [--reps 2] [--variant hq] [--data DIR] [--python /usr/bin/python3] [--set key=value]...
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const arg = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const reps = Number(arg('--reps', '2'));
const common = ['--variant', arg('--variant', 'hq'), '--data', arg('--data', '/work/shared/data/foam')];
const python = arg('--python', '/usr/bin/python3');
// --set key=value: rf parameters for StackSeg (registry.ts), e.g. --set fill=none; default = the app's defaults.
const sets = args.flatMap((a, i) => (a === '--set' ? ['--set', args[i + 1]] : []));
const opts = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };
await esbuild.build({ ...opts, entryPoints: ['bench/rf_speed.ts'], outfile: 'bench/out/rf_speed.cjs' });
await esbuild.build({ ...opts, entryPoints: ['src/core/features/worker.ts'], outfile: 'bench/out/featureWorker.js' });

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
const ours = [], ref = [];
for (let i = 0; i < reps; i++) {
  ours.push(run(process.execPath, ['bench/out/rf_speed.cjs', ...common, ...sets]));
  ref.push(run(python, ['bench/rf_ref.py', ...common]));
}
const best = (rs) => rs.reduce((a, b) => (b.total_s < a.total_s ? b : a));
const fmt = (r) => `total ${r.total_s.toFixed(2)} s (features ${r.features_s.toFixed(2)}, train ${r.train_s.toFixed(2)}, segment ${r.segment_s.toFixed(2)}), foam F1 ${r.f1.toFixed(4)}`;
const o = best(ours), p = best(ref);
console.log(`StackSeg  (${o.threads} worker threads, fill=${o.fill}): ${fmt(o)}`);
console.log(`reference (scipy + sklearn n_jobs=${p.jobs}): ${fmt(p)}`);
console.log(`ratio StackSeg / reference: ${(o.total_s / p.total_s).toFixed(3)}  (goal <= 0.5)   all runs: ours ${ours.map((r) => r.total_s.toFixed(2)).join(' ')}, ref ${ref.map((r) => r.total_s.toFixed(2)).join(' ')}`);
