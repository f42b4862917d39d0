// Which channels and time point of a multi-channel / time-lapse stack a job reads. A stack with C > 1 channels is
// refused unless `--set channel=...` says which (never a silent channel 0): `channel=N` reads one channel,
// `channel=all` or a list `channel=0,2` reads those channels of each slice together (channel-major slices, see
// ChannelsView), and a stack with T > 1 time points reads `--set timepoint=N`, default 0, said in the job log.
import { StackSegError, UsageError } from '../../shared/errors';
import { parseMaskFormat, type MaskFormat } from '../io/maskOut';
import { allocPixels, type PixelArray, type SliceSource, type StackInfo } from '../../shared/types';

/** One channel (N), several read together (a list, in the order given), or every channel of the stack. */
export type ChannelChoice = number | number[] | 'all';

/** maskFormat and uncertainty ride along: like the plane, they are job options given as --set, not model parameters. */
export interface PlaneSelection { channel?: ChannelChoice; timepoint?: number; maskFormat?: MaskFormat; uncertainty?: boolean }

/** `N`, `all` or `a,b,...` (distinct whole numbers) as a ChannelChoice; a list of one is that channel. */
export function parseChannelChoice(raw: string): ChannelChoice {
  const text = raw.trim();
  if (text === 'all') return 'all';
  const parts = text.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d+$/.test(p))) throw new UsageError(`--set channel=${raw}: not a channel number, a list or "all"`, 'e.g. --set channel=0 (the first channel), --set channel=0,2 or --set channel=all');
  const list = parts.map(Number);
  if (new Set(list).size !== list.length) throw new UsageError(`--set channel=${raw}: a channel is listed twice`, 'list each channel once, e.g. --set channel=0,2');
  return list.length === 1 ? list[0] : list;
}

/** The choice as `--set channel=` text. */
export function channelText(c: ChannelChoice): string { return Array.isArray(c) ? c.join(',') : String(c); }

