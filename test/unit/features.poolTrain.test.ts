// Training steps the worker pool runs for a big slice: the samples gathered by rows straight into one shared set, the
// forest's bins shared by its workers, and the training accuracy; each equal to the one-thread result.
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFeatures, featureCount, type FeatureOptions } from '../../src/core/features/bank';
import { FeaturePool } from '../../src/core/features/pool';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { trainingAccuracy } from '../../src/core/models/randomForest/randomForestSegmenter';
import { gatherLabeledPixels } from '../../src/core/models/randomForest/randomForestTrain';
import { fitNormalization, normalizeSlice } from '../../src/core/models/normalize';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-pool-train-'));
const workerPath = join(dir, 'featureWorker.js');
beforeAll(async () => {
  await esbuild.build({ entryPoints: ['src/core/features/worker.ts'], outfile: workerPath, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('feature pool: training a big slice', () => {
  it('gathers, trains and scores as one thread does', async () => {
    const w = 96, h = 260;
    const img = Float32Array.from({ length: w * h }, (_, i) => 1000 + 800 * Math.sin((i % w) * 0.3) * Math.cos(Math.floor(i / w) * 0.05) + 50 * Math.sin(i * 1.7));
    const fo: FeatureOptions = { raw: true, families: ['gaussian', 'hessian'], sigmas: [1, 2] };
    const F = featureCount(fo), norm = fitNormalization(img);
    const full = computeFeatures(normalizeSlice(img, norm), w, h, fo);
    // Labels on some rows only (parts without samples too), a second set with weights everywhere.
    const labels = Uint8Array.from(img, (v, i) => (Math.floor(i / w) % 50 < 20 && i % 3 === 0 ? (v > 1000 ? 2 : 1) : 0));
    const all = Uint8Array.from(img, (v) => (v > 1000 ? 2 : 1)), weights = Float32Array.from(img, (_, i) => 0.5 + (i % 4));
    const pool = FeaturePool.create({ features: fo, norm, size: 2, workerPath })!;
    const [a, b] = await pool.gatherSplit(img, w, h, F, [{ labels }, { labels: all, weights }]);
    expect(a.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect({ ...a, x: Array.from(a.x), y: Array.from(a.y) }).toEqual(((d) => ({ ...d, x: Array.from(d.x), y: Array.from(d.y) }))(gatherLabeledPixels(full, F, labels)));
    const want = gatherLabeledPixels(full, F, all, weights);
    expect(Array.from(b.x)).toEqual(Array.from(want.x));
    expect(Array.from(b.w!)).toEqual(Array.from(want.w!));
    // maxBins 64: the shared bins carry the forest's own option.
    for (const o of [{ nTrees: 6, seed: 2 }, { nTrees: 3, seed: 5, maxBins: 64, maxSamples: 2000 }]) {
      const parallel = await pool.trainForest(b, o);
      const serial = RandomForest.train(want, o);
      expect(parallel.predict(full, w * h).probabilities).toEqual(serial.predict(full, w * h).probabilities);
      expect(await pool.trainingAccuracy(serial, a)).toBe(await trainingAccuracy(serial, a));
    }
    await pool.close();
  });
});
