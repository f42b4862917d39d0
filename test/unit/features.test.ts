import { describe, expect, it } from 'vitest';
import { computeFeatures, DEFAULT_FEATURE_OPTIONS, featureCount, featureNames } from '../../src/core/features/bank';
import { convolveColumns, convolveRows, gaussianDerivatives, gaussianKernel1d, gaussianSmooth, reflectIndex } from '../../src/core/features/filters';
import { FeatureEngine } from '../../src/core/features/featureEngine';
import { fitNormalization, normalizeSlice } from '../../src/core/models/normalize';

const W = 40, H = 36;
const image = (f: (x: number, y: number) => number) => Float32Array.from({ length: W * H }, (_, i) => f(i % W, Math.floor(i / W)));
/** Max |a - v| over pixels at least `margin` from the border (where reflection does not reach). */
function maxErrInterior(a: Float32Array, v: number | ((x: number, y: number) => number), margin: number): number {
  let e = 0;
  for (let y = margin; y < H - margin; y++) for (let x = margin; x < W - margin; x++) {
    const want = typeof v === 'number' ? v : v(x, y);
    e = Math.max(e, Math.abs(a[y * W + x] - want));
  }
  return e;
}

describe('filters', () => {
  it('kernel radius and sum follow scipy (truncate 4)', () => {
    for (const s of [0.7, 1, 1.6, 3.5, 5]) {
      const k = gaussianKernel1d(s, 0);
      expect(k.length).toBe(2 * Math.floor(4 * s + 0.5) + 1);
      expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
  });

  it('reflect index is half-sample symmetric (scipy "reflect")', () => {
    expect([-3, -2, -1, 0, 3, 4, 5, 6].map((p) => reflectIndex(p, 4))).toEqual([2, 1, 0, 0, 3, 3, 2, 1]);
  });

  it('Gaussian of a constant is the constant, also at the borders', () => {
    const g = gaussianSmooth(image(() => 3.25), W, H, 3.5);
    expect(maxErrInterior(g, 3.25, 0)).toBeLessThan(1e-5);
  });

  it('Gaussian of a delta is the sampled 2-D kernel and sums to 1', () => {
    const d = new Float32Array(W * H); d[18 * W + 20] = 1;
    const g = gaussianSmooth(d, W, H, 1.6);
    const k = gaussianKernel1d(1.6, 0);
    const r = (k.length - 1) / 2;
    expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(g[18 * W + 20]).toBeCloseTo(k[r] * k[r], 6);
    expect(g[(18 + 2) * W + 20 - 3]).toBeCloseTo(k[r + 2] * k[r - 3], 6);
  });

  it('derivative of a linear ramp is its slope; second derivatives vanish', () => {
    for (const s of [0.7, 1.6, 3.5]) {
      const d = gaussianDerivatives(image((x, y) => 0.5 * x - 2 * y + 1), W, H, s);
      const m = Math.floor(4 * s + 0.5);
      expect(maxErrInterior(d.gx, 0.5, m)).toBeLessThan(1e-4);
      expect(maxErrInterior(d.gy, -2, m)).toBeLessThan(1e-4);
      expect(maxErrInterior(d.gxx, 0, m)).toBeLessThan(1e-4);
      expect(maxErrInterior(d.gxy, 0, m)).toBeLessThan(1e-4);
    }
  });

  it('Hessian of a quadratic is constant (x^2 -> gxx 2, xy -> gxy 1)', () => {
    for (const s of [0.7, 1, 5]) {
      const m = Math.floor(4 * s + 0.5);
      const q = gaussianDerivatives(image((x, y) => (x - 20) ** 2 + 3 * (y - 18) ** 2), W, H, s);
      expect(maxErrInterior(q.gxx, 2, m)).toBeLessThan(2e-3);
      expect(maxErrInterior(q.gyy, 6, m)).toBeLessThan(5e-3);
      const c = gaussianDerivatives(image((x, y) => (x - 20) * (y - 18)), W, H, s);
      expect(maxErrInterior(c.gxy, 1, m)).toBeLessThan(1e-3);
    }
  });

  it('row and column passes agree on transposed images', () => {
    const a = image((x, y) => Math.sin(x * 0.7) + Math.cos(y * 1.3) + ((x * y) % 5));
    const k = gaussianKernel1d(1.6, 1);
    const rows = convolveRows(a, W, H, k);
    const t = new Float32Array(W * H); for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) t[x * H + y] = a[y * W + x];
    const cols = convolveColumns(t, H, W, k);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect(cols[x * H + y]).toBeCloseTo(rows[y * W + x], 5);
  });
});

