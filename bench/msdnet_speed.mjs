// Speed of StackSeg's MSDNet (tfjs) against a PyTorch CPU MSDNet of the same shape (bench/msdnet_ref.py), in the same
// run, alternating so load from other processes hits both alike. Time per epoch = one full 256x256 forward +
// backward + Adam step. Prints both (best of --reps runs of the medians) and the ratio.
// Usage: node bench/msdnet_speed.mjs [--reps 2] [--epochs 20] [--size 256] [--backend auto] [--python /usr/bin/python3]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const arg = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const reps = Number(arg('--reps', '2'));
const common = ['--epochs', arg('--epochs', '20'), '--size', arg('--size', '256')];
const python = arg('--python', '/usr/bin/python3');
await esbuild.build({ entryPoints: ['bench/msdnet_speed.ts'], outfile: 'bench/out/msdnet_speed.cjs', bundle: true, platform: 'node',
  format: 'cjs', target: 'node20', logLevel: 'warning', external: ['@tensorflow/tfjs-node-gpu'] });

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
// StackSeg's step runs on one thread; PyTorch is timed with 1 thread (same resources) and with 2 (all cores here).
const ours = [], ref = [], ref2 = [];
for (let i = 0; i < reps; i++) {
  ours.push(run(process.execPath, ['bench/out/msdnet_speed.cjs', ...common, '--backend', arg('--backend', 'auto')]));
  ref.push(run(python, ['bench/msdnet_ref.py', ...common, '--threads', '1']));
  ref2.push(run(python, ['bench/msdnet_ref.py', ...common, '--threads', '2']));
}
const best = (rs) => rs.reduce((a, b) => (b.median_s < a.median_s ? b : a));
const o = best(ours), p = best(ref), p2 = best(ref2);
console.log(`MSDNet ${o.size}x${o.size}, 12 layers, width 1, one epoch = forward + backward + Adam step (median over ${o.epochs} epochs, best of ${reps})`);
console.log(`  StackSeg (${o.engine}, tfjs backend ${o.backend}, 1 thread): ${o.median_s.toFixed(3)} s/epoch`);
console.log(`  PyTorch ${p.torch} CPU (${p.threads} thread${p.threads > 1 ? 's' : ''}): ${p.median_s.toFixed(3)} s/epoch`);
console.log(`  PyTorch ${p2.torch} CPU (${p2.threads} threads): ${p2.median_s.toFixed(3)} s/epoch`);
console.log(`  ratio StackSeg / PyTorch: ${(o.median_s / p.median_s).toFixed(2)} same threads, ${(o.median_s / p2.median_s).toFixed(2)} vs 2 threads (< 1 is faster)`);
