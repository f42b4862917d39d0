// The input planes of an MSDNet: C stack channels (`--set channel=all`; slices hold them channel-major) times
// K = 2k+1 neighbouring slices (2.5-D, contextSlices = k), so C * K network inputs, ordered channel by channel
// (channel c's K slices in z order), each channel normalised with its own percentiles. One channel and one slice is
// the plain network. The torch backend (torchBackend.ts, python/stackseg_msdnet.py) uses the same order.

import { StackSegError } from '../../../shared/errors';
import { normalize, percentileNormalization, type Normalization } from './augment';

/** Stack channels the network reads: one normalisation each (Normalization.channels); 1 without. */
export function imageChannels(norm: Normalization): number { return norm.channels?.length ?? 1; }

/** Percentiles of each channel of channel-major images (C planes per image); the top level repeats channel 0's. */
export function channelNormalization(images: Float32Array[], C: number): Normalization {
  if (C === 1) return percentileNormalization(images);
  const channels = Array.from({ length: C }, (_, c) => percentileNormalization(images.map((im) => {
    const n = im.length / C;
    return im.subarray(c * n, (c + 1) * n);
  })));
  return { ...channels[0], channels };
}

/** Raw planes in network order; refuses another number of channels or neighbours than the network reads. */
export function rawInputPlanes(image: Float32Array, context: Float32Array[] | undefined, C: number, K: number, n: number): Float32Array[] {
  if (K > 1 && (context?.length !== K)) {
    throw new StackSegError(`this MSDNet takes ${K} neighbouring slices (contextSlices=${(K - 1) / 2}) but got ${context?.length ?? 1}`,
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
  for (let c = 0; c < C; c++) for (const s of slices) out.push(C === 1 ? s : s.subarray(c * n, (c + 1) * n));
  return out;
}

/** rawInputPlanes, each normalised with its channel's normalisation. */
export function inputPlanes(image: Float32Array, context: Float32Array[] | undefined, C: number, K: number, n: number, norm: Normalization): Float32Array[] {
  return rawInputPlanes(image, context, C, K, n).map((p, i) => normalize(p, norm.channels?.[Math.floor(i / K)] ?? norm));
}
