import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/core/models/tfBackend';
import { dilatedConv3x3, createWeights, forward, trainableVariables, type MsdnetArch } from '../../src/core/models/msdnet/network';
import { accumulateInverse, applyMap, dihedral } from '../../src/core/models/msdnet/augment';
import { loadMsdnet, MsdnetModel, receptiveRadius, trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { mulberry32 } from '../../src/core/random';
import { fillPseudoLabels } from '../../src/core/models/msdnet/pseudo';
import { applyThresholdFill, fitThresholdFill } from '../../src/core/features/pseudolabels';

const rand = mulberry32(42);
const randomArray = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

/** Central finite difference of a scalar function of one array, at every element. */
function numericGradient(values: Float32Array, f: (v: Float32Array) => number, eps = 1e-2): Float32Array {
  const g = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const plus = values.slice(); plus[i] += eps;
    const minus = values.slice(); minus[i] -= eps;
    g[i] = (f(plus) - f(minus)) / (2 * eps);
  }
  return g;
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let scale = 1e-3, diff = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i])); diff = Math.max(diff, Math.abs(a[i] - b[i])); }
  return diff / scale;
}

/** Two bright disks and a dark background, with sparse labels 3 (background) and 7 (disks). */
function disksSlice(size: number, noise: number, seed: number) {
  const r = mulberry32(seed);
  const image = new Float32Array(size * size);
  const truth = new Uint8Array(size * size);
  const labels = new Uint8Array(size * size);
  const disks = [[size * 0.3, size * 0.35, size * 0.18], [size * 0.7, size * 0.65, size * 0.14]];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.min(...disks.map(([cx, cy, rad]) => Math.hypot(x - cx, y - cy) - rad));
      const inside = d < 0;
      image[y * size + x] = (inside ? 100 : 20) + noise * (r() - 0.5);
      truth[y * size + x] = inside ? 7 : 3;
      if (d < -3 && (x + y) % 3 === 0) labels[y * size + x] = 7;
      if (d > 4 && (x * 7 + y) % 11 === 0) labels[y * size + x] = 3;
    }
  }
  return { image, labels, truth, width: size, height: size };
}

