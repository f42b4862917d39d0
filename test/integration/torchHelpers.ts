// Shared by the torch integration tests: the Python with torch they run, and random MSDNet weights away from their
// initial values (biases, BatchNorm parameters and running statistics), so that forward comparisons exercise them.
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { trainMsdnet, type MsdnetModel, type TrainingSlice } from '../../src/core/models/msdnet/msdnet';
import { createWeights, type MsdnetArch, type MsdnetWeights } from '../../src/core/models/msdnet/network';
import { trainTorch, type TorchTrainParams, type TorchTrained } from '../../src/core/models/msdnet/torchBackend';
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

/** What torch needs spelt out to train as trainMsdnet does by default (its MSDNET_DEFAULTS), on the CPU. */
const TORCH_AS_NATIVE = {
  learningRate: 0.01, optimizer: 'adam', lrSchedule: 'cosine', classWeights: 'none', augment: true, tta: true,
  normalization: 'percentile', device: 'cpu',
} as const satisfies Partial<TorchTrainParams>;

/** `slices` trained on the native path (wasm) and by torch on the CPU with the same params (which may override TORCH_AS_NATIVE). */
export async function trainBothEngines(slices: TrainingSlice[], params: Pick<TorchTrainParams, 'layers' | 'width' | 'dilations' | 'epochs' | 'bnRecompute' | 'pseudoLabels' | 'seed'> & Partial<TorchTrainParams>): Promise<{ native: MsdnetModel; torch: TorchTrained }> {
  const native = await trainMsdnet(slices, { ...params, backend: 'wasm' });
  const torch = await trainTorch(slices, { ...TORCH_AS_NATIVE, ...params });
  return { native, torch };
}

/** Torch's epoch losses match the native path's: within 1e-4, relative above a loss of 1. */
export function expectSameLosses(torch: TorchTrained, native: MsdnetModel): void {
  torch.trainingInfo.losses.forEach((l, i) => expect(Math.abs(l - native.trainingInfo!.losses[i])).toBeLessThan(1e-4 * Math.max(1, l)));
}
