// Large sigmas on a half grid (FeatureOptions.halfScaleFrom): the resampling steps, closeness to the exact bank, exact
// strips, and that models without the option keep the exact bank.
import { describe, expect, it } from 'vitest';
import { computeFeatures, DEFAULT_FEATURE_OPTIONS, featureCount, featureNames, validateFeatureOptions, type FeatureOptions } from '../../src/core/features/bank';
import { FeatureEngine } from '../../src/core/features/featureEngine';
import { gaussianKernel1d, gaussianSmooth } from '../../src/core/features/filters';
import { decimate, halfHalo, upsample } from '../../src/core/features/halfScale';
import { SimdConvolver } from '../../src/core/features/simd';
import { predictInStrips, StripFeatures, stripHalo } from '../../src/core/features/strips';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { gatherLabeledPixels } from '../../src/core/models/randomForest/randomForestTrain';
import { featureOptionsFrom } from '../../src/core/models/randomForest/randomForestSegmenter';
import { resolveParams } from '../../src/shared/models/registry';

const HALF: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, halfScaleFrom: 3 };

const slice = (w: number, h: number) => Float32Array.from({ length: w * h }, (_, i) => {
  const x = i % w, y = Math.floor(i / w);
  return 0.5 + 0.4 * Math.sin(x * 0.37 + y * 0.11) * Math.cos(y * 0.23) + 0.05 * Math.sin(x * y * 0.013);
});
const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));
const halfKernel = (k: Float32Array) => Float64Array.from(k.subarray((k.length - 1) >> 1));

describe('half-grid resampling', () => {
  it('decimate = Gaussian smoothing at the even rows and columns', () => {
    for (const [w, h] of [[40, 30], [41, 29]]) {
      const x = slice(w, h), k = gaussianKernel1d(1, 0);
      const wh = (w + 1) >> 1, hh = (h + 1) >> 1, dst = new Float32Array(wh * hh);
      decimate(x, w, h, halfKernel(k), new Float32Array(h * wh), dst);
      const want = gaussianSmooth(x, w, h, 1);
      for (let y = 0; y < hh; y++) for (let i = 0; i < wh; i++) expect(dst[y * wh + i]).toBeCloseTo(want[2 * y * w + 2 * i], 6);
    }
  });

  it('upsample keeps the samples and is exact on cubics away from the borders (JS and SIMD)', () => {
    const w = 48, h = 40, wh = 24, hh = 20;
    const f = (x: number, y: number) => 0.001 * x * x * x - 0.02 * x * y + 0.003 * y * y * y - 0.01 * x * x * y + 1;
    const src = Float32Array.from({ length: wh * hh }, (_, i) => f(2 * (i % wh), 2 * Math.floor(i / wh)));
    const js = new Float32Array(w * h);
    upsample(src, wh, hh, js, w, h, 0.5, new Float32Array(4 * w));
    const conv = SimdConvolver.create(w, h, 1, 4, true)!;
    expect(conv.upsamples).toBe(true);
    const simd = conv.plane(0);
    conv.upsample(src, wh, hh, simd, 0.5);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = y * w + x;
      expect(Math.abs(simd[i] - js[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(js[i])));
      if (x % 2 === 0 && y % 2 === 0) expect(js[i]).toBe(Math.fround(0.5 * src[(y / 2) * wh + x / 2]));
      if (x >= 2 && x < w - 4 && y >= 2 && y < h - 4) expect(js[i]).toBeCloseTo(0.5 * f(x, y), 3);
    }
  });
});

