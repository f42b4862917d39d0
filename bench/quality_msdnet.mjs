// Foam benchmark table for StackSeg MSDNet against the reference Random Forest (seed 0) row.
// Usage: node bench/quality_msdnet.mjs [--epochs 200] [--pseudo] [--no-tta] [--variants hq,noisy] [--seed 0]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const REFERENCE_RF = { hq: 0.974, fewangles: 0.934, limitedrange: 0.852, noisy: 0.935, noisy_fewangles: 0.917, rings: 0.965 };
await esbuild.build({ entryPoints: ['bench/quality_msdnet.ts'], outfile: 'bench/out/quality_msdnet.cjs', bundle: true, platform: 'node',
  format: 'cjs', target: 'node20', logLevel: 'warning', external: ['@tensorflow/tfjs-node-gpu'] });
const r = spawnSync(process.execPath, ['bench/out/quality_msdnet.cjs', ...process.argv.slice(2)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);
const out = JSON.parse(r.stdout.trim().split('\n').pop());
const names = Object.keys(out.results);
const pad = (s, n = 16) => String(s).padEnd(n);
console.log(`MSDNet foam F1 (label 2 vs truth 1, mean over 32 slices); ${out.epochs} epochs, cosine lr, BN recompute, tta=${out.tta}, pseudoLabels=${out.pseudoLabels}, seed ${out.seed}`);
console.log(pad('', 22) + names.map((n) => pad(n)).join(''));
console.log(pad('StackSeg MSDNet', 22) + names.map((n) => pad(out.results[n].f1.toFixed(3))).join(''));
console.log(pad('reference RF seed 0', 22) + names.map((n) => pad(REFERENCE_RF[n]?.toFixed(3) ?? '-')).join(''));
console.log(pad('>= reference', 22) + names.map((n) => pad(out.results[n].f1 >= (REFERENCE_RF[n] ?? 1) ? 'yes' : 'no')).join(''));
console.log(pad('train s', 22) + names.map((n) => pad(out.results[n].train_s.toFixed(1))).join(''));
