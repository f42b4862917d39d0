// Opening and checking a job's inputs before anything is written: bad input fails here with one clear message.

import { StackSegError } from '../../shared/errors';
import { MODELS, type ModelKind } from '../../shared/models/registry';
import type { TrainingSlice, VolumeInput } from '../models/segmenter';
import { toFloat32, toLabels } from '../pixels';
import { openSource } from '../io';
import { FolderStack } from '../io/folder';
import { openStack } from '../tiff';
import type { SliceSource } from '../../shared/types';
import { selectPlane, type PlaneSelection } from './plane';

/** Opens a job's image in any format openSource reads (TIFF, folder, HDF5, Zarr); a folder's files are all checked. */
export async function openImage(path: string, plane?: PlaneSelection): Promise<SliceSource> {
  const src = await openSource(path);
  if (src instanceof FolderStack) await src.checkAll().catch(async (e) => { await src.close(); throw e; });
  if (src.info.depth === 0 || src.info.width === 0 || src.info.height === 0) {
    await src.close();
    throw new StackSegError('the stack is empty (no pixels)', { file: path, hint: 'choose a TIFF with at least one page' });
  }
  // One channel at one time point: a multi-channel stack without --set channel=N is refused here.
  try {
    return selectPlane(src, plane);
  } catch (e) {
    await src.close();
    throw e;
  }
}

/**
 * Opens labels (or a truth stack) and checks they match the image's width, height and depth exactly: a one-slice
 * truth for a 6-slice image would otherwise score every slice against slice 0.
 */
export async function openLabels(path: string, image: SliceSource, what: 'labels' | 'truth' = 'labels'): Promise<SliceSource> {
  // Read once, slice by slice: a small cache (the 256 MB default held 64 truth slices of 2048^2 during segmentation).
  const src = await openStack(path, { cacheBytes: 64 * 2 ** 20 });
  const a = image.info, b = src.info;
  if (a.width !== b.width || a.height !== b.height || b.depth !== a.depth) {
    await src.close();
    const which = a.width !== b.width || a.height !== b.height ? 'width and height' : 'number of slices';
    throw new StackSegError(
      `${what === 'truth' ? 'the truth stack' : 'the labels'} ${what === 'truth' ? 'is' : 'are'} ${b.width}×${b.height}×${b.depth} but the image is ${a.width}×${a.height}×${a.depth} (the ${which} differ)`,
      { file: path, hint: what === 'truth' ? `pass a truth stack of ${a.path} with the same width, height and ${a.depth} slices` : `use labels painted on ${a.path} (same width, height and ${a.depth} slices)` },
    );
  }
  return src;
}

/** Reads every slice that holds labeled pixels, with its image slice; checks the classes suit the model. */
export async function collectTrainingSlices(image: SliceSource, labels: SliceSource, model: ModelKind, signal?: AbortSignal): Promise<TrainingSlice[]> {
  const out: TrainingSlice[] = [];
  const classes = new Set<number>();
  for (let z = 0; z < labels.info.depth; z++) {
    signal?.throwIfAborted();
    const lab = toLabels(await labels.readSlice(z), labels.info.path, z);
    let any = false;
    for (let i = 0; i < lab.length; i++) if (lab[i] !== 0) { any = true; classes.add(lab[i]); }
    if (!any) continue;
    const img = toFloat32(await image.readSlice(z), image.info.path, z);
    out.push({ z, image: img, labels: lab });
  }
  if (MODELS[model].supervised) {
    if (out.length === 0) {
      throw new StackSegError('no labeled pixels', { file: labels.info.path, hint: 'paint at least one stroke of two classes, then train' });
    }
    if (classes.size < 2) {
      throw new StackSegError(`only one class (${[...classes][0]}) is labeled; ${MODELS[model].title} needs at least two`, {
        file: labels.info.path, hint: 'paint strokes of another class too (e.g. background)',
      });
    }
  }
  return out;
}

/**
 * The image as a volume read on demand: models with a z context (3-D features, 2.5-D MSDNet) read the neighbours of
 * each labelled slice through it, a window at a time (features/volumeChunks.ts), never the whole stack.
 */
export function volumeInput(image: SliceSource): VolumeInput {
  return { depth: image.info.depth, info: image.info, read: async (z) => toFloat32(await image.readSlice(z), image.info.path, z) };
}

/** Evenly spaced pixels from up to 16 slices: enough for percentiles, Otsu and k-means fitting. */
export async function sampleIntensities(image: SliceSource, maxPixels = 200_000, signal?: AbortSignal): Promise<Float32Array> {
  return (await sampleChannels(image, 1, maxPixels, signal))[0];
}

/**
 * The same sample from slices that hold `channels` channel planes one after the other (a ChannelsView): one array per
 * channel, of the same pixels (k-means fits on their joint vectors, each channel gets its own normalisation).
 */
export async function sampleChannels(image: SliceSource, channels: number, maxPixels = 200_000, signal?: AbortSignal): Promise<Float32Array[]> {
  const { depth, width, height } = image.info;
  const n = width * height;
  const nz = Math.min(depth, 16);
  const perSlice = Math.max(1, Math.floor(maxPixels / nz));
  const step = Math.max(1, Math.floor(n / perSlice));
  const per = Math.ceil(n / step);
  const out = Array.from({ length: channels }, () => new Float32Array(per * nz));
  for (let k = 0; k < nz; k++) {
    signal?.throwIfAborted();
    const z = Math.floor(((k + 0.5) * depth) / nz);
    const s = toFloat32(await image.readSlice(z), image.info.path, z);
    for (let c = 0; c < channels; c++) for (let i = 0, j = k * per; i < n; i += step, j++) out[c][j] = s[c * n + i];
  }
  return out;
}

/** Parses `a:b` (half-open, 0-based; either side may be empty) against a depth. */
export function parseSliceRange(text: string | undefined, depth: number): [number, number] {
  if (!text) return [0, depth];
  const m = /^(\d*):(\d*)$/.exec(text.trim());
  const a = m ? (m[1] === '' ? 0 : Number(m[1])) : NaN;
  const b = m ? (m[2] === '' ? depth : Number(m[2])) : NaN;
  if (!m || a >= b || b > depth) {
    throw new StackSegError(`slice range "${text}" is not valid for a stack of ${depth} slices`, { hint: `use a:b with 0 <= a < b <= ${depth}, e.g. 0:${depth}` });
  }
  return [a, b];
}
