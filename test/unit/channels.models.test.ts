// Multi-channel input (`--set channel=all`): the random forest (2-D and 3-D banks) and k-means read C channel planes
// per slice, with one normalisation per channel. Classes here are the XOR of two channels' blocks: neither channel
// alone tells them apart, both together do.
import { describe, expect, it } from 'vitest';
import { channelFeatureNames, channelPlanes, channelRuns, normalizeChannels } from '../../src/core/features/channels';
import { fitNormalization } from '../../src/core/models/normalize';
import { RandomForestSegmenter } from '../../src/core/models/randomForest/randomForestSegmenter';
import { KMeansSegmenter } from '../../src/core/models/kmeans/kmeansSegmenter';
import { ThresholdSegmenter } from '../../src/core/models/threshold/thresholdSegmenter';
import type { Normalization, TrainInput } from '../../src/core/models/segmenter';
import { resolveParams } from '../../src/shared/models/registry';
import { mulberry32 } from '../../src/core/random';

const W = 48, H = 48, D = 6, n = W * H, B = 8;
const rand = mulberry32(5);
const bits = () => Array.from({ length: (W / B) * (H / B) }, () => (rand() < 0.5 ? 1 : 0));
/** Per slice: channel 0 in 0..1000 (uint16-like), channel 1 in 0..1 (float-like), truth 1 + (b0 xor b1). */
const slices = Array.from({ length: D }, () => {
  const b0 = bits(), b1 = bits();
  const image = new Float32Array(2 * n), truth = new Uint8Array(n);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = y * W + x, k = Math.floor(y / B) * (W / B) + Math.floor(x / B);
    image[i] = 1000 * (0.2 + 0.6 * b0[k] + 0.1 * (rand() - 0.5));
    image[n + i] = 0.2 + 0.6 * b1[k] + 0.1 * (rand() - 0.5);
    truth[i] = 1 + (b0[k] ^ b1[k]);
  }
  return { image, truth };
});
const sparse = (truth: Uint8Array) => Uint8Array.from(truth, (t, i) => (i % 7 === 0 ? t : 0));
const norms = [0, 1].map((c) => ({ ...fitNormalization(slices.flatMap((s) => Array.from(s.image.subarray(c * n, (c + 1) * n)))), channel: c }));
const both: Normalization = { ...norms[0], channels: norms };

function input(model: 'rf' | 'kmeans', norm: Normalization, pick: (img: Float32Array) => Float32Array, set: Record<string, string>): TrainInput {
  return {
    width: W, height: H, norm, params: resolveParams(model, set), onProgress: () => undefined,
    slices: [0, 1].map((z) => ({ z, image: pick(slices[z].image), labels: sparse(slices[z].truth) })),
    sample: pick(slices[0].image),
    volume: { depth: D, read: async (z) => pick(slices[z].image) },
  };
}

async function accuracy(model: 'rf', norm: Normalization, pick: (img: Float32Array) => Float32Array, set: Record<string, string>): Promise<number> {
  const seg = await RandomForestSegmenter.train(input(model, norm, pick, set));
  let right = 0, all = 0;
  for (let z = 2; z < D; z++) {
    const ctx = { z, depth: D, slice: (zz: number) => pick(slices[zz].image) };
    const { labels } = await seg.predict(pick(slices[z].image), W, H, false, undefined, ctx);
    for (let i = 0; i < n; i++) { all++; if (labels[i] === slices[z].truth[i]) right++; }
  }
  await seg.dispose();
  return right / all;
}

const ch = (c: number) => (img: Float32Array) => img.slice(c * n, (c + 1) * n);
const all = (img: Float32Array) => img;

describe('multi-channel helpers', () => {
  it('names say the channel; runs split by channel; planes are checked', () => {
    const names = channelFeatureNames(['raw', 'gaussian_s1'], [0, 2]);
    expect(names).toEqual(['c0_raw', 'c0_gaussian_s1', 'c2_raw', 'c2_gaussian_s1']);
    expect(channelFeatureNames(['raw'], [1])).toEqual(['raw']);
    expect(channelRuns([0, 1, 3, 2], 2)).toEqual([{ channel: 0, local: [0, 1], from: 0, to: 2 }, { channel: 1, local: [1, 0], from: 2, to: 4 }]);
    expect(() => channelPlanes(new Float32Array(3 * n), n, 2)).toThrow(/reads 2 channels per slice, the slice holds 3/);
    const out = normalizeChannels(slices[0].image, both, n);
    expect(Math.max(...out.subarray(0, n))).toBeLessThan(1.3);
    expect(Math.max(...out.subarray(n))).toBeLessThan(1.3);
  });
});

describe('random forest on two channels', () => {
  const set = { trees: '20', sigmas: '0.7,1.6', dims: '2d' };
  it('channel=all separates classes that neither channel does alone (2-D bank)', async () => {
    const a0 = await accuracy('rf', norms[0], ch(0), set);
    const a1 = await accuracy('rf', norms[1], ch(1), set);
    const aBoth = await accuracy('rf', both, all, set);
    console.log(`rf 2d accuracy: channel 0 ${a0.toFixed(3)}, channel 1 ${a1.toFixed(3)}, all ${aBoth.toFixed(3)}`);
    expect(aBoth).toBeGreaterThan(0.9);
    expect(aBoth).toBeGreaterThan(Math.max(a0, a1) + 0.2);
  });

  it('the 3-D bank reads both channels too, and its features name them', async () => {
    const seg = await RandomForestSegmenter.train(input('rf', both, all, { ...set, dims: '3d', sigmas: '0.7,1.6' }));
    const report = seg.trainingReport() as { features: number; channels: number[]; topFeatures: { feature: string }[] };
    expect(report.channels).toEqual([0, 1]);
    expect(report.topFeatures.some((f) => f.feature.startsWith('c1_'))).toBe(true);
    expect(await accuracy('rf', both, all, { ...set, dims: '3d' })).toBeGreaterThan(0.9);
  });

  it('a 2-channel model refuses a one-channel slice', async () => {
    const seg = await RandomForestSegmenter.train(input('rf', both, all, set));
    await expect(seg.predict(ch(0)(slices[2].image), W, H)).rejects.toThrow(/reads 2 channels per slice, the slice holds 1/);
  });
});

describe('k-means and threshold on two channels', () => {
  it('k-means clusters the joint vectors (4 combinations of 2 channels)', async () => {
    // sample: channel-major joint vectors of the same pixels (runJob's sampleChannels)
    const seg = await KMeansSegmenter.train({ ...input('kmeans', both, all, { k: '4' }), sample: slices[0].image });
    const { labels } = await seg.predict(slices[1].image, W, H);
    expect(new Set(labels).size).toBe(4);
    expect((seg.trainingReport() as { centers: number[][] }).centers[0]).toHaveLength(2);
  });

  it('threshold refuses several channels with one message', async () => {
    await expect(ThresholdSegmenter.train({ ...input('kmeans', both, all, {}), params: resolveParams('threshold', {}) })).rejects.toThrow(/threshold works on one channel/);
  });
});

