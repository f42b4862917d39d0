// The MSDNet graph (Pelt & Sethian 2018) in tfjs-core: every layer is a 3x3 dilated convolution over the input and
// all earlier layer outputs, + bias, BatchNorm, ReLU; a 1x1 convolution over everything gives the class logits.
// tfjs has no gradient for dilated conv2d and wasm has no Conv2DBackpropFilter, so the convolution carries its own.

import { tf } from '../tfBackend';
import { mulberry32, gaussian } from '../../random';

export interface MsdnetArch {
  layers: number;
  width: number;
  dilations: number[];
  inChannels: number;
  classes: number;
}

/** Trainable and running-statistic tensors, in a fixed order (the order of the saved weights). */
export interface MsdnetWeights {
  filters: tf.Variable<tf.Rank.R4>[]; // layer i: [3, 3, inChannels + i*width, width]
  biases: tf.Variable<tf.Rank.R1>[];
  gammas: tf.Variable<tf.Rank.R1>[];
  betas: tf.Variable<tf.Rank.R1>[];
  runMeans: tf.Variable<tf.Rank.R1>[]; // BatchNorm statistics for eval mode (not trained by gradients)
  runVars: tf.Variable<tf.Rank.R1>[];
  outFilter: tf.Variable<tf.Rank.R2>; // [inChannels + layers*width, classes]
  outBias: tf.Variable<tf.Rank.R1>;
}

export const BN_EPSILON = 1e-5;

export function dilationOf(arch: MsdnetArch, layer: number): number {
  return arch.dilations[layer % arch.dilations.length];
}

export function layerInChannels(arch: MsdnetArch, layer: number): number {
  return arch.inChannels + layer * arch.width;
}

/** He-normal weights from a seeded generator, so a seed gives the same network on every backend. */
let modelCounter = 0;

export function createWeights(arch: MsdnetArch, seed: number): MsdnetWeights {
  const id = `msdnet${modelCounter++}`; // tfjs variable names are global to the process
  const rand = mulberry32(seed);
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => gaussian(rand) * std);
  const w: MsdnetWeights = { filters: [], biases: [], gammas: [], betas: [], runMeans: [], runVars: [], outFilter: undefined!, outBias: undefined! };
  for (let i = 0; i < arch.layers; i++) {
    const cin = layerInChannels(arch, i);
    w.filters.push(tf.variable(tf.tensor4d(normal(9 * cin * arch.width, Math.sqrt(2 / (9 * cin))), [3, 3, cin, arch.width]), true, `${id}/layer${i}/filter`));
    w.biases.push(tf.variable(tf.zeros([arch.width]), true, `${id}/layer${i}/bias`));
    w.gammas.push(tf.variable(tf.ones([arch.width]), true, `${id}/layer${i}/bn_gamma`));
    w.betas.push(tf.variable(tf.zeros([arch.width]), true, `${id}/layer${i}/bn_beta`));
    w.runMeans.push(tf.variable(tf.zeros([arch.width]), false, `${id}/layer${i}/bn_mean`));
    w.runVars.push(tf.variable(tf.ones([arch.width]), false, `${id}/layer${i}/bn_var`));
  }
  const total = layerInChannels(arch, arch.layers);
  w.outFilter = tf.variable(tf.tensor2d(normal(total * arch.classes, Math.sqrt(1 / total)), [total, arch.classes]), true, `${id}/out/filter`);
  w.outBias = tf.variable(tf.zeros([arch.classes]), true, `${id}/out/bias`);
  return w;
}

export function trainableVariables(w: MsdnetWeights): tf.Variable[] {
  return [...w.filters, ...w.biases, ...w.gammas, ...w.betas, w.outFilter, w.outBias];
}

/** All tensors in save order, with their names. */
export function namedWeights(w: MsdnetWeights): Array<[string, tf.Variable]> {
  const out: Array<[string, tf.Variable]> = [];
  w.filters.forEach((_, i) => {
    out.push([`layer${i}/filter`, w.filters[i]], [`layer${i}/bias`, w.biases[i]], [`layer${i}/bn_gamma`, w.gammas[i]],
      [`layer${i}/bn_beta`, w.betas[i]], [`layer${i}/bn_mean`, w.runMeans[i]], [`layer${i}/bn_var`, w.runVars[i]]);
  });
  out.push(['out/filter', w.outFilter], ['out/bias', w.outBias]);
  return out;
}

export function disposeWeights(w: MsdnetWeights): void {
  for (const [, v] of namedWeights(w)) v.dispose();
}

