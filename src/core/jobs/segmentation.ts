// Segmenting a range of slices into a mask file: streams slice by slice (bounded memory), writes under a temporary
// name and renames, optionally scores each slice against truth as it goes.

import { promises as fs } from 'node:fs';
import { writeFailure } from '../fsutil';
import { toFloat32, toLabels } from '../pixels';
import type { Prediction, Segmenter } from '../models/segmenter';
import { StackWriter } from '../tiff/writer';
import type { SliceSource } from '../../shared/types';
import type { Evaluation } from './evaluate';
import { SliceRing } from '../features/volumeChunks';

export interface SegmentOptions {
  truth?: SliceSource;
  evaluation?: Evaluation;
  signal?: AbortSignal;
  onSlice?: (done: number, total: number, z: number) => void;
  /** Also write uint8 uncertainty, 255 * (1 - highest class probability), here (for the viewer's heat overlay). */
  uncertaintyPath?: string;
}

/** 255 * (1 - max_c p_c) per pixel from class-major probabilities (probs[c * n + i]). */
export function uncertaintyOf(probabilities: Float32Array, nPixels: number): Uint8Array {
  const classes = Math.round(probabilities.length / nPixels);
  const out = new Uint8Array(nPixels);
  for (let i = 0; i < nPixels; i++) {
    let max = 0;
    for (let c = 0; c < classes; c++) max = Math.max(max, probabilities[c * nPixels + i]);
    out[i] = Math.round(255 * Math.min(1, Math.max(0, 1 - max)));
  }
  return out;
}

export async function writeSegmentation(image: SliceSource, segmenter: Segmenter, [z0, z1]: [number, number], maskPath: string, opts: SegmentOptions = {}): Promise<{ seconds: number }> {
  const { width, height } = image.info;
  const t0 = performance.now();
  const spec = { width, height, depth: z1 - z0, dtype: 'uint8' } as const;
  const writer = await StackWriter.create(maskPath, spec).catch(async (e) => { throw await writeFailure(e, maskPath); });
  let heat: StackWriter | undefined;
  try {
    heat = opts.uncertaintyPath ? await StackWriter.create(opts.uncertaintyPath, spec).catch(async (e) => { throw await writeFailure(e, opts.uncertaintyPath!); }) : undefined;
    // Keep one slice per worker in flight; write in slice order. Memory stays bounded by the concurrency.
    // Models with a z context (3-D features, 2.5-D) get a ring buffer of the 2 halo + 1 slices around each slice,
    // one slice at a time (the ring moves on only when the slice is done).
    const halo = segmenter.zHalo ?? 0;
    const ring = halo > 0 ? new SliceRing(image.info.depth, halo, async (z) => toFloat32(await image.readSlice(z), image.info.path, z)) : null;
    const concurrency = ring ? 1 : Math.max(1, segmenter.concurrency ?? 1);
    const queue: { z: number; result: Promise<Prediction> }[] = [];
    for (let next = z0; next < z1 || queue.length > 0;) {
      while (next < z1 && queue.length < concurrency) {
        opts.signal?.throwIfAborted();
        const get = ring ? await ring.centre(next) : null;
        const img = get ? get(next) : toFloat32(await image.readSlice(next), image.info.path, next);
        const context = get ? { z: next, depth: image.info.depth, slice: get } : undefined;
        const result = segmenter.predict(img, width, height, !!heat, opts.signal, context);
        result.catch(() => undefined); // handled when its turn comes; avoids an unhandled rejection meanwhile
        queue.push({ z: next++, result });
      }
      const { z, result } = queue.shift()!;
      const { labels, probs } = await result;
      opts.signal?.throwIfAborted();
      await writeTo(writer, () => writer.appendSlice(labels));
      if (heat) {
        if (!probs) throw new Error('this model gives no class probabilities for an uncertainty map');
        await writeTo(heat, () => heat!.appendSlice(uncertaintyOf(probs, width * height)));
      }
      if (opts.truth && opts.evaluation) opts.evaluation.addSlice(z, labels, await readTruthSlice(opts.truth, z));
      opts.onSlice?.(z - z0 + 1, z1 - z0, z);
    }
    await writeTo(writer, () => writer.close());
    if (heat) await writeTo(heat, () => heat!.close());
  } catch (e) {
    await writer.abort();
    await heat?.abort();
    // close() marks the writer done before its rename: a failed rename (EISDIR, EXDEV) leaves the temp file.
    await Promise.all([writer.tmpPath, heat?.tmpPath].map((p) => p && fs.rm(p, { force: true })));
    throw e;
  }
  return { seconds: (performance.now() - t0) / 1000 };
}

/** A write, close or rename of one output; failures name that output (and the free space on a full disk). */
async function writeTo(w: StackWriter, op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (e) {
    throw await writeFailure(e, w.path);
  }
}

export async function readTruthSlice(truth: SliceSource, z: number): Promise<Uint8Array> {
  return toLabels(await truth.readSlice(truth.info.depth === 1 ? 0 : z), truth.info.path, z);
}
