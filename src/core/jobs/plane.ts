// Which channel and time point of a multi-channel / time-lapse stack a job reads. Jobs train and segment one
// channel at a time: a stack with C > 1 channels is refused unless `--set channel=N` picks one (never a silent
// channel 0), and a stack with T > 1 time points reads `--set timepoint=N`, default 0, said in the job log.
import { StackSegError, UsageError } from '../../shared/errors';
import { parseMaskFormat, type MaskFormat } from '../io/maskOut';
import type { PixelArray, SliceSource, StackInfo } from '../../shared/types';

/** maskFormat rides along: like the plane, it is a job option given as --set, not a model parameter. */
export interface PlaneSelection { channel?: number; timepoint?: number; maskFormat?: MaskFormat }

const KEYS = ['channel', 'timepoint'] as const;

/** Takes `channel` and `timepoint` out of the `--set` pairs (they choose the input, they are not model parameters). */
export function takePlaneSelection(sets: Map<string, string>): PlaneSelection {
  const sel: PlaneSelection = {};
  for (const key of KEYS) {
    const raw = sets.get(key);
    if (raw === undefined) continue;
    sets.delete(key);
    if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--set ${key}=${raw}: not a whole number`, `e.g. --set ${key}=0 (the first ${key === 'channel' ? 'channel' : 'time point'})`);
    sel[key] = Number(raw.trim());
  }
  const mf = sets.get('maskFormat');
  if (mf !== undefined) { sets.delete('maskFormat'); sel.maskFormat = parseMaskFormat(mf); }
  return sel;
}

/** `--set` arguments that hand a selection on to a worker or Slurm task. */
export function planeArgs(sel: PlaneSelection): string[] {
  return [...KEYS.flatMap((k) => (sel[k] !== undefined ? ['--set', `${k}=${sel[k]}`] : [])), ...(sel.maskFormat ? ['--set', `maskFormat=${sel.maskFormat}`] : [])];
}

/** A view of one channel at one time point: readSlice(z) reads (z, channel, timepoint). */
class PlaneView implements SliceSource {
  readonly readSliceShared?: (z: number) => Promise<PixelArray>;
  constructor(readonly info: StackInfo, private readonly src: SliceSource, private readonly c: number, private readonly t: number) {
    const shared = src.readSliceShared?.bind(src);
    if (shared) this.readSliceShared = (z: number) => shared(z, c, t);
  }
  readSlice(z: number): Promise<PixelArray> { return this.src.readSlice(z, this.c, this.t); }
  close(): Promise<void> { return this.src.close(); }
}

/**
 * Applies a selection to an opened stack: refuses a multi-channel stack without a channel and out-of-range
 * choices; the result reports one channel and one time point, with notes saying which were read.
 */
export function selectPlane(src: SliceSource, sel: PlaneSelection = {}): SliceSource {
  const { info } = src;
  const channels = info.channels ?? 1;
  const frames = info.frames ?? 1;
  if (channels === 1 && frames === 1) {
    if (sel.channel || sel.timepoint) throw new StackSegError(`--set ${sel.channel ? `channel=${sel.channel}` : `timepoint=${sel.timepoint}`} was given but the image has one channel and one time point`, { file: info.path, hint: 'leave out --set channel / timepoint for this image' });
    return src;
  }
  if (channels > 1 && sel.channel === undefined) {
    throw new StackSegError(`the image has ${channels} channels (axes ${info.axes ?? '?'}); jobs read one channel at a time and will not mix or guess`, {
      file: info.path, hint: `pick the channel to train and segment on with --set channel=N (0 to ${channels - 1}); the viewer shows each channel`,
    });
  }
  const c = sel.channel ?? 0;
  const t = sel.timepoint ?? 0;
  if (c >= channels) throw new StackSegError(`--set channel=${c}: the image has ${channels} channel${channels === 1 ? '' : 's'}`, { file: info.path, hint: `use a channel from 0 to ${channels - 1}` });
  if (t >= frames) throw new StackSegError(`--set timepoint=${t}: the image has ${frames} time point${frames === 1 ? '' : 's'}`, { file: info.path, hint: `use a time point from 0 to ${frames - 1}` });
  const notes = [...(info.notes ?? [])];
  if (channels > 1) notes.push(`channel ${c} of ${channels} (--set channel=N picks another)`);
  if (frames > 1) notes.push(`time point ${t} of ${frames}${sel.timepoint === undefined ? ' (the default; --set timepoint=N picks another)' : ''}`);
  return new PlaneView({ ...info, channels: 1, frames: 1, notes }, src, c, t);
}
