// One Slurm array task: segments one chunk of a job's slices straight into the preallocated mask (no chunk file,
// no merge), scores them against truth when the job has one, leaves its marker, and finishes the job when it is
// the last chunk to end. Run as `stackseg chunk --job JOBDIR --chunk I` (the array's batch script).

import { SliceRing } from '../../features/volumeChunks';
import { hostname } from 'node:os';
import { StackSegError } from '../../../shared/errors';
import { writeJsonAtomic } from '../../fsutil';
import { ConfusionMatrix } from '../../metrics';
import { loadSegmenter } from '../../models';
import type { Prediction } from '../../models/segmenter';
import { toFloat32 } from '../../pixels';
import { trainedModelPath } from '../jobPaths';
import { JobLock } from '../lock';
import { checkModelChannels } from '../runJob';
import { finishJob, sparseCounts, type ChunkMarker, type FinishResult } from '../merge';
import { openImage, openLabels } from '../inputs';
import { readTruthSlice, uncertaintyOf } from '../segmentation';
import type { JobProgress, JobRecord } from '../../../shared/jobs/spec';
import { loadRecord, saveRecord } from '../store';
import { PreallocatedMask } from './prealloc';
import { chunkMarker, loadSlurmState, partialMask, partialUncertainty } from './slurm';

export interface ChunkResult { job: string; chunk: number; slices: [number, number]; seconds: number; finish: FinishResult }

/** The trained model a job segments with: its own (train+segment) or the model job's (segment). */
async function modelOf(record: JobRecord): Promise<string> {
  if (record.spec.kind !== 'segment') return trainedModelPath(record);
  if (typeof record.spec.modelFrom !== 'string') throw new StackSegError('job.json names no model job (spec.modelFrom)', { file: record.dir, hint: 'submit the job again' });
  return trainedModelPath(await loadRecord(record.spec.modelFrom));
}

/** queued -> running, by the first task to start (under the job's lock; a busy lock means another task did it). */
async function markRunning(jobDir: string): Promise<void> {
  const lock = await JobLock.acquire(jobDir).catch(() => undefined);
  if (!lock) return;
  try {
    const r = await loadRecord(jobDir);
    if (r.status === 'queued') await saveRecord({ ...r, status: 'running', started: new Date().toISOString() });
  } finally {
    await lock.release();
  }
}

export async function runChunk(jobDir: string, chunk: number, opts: { signal?: AbortSignal; progress?: (p: JobProgress) => void } = {}): Promise<ChunkResult> {
  const [record, state] = [await loadRecord(jobDir), await loadSlurmState(jobDir)];
  if (record.runner !== 'slurm' || record.spec.kind === 'train') throw new StackSegError('not a Slurm segmentation job', { file: jobDir });
  if (!(Number.isInteger(chunk) && chunk >= 0 && chunk < state.chunks.length)) throw new StackSegError(`chunk ${chunk} is not one of the job's ${state.chunks.length} chunks`, { file: jobDir });
  if (record.status === 'cancelled') throw new StackSegError('the job was cancelled', { file: jobDir });
  const [a, b] = state.chunks[chunk];
  const first = state.first ?? 0;
  const image = await openImage(record.spec.image, { channel: record.spec.channel, timepoint: record.spec.timepoint });
  const { width, height, depth } = image.info;
  const spec = { width, height, depth: state.depth };
  let mask: PreallocatedMask | undefined, heat: PreallocatedMask | undefined;
  const truth = record.spec.truth ? await openLabels(record.spec.truth, image, 'truth').catch(async (e) => { await image.close(); throw e; }) : undefined;
  try {
    if (width !== state.width || height !== state.height || first + state.depth > depth) {
      throw new StackSegError(`the image is now ${width}×${height}×${depth}, not the ${state.width}×${state.height} with ${first + state.depth} slices the job was submitted for`, { file: record.spec.image, hint: 'submit the job again' });
    }
    // The channel count `segment` checks (runJob.ts), here too: the stack may have changed since the job was
    // submitted, and a mismatch found inside the model would not name the file. Nothing is written before it.
    const modelDir = await modelOf(record);
    await checkModelChannels(modelDir, image);
    await markRunning(jobDir);
    mask = await PreallocatedMask.open(partialMask(jobDir), spec);
    if (state.uncertainty) heat = await PreallocatedMask.open(partialUncertainty(jobDir), spec);
    const segmenter = await loadSegmenter(modelDir);
    const started = Date.now();
    const scores: [number, number][][] = [];
    try {
      // One slice per worker in flight, written as each completes in order (as writeSegmentation does).
      // 3-D / 2.5-D models: a ring of the z window around each slice (halo slices beyond the chunk are read too).
      const halo = segmenter.zHalo ?? 0;
      const ring = halo > 0 ? new SliceRing(depth, halo, async (z) => toFloat32(await image.readSlice(z), image.info.path, z)) : null;
      const concurrency = ring ? 1 : Math.max(1, segmenter.concurrency ?? 1);
      const queue: { z: number; result: Promise<Prediction> }[] = [];
      for (let next = a; next < b || queue.length > 0;) {
        while (next < b && queue.length < concurrency) {
          opts.signal?.throwIfAborted();
          const get = ring ? await ring.centre(first + next) : null;
          const img = get ? get(first + next) : toFloat32(await image.readSlice(first + next), image.info.path, first + next);
          const context = get ? { z: first + next, depth, slice: get } : undefined;
          const result = segmenter.predict(img, width, height, !!heat, opts.signal, context);
          result.catch(() => undefined);
          queue.push({ z: next++, result });
        }
        const { z, result } = queue.shift()!;
        const { labels, probs } = await result;
        opts.signal?.throwIfAborted();
        await mask.writeSlice(z, labels);
        if (heat) {
          if (!probs) throw new Error('this model gives no class probabilities for an uncertainty map');
          await heat.writeSlice(z, uncertaintyOf(probs, width * height));
        }
        if (truth) {
          const m = new ConfusionMatrix();
          m.add(labels, await readTruthSlice(truth, first + z));
          scores.push(sparseCounts(m));
        }
        opts.progress?.({ phase: 'segment', percent: (100 * (z - a + 1)) / (b - a), message: `slice ${first + z + 1}` });
      }
    } finally {
      await segmenter.dispose?.();
    }
    // On disk before the marker says so.
    await mask.close(); mask = undefined;
    await heat?.close(); heat = undefined;
    const ended = Date.now();
    const marker: ChunkMarker = { chunk, slices: [a, b], started, ended, seconds: (ended - started) / 1000, backend: segmenter.backend, host: hostname(), ...(truth ? { scores } : {}) };
    await writeJsonAtomic(chunkMarker(jobDir, chunk), marker);
    return { job: jobDir, chunk, slices: [a, b], seconds: marker.seconds, finish: await finishJob(jobDir) };
  } finally {
    await mask?.close().catch(() => undefined);
    await heat?.close().catch(() => undefined);
    await truth?.close();
    await image.close();
  }
}