describe('filter bank', () => {
  it('has the 41 ilastik features with stable names', () => {
    expect(featureCount(DEFAULT_FEATURE_OPTIONS)).toBe(41);
    const names = featureNames(DEFAULT_FEATURE_OPTIONS);
    expect(names[0]).toBe('raw');
    expect(names.slice(1, 9)).toEqual(['gaussian_s0.7', 'gradmag_s0.7', 'log_s0.7', 'dog_s0.7', 'hessian_eig1_s0.7', 'hessian_eig2_s0.7', 'stensor_eig1_s0.7', 'stensor_eig2_s0.7']);
    expect(featureNames({ raw: false, families: ['hessian', 'gaussian'], sigmas: [2] })).toEqual(['gaussian_s2', 'hessian_eig1_s2', 'hessian_eig2_s2']);
  });

  it('gives analytic values on a ramp and a paraboloid', () => {
    const opts = { raw: true, families: ['gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessian', 'structureTensor'] as const, sigmas: [1] };
    const names = featureNames({ ...opts, families: [...opts.families] });
    const plane = (f: Float32Array, name: string) => f.subarray(names.indexOf(name) * W * H, (names.indexOf(name) + 1) * W * H);
    const ramp = computeFeatures(image((x, y) => 3 * x + 4 * y), W, H, { ...opts, families: [...opts.families] });
    expect(maxErrInterior(plane(ramp, 'gradmag_s1'), 5, 6)).toBeLessThan(1e-3);
    expect(maxErrInterior(plane(ramp, 'dog_s1'), 0, 6)).toBeLessThan(1e-3);
    // Structure tensor of a ramp: gradient outer product g g^T has eigenvalues |g|^2 and 0.
    expect(maxErrInterior(plane(ramp, 'stensor_eig1_s1'), 25, 6)).toBeLessThan(1e-2);
    expect(maxErrInterior(plane(ramp, 'stensor_eig2_s1'), 0, 6)).toBeLessThan(1e-3);
    const bowl = computeFeatures(image((x, y) => (x - 20) ** 2 - 0.5 * (y - 18) ** 2), W, H, { ...opts, families: [...opts.families] });
    expect(maxErrInterior(plane(bowl, 'log_s1'), 1, 6)).toBeLessThan(3e-3);
    expect(maxErrInterior(plane(bowl, 'hessian_eig1_s1'), 2, 6)).toBeLessThan(3e-3);
    expect(maxErrInterior(plane(bowl, 'hessian_eig2_s1'), -1, 6)).toBeLessThan(3e-3);
    expect(Array.from(plane(bowl, 'raw').subarray(0, 3))).toEqual([400 - 162, 361 - 162, 324 - 162]);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => computeFeatures(new Float32Array(4), 2, 2, { raw: false, families: [], sigmas: [] })).toThrow(/feature set is empty/);
    expect(() => computeFeatures(new Float32Array(4), 2, 2, { raw: true, families: ['gaussian'], sigmas: [-1] })).toThrow(/sigma/);
    expect(() => computeFeatures(new Float32Array(3), 2, 2, DEFAULT_FEATURE_OPTIONS)).toThrow(/expected 2x2/);
  });
});

