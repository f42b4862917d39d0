// Strips of rows give exactly the features and predictions of the whole slice (bounded memory, same numbers).
import { describe, expect, it } from 'vitest';
import { computeFeatures, DEFAULT_FEATURE_OPTIONS, featureCount, type FeatureOptions } from '../../src/core/features/bank';
import { predictInStrips, StripFeatures, stripHalo, stripRows } from '../../src/core/features/strips';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { gatherLabeledPixels } from '../../src/core/models/randomForest/randomForestTrain';

const slice = (w: number, h: number) => Float32Array.from({ length: w * h }, (_, i) => {
  const x = i % w, y = Math.floor(i / w);
  return 0.5 + 0.4 * Math.sin(x * 0.37 + y * 0.11) * Math.cos(y * 0.23) + 0.05 * Math.sin(x * y * 0.013);
});

/** Index of the first differing value (-1 when equal): fast on big arrays, unlike toEqual. */
const firstDiff = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));

describe('feature strips', () => {
  it('needs the largest chained kernel radius as context (structure tensor: gradient + outer smoothing)', () => {
    expect(stripHalo(DEFAULT_FEATURE_OPTIONS)).toBe(20 + 10); // sigma 5: radius 20, then 0.5 * 5: radius 10
    expect(stripHalo({ raw: true, families: ['gaussian', 'dog'], sigmas: [1, 2] })).toBe(8);
    expect(stripHalo({ raw: true, families: [], sigmas: [] })).toBe(0);
    expect(stripRows(2048, 2048, 41, 30)).toBeGreaterThan(4 * 30);
    expect(stripRows(2048, 2048, 41, 30) + 60).toBeLessThanOrEqual(160 * 2 ** 20 / (41 * 2048 * 4));
    expect(stripRows(64, 100, 41, 30)).toBe(100); // a small slice is one strip
  });

  // Widths by pass kind: % 16 (16-pixel passes), % 8 only, % 4 only, odd (JS).
  it.each([[64, 'SIMD'], [40, 'SIMD 8-pixel'], [36, 'SIMD 4-pixel'], [62, 'JS']])('equal the full-slice features, every row (width %i, %s passes)', (w) => {
    const h = 157;
    const x = slice(w, h);
    const all = Array.from({ length: featureCount(DEFAULT_FEATURE_OPTIONS) }, (_, i) => i);
    const want = computeFeatures(x, w, h, DEFAULT_FEATURE_OPTIONS);
    const strips = new StripFeatures(w, h, DEFAULT_FEATURE_OPTIONS, all, 24); // windows of 24 + 2 * 30 rows
    expect(strips.windowRows).toBe(84);
    expect(firstDiff(strips.rowsFeatures(x, 0, h), want)).toBe(-1);
    // A middle range (as one worker of several computes it).
    const part = strips.rowsFeatures(x, 50, 90), n = w * h, m = 40 * w;
    for (let f = 0; f < all.length; f++) expect(firstDiff(part.subarray(f * m, (f + 1) * m), want.subarray(f * n + 50 * w, f * n + 90 * w))).toBe(-1);
  });

  it('predict the same labels and probabilities as the forest on the full feature bank, from a subset of features', () => {
    const w = 48, h = 131;
    const fo: FeatureOptions = { raw: true, families: ['gaussian', 'hessian', 'structureTensor'], sigmas: [1, 3] };
    const x = slice(w, h);
    const full = computeFeatures(x, w, h, fo);
    const labels = Uint8Array.from(x, (v, i) => (i % 7 ? 0 : v > 0.5 ? 2 : 1));
    const forest = RandomForest.train(gatherLabeledPixels(full, featureCount(fo), labels), { nTrees: 3, maxDepth: 2, maxFeatures: 2 });
    const used = forest.usedFeatures();
    expect(used.length).toBeLessThan(featureCount(fo));
    const want = forest.predict(full, w * h);
    const got = predictInStrips(forest.selectFeatures(used), new StripFeatures(w, h, fo, used, 20), x, true);
    expect(got.labels).toEqual(want.labels);
    expect(got.probabilities).toEqual(want.probabilities);
    expect(predictInStrips(forest.selectFeatures(used), new StripFeatures(w, h, fo, used, 20), x, false).probabilities).toBeUndefined();
  });
});
