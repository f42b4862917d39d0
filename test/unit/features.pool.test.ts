import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeFeatures, featureCount, type FeatureOptions } from '../../src/core/features/bank';
import { FeaturePool, predictSliceSync } from '../../src/core/features/pool';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { gatherLabeledPixels } from '../../src/core/models/randomForest/randomForestTrain';
import { fitNormalization, normalizeSlice } from '../../src/core/models/normalize';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('feature worker pool', () => {
  it('gives the same labels, probabilities and features as the in-thread path', async () => {
    const workerPath = join(dir, 'featureWorker.js');
    await esbuild.build({ entryPoints: ['src/core/features/worker.ts'], outfile: workerPath, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
    const w = 48, h = 40;
    const slices = [0, 1, 2, 3].map((z) => Float32Array.from({ length: w * h }, (_, i) => 1000 + 800 * Math.sin((i % w) * 0.4 + z) * Math.cos(Math.floor(i / w) * 0.3)));
    const fo: FeatureOptions = { raw: true, families: ['gaussian', 'hessian'], sigmas: [1, 2] };
    const norm = fitNormalization(slices[0]);
    const labels = Uint8Array.from(slices[0], (v, i) => (i % 5 ? 0 : v > 1300 ? 2 : 1));
    const forest = RandomForest.train(gatherLabeledPixels(computeFeatures(normalizeSlice(slices[0], norm), w, h, fo), featureCount(fo), labels), { nTrees: 5 });
    const pool = FeaturePool.create({ forest: forest.toJSON(), features: fo, norm, size: 2, workerPath })!;
    expect(pool).not.toBeNull();
    const got = await Promise.all(slices.map((s) => pool.predict(s, w, h, { probabilities: true })));
    slices.forEach((s, z) => {
      const want = predictSliceSync(forest, fo, norm, s, w, h);
      expect(got[z].labels).toEqual(want.labels);
      expect(got[z].probabilities).toEqual(want.probabilities);
    });
    expect(await pool.features(slices[1], w, h)).toEqual(computeFeatures(normalizeSlice(slices[1], norm), w, h, fo));
    await pool.close();
    // A pool made for training: trees split over its workers equal one-thread training; then it predicts.
    const trainPool = FeaturePool.create({ features: fo, norm, size: 2, workerPath })!;
    const data = gatherLabeledPixels(computeFeatures(normalizeSlice(slices[0], norm), w, h, fo), featureCount(fo), labels);
    const parallel = await trainPool.trainForest(data, { nTrees: 5, seed: 3 });
    const serial = RandomForest.train(data, { nTrees: 5, seed: 3 });
    const probe = computeFeatures(normalizeSlice(slices[2], norm), w, h, fo);
    expect(parallel.nTrees).toBe(5);
    expect(parallel.predict(probe, w * h).probabilities).toEqual(serial.predict(probe, w * h).probabilities);
    trainPool.setForest(serial.toJSON());
    expect((await trainPool.predict(slices[2], w, h)).labels).toEqual(predictSliceSync(serial, fo, norm, slices[2], w, h).labels);
    await trainPool.close();
    expect(FeaturePool.create({ features: fo, norm, workerPath: join(dir, 'missing.js') })).toBeNull();
  });

  it('threaded strips (small strip budget) equal the full feature bank in one thread; split features too', async () => {
    const workerPath = join(dir, 'featureWorker.js');
    await esbuild.build({ entryPoints: ['src/core/features/worker.ts'], outfile: workerPath, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
    const w = 64, h = 300;
    const img = Float32Array.from({ length: w * h }, (_, i) => 1000 + 800 * Math.sin((i % w) * 0.4) * Math.cos(Math.floor(i / w) * 0.07));
    const fo: FeatureOptions = { raw: true, families: ['gaussian', 'dog', 'structureTensor'], sigmas: [1, 3] };
    const norm = fitNormalization(img);
    const full = computeFeatures(normalizeSlice(img, norm), w, h, fo);
    const labels = Uint8Array.from(img, (v, i) => (i % 5 ? 0 : v > 1300 ? 2 : 1));
    const forest = RandomForest.train(gatherLabeledPixels(full, featureCount(fo), labels), { nTrees: 5 });
    // 40 kB per window: strips of 16+ rows, so each slice is many strips in each worker.
    const pool = FeaturePool.create({ forest: forest.toJSON(), features: fo, norm, size: 2, workerPath, stripBytes: 40_000 })!;
    const want = forest.predict(full, w * h);
    const got = await pool.predict(img, w, h, { probabilities: true });
    expect(got.labels).toEqual(want.labels);
    expect(got.probabilities).toEqual(want.probabilities);
    expect(await pool.featuresSplit(img, w, h, featureCount(fo))).toEqual(full);
    // Samples gathered part by part equal those gathered from the whole bank (same order, weights included).
    const weights = Float32Array.from(labels, (_, i) => 1 + (i % 3));
    const [a, b] = await pool.gatherSplit(img, w, h, featureCount(fo), [{ labels }, { labels, weights }]);
    expect(a).toEqual(gatherLabeledPixels(full, featureCount(fo), labels));
    expect(b).toEqual(gatherLabeledPixels(full, featureCount(fo), labels, weights));
    await pool.close();
  });
});
