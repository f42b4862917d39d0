// `msdnet --set augment=auto|all|half-turn|off` (msdnet/symmetry.ts): the orientation test, the auto rule, the step
// plan, the transforms a model records and averages over (tta), and the registry's old true/false spellings.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accumulateInverse, applyMap, dihedral } from '../../src/core/models/msdnet/augment';
import { loadMsdnet, trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { trainingPlan } from '../../src/core/models/msdnet/schedule';
import { augmentMode, orientationCoherence, recordedTransforms, resolveAugment, TRANSFORMS } from '../../src/core/models/msdnet/symmetry';
import type { TrainInput } from '../../src/core/models/segmenter';
import { initBackend } from '../../src/core/models/tfBackend';
import { mulberry32 } from '../../src/core/random';
import { resolveParams } from '../../src/shared/models/registry';

/** Random discs on a dark background: edges in every direction. */
function discs(W: number, H: number, seed: number): Float32Array {
  const r = mulberry32(seed), img = new Float32Array(W * H);
  for (let d = 0; d < 40; d++) {
    const cx = r() * W, cy = r() * H, rad = 3 + 6 * r();
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (Math.hypot(x - cx, y - cy) < rad) img[y * W + x] = 100;
  }
  return img;
}

/** Gaussian blur along x alone (sigma 8): streaks along x, as a missing wedge leaves them in one direction. */
function streaks(img: Float32Array, W: number, H: number): Float32Array {
  const s = 8, out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sum = 0, norm = 0;
      for (let d = -3 * s; d <= 3 * s; d++) {
        const w = Math.exp(-(d * d) / (2 * s * s));
        sum += w * img[y * W + Math.min(W - 1, Math.max(0, x + d))]; norm += w;
      }
      out[y * W + x] = sum / norm;
    }
  }
  return out;
}

/** Two classes split by brightness (at the mean), sparsely labelled. */
function labelled(image: Float32Array, seed: number): Uint8Array {
  const r = mulberry32(seed), labels = new Uint8Array(image.length), mean = image.reduce((s, v) => s + v, 0) / image.length;
  for (let i = 0; i < image.length; i++) if (r() < 0.1) labels[i] = image[i] > mean ? 2 : 1;
  return labels;
}

function trainInput(images: Float32Array[], W: number, H: number, augment: unknown): TrainInput {
  return {
    width: W, height: H, slices: images.map((image, z) => ({ z, image, labels: labelled(image, z) })), sample: images[0],
    norm: { kind: 'percentile', lowPercentile: 1, highPercentile: 99, low: 0, high: 100 }, params: { augment: augment as string }, onProgress: () => undefined,
  };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let d = 0; for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i])); return d; };

