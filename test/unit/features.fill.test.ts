import { describe, expect, it } from 'vitest';
import { computeFeatures, featureNames } from '../../src/core/features/bank';
import { applyThresholdFill, fitThresholdFill } from '../../src/core/features/pseudolabels';
import { featureOptionsFrom, trainForestWithFill } from '../../src/core/models/randomForest/randomForestSegmenter';
import { resolveParams } from '../../src/shared/models/registry';

// A 48x48 image: bright band (class 2, value 1) in columns 20..27 on a dark background (class 1, value 0), plus
// optional deterministic noise. Strokes: a few pixels deep inside each class.
const W = 48, H = 48;
function scene(noise: number) {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296 - 0.5);
  const image = Float32Array.from({ length: W * H }, (_, i) => ((i % W) >= 20 && (i % W) < 28 ? 1 : 0) + noise * rnd());
  const labels = new Uint8Array(W * H);
  for (let y = 4; y < H - 4; y += 3) { labels[y * W + 23] = 2; labels[y * W + 24] = 2; labels[y * W + 5] = 1; labels[y * W + 40] = 1; }
  return { image, labels };
}

describe('threshold fill (pseudo-labels)', () => {
  it('fills every unlabelled pixel by the midpoint, marking them pseudo, and keeps the strokes', () => {
    const { image, labels } = scene(0);
    const fit = fitThresholdFill([{ normalised: image, labels }], W, H, { sigma: 0.7 })!;
    expect(fit.low).toBe(1); expect(fit.high).toBe(2);
    expect(fit.threshold).toBeCloseTo(0.5, 2);
    const f = applyThresholdFill(fit, image, W, H, labels, { mode: 'midpoint' });
    expect(f.labels.every((v) => v > 0)).toBe(true);
    expect(f.labels[10 * W + 22]).toBe(2); expect(f.labels[10 * W + 12]).toBe(1);
    for (let i = 0; i < labels.length; i++) if (labels[i]) { expect(f.labels[i]).toBe(labels[i]); expect(f.pseudo[i]).toBe(0); }
  });

  it('confident mode leaves the pixels near the midpoint unlabelled', () => {
    const { image, labels } = scene(0);
    const fit = fitThresholdFill([{ normalised: image, labels }], W, H, { sigma: 1 })!;
    const f = applyThresholdFill(fit, image, W, H, labels, { mode: 'confident', band: 0.25 });
    expect(f.labels[10 * W + 20]).toBe(0); // on the edge: smoothed value ~0.5
    expect(f.labels[10 * W + 23]).toBe(2); expect(f.labels[10 * W + 10]).toBe(1);
  });

  it("sigma 'auto' smooths noisy images more than clean ones, and needs exactly two classes", () => {
    const clean = scene(0.05), noisy = scene(1.2);
    const a = fitThresholdFill([{ normalised: clean.image, labels: clean.labels }], W, H, { sigma: 'auto' })!;
    const b = fitThresholdFill([{ normalised: noisy.image, labels: noisy.labels }], W, H, { sigma: 'auto' })!;
    expect(a.sigma).toBe(0.3);
    expect(b.sigma).toBeGreaterThan(a.sigma);
    const three = Uint8Array.from(clean.labels, (v, i) => (i === 0 ? 3 : v));
    expect(fitThresholdFill([{ normalised: clean.image, labels: three }], W, H)).toBeNull();
  });

  it('trains the rf with fill, fill fraction and mixed trees, and skips the fill for three classes', async () => {
    const { image, labels } = scene(0.1);
    const params = resolveParams('rf', { trees: '6', sigmas: '1', fill: 'midpoint', fillFraction: '0.5', fillTrees: '0.5' });
    const fo = featureOptionsFrom(params);
    const features = computeFeatures(image, W, H, fo);
    const r = await trainForestWithFill([{ normalised: image, features, labels }], W, H, params, featureNames(fo));
    expect(r.forest.nTrees).toBe(6);
    expect(r.report.fill).toBe('midpoint');
    expect(r.report.filledTrees).toBe(3);
    const unlabelled = labels.filter((v) => v === 0).length;
    expect(r.report.filledPixels as number).toBeGreaterThan(0.4 * unlabelled);
    expect(r.report.filledPixels as number).toBeLessThan(0.6 * unlabelled);
    expect(r.forest.predict(features, W * H).labels[10 * W + 22]).toBe(2);
    const three = Uint8Array.from(labels, (v, i) => (i === 0 ? 3 : v));
    expect((await trainForestWithFill([{ normalised: image, features, labels: three }], W, H, params, featureNames(fo))).report.fill).toMatch(/skipped/);
  });

  it('keeps at most 250 k filled pixels of a full-size slice (share lowered, same total pseudo weight)', async () => {
    const w = 640, h = 640;
    const image = Float32Array.from({ length: w * h }, (_, i) => ((i % w) % 40 < 20 ? 1 : 0));
    const labels = Uint8Array.from(image, (v, i) => (i % 97 ? 0 : v ? 2 : 1));
    const params = resolveParams('rf', { trees: '2', depth: '3', sigmas: '1', features: 'raw,gaussian', fill: 'midpoint', fillFraction: '1' });
    const fo = featureOptionsFrom(params);
    const r = await trainForestWithFill([{ normalised: image, features: computeFeatures(image, w, h, fo), labels }], w, h, params, featureNames(fo));
    const unlabelled = labels.filter((v) => v === 0).length;
    expect(r.report.fillFraction).toBeCloseTo(250_000 / unlabelled, 6);
    expect(Math.abs((r.report.filledPixels as number) - 250_000)).toBeLessThan(2500);
  });
});
