// The input planes of an MSDNet: C stack channels (`--set channel=all`; slices hold them channel-major), each giving
// P planes, so C * P network inputs, ordered channel by channel. A channel's P planes: its raw slices (K = 2k+1
// neighbours in z order for 2.5-D, contextSlices = k; the slice alone with k = 0 or smoothing '3d-only'), then one
// fixed (not learnt) Gaussian-smoothed plane per `inputSigmas` sigma: the slice smoothed in-plane ('2d'), or the z
// window weighted by a Gaussian over z and then smoothed in-plane ('3d', '3d-only'; the cheap analogue of the
// forest's 3-D features). Every plane of a channel is normalised with that channel's percentiles (smoothing with
// weights that sum to 1 commutes with the affine normalisation, so raw planes may be smoothed first). The torch
// backend (torchBackend.ts, python/stackseg_msdnet.py) gets the same planes in the same order.

import { StackSegError } from '../../../shared/errors';
import { gaussianSmooth } from '../../features/filters';
import { normalize, percentileNormalization, type Normalization } from './augment';

/** inputSigmas=-1: auto (msdnetSegmenter.ts resolveAutoInputs). */
export const AUTO_SIGMAS = -1;

export const INPUT_SMOOTHINGS = ['2d', '3d', '3d-only'] as const;
export type InputSmoothing = typeof INPUT_SMOOTHINGS[number];

/** What the network reads per stack channel; model.json's modelTopology.inputs records it. */
export interface InputSpec { contextSlices: number; sigmas: number[]; smoothing: InputSmoothing }

/** The plain planes: 2k+1 raw slices per channel, nothing smoothed. */
export function plainSpec(contextSlices: number): InputSpec { return { contextSlices, sigmas: [], smoothing: '2d' }; }

/** Stack channels the network reads: one normalisation each (Normalization.channels); 1 without. */
export function imageChannels(norm: Normalization): number { return norm.channels?.length ?? 1; }

/**
 * The spec of the params (msdnet: contextSlices, inputSigmas, inputSmoothing); sigma 0 = none. inputSigmas -1
 * (auto) is resolved by msdnetSegmenter.ts resolveAutoInputs before training; a direct caller that leaves it gets none.
 */
export function inputSpec(params: { contextSlices?: unknown; inputSigmas?: unknown; inputSmoothing?: unknown }): InputSpec {
  const raw = params.inputSigmas;
  const sigmas = (Array.isArray(raw) ? raw : typeof raw === 'number' ? [raw] : typeof raw === 'string' && raw.trim() ? raw.split(',') : []).map(Number).filter((s) => s !== 0 && s !== AUTO_SIGMAS);
  return checkSpec({ contextSlices: Number(params.contextSlices ?? 0), sigmas, smoothing: (params.inputSmoothing ?? '2d') as InputSmoothing });
}

function checkSpec(s: InputSpec): InputSpec {
  const why = !(Number.isInteger(s.contextSlices) && s.contextSlices >= 0) ? `contextSlices ${s.contextSlices}`
    : !s.sigmas.every((v) => Number.isFinite(v) && v >= 0.3 && v <= 16) ? `inputSigmas ${s.sigmas.join(',')} (each 0.3..16, or 0 for none)`
      : !(INPUT_SMOOTHINGS as readonly string[]).includes(s.smoothing) ? `inputSmoothing "${s.smoothing}" (one of ${INPUT_SMOOTHINGS.join('|')})` : '';
  if (why) throw new StackSegError(`invalid MSDNet inputs: ${why}`, { hint: 'fix the --set value', code: 'usage' });
  return s;
}

/** Raw (un-smoothed) slices per channel: the z window, or the slice alone with '3d-only' smoothing. */
function rawSlices(s: InputSpec): number { return s.smoothing === '3d-only' ? 1 : 2 * s.contextSlices + 1; }
/** Planes per stack channel. */
export function planesPerChannel(s: InputSpec): number { return rawSlices(s) + s.sigmas.length; }

