// trainForestWithFill gathers the candidate pixels' features while it fits the fill, then labels and weights them:
// the forest and report must equal the plain order (fit, fill, thin, gather the filled pixels), in both fill modes.
import { describe, expect, it } from 'vitest';
import { computeFeatures, featureNames } from '../../src/core/features/bank';
import { applyThresholdFill, fitThresholdFill, type FillMode } from '../../src/core/features/pseudolabels';
import { featureOptionsFrom, trainForestWithFill } from '../../src/core/models/randomForest/randomForestSegmenter';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { gatherLabeledPixels } from '../../src/core/models/randomForest/randomForestTrain';
import { resolveParams } from '../../src/shared/models/registry';

const W = 64, H = 56;
let s = 11;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296 - 0.5);
// A bright band with ramps of 8 pixels each side (the confident fill leaves the ramps' middles unlabelled).
const ramp = (x: number) => Math.min(1, Math.max(0, Math.min((x - 12) / 8, (44 - x) / 8)));
const image = Float32Array.from({ length: W * H }, (_, i) => ramp(i % W) + 0.05 * rnd());
const labels = new Uint8Array(W * H);
for (let y = 3; y < H - 3; y += 2) { labels[y * W + 27] = 2; labels[y * W + 28] = 2; labels[y * W + 6] = 1; labels[y * W + 50] = 1; }

describe('threshold fill: candidates gathered before the fit', () => {
  for (const [fill, fraction, fillTrees] of [['midpoint', '1', '1'], ['midpoint', '0.3', '0.5'], ['confident', '1', '1'], ['confident', '0.4', '0.7']] as const) {
    it(`${fill}, fillFraction ${fraction}, fillTrees ${fillTrees}: the same forest and report`, async () => {
      const params = resolveParams('rf', { trees: '5', depth: '6', sigmas: '1,2', fill, fillFraction: fraction, fillTrees, fillSigma: '0' });
      const fo = featureOptionsFrom(params), names = featureNames(fo), F = names.length;
      const features = computeFeatures(image, W, H, fo);
      const got = await trainForestWithFill([{ normalised: image, features: Float32Array.from(features), labels }], W, H, params, names);
      // The plain order.
      const fit = fitThresholdFill([{ normalised: image, labels }], W, H, { sigma: 'auto' })!;
      const f = applyThresholdFill(fit, image, W, H, labels, { mode: fill as FillMode, band: params.fillBand as number });
      const share = Number(fraction), weight = (params.fillWeight as number) / share;
      let filledPixels = 0;
      for (let i = 0; i < f.pseudo.length; i++) {
        if (share < 1 && f.pseudo[i] && Math.imul(i + 1, 0x9e3779b1) >>> 0 >= share * 4294967296) { f.pseudo[i] = 0; f.labels[i] = 0; }
        filledPixels += f.pseudo[i];
      }
      const filled = gatherLabeledPixels(features, F, f.labels, Float32Array.from(f.pseudo, (p) => (p ? weight : 1)));
      const sparse = gatherLabeledPixels(features, F, labels);
      const o = { nTrees: 5, maxDepth: 6, maxFeatures: 'sqrt' as const, minSamplesLeaf: 1, classWeight: 'none' as const, seed: 0 };
      const nFilled = Math.round(5 * Number(fillTrees));
      const parts = [RandomForest.train(filled, { ...o, nTrees: nFilled }, names)];
      if (nFilled < 5) parts.push(RandomForest.train(sparse, { ...o, nTrees: 5 - nFilled }, names));
      expect(got.forest.toJSON()).toEqual(RandomForest.merge(parts).toJSON());
      expect(got.report.filledPixels).toBe(filledPixels);
      expect(Array.from(got.data.x)).toEqual(Array.from(sparse.x));
      if (fill === 'confident') expect(filled.nSamples).toBeLessThan(labels.filter((v) => v).length + (W * H - labels.filter((v) => v).length) * share);
    });
  }
});
