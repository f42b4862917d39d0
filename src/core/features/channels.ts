// Multi-channel input (`--set channel=all`): slices hold C channel planes one after the other (channel-major), and
// the model's normalisation holds one entry per channel (models/segmenter.ts Normalization.channels). Helpers shared
// by the random forest (2-D and 3-D banks), k-means and MSDNet. The live preview stays single-channel: it trains on
// the channel the viewer shows (livePreviewModel.ts), so its models never see these layouts.
//
// Feature layout of C channels: channel c's features follow channel c-1's, so feature i of the multi-channel bank is
// local feature i % F of channel floor(i / F), and its name is `c<stack channel>_<name>` (c0_gaussian_s1.6).

import { StackSegError } from '../../shared/errors';
import { normalizeSlice } from '../models/normalize';
import type { Normalization } from '../models/segmenter';

/** Channels a model reads (1 for a one-channel model). */
export function channelCount(norm: Normalization): number { return norm.channels?.length ?? 1; }

/** The stack channels a model reads, or undefined for a one-channel model. */
export function modelChannels(norm: Normalization): number[] | undefined { return norm.channels?.map((c) => c.channel); }

/**
 * The C planes of a slice (views, not copies). Refuses a slice whose length is not C * n: a model trained on C
 * channels given another number (the job checks this earlier with the file named; this is the last guard).
 */
export function channelPlanes(image: Float32Array, n: number, C: number): Float32Array[] {
  if (image.length !== C * n) {
    const got = image.length / n;
    throw new StackSegError(`the model reads ${C} channel${C === 1 ? '' : 's'} per slice, the slice holds ${Number.isInteger(got) ? got : `${image.length} values, not a multiple of ${n}`}`,
      { hint: C > 1 ? 'segment with the channels the model was trained on (--set channel=all or the same list)' : 'pick one channel with --set channel=N, as in training' });
  }
  return Array.from({ length: C }, (_, c) => image.subarray(c * n, (c + 1) * n));
}

/** normalizeSlice of each channel with its own normalisation (one channel: the model's norm). */
export function normalizeChannels(image: Float32Array, norm: Normalization, n = image.length / channelCount(norm)): Float32Array {
  const C = channelCount(norm);
  if (C === 1) return normalizeSlice(channelPlanes(image, n, 1)[0], norm);
  const out = new Float32Array(image.length);
  channelPlanes(image, n, C).forEach((p, c) => normalizeSlice(p, norm.channels![c], out.subarray(c * n, (c + 1) * n)));
  return out;
}

/** Feature names of C channels: one channel keeps the plain names (models trained before channels read the same). */
export function channelFeatureNames(names: readonly string[], channels: readonly number[] | undefined): string[] {
  if (!channels || channels.length <= 1) return [...names];
  return channels.flatMap((c) => names.map((name) => `c${c}_${name}`));
}

/**
 * Splits indices into the multi-channel bank (F features per channel) into runs of one channel, in the given order:
 * each run computes with one channel's bank and writes planes [from, to) of the output. Sort the indices first (by
 * channel) to get one run per channel.
 */
export function channelRuns(select: readonly number[], F: number): { channel: number; local: number[]; from: number; to: number }[] {
  const runs: { channel: number; local: number[]; from: number; to: number }[] = [];
  select.forEach((f, i) => {
    const c = Math.floor(f / F), last = runs[runs.length - 1];
    if (last && last.channel === c && last.to === i) { last.local.push(f % F); last.to = i + 1; } else runs.push({ channel: c, local: [f % F], from: i, to: i + 1 });
  });
  return runs;
}