let dir: string;
beforeAll(async () => { dir = mkdtempSync(join(tmpdir(), 'msdnet-sym-')); await initBackend('wasm'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('orientation coherence', () => {
  it('is low on isotropic discs and high on streaks of one direction', () => {
    const W = 96, H = 80, img = discs(W, H, 7);
    expect(orientationCoherence(img, W, H)).toBeLessThan(0.1);
    expect(orientationCoherence(streaks(img, W, H), W, H)).toBeGreaterThan(0.3);
    expect(orientationCoherence(new Float32Array(W * H).fill(3), W, H)).toBe(0); // no gradients, no orientation
    // several channels (channel-major): channel 0 decides
    const two = new Float32Array(2 * W * H); two.set(img); two.set(streaks(img, W, H), W * H);
    expect(orientationCoherence(two, W, H)).toBeCloseTo(orientationCoherence(img, W, H), 6);
  });
});

describe('resolveAugment', () => {
  const W = 64, H = 64;
  it('auto: half-turn on streaked slices, all on isotropic ones, with the reason for metrics.json', () => {
    const streaked = resolveAugment(trainInput([streaks(discs(W, H, 1), W, H), streaks(discs(W, H, 2), W, H)], W, H, 'auto'));
    expect(streaked.input.params.augment).toBe('half-turn');
    expect(streaked.report).toMatchObject({ augment: 'half-turn' });
    expect(String(streaked.report.augmentReason)).toMatch(/^auto: slices have a preferred orientation \(structure-tensor coherence 0\.\d\d >= 0\.1\): identity and half turn only$/);
    const round = resolveAugment(trainInput([discs(W, H, 1), discs(W, H, 2)], W, H, 'auto'));
    expect(round.input.params.augment).toBe('all');
    expect(String(round.report.augmentReason)).toMatch(/no preferred orientation .* < 0\.1\): all 8/);
  });

  it('leaves explicit values (and old true/false) alone and refuses unknown ones', () => {
    for (const v of ['all', 'half-turn', 'off', true, false]) {
      const r = resolveAugment(trainInput([discs(W, H, 1)], W, H, v));
      expect(r.report).toEqual({});
      expect(r.input.params.augment).toBe(v);
    }
    expect(augmentMode(true)).toBe('all');
    expect(augmentMode(false)).toBe('off');
    expect(() => augmentMode('sideways')).toThrow(/augment=sideways is not one of auto\|all\|half-turn\|off/);
  });
});

describe('trainingPlan with a transform group', () => {
  it("'all' is the old plan, half-turn draws only 0 and 2, off draws nothing", () => {
    expect(Array.from(trainingPlan(3, 4, 5, TRANSFORMS.all))).toEqual(Array.from(trainingPlan(3, 4, 5, true)));
    // the old plan, written out: a shuffled order then floor(rand * 8) per step
    const rand = mulberry32(6), old: number[] = [];
    for (let e = 0; e < 4; e++) for (const i of [0, 1, 2].sort(() => rand() - 0.5)) old.push(i, Math.floor(rand() * 8));
    expect(Array.from(trainingPlan(3, 4, 5, TRANSFORMS.all))).toEqual(old);
    const ks = (plan: Int32Array) => Array.from(plan).filter((_, j) => j % 2 === 1);
    const half = ks(trainingPlan(4, 20, 1, TRANSFORMS['half-turn']));
    expect(new Set(half)).toEqual(new Set([0, 2]));
    expect(ks(trainingPlan(2, 5, 1, TRANSFORMS.off))).toEqual(new Array(10).fill(0));
    // off consumes no random numbers for k: the slice order is that of augment=false
    expect(Array.from(trainingPlan(3, 4, 5, TRANSFORMS.off))).toEqual(Array.from(trainingPlan(3, 4, 5, false)));
  });
});

describe('model transforms', () => {
  it('a half-turn model averages over k = 0, 2 and keeps them through save/load; bad records are refused', async () => {
    const W = 40, H = 28, image = discs(W, H, 3); // not square: the BatchNorm recompute groups by k parity
    const model = await trainMsdnet([{ image, labels: labelled(image, 1), width: W, height: H }],
      { augment: 'half-turn', epochs: 3, layers: 4, backend: 'wasm', seed: 2 });
    expect(model.transforms).toEqual([0, 2]);
    const tta = await model.predict(image, W, H);
    // TTA by hand: the slice and its half turn, turned back, averaged
    const plain = await model.predict(image, W, H, { tta: false });
    const t = dihedral(2, W, H), turned = await model.predict(applyMap(image, t), t.width, t.height, { tta: false });
    const sum = Float32Array.from(plain.probs);
    accumulateInverse(sum, turned.probs, t, 2);
    expect(maxDiff(sum.map((v) => v / 2), tta.probs)).toBeLessThan(1e-5);

    const modelDir = join(dir, 'half');
    await model.save(modelDir);
    const path = join(modelDir, 'model.json'), json = JSON.parse(readFileSync(path, 'utf8'));
    expect(json.modelTopology.transforms).toEqual([0, 2]);
    const loaded = await loadMsdnet(modelDir, 'wasm');
    expect(loaded.transforms).toEqual([0, 2]);
    expect(maxDiff((await loaded.predict(image, W, H)).probs, tta.probs)).toBeLessThan(1e-6);
    loaded.dispose();
    model.dispose();

    // A model from before the record: tta averages over all 8.
    delete json.modelTopology.transforms;
    writeFileSync(path, JSON.stringify(json));
    const old = await loadMsdnet(modelDir, 'wasm');
    expect(old.transforms).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    old.dispose();
    for (const bad of [[], [2], [0, 0], [0, 8], [0, 1.5], 'all']) {
      json.modelTopology.transforms = bad;
      writeFileSync(path, JSON.stringify(json));
      await expect(loadMsdnet(modelDir, 'wasm')).rejects.toMatchObject({ message: expect.stringMatching(/model\.json records transforms .*expected distinct integers 0\.\.7 including 0/) });
    }
    await expect(loadMsdnet(modelDir, 'wasm')).rejects.toThrow(/half[/\\]model\.json/);
  });

  it('trainMsdnet resolves augment=auto itself; off trains as augment=false did', async () => {
    const W = 32, H = 32, image = streaks(discs(W, H, 4), W, H), labels = labelled(image, 2);
    const auto = await trainMsdnet([{ image, labels, width: W, height: H }], { augment: 'auto', epochs: 2, layers: 3, backend: 'wasm' });
    expect(auto.transforms).toEqual([0, 2]);
    auto.dispose();
    const params = { epochs: 3, layers: 3, backend: 'wasm' as const, seed: 4, tta: false };
    const off = await trainMsdnet([{ image, labels, width: W, height: H }], { ...params, augment: 'off' });
    const no = await trainMsdnet([{ image, labels, width: W, height: H }], { ...params, augment: false });
    expect(off.trainingInfo!.losses).toEqual(no.trainingInfo!.losses);
    expect(off.transforms).toEqual([0]);
    off.dispose(); no.dispose();
  });

  it('recordedTransforms: older models read as tta ? all 8 : [0]', () => {
    expect(recordedTransforms(undefined, true, 'm.json')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(recordedTransforms(undefined, false, 'm.json')).toEqual([0]);
    expect(recordedTransforms([2, 0], true, 'm.json')).toEqual([2, 0]);
  });
});

describe('registry', () => {
  it('augment is auto by default; job records with true/false read as all/off', () => {
    expect(resolveParams('msdnet', {}).augment).toBe('auto');
    expect(resolveParams('msdnet', { augment: true }).augment).toBe('all');
    expect(resolveParams('msdnet', { augment: false }).augment).toBe('off');
    expect(resolveParams('msdnet', { augment: 'true' }).augment).toBe('all');
    expect(resolveParams('msdnet', { augment: 'half-turn' }).augment).toBe('half-turn');
    expect(() => resolveParams('msdnet', { augment: 'sideways' })).toThrow(/not one of auto\|all\|half-turn\|off/);
  });
});
