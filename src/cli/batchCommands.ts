// `stackseg segment --job MODELJOB --image A --image B | --images DIR|GLOB [--out BATCHDIR] [--runner slurm]`, and
// `status / cancel / retry --batch BATCHDIR`: batches (batch.ts) run as a local queue or as one Slurm array over
// stacks x chunks.

import { existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { StackSegError, UsageError } from '../shared/errors';
import { stackStem, loadRecord } from '../core/jobs/store';
import { trainedModelPath } from '../core/jobs/jobPaths';
import { checkJobFolder } from '../core/jobs/outputs';
import { runJob, validateJobInputs } from '../core/jobs/runJob';
import { takePlaneSelection, type PlaneSelection } from '../core/jobs/plane';
import type { CliContext } from './commands';
import { slurmOptions } from './commands';
import { parseClassMap } from '../core/metrics';
import { parseSets } from '../shared/models/registry';
import {
  BatchFailure, batchFile, childRecord, childSpec, defaultBatchDir, expandStacks, failIfAnyFailed, loadBatch, newBatch,
  saveBatch, stackSummaries, summariseBatch, type BatchRecord,
} from '../core/jobs/batch';
import {
  cancelSlurmJob, chunksToRetry, loadSlurmState, prepareSlurmJob, recordArray, refreshSlurmJob, reopenJob, saveSlurmState,
  submitChunkArray, type SlurmOptions,
} from '../core/jobs/runners/slurm';
import { defaultJobDir } from '../core/jobs/store';
import type { JobRecord } from '../shared/jobs/spec';

export { BatchFailure };

const str = (c: CliContext, k: string) => c.values[k] as string | undefined;
const list = (c: CliContext, k: string) => (c.values[k] as string[] | undefined) ?? [];

/** --batch DIR, or --job DIR where DIR holds batch.json. */
export function isBatchDir(c: CliContext): boolean {
  if (str(c, 'batch')) return true;
  const job = str(c, 'job');
  return !!job && existsSync(batchFile(resolve(job)));
}

const batchDirOf = (c: CliContext) => resolve((str(c, 'batch') ?? str(c, 'job'))!);

export async function batchCommand(what: 'segment' | 'status' | 'cancel' | 'retry', c: CliContext) {
  if (what === 'segment') return segmentBatch(c);
  const b = await loadBatch(batchDirOf(c));
  if (what === 'status') {
    if (b.runner === 'slurm') for (const s of b.stacks) if (existsSync(join(s.job, 'job.json'))) await refreshSlurmJob(s.job).catch(() => undefined);
    return summariseBatch(b);
  }
  if (what === 'cancel') {
    if (b.runner !== 'slurm') throw new StackSegError('a local batch stops with Ctrl-C (SIGINT/SIGTERM) of its process', { file: b.dir, hint: 'its finished stacks are kept; `stackseg retry --batch` runs the rest' });
    for (let i = 0; i < b.stacks.length; i++) {
      const r = await childRecord(b, i);
      if (r && (r.status === 'queued' || r.status === 'running')) await cancelSlurmJob(r.dir);
    }
    return summariseBatch(b);
  }
  return retryBatch(b, c);
}

async function segmentBatch(c: CliContext) {
  const modelJob = resolve(str(c, 'job') ?? '');
  if (!str(c, 'job')) throw new UsageError('segment needs --job (the trained model)', 'stackseg segment --job MODELJOB --images "scans/*.tif"');
  if (str(c, 'dir') || str(c, 'slices')) throw new UsageError('a batch takes neither --dir nor --slices', 'each stack gets its own job folder beside it; --out names the batch folder');
  const truth = str(c, 'truth');
  if (truth && truth !== 'auto') throw new UsageError('a batch takes --truth auto (each stack\'s <stem>.truth.tif, where there is one), not one truth file');
  const trained = await loadRecord(modelJob);
  await trainedModelPath(trained);
  const images = await expandStacks(list(c, 'image-list'), list(c, 'images'));
  const plane: PlaneSelection = { channel: trained.spec.channel, timepoint: trained.spec.timepoint, ...takePlaneSelection(parseSets(list(c, 'set'))) };
  const runner = str(c, 'runner') ?? 'local';
  if (runner !== 'local' && runner !== 'slurm') throw new UsageError(`unknown runner "${runner}"`, 'valid runners: local, slurm');
  const dir = str(c, 'out') ? resolve(str(c, 'out')!) : defaultBatchDir(modelJob);
  // The batch folder: new or empty, never a folder with other files.
  const entries = await fs.readdir(dir).catch(() => undefined);
  if (entries && entries.filter((n) => !n.startsWith('.lock')).length) throw new StackSegError('this folder is not empty', { file: dir, hint: 'choose a new --out folder for the batch' });
  await fs.mkdir(dir, { recursive: true });
  const stacks = images.map((image) => {
    const t = `${stackStem(image)}.truth.tif`;
    return { image, ...(truth === 'auto' && existsSync(t) ? { truth: t } : {}) };
  });
  const b = newBatch(dir, modelJob, runner, stacks, trained, plane, parseClassMap(list(c, 'class')));
  await saveBatch(b);
  if (runner === 'local') await runQueue(b, trained, b.stacks.map((_, i) => i), c);
  else {
    await submitSlurmBatch(b, trained, b.stacks.map((_, i) => i), slurmOptions(c));
    if (!c.values.detach) await waitForBatch(b, c);
  }
  return finalSummary(b, c);
}

async function finalSummary(b: BatchRecord, c: CliContext) {
  const summary = await summariseBatch(b);
  if (c.values.detach && b.runner === 'slurm') return summary;
  return failIfAnyFailed(summary);
}

/** Runs the given stacks one after another in this process; one failing does not stop the others. */
async function runQueue(b: BatchRecord, trained: JobRecord, which: number[], c: CliContext): Promise<void> {
  for (const i of which) {
    if (c.signal.aborted) break;
    const s = b.stacks[i];
    const progress = c.progress;
    try {
      await runJob(childSpec(b, trained, i), s.job, { signal: c.signal, onProgress: (p) => progress({ ...p, job: s.job, stack: i, stacks: b.stacks.length }) });
    } catch (e) {
      // A job that started says why in its job.json; one refused before its folder was made says it here.
      if (!existsSync(join(s.job, 'job.json'))) { s.error = (e as Error).message; await saveBatch(b); }
    }
    progress({ phase: 'batch', percent: (100 * (which.indexOf(i) + 1)) / which.length, message: `${which.indexOf(i) + 1}/${which.length} stacks`, stacks: b.stacks.length });
  }
  if (c.signal.aborted) throw new StackSegError('cancelled', { hint: `the finished stacks are kept; stackseg retry --batch ${b.dir} runs the rest` });
}

/** Prepares each stack's Slurm job (a refused stack fails alone), then submits one array over stacks x chunks. */
async function submitSlurmBatch(b: BatchRecord, trained: JobRecord, which: number[], o: SlurmOptions, retry: { dir: string; chunks: number[] }[] = []): Promise<void> {
  const jobs: { dir: string; chunks: number[] }[] = [...retry];
  for (const i of which) {
    const s = b.stacks[i];
    const spec = childSpec(b, trained, i);
    try {
      await checkJobFolder(s.job, spec);
      await validateJobInputs(spec);
      const { state } = await prepareSlurmJob(spec, s.job, o);
      jobs.push({ dir: s.job, chunks: state.chunks.map((_, k) => k) });
      delete s.error;
    } catch (e) {
      s.error = (e as Error).message;
    }
  }
  await saveBatch(b);
  if (jobs.length === 0) return;
  const entries = jobs.flatMap((j) => j.chunks.map((chunk) => ({ jobDir: j.dir, chunk })));
  const withIds = entries.map((e, taskId) => ({ ...e, taskId }));
  const logDir = join(b.dir, 'slurm');
  await fs.mkdir(logDir, { recursive: true });
  const arrayId = await submitChunkArray(o, logDir, withIds);
  for (const j of jobs) {
    const state = await loadSlurmState(j.dir);
    recordArray(state, arrayId, j.chunks, withIds.filter((e) => e.jobDir === j.dir).map((e) => e.taskId), logDir);
    await saveSlurmState(j.dir, state);
  }
}

async function waitForBatch(b: BatchRecord, c: CliContext): Promise<void> {
  const last = new Map<string, string>();
  for (;;) {
    if (c.signal.aborted) {
      for (const s of b.stacks) if (existsSync(join(s.job, 'job.json'))) await cancelSlurmJob(s.job).catch(() => undefined);
      throw new StackSegError('cancelled', { hint: `batch ${b.dir}` });
    }
    let active = 0;
    for (let i = 0; i < b.stacks.length; i++) {
      const s = b.stacks[i];
      if (!existsSync(join(s.job, 'job.json'))) continue;
      const { record, done, total } = await refreshSlurmJob(s.job);
      if (record.status === 'queued' || record.status === 'running') active++;
      const text = `${record.status} ${done}/${total}`;
      if (last.get(s.job) !== text) {
        last.set(s.job, text);
        c.progress({ phase: 'slurm', percent: total ? (100 * done) / total : 0, message: `${done}/${total} chunks done`, job: s.job, stack: i, stacks: b.stacks.length });
      }
    }
    if (active === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Reruns only what failed: locally the stacks that did not succeed; on Slurm their failed chunks, in one array. */
async function retryBatch(b: BatchRecord, c: CliContext) {
  const trained = await loadRecord(b.model);
  await trainedModelPath(trained);
  const summaries = await stackSummaries(b);
  const redo = summaries.map((s, i) => (s.status === 'succeeded' || s.status === 'running' || s.status === 'queued' ? -1 : i)).filter((i) => i >= 0);
  if (redo.length === 0) throw new StackSegError('no failed stacks to retry', { file: b.dir, hint: 'see stackseg status --batch' });
  const restart = (i: number) => {
    const s = b.stacks[i];
    if (existsSync(s.job)) s.previous = [...(s.previous ?? []), s.job];
    s.job = defaultJobDir(childSpec(b, trained, i));
    delete s.error;
  };
  if (b.runner === 'local') {
    redo.forEach(restart);
    await saveBatch(b);
    await runQueue(b, trained, redo, c);
    return { ...(await failIfAnyFailed(await summariseBatch(b))), retried: redo.map((i) => b.stacks[i].image) };
  }
  const o = slurmOptions(c);
  const chunks: { dir: string; chunks: number[] }[] = [];
  const fresh: number[] = [];
  for (const i of redo) {
    const r = await childRecord(b, i);
    // A failed Slurm child keeps its written chunks; a cancelled one (its chunks removed) or a refused one starts over.
    const kept = r?.status === 'failed' && r.runner === 'slurm' ? await chunksToRetry(r.dir, o).catch(() => undefined) : undefined;
    if (kept && kept.missing.length) {
      await reopenJob(kept.record);
      chunks.push({ dir: r!.dir, chunks: kept.missing });
    } else { restart(i); fresh.push(i); }
  }
  await submitSlurmBatch(b, trained, fresh, o, chunks);
  if (!c.values.detach) await waitForBatch(b, c);
  const summary = await finalSummary(b, c);
  return { ...summary, retried: redo.map((i) => b.stacks[i].image) };
}
