// The end of a Slurm segmentation: no merge. Chunk tasks wrote their slices straight into the preallocated mask
// (runners/prealloc.ts) and each left a marker with its per-slice scores; whichever task completes the set (or
// `stackseg status`/`retry` later) verifies the markers and the file size, sums the scores, and renames.
// Its cost does not grow with the stack: no pixel is read or copied.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { readJson } from '../fsutil';
import { ConfusionMatrix } from '../metrics';
import { recordEvaluation } from './runJob';
import { Evaluation } from './evaluate';
import { JobLock } from './lock';
import { uint8Layout } from './runners/prealloc';
import { chunkMarker, chunksDir, loadSlurmState, partialMask, partialUncertainty } from './runners/slurm';
import { JobLog, loadRecord, saveRecord } from './store';

/** What a chunk task leaves in chunks/done-NNNN.json. */
export interface ChunkMarker {
  chunk: number;
  slices: [number, number];
  /** Epoch ms: when the task started segmenting, and when its slices were on disk. */
  started: number;
  ended: number;
  seconds: number;
  backend?: string;
  host?: string;
  /** Per slice, the nonzero confusion counts as [pred * 256 + truth, count] pairs (when the job has truth). */
  scores?: [number, number][][];
}

export function sparseCounts(m: ConfusionMatrix): [number, number][] {
  const out: [number, number][] = [];
  m.counts.forEach((v, i) => { if (v) out.push([i, v]); });
  return out;
}

export interface FinishResult { finished: boolean; mask?: string; seconds?: number; afterLastChunk?: number; reason?: string }

/** Finishes a Slurm segmentation whose chunks are all done; a no-op (finished: false) while some are not. */
export async function finishJob(jobDir: string): Promise<FinishResult> {
  const t0 = performance.now();
  // One finisher: two tasks ending together both see every marker; the second finds the lock taken and leaves.
  const lock = await JobLock.acquire(jobDir).catch(() => undefined);
  if (!lock) return { finished: false, reason: 'another process is finishing this job' };
  try {
    const [record, state] = [await loadRecord(jobDir), await loadSlurmState(jobDir)];
    if (record.status === 'succeeded') return { finished: true, mask: record.outputs.mask, reason: 'already finished' };
    const markers: ChunkMarker[] = [];
    for (let i = 0; i < state.chunks.length; i++) {
      const m = await readJson<ChunkMarker>(chunkMarker(jobDir, i)).catch(() => undefined);
      if (!m) return { finished: false, reason: `chunk ${i} is not done` };
      const [a, b] = state.chunks[i];
      if (m.chunk !== i || m.slices?.[0] !== a || m.slices?.[1] !== b) {
        throw new StackSegError(`the marker of chunk ${i} names slices ${JSON.stringify(m.slices)}, not ${a}:${b}`, { file: chunkMarker(jobDir, i), hint: 'delete it and retry the chunk (stackseg retry --job)' });
      }
      const okScores = m.scores === undefined || (Array.isArray(m.scores) && m.scores.length === b - a && m.scores.every((sl) => Array.isArray(sl)
        && sl.every((e) => Array.isArray(e) && Number.isInteger(e[0]) && e[0] >= 0 && e[0] < 65536 && Number.isFinite(e[1]) && e[1] >= 0)));
      if (!okScores) throw new StackSegError(`the marker of chunk ${i} holds scores that are not per-slice counts`, { file: chunkMarker(jobDir, i), hint: 'delete it and retry the chunk (stackseg retry --job)' });
      markers.push(m);
    }
    const spec = { width: state.width!, height: state.height!, depth: state.depth };
    const partials: [string, string][] = [[partialMask(jobDir), join(jobDir, 'mask.tif')]];
    if (state.uncertainty) partials.push([partialUncertainty(jobDir), join(jobDir, 'uncertainty.tif')]);
    const size = uint8Layout(spec).fileSize;
    for (const [p] of partials) {
      const st = await fs.stat(p).catch(() => undefined);
      if (st?.size !== size) throw new StackSegError(`the preallocated output is ${st ? `${st.size} bytes, expected ${size}` : 'missing'}`, { file: p, hint: 'submit the job again' });
    }
    let evaluation: Evaluation | undefined;
    if (record.spec.truth) {
      evaluation = new Evaluation(record.spec.classMap);
      for (const m of markers) for (const counts of m.scores ?? []) evaluation.addSliceCounts(counts);
    }
    for (const [p, final] of partials) await fs.rename(p, final);
    const log = await JobLog.open(join(jobDir, 'log.txt'));
    const lastEnd = Math.max(...markers.map((m) => m.ended));
    record.outputs.mask = join(jobDir, 'mask.tif');
    if (state.uncertainty) record.outputs.uncertainty = join(jobDir, 'uncertainty.tif');
    record.backend ??= markers[0].backend;
    record.timings.segment = (lastEnd - Math.min(...markers.map((m) => m.started))) / 1000;
    log.line(`${markers.length} chunks wrote ${state.depth} slices in place -> ${record.outputs.mask}`);
    if (evaluation && markers.reduce((n, m) => n + (m.scores?.length ?? 0), 0) === state.depth) await recordEvaluation(record, evaluation.result({ truth: record.spec.truth }), log);
    record.status = 'succeeded';
    record.finished = new Date().toISOString();
    record.timings.finish = (performance.now() - t0) / 1000;
    record.timings.afterLastChunk = (Date.parse(record.finished) - lastEnd) / 1000;
    record.timings.total = (Date.parse(record.finished) - Date.parse(record.created)) / 1000;
    log.line(`done ${record.timings.afterLastChunk.toFixed(3)} s after the last chunk ended (finishing took ${record.timings.finish.toFixed(3)} s)`);
    await log.close();
    await saveRecord(record);
    await fs.rm(chunksDir(jobDir), { recursive: true, force: true });
    return { finished: true, mask: record.outputs.mask, seconds: record.timings.finish, afterLastChunk: record.timings.afterLastChunk };
  } finally {
    await lock.release();
  }
}

/** `stackseg merge --job` (kept for scripts): finishes the job, or says which chunk is missing. */
export async function mergeChunks(jobDir: string): Promise<FinishResult> {
  const r = await finishJob(jobDir);
  if (!r.finished && r.reason?.includes('not done')) throw new StackSegError(r.reason, { file: jobDir, hint: 'retry the failed chunks (stackseg retry --job)' });
  return r;
}