let dir: string;
beforeAll(async () => { dir = mkdtempSync(join(tmpdir(), 'msdnet-test-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tfjs backend', () => {
  it('starts wasm here and says why the GPU path was skipped', async () => {
    const info = await initBackend('auto');
    expect(info.backend).toBe('wasm');
    expect(info.detail).toMatch(/skipped gpu: .*tfjs-node-gpu/);
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('dilated convolution gradient', () => {
  for (const d of [1, 2, 3]) {
    it(`matches finite differences for dilation ${d}`, async () => {
      await initBackend('auto');
      const xShape: [number, number, number, number] = [2, 7, 6, 3];
      const fShape: [number, number, number, number] = [3, 3, 3, 2];
      const x = randomArray(xShape.reduce((a, b) => a * b));
      const f = randomArray(fShape.reduce((a, b) => a * b));
      const probe = tf.tensor4d(randomArray(2 * 7 * 6 * 2), [2, 7, 6, 2]); // loss = sum(probe * conv) weights every output
      const conv = dilatedConv3x3(d);
      const loss = (xv: Float32Array, fv: Float32Array) => tf.tidy(() =>
        tf.sum(tf.mul(conv(tf.tensor4d(xv, xShape), tf.tensor4d(fv, fShape)), probe)).dataSync()[0]);
      const [gx, gf] = tf.tidy(() => {
        const g = tf.grads((xt: tf.Tensor, ft: tf.Tensor) => tf.sum(tf.mul(conv(xt as tf.Tensor4D, ft as tf.Tensor4D), probe)));
        return g([tf.tensor4d(x, xShape), tf.tensor4d(f, fShape)]).map((t) => t.dataSync() as Float32Array);
      });
      // The loss is linear in x and in f, so the central difference is exact up to float32 rounding.
      expect(maxRelativeError(gx, numericGradient(x, (v) => loss(v, f)))).toBeLessThan(2e-3);
      expect(maxRelativeError(gf, numericGradient(f, (v) => loss(x, v)))).toBeLessThan(2e-3);
      // and the forward value is a real dilated convolution: one output pixel by hand
      const out = tf.tidy(() => conv(tf.tensor4d(x, xShape), tf.tensor4d(f, fShape)).dataSync());
      const at = (n: number, yy: number, xx: number, c: number) =>
        yy < 0 || yy >= 7 || xx < 0 || xx >= 6 ? 0 : x[((n * 7 + yy) * 6 + xx) * 3 + c];
      let expected = 0;
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) for (let c = 0; c < 3; c++) {
        expected += at(1, 3 + (ky - 1) * d, 2 + (kx - 1) * d, c) * f[((ky * 3 + kx) * 3 + c) * 2 + 1];
      }
      expect(out[((1 * 7 + 3) * 6 + 2) * 2 + 1]).toBeCloseTo(expected, 4);
      probe.dispose();
    });
  }

  it('whole network (BatchNorm in batch mode, cross-entropy) matches finite differences', async () => {
    await initBackend('auto');
    const arch: MsdnetArch = { layers: 4, width: 2, dilations: [1, 2, 3], inChannels: 1, classes: 2 };
    const w = createWeights(arch, 5);
    const x = tf.tensor4d(randomArray(2 * 10 * 9), [2, 10, 9, 1]);
    const n = 2 * 10 * 9;
    const target = tf.tensor2d(Float32Array.from({ length: n * 2 }, (_, i) => ((i >> 1) % 3 === 0 ? i % 2 : 1 - (i % 2))), [n, 2]);
    const lossOf = () => tf.mean(tf.sum(tf.mul(target, tf.neg(tf.logSoftmax(tf.reshape(forward(arch, w, x, 'batch'), [n, 2])))), 1)) as tf.Scalar;
    const vars = trainableVariables(w);
    const { grads } = tf.variableGrads(lossOf, vars);
    // Directional derivatives along random directions of all parameters at once (float32 rounding noise of
    // element-by-element differences through 4 BatchNorm layers is as large as the gradients themselves).
    for (let trial = 0; trial < 3; trial++) {
      const originals = vars.map((v) => v.dataSync().slice() as Float32Array);
      const directions = vars.map((v) => randomArray(v.size));
      const analytic = vars.reduce((sum, v, j) => sum + (grads[v.name].dataSync() as Float32Array).reduce((a, g, k) => a + g * directions[j][k], 0), 0);
      const at = (eps: number) => {
        vars.forEach((v, j) => v.assign(tf.tensor(originals[j].map((o, k) => o + eps * directions[j][k]), v.shape)));
        return tf.tidy(() => lossOf().dataSync()[0]);
      };
      const eps = 2e-4; // small enough that few ReLU kinks are crossed (at 1e-3 they cost ~10 %), large enough for float32
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      vars.forEach((v, j) => v.assign(tf.tensor(originals[j], v.shape)));
      expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(3e-2);
    }
    tf.dispose([x, target, ...Object.values(grads)]);
  });
});

describe('flips and rotations', () => {
  it('the 8 transforms are distinct and each is undone by accumulateInverse', () => {
    const w = 5, h = 3;
    const img = Float32Array.from({ length: w * h }, (_, i) => i);
    const seen = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const t = dihedral(k, w, h);
      expect(t.width * t.height).toBe(w * h);
      expect(t.width).toBe(k % 2 ? h : w);
      const out = applyMap(img, t);
      seen.add(Array.from(out).join());
      const back = new Float32Array(w * h);
      accumulateInverse(back, out, t, 1);
      expect(Array.from(back)).toEqual(Array.from(img));
    }
    expect(seen.size).toBe(8);
  });
});

describe('trainMsdnet', () => {
  it('learns a two-class slice from sparse labels and returns the original label values', async () => {
    const s = disksSlice(48, 30, 1);
    const losses: number[] = [];
    const model = await trainMsdnet([s], { epochs: 40, layers: 6, seed: 3, tta: false }, (_e, loss) => losses.push(loss));
    expect(losses).toHaveLength(40);
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
    expect(model.classValues).toEqual([3, 7]);
    const test = disksSlice(48, 30, 2); // another noise draw
    const { labels, probs } = await model.predict(test.image, 48, 48);
    expect(new Set(labels)).toEqual(new Set([3, 7]));
    const accuracy = labels.reduce((n, l, i) => n + (l === test.truth[i] ? 1 : 0), 0) / labels.length;
    expect(accuracy).toBeGreaterThan(0.95);
    for (let p = 0; p < 10; p++) expect(probs[2 * p] + probs[2 * p + 1]).toBeCloseTo(1, 4);

    // save / load gives the same predictions, also with test-time augmentation
    const modelDir = join(dir, 'model');
    await model.save(modelDir);
    const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(readFileSync(join(modelDir, 'weights.bin')).length).toBe(4 * json.weightsManifest[0].weights.reduce((n: number, e: { shape: number[] }) => n + e.shape.reduce((a, b) => a * b, 1), 0));
    const loaded = await loadMsdnet(modelDir);
    const again = await loaded.predict(test.image, 48, 48);
    expect(Array.from(again.labels)).toEqual(Array.from(labels));
    const tta = await loaded.predict(test.image, 48, 48, { tta: true });
    expect(tta.labels.reduce((n, l, i) => n + (l === test.truth[i] ? 1 : 0), 0) / labels.length).toBeGreaterThan(0.95);
    model.dispose();
    loaded.dispose();
  });

  it('stops between steps when the signal aborts', async () => {
    const s = disksSlice(32, 10, 4);
    const controller = new AbortController();
    const epochs: number[] = [];
    const run = trainMsdnet([s], { epochs: 1000, layers: 3 }, (e) => { epochs.push(e); if (e === 2) controller.abort(); }, controller.signal);
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(epochs.length).toBeLessThan(4);
  });

  it('rejects slices with a single class or a wrong size', async () => {
    const s = disksSlice(16, 0, 1);
    await expect(trainMsdnet([{ ...s, labels: s.labels.map((l) => (l ? 3 : 0)) }], { epochs: 1 })).rejects.toThrow(/at least 2 classes/);
    await expect(trainMsdnet([{ ...s, width: 15 }], { epochs: 1 })).rejects.toThrow(/15 x 16/);
  });
});

describe('tiled inference (slices above maxTilePixels)', () => {
  it('the receptive radius is the sum of the layers\' dilations', () => {
    expect(receptiveRadius({ layers: 12, width: 1, dilations: [1, 2, 3, 4, 5, 6], inChannels: 1, classes: 2 })).toBe(42);
    expect(receptiveRadius({ layers: 5, width: 1, dilations: [1, 2, 3], inChannels: 1, classes: 2 })).toBe(9);
  });

  it('tiles with a receptive-radius halo give the one-pass probabilities (TTA, non-square)', async () => {
    const rand = mulberry32(11), W = 230, H = 170;
    const image = Float32Array.from({ length: 48 * 48 }, () => rand());
    const labels = Uint8Array.from(image, (v, i) => (i % 5 === 0 ? (v > 0.5 ? 2 : 1) : 0));
    const model = await trainMsdnet([{ image, labels, width: 48, height: 48 }], { layers: 5, dilations: [1, 2, 3], epochs: 2, seed: 1 });
    const big = Float32Array.from({ length: W * H }, () => rand());
    const saved = MsdnetModel.maxTilePixels;
    try {
      const whole = await model.predict(big, W, H);
      MsdnetModel.maxTilePixels = 80 * 80; // tiles of 62 + 2 x 9 halo
      const tiled = await model.predict(big, W, H);
      let worst = 0;
      for (let i = 0; i < whole.probs.length; i++) worst = Math.max(worst, Math.abs(whole.probs[i] - tiled.probs[i]));
      expect(worst).toBeLessThan(1e-5);
      expect(Array.from(tiled.labels)).toEqual(Array.from(whole.labels));
    } finally {
      MsdnetModel.maxTilePixels = saved;
      model.dispose();
    }
  });
});

describe('pseudo-labels', () => {
  it('fill unlabelled pixels by the nearest painted-class mean and keep painted pixels', () => {
    const s = disksSlice(40, 0, 1);
    const filled = fillPseudoLabels(s.image, s.labels, 40, 40, [3, 7], 0.7);
    for (let i = 0; i < filled.length; i++) if (s.labels[i]) expect(filled[i]).toBe(s.labels[i]);
    expect(filled.every((l) => l === 3 || l === 7)).toBe(true);
    const agree = filled.reduce((n, l, i) => n + (l === s.truth[i] ? 1 : 0), 0) / filled.length;
    expect(agree).toBeGreaterThan(0.97);
  });

  it('default (auto sigma) is the Random Forest midpoint fill: clean images unsmoothed edges, noisy ones smoothed', () => {
    for (const noise of [0, 60]) {
      const s = disksSlice(40, noise, 2);
      const filled = fillPseudoLabels(s.image, s.labels, 40, 40, [3, 7]);
      const fit = fitThresholdFill([{ normalised: s.image, labels: s.labels }], 40, 40, { sigma: 'auto' })!;
      expect(Array.from(filled)).toEqual(Array.from(applyThresholdFill(fit, s.image, 40, 40, s.labels).labels));
      expect(fit.sigma).toBe(noise ? Math.max(fit.sigma, 0.5) : 0.3);
      const agree = filled.reduce((n, l, i) => n + (l === s.truth[i] ? 1 : 0), 0) / filled.length;
      expect(agree).toBeGreaterThan(noise ? 0.9 : 0.97);
    }
  });
});
