// Half-grid large sigmas (FeatureOptions.halfScaleFrom, src/core/features/halfScale.ts) against the exact bank on one
// big foam slice: CPU seconds of the 41-feature bank both ways, and per half-grid feature the error relative to the
// exact plane's spread (RMS error / std, and max |error| / std).
//   node bench/run.mjs half_scale [--factor 8] [--from 3]
import { computeFeatures, DEFAULT_FEATURE_OPTIONS, featureNames, type FeatureOptions } from '../src/core/features/bank';
import { fitNormalization, normalizeSlice } from '../src/core/models/normalize';
import { bigSlice, loadFoam } from './big_phantom';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const factor = Number(arg('--factor', '8')), from = Number(arg('--from', '3'));

/** Best CPU seconds of 3 runs after a warm-up (engine, kernels, JIT), writing into `out` (no 688 MB allocations). */
function cpu(f: () => void): number {
  f();
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  return best;
}

async function main() {
  const foam = await loadFoam();
  const img = bigSlice(foam, 0, factor);
  const W = foam.w * factor, H = foam.h * factor, n = W * H;
  const x = normalizeSlice(Float32Array.from(img), fitNormalization(img.filter((_, i) => i % 97 === 0)));
  const exactOpts: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, halfScaleFrom: 0 };
  const halfOpts: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, halfScaleFrom: from };
  const exact = new Float32Array(41 * n), half = new Float32Array(41 * n);
  const tExact = cpu(() => computeFeatures(x, W, H, exactOpts, undefined, exact));
  const tHalf = cpu(() => computeFeatures(x, W, H, halfOpts, undefined, half));
  console.log(`${W}x${H}, 41 features: exact cpu ${tExact.toFixed(3)} s, halfScaleFrom=${from} cpu ${tHalf.toFixed(3)} s (${(tExact / tHalf).toFixed(2)}x)`);
  console.log('feature               rms/std    max/std  (interior) rms/std  max/std  (even pixels) rms/std max/std');
  featureNames(exactOpts).forEach((name, f) => {
    const sigma = Number(name.slice(name.lastIndexOf('_s') + 2));
    if (!(sigma >= from)) return;
    // Whole plane, and the interior (40 pixels from every border), where the half grid's reflection does not reach.
    const stats = (b: number, step = 1) => {
      let s = 0, s2 = 0, e2 = 0, emax = 0, m = 0;
      for (let y = b; y < H - b; y += step) for (let i = f * n + y * W + b; i < f * n + y * W + W - b; i += step) {
        const v = exact[i], e = half[i] - v;
        s += v; s2 += v * v; e2 += e * e; emax = Math.max(emax, Math.abs(e)); m++;
      }
      const std = Math.sqrt(Math.max(1e-30, s2 / m - (s / m) ** 2));
      return `${(Math.sqrt(e2 / m) / std).toExponential(2).padStart(9)}  ${(emax / std).toExponential(2).padStart(9)}`;
    };
    console.log(`${name.padEnd(20)} ${stats(0)}  ${stats(40)}  ${stats(40, 2)}`);
  });
}
main().catch((e) => { console.error(e); process.exit(1); });
