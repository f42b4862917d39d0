// BatchNorm statistics for eval mode. The running averages gathered during training lag behind the weights
// (a few dozen steps); re-estimating them on the flipped/rotated copies (augment's transforms) of the training
// slices with the final weights gives eval-mode outputs that match what the network saw (docs/quality.md: this
// helped on every variant).

import { tf } from '../tfBackend';
import { dihedral, applyMapChannels } from './augment';
import { TRANSFORMS } from './symmetry';
import { forward, type MsdnetArch, type MsdnetWeights } from './network';

/** Pixels in one BatchNorm re-estimation batch. */
const MAX_BATCH_PIXELS = 1 << 21;

type Moments = Array<{ mean: tf.Tensor1D; variance: tf.Tensor1D }>;

/** Weight of the newest batch in the running averages (PyTorch's BatchNorm default); the tfjs and native paths share it. */
export const BATCHNORM_MOMENTUM = 0.1;

/** Exponential moving average of the batch statistics (as PyTorch's momentum); disposes `moments`. */
export function updateRunningStats(w: MsdnetWeights, moments: Moments, momentum: number): void {
  tf.tidy(() => {
    moments.forEach(({ mean, variance }, i) => {
      w.runMeans[i].assign(tf.add(tf.mul(w.runMeans[i], 1 - momentum), tf.mul(mean, momentum)));
      w.runVars[i].assign(tf.add(tf.mul(w.runVars[i], 1 - momentum), tf.mul(variance, momentum)));
    });
  });
  for (const m of moments) tf.dispose([m.mean, m.variance]);
}

/**
 * Sets the running statistics to those of the final network over the copies `transforms` (dihedral k, default all 8)
 * of every (normalised) slice. Copies of one shape form one batch (all for a square slice, else split by k parity:
 * odd k swap width and height), as in training mode; the groups are combined by pixel count.
 */
export async function recomputeBatchNorm(arch: MsdnetArch, w: MsdnetWeights,
  slices: Array<{ image: Float32Array; width: number; height: number }>, transforms: readonly number[] = TRANSFORMS.all,
  signal?: AbortSignal): Promise<void> {
  const sumMean = new Float64Array(arch.layers * arch.width);
  const sumSquare = new Float64Array(arch.layers * arch.width);
  let pixels = 0;
  for (const s of slices) {
    const shapes = s.width === s.height ? [[...transforms]]
      : [transforms.filter((k) => k % 2 === 0), transforms.filter((k) => k % 2 === 1)].filter((g) => g.length > 0);
    // Large slices go in smaller batches (8 copies of 1024x1024 overran the wasm heap); the sums are the same.
    const per = Math.max(1, Math.min(8, Math.floor(MAX_BATCH_PIXELS / s.image.length)));
    const groups = shapes.flatMap((ks) => Array.from({ length: Math.ceil(ks.length / per) }, (_, g) => ks.slice(g * per, (g + 1) * per)));
    for (const ks of groups) {
      if (signal?.aborted) throw signal.reason; // a cancel point per batch (each is a forward pass of the net)
      const copies = ks.map((k) => dihedral(k, s.width, s.height));
      // 2.5-D: s.image holds arch.inChannels interleaved values per pixel.
      const C = arch.inChannels;
      const batch = new Float32Array(copies.length * s.image.length);
      copies.forEach((t, j) => batch.set(applyMapChannels(s.image, t, C), j * s.image.length));
      const moments: Moments = [];
      const x = tf.tensor4d(batch, [copies.length, copies[0].height, copies[0].width, C]);
      tf.tidy(() => { forward(arch, w, x, 'batch', moments); });
      const n = batch.length / C;
      for (let i = 0; i < moments.length; i++) {
        const mean = await moments[i].mean.data();
        const variance = await moments[i].variance.data();
        for (let c = 0; c < arch.width; c++) {
          sumMean[i * arch.width + c] += mean[c] * n;
          sumSquare[i * arch.width + c] += (variance[c] + mean[c] * mean[c]) * n;
        }
        tf.dispose([moments[i].mean, moments[i].variance]);
      }
      x.dispose();
      pixels += n;
    }
  }
  for (let i = 0; i < arch.layers; i++) {
    const mean = Array.from({ length: arch.width }, (_, c) => sumMean[i * arch.width + c] / pixels);
    const variance = mean.map((m, c) => Math.max(0, sumSquare[i * arch.width + c] / pixels - m * m));
    w.runMeans[i].assign(tf.tensor1d(mean));
    w.runVars[i].assign(tf.tensor1d(variance));
  }
}
