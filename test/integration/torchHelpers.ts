// Shared by the torch integration tests: the Python with torch they run, and random MSDNet weights away from their
// initial values (biases, BatchNorm parameters and running statistics), so that forward comparisons exercise them.
import { spawnSync } from 'node:child_process';
import { createWeights, type MsdnetArch, type MsdnetWeights } from '../../src/core/models/msdnet/network';
import { tf } from '../../src/core/models/tfBackend';

/** The first of $STACKSEG_TEST_PYTHON, $STACKSEG_PYTHON, /usr/bin/python3, python3 that imports torch and numpy. */
export function findTorchPython(): string | undefined {
  for (const p of [process.env.STACKSEG_TEST_PYTHON, process.env.STACKSEG_PYTHON, '/usr/bin/python3', 'python3']) {
    if (p && spawnSync(p, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0) return p;
  }
  return undefined;
}

/** createWeights(arch, 5) with every bias, gamma, beta and running statistic moved by rand(). */
export function jitteredWeights(arch: MsdnetArch, rand: () => number): MsdnetWeights {
  const w = createWeights(arch, 5);
  const jitter = (v: tf.Variable, base: number, scale: number) => v.assign(tf.tensor(Float32Array.from(v.dataSync(), () => base + scale * (rand() - 0.5)), v.shape));
  w.biases.forEach((v) => jitter(v, 0, 0.2)); w.gammas.forEach((v) => jitter(v, 1, 0.5)); w.betas.forEach((v) => jitter(v, 0, 0.3));
  w.runMeans.forEach((v) => jitter(v, 0.1, 0.4)); w.runVars.forEach((v) => jitter(v, 0.8, 0.6)); jitter(w.outBias, 0, 0.4);
  return w;
}

/** The largest |a[i] - b[i]|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Pixel-major [p * C + c] -> class-major [c * n + p]. */
export function classMajor(probs: Float32Array, classes: number): Float32Array {
  const n = probs.length / classes, out = new Float32Array(probs.length);
  for (let p = 0; p < n; p++) for (let c = 0; c < classes; c++) out[c * n + p] = probs[p * classes + c];
  return out;
}