describe('feature engine (shared passes, selection)', () => {
  const noise = Float32Array.from({ length: W * H }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011) + (i % 7) * 0.1);
  const all = computeFeatures(noise, W, H, DEFAULT_FEATURE_OPTIONS);
  const names = featureNames(DEFAULT_FEATURE_OPTIONS);
  const plane = (name: string) => all.subarray(names.indexOf(name) * W * H, (names.indexOf(name) + 1) * W * H);
  const maxDiff = (a: ArrayLike<number>, b: (i: number) => number) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b(i))); return m; };

  it('equals the separate-pass filters (filters.ts) at every sigma, borders included', () => {
    for (const s of DEFAULT_FEATURE_OPTIONS.sigmas) {
      const d = gaussianDerivatives(noise, W, H, s);
      const inner = gaussianSmooth(noise, W, H, 0.66 * s);
      expect(maxDiff(plane(`gaussian_s${s}`), (i) => d.g[i])).toBeLessThan(1e-5);
      expect(maxDiff(plane(`gradmag_s${s}`), (i) => Math.hypot(d.gx[i], d.gy[i]))).toBeLessThan(1e-5);
      expect(maxDiff(plane(`log_s${s}`), (i) => d.gxx[i] + d.gyy[i])).toBeLessThan(1e-5);
      expect(maxDiff(plane(`dog_s${s}`), (i) => d.g[i] - inner[i])).toBeLessThan(1e-5);
      const half = (i: number) => 0.5 * (d.gxx[i] + d.gyy[i]), root = (i: number) => Math.hypot(0.5 * (d.gxx[i] - d.gyy[i]), d.gxy[i]);
      expect(maxDiff(plane(`hessian_eig1_s${s}`), (i) => half(i) + root(i))).toBeLessThan(1e-5);
      expect(maxDiff(plane(`hessian_eig2_s${s}`), (i) => half(i) - root(i))).toBeLessThan(1e-5);
    }
  });

  it('gives the same values from the WebAssembly SIMD passes and the JS passes', () => {
    const simd = new FeatureEngine(W, H, DEFAULT_FEATURE_OPTIONS);
    const js = new FeatureEngine(W, H, DEFAULT_FEATURE_OPTIONS, { simd: false });
    expect(simd.usesSimd).toBe(true);
    expect(js.usesSimd).toBe(false);
    expect(new FeatureEngine(W + 2, H, DEFAULT_FEATURE_OPTIONS).usesSimd).toBe(false); // rows must be a multiple of 4
    const select = names.map((_, i) => i);
    const a = new Float32Array(all.length), b = new Float32Array(all.length);
    simd.compute(noise, select, a);
    js.compute(noise, select, b);
    expect(maxDiff(a, (i) => b[i])).toBeLessThan(1e-5);
    expect(maxDiff(a, (i) => all[i])).toBe(0);
    // Odd widths take the JS path and still match the separate-pass filters.
    const w2 = W + 2, odd = Float32Array.from({ length: w2 * H }, (_, i) => Math.cos(i * 0.21));
    const g = computeFeatures(odd, w2, H, { raw: false, families: ['gaussian'], sigmas: [1.6] });
    const want = gaussianSmooth(odd, w2, H, 1.6);
    expect(maxDiff(g, (i) => want[i])).toBeLessThan(1e-5);
  });

  it('computes a selection bit-identical to the same planes of the full set, in select order', () => {
    const select = [40, 3, 0, 17, 12, 13, 31];
    const some = computeFeatures(noise, W, H, DEFAULT_FEATURE_OPTIONS, select);
    expect(some.length).toBe(select.length * W * H);
    select.forEach((f, j) => expect(some.subarray(j * W * H, (j + 1) * W * H)).toEqual(all.subarray(f * W * H, (f + 1) * W * H)));
    expect(() => computeFeatures(noise, W, H, DEFAULT_FEATURE_OPTIONS, [41])).toThrow(/feature index/);
  });
});

describe('normalisation', () => {
  it('maps percentiles to 0 and 1 for uint16 and float alike', () => {
    const u16 = Uint16Array.from({ length: 10001 }, (_, i) => i * 6);
    const f32 = Float32Array.from(u16, (v) => v / 60000);
    const nu = fitNormalization(u16, { lowPercentile: 1, highPercentile: 99 });
    const nf = fitNormalization(f32, { lowPercentile: 1, highPercentile: 99 });
    expect(nu.low).toBeCloseTo(600, 6); expect(nu.high).toBeCloseTo(59400, 6);
    const a = normalizeSlice(u16, nu), b = normalizeSlice(f32, nf);
    for (let i = 0; i < a.length; i += 97) expect(a[i]).toBeCloseTo(b[i], 4);
    expect(a[100]).toBeCloseTo(0, 6); expect(a[9900]).toBeCloseTo(1, 6);
  });
  it('ignores NaN and survives constant images', () => {
    const n = fitNormalization([NaN, 5, 5, 5, Infinity]);
    expect(n.high).toBeGreaterThan(n.low);
    expect(Array.from(normalizeSlice([NaN, 5], n))).toEqual([0, 0]);
  });
});