type DilatedConv = (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D;
const dilatedConvs = new Map<number, DilatedConv>();

/**
 * 3x3 'same' convolution with dilation d and an explicit gradient:
 * d/dx = the same dilated conv of dy with the spatially flipped, in/out-swapped filter;
 * d/df = the correlation of x and dy at the 9 dilated offsets, as one strided conv (see below).
 * (im2col by pad + 9 strided slices + a channel concat, or a one-hot depthwise conv, and a matMul is the textbook
 * way, but wasm runs strided slices and inner-axis concats as JavaScript loops: 10x slower than the convolutions.)
 */
export function dilatedConv3x3(d: number): DilatedConv {
  let fn = dilatedConvs.get(d);
  if (!fn) {
    fn = tf.customGrad(((x: tf.Tensor, f: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x, f]);
      const value = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', d) as tf.Tensor4D;
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [n, h, wd] = xs.shape;
        const cout = fs.shape[3];
        const dy4 = dy as tf.Tensor4D;
        const flipped = tf.transpose(tf.reverse(fs, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
        const dx = tf.conv2d(dy4, flipped, 1, 'same', 'NHWC', d);
        // df[ky,kx,ci,co] = sum_p x[p + (k-1)d, ci] dy[p, co]: a strided conv of x (channels as batch) with dy as the
        // kernel, evaluated at the 9 offsets 0, d, 2d of the padded input — one native conv instead of im2col.
        const xAsBatch = tf.transpose(xs, [3, 1, 2, 0]); // [cin, h, w, n]
        const dyAsKernel = n === 1 ? tf.reshape(dy4, [h, wd, 1, cout]) : tf.transpose(dy4, [1, 2, 0, 3]); // [h, w, n, cout]
        const corr = tf.conv2d(xAsBatch as tf.Tensor4D, dyAsKernel as tf.Tensor4D, d, [[0, 0], [d, d], [d, d], [0, 0]]); // [cin, 3, 3, cout]
        const df = tf.transpose(corr, [1, 2, 0, 3]);
        return [dx, df];
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as DilatedConv;
    dilatedConvs.set(d, fn);
  }
  return fn;
}

export type BnMode = 'batch' | 'running';

/**
 * Forward pass. x: [N, H, W, inChannels]. Returns logits [N, H, W, classes].
 * 'batch' normalises with the statistics of this batch (training, statistics recompute); 'running' with the
 * stored ones (eval). `moments`, when given, receives each layer's batch mean/variance (kept tensors).
 * Feature maps are kept channel-major ([channels, pixels]) so that stacking them is a contiguous copy; each conv
 * sees them transposed to NHWC (a fast native transpose on wasm).
 */
export function forward(arch: MsdnetArch, w: MsdnetWeights, x: tf.Tensor4D, bn: BnMode,
  moments?: Array<{ mean: tf.Tensor1D; variance: tf.Tensor1D }>): tf.Tensor4D {
  const [n, h, wd, cx] = x.shape;
  const pixels = n * h * wd;
  const column = (t: tf.Tensor1D) => tf.reshape(t, [arch.width, 1]);
  // All feature maps so far, channel-major; grown by one concat per layer (its gradient is a split in 2 pieces:
  // splitting into one piece per plane costs a copy of the whole stack per piece on wasm).
  let stacked: tf.Tensor2D = cx === 1 ? tf.reshape(x, [1, pixels]) : tf.transpose(tf.reshape(x, [pixels, cx]));
  for (let i = 0; i < arch.layers; i++) {
    const cin = stacked.shape[0];
    const input = tf.reshape<tf.Rank.R4>(cin === 1 ? stacked : tf.transpose(stacked), [n, h, wd, cin]);
    const conv = tf.reshape(dilatedConv3x3(dilationOf(arch, i))(input, w.filters[i]), [pixels, arch.width]);
    const y = tf.add(arch.width === 1 ? tf.reshape(conv, [1, pixels]) : tf.transpose(conv), column(w.biases[i]));
    let mean: tf.Tensor1D, variance: tf.Tensor1D;
    if (bn === 'batch') {
      const m = tf.moments(y, 1) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
      mean = m.mean as tf.Tensor1D;
      variance = m.variance as tf.Tensor1D;
      if (moments) moments.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
    } else {
      mean = w.runMeans[i];
      variance = w.runVars[i];
    }
    const scale = tf.mul<tf.Tensor1D>(tf.rsqrt(tf.add(variance, BN_EPSILON)), w.gammas[i]);
    const normalised = tf.add(tf.mul(tf.sub(y, column(mean)), column(scale)), column(w.betas[i]));
    stacked = tf.concat([stacked, tf.relu(normalised) as tf.Tensor2D], 0);
  }
  const logits = tf.add(tf.matMul(w.outFilter, stacked, true, false), tf.reshape(w.outBias, [arch.classes, 1]));
  return tf.reshape(tf.transpose(logits), [n, h, wd, arch.classes]);
}
