// MSDNet training step without tfjs: forward, backward and Adam on Float32Array planes, the convolutions in
// WebAssembly SIMD (simdKernels.ts). Same graph and numbers as network.ts's forward + tfjs gradients + tf.train.adam
// (test/unit/msdnet.native.test.ts compares them), one slice per step (batch 1), BatchNorm in batch mode.
// Why: MSDNet is thin (width 1) and deep, so tfjs spends most of a step on ~2000 small kernel launches, transposes
// and concats; here a step is ~1400 plane-wide SIMD axpy/dot calls plus a few per-pixel JS loops.
//
// API
//   NativeMsdnet.create(arch, params): NativeMsdnet | null   null without WebAssembly SIMD; params = initial weights
//   net.step(image, width, height, targets, denominator, lr): { loss, means, variances }   (stepParts: the same,
//        as a generator that yields after every layer, so that training can check for cancel within a step)
//        image: normalised, row-major (channels interleaved when arch.inChannels > 1); targets [pixel * classes + c] = loss weight of class c at the pixel (0 = none);
//        loss = -sum targets * log softmax / denominator; one Adam step (beta1 .9, beta2 .999, eps 1e-7 as tfjs)
//   net.params: the current weights (NativeParams, in network.ts's shapes)

import { BN_EPSILON, dilationOf, layerInChannels, type MsdnetArch } from './network';
import { SimdKernels } from './simdKernels';

export interface NativeParams {
  filters: Float32Array[]; // layer i: [3, 3, cin, width]
  biases: Float32Array[]; gammas: Float32Array[]; betas: Float32Array[];
  outFilter: Float32Array; // [channels, classes]
  outBias: Float32Array;
}

/** The trainable arrays in tfjs's trainableVariables order. */
export function paramList(p: NativeParams): Float32Array[] {
  return [...p.filters, ...p.biases, ...p.gammas, ...p.betas, p.outFilter, p.outBias];
}

export interface StepResult { loss: number; means: number[]; variances: number[] }

interface Workspace {
  k: SimdKernels;
  wp: number; top: number; start: number; n: number; // padded row width, top pad rows, interior start, range length
  interior: Int32Array; // plane offset of image pixel i
  scratch: number; i32: Int32Array; // 64 floats after the planes: conv9/dot9 weights, byte offsets, outputs
  feat: number[]; gfeat: number[]; xhat: Float32Array[]; logits: number[]; glogits: number[]; gy: number; // float offsets
}

