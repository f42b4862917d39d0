// Time and peak memory of the 3-D filter bank (features/bank3d.ts) streaming a synthetic stack through the z ring
// buffer (features/volumeChunks.ts), as segmentation does: every feature of every slice, nothing kept.
// Run: node bench/features3d.mjs [--size 512] [--depth 200] [--spacing 1] [--select all|N]
// Prints seconds per slice, total seconds, the ring's slices and peak RSS; compares one slice with the 2-D bank.
import { computeFeatures, DEFAULT_FEATURE_OPTIONS } from '../src/core/features/bank';
import { FeatureBank3d } from '../src/core/features/bank3d';
import { SliceRing } from '../src/core/features/volumeChunks';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const S = Number(arg('--size', '512')), D = Number(arg('--depth', '200')), ratio = Number(arg('--spacing', '1'));
const n = S * S;

/** A foam-like slice: spheres on a grid, noise; computed per slice (the stack is never held). */
function slice(z: number): Float32Array {
  const out = new Float32Array(n);
  let seed = z * 7919 + 1;
  for (let i = 0; i < n; i++) {
    const x = i % S, y = (i / S) | 0;
    const dx = (x % 32) - 16, dy = (y % 32) - 16, dz = (z % 32) - 16;
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = (dx * dx + dy * dy + dz * dz < 144 ? 0.2 : 0.8) + 0.1 * (seed / 4294967296 - 0.5);
  }
  return out;
}

async function main() {
  const bank = new FeatureBank3d(S, S, DEFAULT_FEATURE_OPTIONS, ratio);
  const sel = bank.names.map((_, i) => i);
  const out = new Float32Array(sel.length * n);
  const ring = new SliceRing(D, bank.halo, async (z) => slice(z));
  // 2-D bank on one slice for comparison: one warm-up call, then the CPU time of 3 calls.
  const s0 = slice(0);
  computeFeatures(s0, S, S, DEFAULT_FEATURE_OPTIONS);
  const c2d = process.cpuUsage();
  for (let i = 0; i < 3; i++) computeFeatures(s0, S, S, DEFAULT_FEATURE_OPTIONS);
  const s2d = (process.cpuUsage(c2d).user + process.cpuUsage(c2d).system) / 1e6 / 3;
  const t0 = performance.now(), c0 = process.cpuUsage();
  let first = 0;
  for (let z = 0; z < D; z++) {
    bank.compute(await ring.centre(z), z, D, sel, out);
    if (z === 0) first = (performance.now() - t0) / 1000;
  }
  const total = (performance.now() - t0) / 1000;
  const cpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`3-D features ${S}x${S}x${D}, spacing ${ratio}: ${bank.names.length} features, halo ${bank.halo} (ring ${2 * bank.halo + 1} slices)`);
  console.log(`  ${(total / D).toFixed(3)} s per slice, ${total.toFixed(1)} s in all (first slice ${first.toFixed(2)} s; CPU ${(cpu / D).toFixed(3)} s per slice: wall time on a busy machine overstates); peak RSS ${rss.toFixed(0)} MB`);
  console.log(`  2-D bank, one slice (41 features, this thread): CPU ${s2d.toFixed(3)} s`);
}
main().catch((e) => { console.error(e); process.exit(1); });