describe('features with halfScaleFrom', () => {
  const W = 64, H = 56, n = W * H;
  const x = slice(W, H);
  const exact = computeFeatures(x, W, H, DEFAULT_FEATURE_OPTIONS);
  const half = computeFeatures(x, W, H, HALF);

  it('keeps raw and the small sigmas bit-identical, and the large ones close to the exact bank', () => {
    featureNames(HALF).forEach((name, f) => {
      const a = exact.subarray(f * n, (f + 1) * n), b = half.subarray(f * n, (f + 1) * n);
      const big = /_s(3\.5|5)$/.test(name);
      if (!big) { expect(firstDiff(a, b)).toBe(-1); return; }
      // Interior (the half grid reflects at its own borders) relative to the plane's spread.
      let e2 = 0, s = 0, s2 = 0, m = 0;
      for (let y = 12; y < H - 12; y++) for (let i = 12; i < W - 12; i++) { const v = a[y * W + i], e = b[y * W + i] - v; e2 += e * e; s += v; s2 += v * v; m++; }
      const std = Math.sqrt(s2 / m - (s / m) ** 2);
      expect(Math.sqrt(e2 / m) / std, name).toBeLessThan(name.startsWith('stensor_eig2') ? 0.1 : 0.06);
    });
  });

  it('gives the same values with the SIMD and the JS passes', () => {
    const select = featureNames(HALF).map((_, i) => i);
    const a = new Float32Array(select.length * n), b = new Float32Array(select.length * n);
    new FeatureEngine(W, H, HALF).compute(x, select, a);
    new FeatureEngine(W, H, HALF, { simd: false }).compute(x, select, b);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
    expect(worst).toBeLessThan(1e-5);
  });

  it('computes a selection bit-identical to the same planes of the full set', () => {
    const select = [40, 3, 25, 0, 17, 31, 34];
    const some = computeFeatures(x, W, H, HALF, select);
    select.forEach((f, j) => expect(firstDiff(some.subarray(j * n, (j + 1) * n), half.subarray(f * n, (f + 1) * n))).toBe(-1));
  });

  it('is validated, and read as off from models saved without it', () => {
    expect(() => validateFeatureOptions({ ...HALF, halfScaleFrom: 1 })).toThrow(/halfScaleFrom/);
    expect(() => validateFeatureOptions({ ...HALF, halfScaleFrom: 0 })).not.toThrow();
    const params = resolveParams('rf', {});
    expect(featureOptionsFrom(params).halfScaleFrom).toBe(3); // new models record it on
    const { halfScaleFrom: _, ...old } = params;
    expect(featureOptionsFrom(old).halfScaleFrom).toBe(0); // an older model file: the exact bank
  });
});

describe('strips with halfScaleFrom', () => {
  it('need the half path\'s context: pre-smoothing, the half grid\'s radii x 2, interpolation', () => {
    expect(halfHalo(HALF, [3.5, 5])).toBe(40); // sigma 5 on the half grid: 2.45 (radius 10) + outer 1.25 (radius 5)
    expect(stripHalo(HALF)).toBe(40);
    expect(stripHalo({ ...HALF, families: ['gaussian'], sigmas: [1, 4] })).toBe(2 * (8 + 2 + 3));
  });

  it.each([[64, 157, 24], [64, 158, 31], [68, 151, 20], [62, 157, 24], [61, 100, 17]])(
    'equal the full-slice features, every row (%ix%i, %i rows per strip)', (w, h, rows) => {
      const x = slice(w, h);
      const all = Array.from({ length: featureCount(HALF) }, (_, i) => i);
      const want = computeFeatures(x, w, h, HALF);
      const strips = new StripFeatures(w, h, HALF, all, rows);
      expect(strips.windowRows).toBeLessThan(h);
      expect((h - strips.windowRows) % 2).toBe(0);
      expect(firstDiff(strips.rowsFeatures(x, 0, h), want)).toBe(-1);
      const part = strips.rowsFeatures(x, 51, 90), n = w * h, m = 39 * w;
      for (let f = 0; f < all.length; f++) expect(firstDiff(part.subarray(f * m, (f + 1) * m), want.subarray(f * n + 51 * w, f * n + 90 * w))).toBe(-1);
    });

  it('predict the same labels and probabilities as the forest on the full feature bank', () => {
    const w = 48, h = 131;
    const fo: FeatureOptions = { raw: true, families: ['gaussian', 'hessian', 'structureTensor'], sigmas: [1, 3.5], halfScaleFrom: 3 };
    const x = slice(w, h);
    const full = computeFeatures(x, w, h, fo);
    const labels = Uint8Array.from(x, (v, i) => (i % 7 ? 0 : v > 0.5 ? 2 : 1));
    const forest = RandomForest.train(gatherLabeledPixels(full, featureCount(fo), labels), { nTrees: 3, maxDepth: 3, maxFeatures: 3 });
    const used = forest.usedFeatures();
    const want = forest.predict(full, w * h);
    const got = predictInStrips(forest.selectFeatures(used), new StripFeatures(w, h, fo, used, 16), x, true);
    expect(got.labels).toEqual(want.labels);
    expect(got.probabilities).toEqual(want.probabilities);
  });
});