/** Takes `channel` and `timepoint` out of the `--set` pairs (they choose the input, they are not model parameters). */
export function takePlaneSelection(sets: Map<string, string>): PlaneSelection {
  const sel: PlaneSelection = {};
  const ch = sets.get('channel');
  if (ch !== undefined) { sets.delete('channel'); sel.channel = parseChannelChoice(ch); }
  const raw = sets.get('timepoint');
  if (raw !== undefined) {
    sets.delete('timepoint');
    if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--set timepoint=${raw}: not a whole number`, 'e.g. --set timepoint=0 (the first time point)');
    sel.timepoint = Number(raw.trim());
  }
  const mf = sets.get('maskFormat');
  if (mf !== undefined) { sets.delete('maskFormat'); sel.maskFormat = parseMaskFormat(mf); }
  const u = sets.get('uncertainty');
  if (u !== undefined) {
    sets.delete('uncertainty');
    const v = u.trim().toLowerCase();
    if (!['on', 'off', 'true', 'false'].includes(v)) throw new UsageError(`--set uncertainty=${u}: not on or off`, 'e.g. --set uncertainty=off (no uncertainty.tif: labels only)');
    sel.uncertainty = v === 'on' || v === 'true';
  }
  return sel;
}

/** `--set` arguments that hand a selection on to a worker or Slurm task. */
export function planeArgs(sel: PlaneSelection): string[] {
  return [
    ...(sel.channel !== undefined ? ['--set', `channel=${channelText(sel.channel)}`] : []),
    ...(sel.timepoint !== undefined ? ['--set', `timepoint=${sel.timepoint}`] : []),
    ...(sel.maskFormat ? ['--set', `maskFormat=${sel.maskFormat}`] : []),
    ...(sel.uncertainty !== undefined ? ['--set', `uncertainty=${sel.uncertainty ? 'on' : 'off'}`] : []),
  ];
}

/** A view of one channel at one time point: readSlice(z) reads (z, channel, timepoint). */
class PlaneView implements SliceSource {
  readonly readSliceShared?: (z: number) => Promise<PixelArray>;
  /** readChannel: the stack channel read, on a multi-channel stack (job.json records it). */
  constructor(readonly info: StackInfo, private readonly src: SliceSource, private readonly c: number, private readonly t: number, readonly readChannel?: number) {
    const shared = src.readSliceShared?.bind(src);
    if (shared) this.readSliceShared = (z: number) => shared(z, c, t);
  }
  readSlice(z: number): Promise<PixelArray> { return this.src.readSlice(z, this.c, this.t); }
  close(): Promise<void> { return this.src.close(); }
}

/**
 * Several channels at one time point read together: readSlice(z) returns the channels' slices one after the other
 * (channel-major, `channels.length * width * height` values, the source's dtype). Models read the channel count from
 * their normalisation (one per channel, models/segmenter.ts); info says one channel, as a job sees one image per z.
 */
export class ChannelsView implements SliceSource {
  constructor(readonly info: StackInfo, private readonly src: SliceSource, readonly channels: readonly number[], private readonly t: number) {}

  async readSlice(z: number): Promise<PixelArray> {
    const parts = await Promise.all(this.channels.map((c) => this.src.readSlice(z, c, this.t)));
    const n = parts[0].length;
    const out = allocPixels(this.info.dtype, n * parts.length);
    parts.forEach((p, i) => out.set(p, i * n));
    return out;
  }

  close(): Promise<void> { return this.src.close(); }
}

/** The stack channels a job's slices hold (several for a ChannelsView), or undefined for a one-channel stack. */
export function channelsRead(src: SliceSource): readonly number[] | undefined {
  if (src instanceof ChannelsView) return src.channels;
  return src instanceof PlaneView && src.readChannel !== undefined ? [src.readChannel] : undefined;
}

/**
 * Applies a selection to an opened stack: refuses a multi-channel stack without a channel and out-of-range
 * choices; the result reports one channel and one time point, with notes saying which were read. With several
 * channels (`all`, a list) the result is a ChannelsView.
 */
export function selectPlane(src: SliceSource, sel: PlaneSelection = {}): SliceSource {
  const { info } = src;
  const channels = info.channels ?? 1;
  const frames = info.frames ?? 1;
  const choice = sel.channel;
  if (channels === 1 && frames === 1) {
    // channel=all (or 0) on a one-channel stack reads its one channel (a model of several channels is then refused
    // by the job's channel-count check).
    const extra = typeof choice === 'number' ? choice !== 0 : Array.isArray(choice);
    if (extra || sel.timepoint) throw new StackSegError(`--set ${extra ? `channel=${channelText(choice!)}` : `timepoint=${sel.timepoint}`} was given but the image has one channel and one time point`, { file: info.path, hint: 'leave out --set channel / timepoint for this image' });
    return src;
  }
  if (channels > 1 && choice === undefined) {
    throw new StackSegError(`the image has ${channels} channels (axes ${info.axes ?? '?'}); jobs will not mix or guess channels`, {
      file: info.path, hint: `pick the channel to train and segment on with --set channel=N (0 to ${channels - 1}), or read them together with --set channel=all (or a list, e.g. 0,1); the viewer shows each channel`,
    });
  }
  const list = choice === 'all' ? Array.from({ length: channels }, (_, i) => i) : Array.isArray(choice) ? choice : [choice ?? 0];
  const t = sel.timepoint ?? 0;
  const bad = list.find((c) => c >= channels);
  if (bad !== undefined) throw new StackSegError(`--set channel=${bad}: the image has ${channels} channel${channels === 1 ? '' : 's'}`, { file: info.path, hint: `use a channel from 0 to ${channels - 1}` });
  if (t >= frames) throw new StackSegError(`--set timepoint=${t}: the image has ${frames} time point${frames === 1 ? '' : 's'}`, { file: info.path, hint: `use a time point from 0 to ${frames - 1}` });
  const notes = [...(info.notes ?? [])];
  if (channels > 1 && list.length === 1) notes.push(`channel ${list[0]} of ${channels} (--set channel=N picks another)`);
  if (list.length > 1) notes.push(`channels ${list.join(', ')} of ${channels} read together (--set channel=${channelText(choice!)})`);
  if (frames > 1) notes.push(`time point ${t} of ${frames}${sel.timepoint === undefined ? ' (the default; --set timepoint=N picks another)' : ''}`);
  const out = { ...info, channels: 1, frames: 1, notes };
  if (list.length > 1) return new ChannelsView(out, src, list, t);
  return new PlaneView(out, src, list[0], t, channels > 1 ? list[0] : undefined);
}