export class NativeMsdnet {
  private readonly grads: Float32Array[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  private readonly spaces = new Map<string, Workspace>();

  private constructor(readonly arch: MsdnetArch, readonly params: NativeParams) {
    const list = paramList(params);
    this.grads = list.map((a) => new Float32Array(a.length));
    this.m = list.map((a) => new Float32Array(a.length));
    this.v = list.map((a) => new Float32Array(a.length));
  }

  static create(arch: MsdnetArch, params: NativeParams): NativeMsdnet | null {
    if (!SimdKernels.create(1)) return null;
    return new NativeMsdnet(arch, params);
  }

  private workspace(width: number, height: number): Workspace {
    const key = `${width}x${height}`;
    let ws = this.spaces.get(key);
    if (ws) return ws;
    const a = this.arch;
    const pad = Math.max(...a.dilations);
    const wp = Math.ceil((width + 2 * pad) / 4) * 4;
    const top = pad + 1; // one extra row each side: shifted reads of the range never leave the plane
    const plane = wp * (height + 2 * top);
    const channels = layerInChannels(a, a.layers);
    const planes = 2 * channels + 2 * a.classes + 1;
    const k = SimdKernels.create(planes * plane * 4 + 256)!;
    const at = (i: number) => i * plane;
    let next = 0;
    const take = (count: number) => Array.from({ length: count }, () => at(next++));
    ws = {
      k, wp, top, start: top * wp, n: height * wp, scratch: planes * plane, i32: new Int32Array(k.f32.buffer),
      interior: Int32Array.from({ length: width * height }, (_, i) => (top + Math.floor(i / width)) * wp + pad + (i % width)),
      feat: take(channels), gfeat: take(channels), logits: take(a.classes), glogits: take(a.classes), gy: take(1)[0],
      xhat: Array.from({ length: a.layers * a.width }, () => new Float32Array(width * height)),
    };
    this.spaces.set(key, ws);
    return ws;
  }

  step(image: Float32Array, width: number, height: number, targets: Float32Array, denominator: number, lr: number): StepResult {
    const parts = this.stepParts(image, width, height, targets, denominator, lr);
    for (;;) {
      const r = parts.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The same step, yielding after each layer of the forward and the backward pass: the cancel points of a step on a
   * large slice (a 1024x1024 step takes ~4 s). The caller must run it to the end before the next step.
   */
  *stepParts(image: Float32Array, width: number, height: number, targets: Float32Array, denominator: number, lr: number): Generator<void, StepResult, void> {
    const a = this.arch, p = this.params, ws = this.workspace(width, height);
    const { k, wp, top, start, n } = ws;
    const f = k.f32;
    const pixels = width * height;
    const at = ws.interior;
    const W = ws.scratch, OFF = W + 16, NEG = W + 32, OUT = W + 48;
    // Input planes: zero padding around the normalised image; 2.5-D: inChannels planes, interleaved in `image`
    // ([pixel * inChannels + c], as the NHWC tensor network.ts takes).
    const C = a.inChannels;
    for (let c = 0; c < C; c++) {
      const b = ws.feat[c];
      f.fill(0, b, b + wp * (height + 2 * top));
      for (let i = 0; i < pixels; i++) f[b + at[i]] = image[i * C + c];
    }
    const means: number[] = [], variances: number[] = [];
    const rstds: number[] = [];
    for (let l = 0; l < a.layers; l++) {
      const cin = layerInChannels(a, l), filt = p.filters[l];
      setOffsets(ws, dilationOf(a, l));
      for (let o = 0; o < a.width; o++) {
        const j = l * a.width + o, out = ws.feat[C + j];
        f.fill(0, out, out + wp * (height + 2 * top));
        for (let ci = 0; ci < cin; ci++) {
          for (let t = 0; t < 9; t++) f[W + t] = filt[(t * cin + ci) * a.width + o];
          k.conv9(4 * (out + start), 4 * (ws.feat[ci] + start), n, 4 * W, 4 * OFF);
        }
        // bias + BatchNorm (batch statistics, biased variance as tf.moments) + ReLU; padding back to 0.
        const [mean, variance, rstd] = bnReluForward(f, out, at, ws.xhat[j], p.biases[l][o], p.gammas[l][o], p.betas[l][o], wp * (height + 2 * top));
        means.push(mean); variances.push(variance); rstds.push(rstd);
      }
      yield;
    }
    // 1x1 output layer and softmax cross-entropy over the weighted pixels.
    const channels = layerInChannels(a, a.layers), classes = a.classes;
    for (let c = 0; c < classes; c++) {
      f.fill(p.outBias[c], ws.logits[c] + start, ws.logits[c] + start + n);
      for (let ch = 0; ch < channels; ch++) k.axpy(4 * (ws.logits[c] + start), 4 * (ws.feat[ch] + start), p.outFilter[ch * classes + c], n);
      f.fill(0, ws.glogits[c], ws.glogits[c] + wp * (height + 2 * top));
    }
    const loss = softmaxCrossEntropy(f, at, ws.logits, ws.glogits, targets, denominator);

    // Backward.
    const g = this.grads;
    const nL = a.layers;
    const gFilters = g.slice(0, nL), gBiases = g.slice(nL, 2 * nL), gGammas = g.slice(2 * nL, 3 * nL), gBetas = g.slice(3 * nL, 4 * nL);
    const gOutFilter = g[4 * nL], gOutBias = g[4 * nL + 1];
    for (const ch of ws.gfeat) f.fill(0, ch, ch + wp * (height + 2 * top));
    for (let c = 0; c < classes; c++) {
      let sb = 0;
      for (let i = 0, b = ws.glogits[c]; i < pixels; i++) sb += f[b + at[i]];
      gOutBias[c] = sb;
      for (let ch = 0; ch < channels; ch++) {
        gOutFilter[ch * classes + c] = k.dot(4 * (ws.feat[ch] + start), 4 * (ws.glogits[c] + start), n);
        if (ch >= C) k.axpy(4 * (ws.gfeat[ch] + start), 4 * (ws.glogits[c] + start), p.outFilter[ch * classes + c], n);
      }
    }
    f.fill(0, ws.gy, ws.gy + wp * (height + 2 * top));
    for (let l = nL - 1; l >= 0; l--) {
      const cin = layerInChannels(a, l), filt = p.filters[l], gf = gFilters[l];
      setOffsets(ws, dilationOf(a, l));
      for (let o = 0; o < a.width; o++) {
        const j = l * a.width + o, out = ws.feat[C + j], gout = ws.gfeat[C + j], xh = ws.xhat[j];
        const [gGamma, gBeta, gBias] = bnReluBackward(f, out, gout, ws.gy, at, xh, p.gammas[l][o], p.betas[l][o], rstds[j]);
        gBetas[l][o] = gBeta; gGammas[l][o] = gGamma;
        gBiases[l][o] = gBias;
        for (let ci = 0; ci < cin; ci++) {
          // d filter = correlation of the input plane with gy at the 9 taps; d input = gy through the mirrored taps.
          k.dot9(4 * (ws.feat[ci] + start), 4 * (ws.gy + start), n, 4 * OFF, 4 * OUT);
          for (let t = 0; t < 9; t++) gf[(t * cin + ci) * a.width + o] = f[OUT + t];
          if (ci < C) continue; // the input image needs no gradient
          for (let t = 0; t < 9; t++) f[W + t] = filt[(t * cin + ci) * a.width + o];
          k.conv9(4 * (ws.gfeat[ci] + start), 4 * (ws.gy + start), n, 4 * W, 4 * NEG);
        }
      }
      yield;
    }
    this.adam(lr);
    return { loss, means, variances };
  }

  /** tf.train.adam's update: m, v moments, bias-corrected, epsilon 1e-7 added to sqrt(v-hat). */
  private adam(lr: number): void {
    this.t++;
    const b1 = 0.9, b2 = 0.999, c1 = 1 - b1 ** this.t, c2 = 1 - b2 ** this.t;
    paramList(this.params).forEach((w, idx) => {
      const g = this.grads[idx], m = this.m[idx], v = this.v[idx];
      for (let i = 0; i < w.length; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-7);
      }
    });
  }

  /** Gradients of the last step, in paramList order (for tests). */
  lastGradients(): Float32Array[] { return this.grads; }
}

/** Byte offsets of the 9 taps of a dilated 3x3 kernel (and their negatives) into the scratch area. */
function setOffsets(ws: Workspace, d: number): void {
  const base = ws.scratch + 16;
  for (let t = 0; t < 9; t++) {
    const off = ((Math.floor(t / 3) - 1) * ws.wp + (t % 3) - 1) * d;
    ws.i32[base + t] = 4 * off;
    ws.i32[base + 16 + t] = -4 * off;
  }
}

// The per-pixel passes, as small functions of typed arrays so that V8 optimises each loop on its own.

/** bias + BatchNorm (batch statistics, biased variance as tf.moments) + ReLU of plane `out` in place; keeps x-hat. */
function bnReluForward(f: Float32Array, out: number, at: Int32Array, xh: Float32Array, bias: number, gamma: number, beta: number,
  planeSize: number): [number, number, number] {
  const pixels = at.length;
  let sum = 0, sum2 = 0;
  for (let i = 0; i < pixels; i++) { const y = f[out + at[i]] + bias; xh[i] = y; sum += y; }
  const mean = sum / pixels;
  for (let i = 0; i < pixels; i++) { const c = xh[i] - mean; sum2 += c * c; }
  const variance = sum2 / pixels, rstd = 1 / Math.sqrt(variance + BN_EPSILON);
  f.fill(0, out, out + planeSize); // padding back to 0
  for (let i = 0; i < pixels; i++) { const x = (xh[i] - mean) * rstd; xh[i] = x; const v = gamma * x + beta; f[out + at[i]] = v > 0 ? v : 0; }
  return [mean, variance, rstd];
}

/** Weighted softmax cross-entropy; writes d loss / d logits into the glogits planes (zero where unweighted). */
function softmaxCrossEntropy(f: Float32Array, at: Int32Array, logits: number[], glogits: number[], targets: Float32Array, denominator: number): number {
  const classes = logits.length, pixels = at.length;
  const z = new Float64Array(classes);
  let loss = 0;
  for (let i = 0; i < pixels; i++) {
    const q = at[i];
    let total = 0, max = -Infinity;
    for (let c = 0; c < classes; c++) { total += targets[i * classes + c]; const v = f[logits[c] + q]; z[c] = v; if (v > max) max = v; }
    if (total === 0) continue;
    let se = 0;
    for (let c = 0; c < classes; c++) se += Math.exp(z[c] - max);
    const lse = max + Math.log(se);
    for (let c = 0; c < classes; c++) {
      const t = targets[i * classes + c];
      loss -= t * (z[c] - lse);
      f[glogits[c] + q] = (Math.exp(z[c] - lse) * total - t) / denominator;
    }
  }
  return loss / denominator;
}

/** Backward of bnReluForward: writes d loss / d conv output into plane gy; returns d gamma, d beta, d bias. */
function bnReluBackward(f: Float32Array, out: number, gout: number, gy: number, at: Int32Array, xh: Float32Array,
  gamma: number, beta: number, rstd: number): [number, number, number] {
  const pixels = at.length;
  let gBeta = 0, gGamma = 0, gBias = 0;
  for (let i = 0; i < pixels; i++) { const q = at[i]; if (f[out + q] > 0) { const gp = f[gout + q]; gBeta += gp; gGamma += gp * xh[i]; } }
  const scale = (gamma * rstd) / pixels;
  for (let i = 0; i < pixels; i++) {
    const q = at[i];
    const gp = gamma * xh[i] + beta > 0 ? f[gout + q] : 0;
    const v = scale * (pixels * gp - gBeta - xh[i] * gGamma);
    f[gy + q] = v; gBias += v;
  }
  return [gGamma, gBeta, gBias];
}
