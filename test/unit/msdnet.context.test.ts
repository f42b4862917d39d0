// 2.5-D MSDNet (contextSlices = k): 2k+1 neighbouring slices as input channels, on the native step, tfjs and save/load.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/core/models/tfBackend';
import { createWeights, disposeWeights, forward, trainableVariables, type MsdnetArch } from '../../src/core/models/msdnet/network';
import { NativeMsdnet } from '../../src/core/models/msdnet/native';
import { loadMsdnet, trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { mulberry32 } from '../../src/core/random';

const rand = mulberry32(11);

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-3, diff = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i])); diff = Math.max(diff, Math.abs(a[i] - b[i])); }
  return diff / scale;
}

describe('2.5-D MSDNet', () => {
  it('native step equals tfjs with 3 input channels (loss, gradients of every weight)', async () => {
    await initBackend('wasm');
    const arch: MsdnetArch = { layers: 4, width: 2, dilations: [1, 2, 3], inChannels: 3, classes: 2 };
    const width = 13, height = 11, pixels = width * height;
    const image = Float32Array.from({ length: pixels * 3 }, () => rand()); // interleaved [pixel * 3 + c]
    const targets = new Float32Array(pixels * 2);
    for (let i = 0; i < pixels; i++) { const c = Math.floor(rand() * 3); if (c < 2) targets[i * 2 + c] = 1; }
    const denominator = targets.reduce((a, b) => a + b, 0);
    const w = createWeights(arch, 5);
    expect(w.filters[0].shape).toEqual([3, 3, 3, 2]);
    expect(w.outFilter.shape).toEqual([3 + 4 * 2, 2]);
    const vars = trainableVariables(w);
    const read = (v: tf.Variable) => v.dataSync().slice() as Float32Array;
    const native = NativeMsdnet.create(arch, { filters: w.filters.map(read), biases: w.biases.map(read), gammas: w.gammas.map(read), betas: w.betas.map(read), outFilter: read(w.outFilter), outBias: read(w.outBias) })!;
    const x = tf.tensor4d(image, [1, height, width, 3]);
    const t = tf.tensor2d(targets, [pixels, 2]);
    const logits = forward(arch, w, x, 'batch');
    expect(logits.shape).toEqual([1, height, width, 2]);
    const lossFn = () => tf.div(tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(tf.reshape(forward(arch, w, x, 'batch'), [pixels, 2]))))), denominator) as tf.Scalar;
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const result = native.step(image, width, height, targets, denominator, 0.01);
    expect(result.loss).toBeCloseTo(value.dataSync()[0], 4);
    const ng = native.lastGradients();
    vars.forEach((v, i) => expect([v.name, maxRelativeError(ng[i], grads[v.name].dataSync())]).toEqual([v.name, expect.closeTo(0, 3)]));
    tf.dispose([x, t, logits, value, ...Object.values(grads)]);
    disposeWeights(w);
  });

  it('trains with contextSlices=1, predicts from the window, refuses one slice, and reloads the same', async () => {
    const W = 24, H = 20, n = W * H;
    // Three slices; the label follows the mean of the neighbours (the middle slice alone is noise-free but shifted).
    const planes = [0, 1, 2].map((z) => Float32Array.from({ length: n }, (_, i) => ((i % W) + z > 12 ? 1 : 0) + 0.1 * rand()));
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (i % 3 === 0) labels[i] = (i % W) > 11 ? 2 : 1;
    const model = await trainMsdnet([{ image: planes[1], labels, width: W, height: H, context: planes }],
      { contextSlices: 1, epochs: 5, layers: 3, backend: 'wasm', tta: false, bnRecompute: true });
    expect(model.arch.inChannels).toBe(3);
    const a = await model.predict(planes[1], W, H, { context: planes });
    expect(a.labels.length).toBe(n);
    expect(a.probs.length).toBe(2 * n);
    await expect(model.predict(planes[1], W, H)).rejects.toThrow(/3 neighbouring slices/);
    const dir = mkdtempSync(join(tmpdir(), 'msd25-'));
    await model.save(dir);
    const again = await loadMsdnet(dir, 'wasm');
    expect(again.arch.inChannels).toBe(3);
    const b = await again.predict(planes[1], W, H, { context: planes });
    expect(maxRelativeError(b.probs, a.probs)).toBeLessThan(1e-5);
    // The neighbours matter: other neighbours, other probabilities.
    const c = await model.predict(planes[1], W, H, { context: [planes[0], planes[1], planes[0]] });
    expect(maxRelativeError(c.probs, a.probs)).toBeGreaterThan(1e-4);
    model.dispose(); again.dispose();
  });
});