/**
 * The spec a saved model records (modelTopology.inputs), or for a model from before it (no record) the plain
 * 2.5-D one its inChannels imply; refuses, with one message, inputs this version cannot rebuild.
 */
export function recordedSpec(recorded: unknown, inChannels: number, IC: number, file?: string): InputSpec {
  let spec: InputSpec | undefined;
  try {
    if (recorded === undefined) spec = checkSpec(plainSpec((inChannels / IC - 1) / 2));
    else if (recorded && typeof recorded === 'object' && Array.isArray((recorded as InputSpec).sigmas)) spec = checkSpec({ ...(recorded as InputSpec) });
  } catch { spec = undefined; }
  if (!spec || IC * planesPerChannel(spec) !== inChannels) {
    throw new StackSegError(`this MSDNet's ${inChannels} input planes cannot be rebuilt from what the model records (inputs ${JSON.stringify(recorded ?? null)}, ${IC} stack channel${IC === 1 ? '' : 's'})`,
      { file, hint: 'the model comes from another StackSeg version or its model.json was edited; retrain it with this version' });
  }
  return spec;
}

/** Percentiles of each channel of channel-major images (C planes per image); the top level repeats channel 0's. */
export function channelNormalization(images: Float32Array[], C: number): Normalization {
  if (C === 1) return percentileNormalization(images);
  const channels = Array.from({ length: C }, (_, c) => percentileNormalization(images.map((im) => {
    const n = im.length / C;
    return im.subarray(c * n, (c + 1) * n);
  })));
  return { ...channels[0], channels };
}

/** Normalised Gaussian weights over the 2k+1 slices of a z window (a sigma much above k is about the window mean). */
export function zWeights(k: number, sigma: number): Float64Array {
  const w = Float64Array.from({ length: 2 * k + 1 }, (_, i) => Math.exp(-0.5 * ((i - k) / sigma) ** 2));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

/** Raw planes in network order; refuses another number of channels or neighbours than the network reads. */
export function rawInputPlanes(image: Float32Array, context: Float32Array[] | undefined, C: number, spec: InputSpec, width: number, height: number): Float32Array[] {
  const n = width * height, K = 2 * spec.contextSlices + 1;
  if (K > 1 && (context?.length !== K)) {
    throw new StackSegError(`this MSDNet takes ${K} neighbouring slices (contextSlices=${spec.contextSlices}) but got ${context?.length ?? 1}`,
      { hint: 'segment through stackseg segment / a job, which stream the slices around each one' });
  }
  const slices = K === 1 ? [image] : context!;
  for (const s of slices) {
    if (s.length !== C * n) {
      throw new StackSegError(`this MSDNet reads ${C} channel${C === 1 ? '' : 's'} per slice, the slice holds ${s.length / n}`,
        { hint: C > 1 ? 'segment with the channels it was trained on (--set channel=all or the same list)' : 'pick one channel with --set channel=N, as in training' });
    }
  }
  const out: Float32Array[] = [];
  for (let c = 0; c < C; c++) {
    const window = slices.map((s) => (C === 1 ? s : s.subarray(c * n, (c + 1) * n)));
    const centre = window[(window.length - 1) / 2];
    if (spec.smoothing === '3d-only') out.push(centre);
    else out.push(...window);
    for (const sigma of spec.sigmas) {
      let plane = centre;
      if (spec.smoothing !== '2d' && K > 1) {
        const w = zWeights(spec.contextSlices, sigma);
        plane = new Float32Array(n);
        window.forEach((s, j) => { for (let i = 0; i < n; i++) plane[i] += w[j] * s[i]; });
      }
      out.push(gaussianSmooth(plane, width, height, sigma));
    }
  }
  return out;
}

/** rawInputPlanes, each normalised with its channel's normalisation. */
export function inputPlanes(image: Float32Array, context: Float32Array[] | undefined, C: number, spec: InputSpec, width: number, height: number, norm: Normalization): Float32Array[] {
  const P = planesPerChannel(spec);
  return rawInputPlanes(image, context, C, spec, width, height).map((p, i) => normalize(p, norm.channels?.[Math.floor(i / P)] ?? norm));
}
