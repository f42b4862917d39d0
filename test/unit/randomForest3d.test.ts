// Random forest on 3-D features (randomForest3dSegmenter.ts): prediction computes the used features sigma by sigma (a
// cancel point between them) and gives what the whole feature set gives; an aborted signal stops it.
import { describe, expect, it } from 'vitest';
import { FeatureBank3d } from '../../src/core/features/bank3d';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { gatherLabeledPixels } from '../../src/core/models/randomForest/randomForestTrain';
import { RandomForest3dPredictor } from '../../src/core/models/randomForest/randomForest3dSegmenter';
import { resolveParams } from '../../src/shared/models/registry';
import { mulberry32 } from '../../src/core/random';

describe('RandomForest3dPredictor', () => {
  const W = 20, H = 18, D = 9, n = W * H;
  const rand = mulberry32(9);
  const vol = Array.from({ length: D }, () => Float32Array.from({ length: n }, (_, i) => ((i % W) > 9 ? 1 : 0) + 0.8 * (rand() - 0.5)));
  const params = resolveParams('rf', { dims: '3d', spacing: '1.5', trees: '6', sigmas: '0.7,1.6,3' });
  const identity = { low: 0, high: 1 } as never; // normalised = raw
  const bank = new FeatureBank3d(W, H, { raw: true, families: ['gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessian', 'structureTensor'], sigmas: [0.7, 1.6, 3], truncate: 4 }, 1.5);
  const all = bank.names.map((_, i) => i);
  const feats = new Float32Array(all.length * n);
  bank.compute((z) => vol[z], 4, D, all, feats);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 ? 0 : (i % W) > 9 ? 2 : 1));
  const forest = RandomForest.train(gatherLabeledPixels(feats, all.length, labels), { nTrees: 6, maxDepth: 6, seed: 1 });
  const context = { z: 4, depth: D, slice: (zz: number) => vol[zz] };

  it('sigma-by-sigma prediction equals the forest on all features; an aborted signal rejects', async () => {
    const p = new RandomForest3dPredictor(forest, params, identity, W, H);
    expect(p.bank.names).toEqual(bank.names);
    const r = await p.predict(context, true, new AbortController().signal);
    const want = forest.predict(feats, n);
    expect(Array.from(r.labels)).toEqual(Array.from(want.labels));
    expect(r.probs!.every((v, i) => Math.abs(v - want.probabilities[i]) < 1e-6)).toBe(true);
    const ac = new AbortController();
    ac.abort();
    await expect(p.predict(context, false, ac.signal)).rejects.toThrow();
  });
});
