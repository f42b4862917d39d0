// The feature worker pool on 2-channel slices (`--set channel=all`): features, gathered training samples and forest
// predictions equal the job's in-thread multi-channel path (channelBank.ts) value for value, so rf segmentation with
// several channels can use every thread.
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureCount, type FeatureOptions } from '../../src/core/features/bank';
import { ChannelPredictor, forEachChannelBlock } from '../../src/core/features/channelBank';
import { channelPlanes, normalizeChannels } from '../../src/core/features/channels';
import { FeaturePool, predictSliceSync } from '../../src/core/features/pool';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { concatTrainingData, gatherLabeledPixels, type TrainingData } from '../../src/core/models/randomForest/randomForestTrain';
import { fitNormalization } from '../../src/core/models/normalize';
import type { Normalization } from '../../src/core/models/segmenter';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-poolc-'));
const workerPath = join(dir, 'featureWorker.js');
beforeAll(async () => {
  await esbuild.build({ entryPoints: ['src/core/features/worker.ts'], outfile: workerPath, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const w = 56, h = 200, n = w * h, C = 2;
const fo: FeatureOptions = { raw: true, families: ['gaussian', 'dog', 'structureTensor', 'hessian'], sigmas: [1, 2.5] };
const F = featureCount(fo);

/** Channel 0 in uint16-like counts, channel 1 on a 0..1 scale: one normalisation each. */
function slice(z: number): Float32Array {
  return Float32Array.from({ length: C * n }, (_, i) => {
    const p = i % n, x = p % w, y = Math.floor(p / w);
    return i < n ? 1000 + 800 * Math.sin(x * 0.4 + z) * Math.cos(y * 0.07) : 0.5 + 0.4 * Math.cos(x * 0.21 - y * 0.13 + z);
  });
}
const slices = [0, 1, 2].map(slice);
const channels = [0, 1].map((c) => ({ ...fitNormalization(slices[0].subarray(c * n, (c + 1) * n)), channel: c }));
const norm: Normalization = { ...channels[0], channels };
const labels = Uint8Array.from({ length: n }, (_, i) => (i % 5 ? 0 : (slices[0][i] > 1000) !== (slices[0][n + i] > 0.5) ? 2 : 1));
const planesOf = (image: Float32Array) => channelPlanes(normalizeChannels(image, norm, n), n, C);

/** All C * F features of a slice, feature-major over the slice, from the in-thread blocks. */
function inThreadFeatures(image: Float32Array): Float32Array {
  const out = new Float32Array(C * F * n);
  forEachChannelBlock(planesOf(image), w, h, fo, (f, first, m) => {
    for (let k = 0; k < C * F; k++) out.set(f.subarray(k * m, (k + 1) * m), k * n + first);
  });
  return out;
}

function inThreadGather(image: Float32Array, sets: { labels: Uint8Array; weights?: Float32Array }[]): TrainingData[] {
  const got: TrainingData[][] = sets.map(() => []);
  forEachChannelBlock(planesOf(image), w, h, fo, (f, a, m) => sets.forEach((s, i) => got[i].push(gatherLabeledPixels(f, C * F, s.labels.subarray(a, a + m), s.weights?.subarray(a, a + m)))));
  return got.map((g) => concatTrainingData(g));
}

describe('feature worker pool with 2 channels', () => {
  it('features, split features and gathered samples equal the in-thread multi-channel bank', async () => {
    // 40 kB windows: each part of a slice is several strips in its worker.
    const pool = FeaturePool.create({ features: fo, norm, size: 2, workerPath, stripBytes: 40_000 })!;
    expect(pool).not.toBeNull();
    try {
      const want = inThreadFeatures(slices[1]);
      expect(await pool.features(slices[1], w, h)).toEqual(want);
      expect(await pool.featuresSplit(slices[1], w, h, C * F)).toEqual(want);
      const weights = Float32Array.from(labels, (_, i) => 1 + (i % 3));
      const sets = [{ labels }, { labels, weights }];
      expect(await pool.gatherSplit(slices[0], w, h, C * F, sets)).toEqual(inThreadGather(slices[0], sets));
    } finally { await pool.close(); }
  });

  it('predictions (labels and probabilities) equal ChannelPredictor in this thread; a 1-channel slice is refused', async () => {
    const [data] = inThreadGather(slices[0], [{ labels }]);
    const forest = RandomForest.train(data, { nTrees: 6, seed: 1 });
    expect(forest.usedFeatures().some((f) => f >= F)).toBe(true); // the forest reads channel 1 too
    const pool = FeaturePool.create({ forest: forest.toJSON(), features: fo, norm, size: 2, workerPath })!;
    try {
      const got = await Promise.all(slices.map((s) => pool.predict(s, w, h, { probabilities: true })));
      const predictor = new ChannelPredictor(forest, fo, w, h);
      slices.forEach((s, z) => {
        const want = predictor.predict(planesOf(s), true);
        expect(got[z].labels).toEqual(want.labels);
        expect(got[z].probabilities).toEqual(want.probabilities);
        expect(predictSliceSync(forest, fo, norm, s, w, h)).toEqual(want);
      });
      await expect(pool.predict(slices[0].subarray(0, n), w, h)).rejects.toThrow(/the model reads 2 channels per slice, the slice holds 1/);
    } finally { await pool.close(); }
  });
});
