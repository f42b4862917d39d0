import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/core/models/tfBackend';
import { createWeights, disposeWeights, forward, trainableVariables, type MsdnetArch } from '../../src/core/models/msdnet/network';
import { NativeMsdnet, paramList } from '../../src/core/models/msdnet/native';
import { SimdKernels } from '../../src/core/models/msdnet/simdKernels';
import { mulberry32 } from '../../src/core/random';

const rand = mulberry32(7);

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-3, diff = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i])); diff = Math.max(diff, Math.abs(a[i] - b[i])); }
  return diff / scale;
}

describe('SIMD kernels', () => {
  it('axpy and dot match plain loops at unaligned offsets', () => {
    const k = SimdKernels.create(1 << 16)!;
    expect(k).not.toBeNull();
    for (let i = 0; i < 256; i++) k.f32[i] = rand() * 2 - 1;
    const before = k.f32.slice(0, 256);
    k.axpy(4 * 3, 4 * 130, 0.75, 40);
    for (let i = 0; i < 256; i++) expect(k.f32[i]).toBeCloseTo(i >= 3 && i < 43 ? before[i] + 0.75 * before[130 + i - 3] : before[i], 6);
    let expected = 0;
    for (let i = 0; i < 40; i++) expected += k.f32[5 + i] * k.f32[201 + i - 0];
    expect(k.dot(4 * 5, 4 * 201, 40)).toBeCloseTo(expected, 5);
  });
});

describe('native MSDNet step against tfjs', () => {
  // Non-square, width not a multiple of 4, 2 output channels per layer, 3 classes, some pixels unlabelled.
  const arch: MsdnetArch = { layers: 5, width: 2, dilations: [1, 2, 3], inChannels: 1, classes: 3 };
  const width = 13, height = 11, pixels = width * height;
  const image = Float32Array.from({ length: pixels }, () => rand());
  const targets = new Float32Array(pixels * arch.classes);
  for (let i = 0; i < pixels; i++) { const c = Math.floor(rand() * 4); if (c < 3) targets[i * 3 + c] = c === 2 ? 2 : 1; }
  const denominator = targets.reduce((a, b) => a + b, 0);

  it('same loss, batch statistics, gradients and Adam update', async () => {
    await initBackend('wasm');
    const w = createWeights(arch, 3);
    const vars = trainableVariables(w);
    const native = NativeMsdnet.create(arch, {
      filters: w.filters.map((v) => v.dataSync().slice() as Float32Array), biases: w.biases.map((v) => v.dataSync().slice() as Float32Array),
      gammas: w.gammas.map((v) => v.dataSync().slice() as Float32Array), betas: w.betas.map((v) => v.dataSync().slice() as Float32Array),
      outFilter: w.outFilter.dataSync().slice() as Float32Array, outBias: w.outBias.dataSync().slice() as Float32Array,
    })!;
    const x = tf.tensor4d(image, [1, height, width, 1]);
    const t = tf.tensor2d(targets, [pixels, 3]);
    const moments: Array<{ mean: tf.Tensor1D; variance: tf.Tensor1D }> = [];
    const lossFn = () => tf.div(tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(tf.reshape(forward(arch, w, x, 'batch', moments), [pixels, 3]))))), denominator) as tf.Scalar;
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const result = native.step(image, width, height, targets, denominator, 0.01);
    expect(result.loss).toBeCloseTo(value.dataSync()[0], 4);
    moments.forEach((m, j) => {
      expect(result.means.slice(j * 2, j * 2 + 2)).toEqual(Array.from(m.mean.dataSync()).map((v) => expect.closeTo(v, 4)));
      expect(maxRelativeError(result.variances.slice(j * 2, j * 2 + 2), m.variance.dataSync())).toBeLessThan(1e-4);
    });
    const ng = native.lastGradients();
    vars.forEach((v, i) => expect(maxRelativeError(ng[i], grads[v.name].dataSync())).toBeLessThan(2e-4));
    // One tf.train.adam step from the same weights gives the same new weights.
    const opt = tf.train.adam(0.01);
    opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
    // Conv biases before BatchNorm have a zero gradient up to rounding noise, which Adam scales to +-lr: skip them.
    const biasIndex = new Set(w.biases.map((b) => vars.indexOf(b)));
    paramList(native.params).forEach((a, i) => { if (!biasIndex.has(i)) expect([i, maxRelativeError(a, vars[i].dataSync())]).toEqual([i, expect.closeTo(0, 4)]); });
    opt.dispose();
    tf.dispose([x, t, value, ...Object.values(grads), ...moments.flatMap((m) => [m.mean, m.variance])]);
    disposeWeights(w);
  });
});

describe('fused 3x3 SIMD kernels', () => {
  it('conv9 and dot9 equal 9 axpy / dot calls at shifted offsets', () => {
    const k = SimdKernels.create(1 << 16)!;
    const f = k.f32, i32 = new Int32Array(f.buffer);
    for (let i = 0; i < 2048; i++) f[i] = rand() * 2 - 1;
    const offs = [-37, -36, -35, -1, 0, 1, 35, 36, 37];
    const W = 4000, O = 4100, OUT = 4200; // float indices of the weights, offsets and dot9 outputs
    offs.forEach((o, t) => { f[W + t] = rand() - 0.5; i32[O + t] = 4 * o; });
    const dst = 100, src = 600, n = 200;
    const expected = f.slice(dst, dst + n);
    for (let i = 0; i < n; i++) for (let t = 0; t < 9; t++) expected[i] += f[W + t] * f[src + i + offs[t]];
    k.conv9(4 * dst, 4 * src, n, 4 * W, 4 * O);
    expect(maxRelativeError(f.slice(dst, dst + n), expected)).toBeLessThan(1e-6);
    k.dot9(4 * src, 4 * 1200, n, 4 * O, 4 * OUT);
    offs.forEach((o, t) => expect(f[OUT + t]).toBeCloseTo(k.dot(4 * (src + o), 4 * 1200, n), 4));
  });
});
