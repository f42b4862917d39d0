// Slurm runner for every job kind. Train: one sbatch step. Segment: a job array over slice chunks. Train+segment: the
// training step, then the array (afterok). There is no merge step: the submission preallocates the mask
// (prealloc.ts), each array task writes its slices in place and leaves a marker, and the task that completes the
// set verifies and renames (../merge.ts). State in <job>/slurm/.
// Every command is spawned without a shell. The batch scripts hold only single-quoted values and checked integers;
// sbatch's options go on its argv, never in `#SBATCH` lines (sbatch parses those itself, where quoting does not
// apply). What comes back from slurm.json and job.json is checked (slurmSafety.ts) before a command is built.

import { execFile } from 'node:child_process';
import { existsSync, promises as fs, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { StackSegError } from '../../../shared/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../fsutil';
import { openImage } from '../inputs';
import type { JobRecord, JobSpec } from '../../../shared/jobs/spec';
import { initialRecord, loadRecord, saveRecord } from '../store';
import { trainArgs } from './args';
import { preallocateMask } from './prealloc';
import { checkSlurmPath, checkSlurmSettings, checkSpecForSlurm, outputPattern, parseSbatchId, parseSlurmState, sbatchExtraArg, shellQuote, type SlurmSettings } from './slurmSafety';

export { shellQuote } from './slurmSafety';

const run = promisify(execFile);

/** What the runner needs beyond the checked settings (slurmSafety.SlurmSettings: node, cli, partition, ...). */
export interface SlurmOptions extends SlurmSettings {
  /** Number of array tasks the slices are split into. */
  chunks: number;
  env?: NodeJS.ProcessEnv;
}

export interface SlurmState {
  format: 'stackseg-slurm';
  version: 1;
  /** Slices of the mask (the job's slice range). */
  depth: number;
  /** Chunks of mask slices, one array task each (train-only jobs: one, never run). */
  chunks: [number, number][];
  /** The image slice of mask slice 0 (`segment --slices a:b`); 0 when absent. */
  first?: number;
  width?: number;
  height?: number;
  /** rf: the chunk tasks also write uncertainty.tif. */
  uncertainty?: boolean;
  trainId?: string;
  arrayId?: string;
  /** Chunks run by the latest array (all, or the retried ones). */
  arrayTasks: number[];
  /** The array task id of each arrayTasks entry where it is not the chunk number (a batch's shared array). */
  arrayTaskIds?: number[];
  /** Where the array's output files are (the batch's slurm folder); <job>/slurm when absent. */
  logDir?: string;
  /** Jobs submitted before merge-free finishing had a merge step. */
  mergeId?: string;
  /** Earlier array submissions (retries keep the chunks that succeeded). */
  history: { arrayId: string; tasks: number[] }[];
}

export const slurmDir = (jobDir: string) => join(jobDir, 'slurm');
export const chunksDir = (jobDir: string) => join(jobDir, 'chunks');
/** The preallocated mask the chunk tasks write into; renamed to mask.tif when every chunk is done. */
export const partialMask = (jobDir: string) => join(chunksDir(jobDir), 'mask.tif.partial');
export const partialUncertainty = (jobDir: string) => join(chunksDir(jobDir), 'uncertainty.tif.partial');
/** A chunk task's "done" marker (its timings and per-slice scores). */
export const chunkMarker = (jobDir: string, i: number) => join(chunksDir(jobDir), `done-${String(i).padStart(4, '0')}.json`);
const statePath = (jobDir: string) => join(slurmDir(jobDir), 'slurm.json');

export function splitSlices(depth: number, chunks: number): [number, number][] {
  const n = Math.max(1, Math.min(chunks, depth));
  return Array.from({ length: n }, (_, i) => [Math.floor((i * depth) / n), Math.floor(((i + 1) * depth) / n)] as [number, number]);
}

/** sbatch's options for one step, as argv elements: the user's extra arguments come after StackSeg's (they win). */
function sbatchOptions(o: SlurmOptions, name: string, out: string, extra: string[] = []): string[] {
  const args = [`--job-name=${name}`, `--output=${out}`, `--cpus-per-task=${o.cpusPerTask ?? 1}`];
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (o.account) args.push(`--account=${o.account}`);
  if (o.timeLimit) args.push(`--time=${o.timeLimit}`);
  return [...args, ...extra, ...(o.extraArgs ?? []).map(sbatchExtraArg)];
}

const SCRIPT_HEAD = '#!/bin/bash\n# A StackSeg Slurm step; its sbatch options are on the sbatch command line.\nset -euo pipefail\n';

async function sbatch(o: SlurmOptions, script: string, options: string[], step: string[] = []): Promise<string> {
  let stdout: string;
  try {
    // "--" before the script: even an option that swallows the next argument cannot make another file the script.
    stdout = (await run('sbatch', ['--parsable', ...options, ...step, '--', script], { env: o.env ?? process.env })).stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new StackSegError('sbatch was not found', { hint: 'run on a Slurm login node, or set stackseg.runner to "local"' });
    throw new StackSegError(`sbatch refused the job: ${(err.stderr ?? err.message).trim().split('\n').pop()}`, { file: script, hint: 'check the partition, account, time limit and GPU settings (stackseg.slurm.*)' });
  }
  return parseSbatchId(stdout, script);
}

/** The spec's paths checked for a batch script, the model job's folder included. */
function checkSpec(spec: JobSpec, jobDir: string, source?: string): void {
  checkSpecForSlurm(spec, jobDir, source);
  if (spec.kind === 'segment') checkSlurmPath('model job folder', spec.modelFrom, source);
}

/**
 * Writes the queued record, slurm.json and (for segmentation) the preallocated mask; submits nothing. The training
 * step of a train or train+segment job adopts the record; the chunk tasks read slurm.json.
 */
export async function prepareSlurmJob(spec: JobSpec, dir: string, o: SlurmOptions): Promise<{ record: JobRecord; state: SlurmState }> {
  const jobDir = resolve(dir);
  checkSlurmSettings(o);
  checkSpec(spec, jobDir);
  const src = await openImage(spec.image, { channel: spec.channel, timepoint: spec.timepoint });
  const { width, height, depth: imageDepth } = src.info;
  await src.close();
  const [first, end] = spec.slices ?? [0, imageDepth];
  await fs.mkdir(slurmDir(jobDir), { recursive: true });
  // --gpus N: MSDNet trains with the torch backend on the node (auto would fall back to the CPU without a word).
  if (o.gpus && spec.model === 'msdnet' && (spec.params.backend ?? 'auto') === 'auto') spec = { ...spec, params: { ...spec.params, backend: 'torch' } };
  const record = initialRecord(spec, jobDir, 'slurm');
  const segments = spec.kind !== 'train';
  const state: SlurmState = {
    format: 'stackseg-slurm', version: 1, depth: end - first, first, width, height,
    chunks: segments ? splitSlices(end - first, o.chunks) : [[0, end - first]], arrayTasks: [], history: [],
    ...(segments && spec.model === 'rf' && spec.uncertainty !== false ? { uncertainty: true } : {}),
  };
  if (segments) {
    await fs.mkdir(chunksDir(jobDir), { recursive: true });
    await preallocateMask(partialMask(jobDir), { width, height, depth: end - first });
    if (state.uncertainty) await preallocateMask(partialUncertainty(jobDir), { width, height, depth: end - first });
  }
  await saveRecord(record);
  await writeJsonAtomic(statePath(jobDir), state);
  return { record, state };
}

/** Prepares and submits one job: train -> array (afterok), or just one of them. */
export async function submitSlurmJob(spec: JobSpec, dir: string, o: SlurmOptions): Promise<JobRecord> {
  const jobDir = resolve(dir);
  const { record, state } = await prepareSlurmJob(spec, jobDir, o);
  const cmd = (args: string[]) => `exec ${shellQuote(o.node)} ${shellQuote(o.cli)} ${args.map(shellQuote).join(' ')}\n`;
  if (record.spec.kind !== 'segment') {
    const train = join(slurmDir(jobDir), 'train.sbatch');
    await writeFileAtomic(train, SCRIPT_HEAD + cmd(trainArgs(record.spec, jobDir, 'train')));
    state.trainId = await sbatch(o, train, sbatchOptions(o, 'stackseg-train', outputPattern(slurmDir(jobDir), 'train-%j.out'), o.gpus ? [`--gres=gpu:${o.gpus}`] : []));
    await writeJsonAtomic(statePath(jobDir), state);
  }
  if (record.spec.kind !== 'train') await submitArray(jobDir, record.spec, o, state, state.chunks.map((_, i) => i));
  return record;
}

export interface ArrayEntry { jobDir: string; chunk: number }

/**
 * One job array over (job, chunk) pairs: task t runs `stackseg chunk --job JOBS[t] --chunk CHUNKS[t]`. Task ids are
 * given (a single job's are its chunk numbers). Returns the array's id.
 */
export async function submitChunkArray(o: SlurmOptions, scriptDir: string, entries: (ArrayEntry & { taskId: number })[], dependency?: string): Promise<string> {
  checkSlurmSettings(o);
  const int = (n: number) => String(Math.trunc(Number(n)));
  for (const e of entries) checkSlurmPath('job folder', e.jobDir);
  const jobs = entries.map((e) => `[${int(e.taskId)}]=${shellQuote(e.jobDir)}`).join(' ');
  const chunks = entries.map((e) => `[${int(e.taskId)}]=${int(e.chunk)}`).join(' ');
  const seg = join(scriptDir, 'segment.sbatch');
  await writeFileAtomic(seg, SCRIPT_HEAD +
    `JOBS=(${jobs})\nCHUNKS=(${chunks})\nI=$SLURM_ARRAY_TASK_ID\n` +
    `exec ${shellQuote(o.node)} ${shellQuote(o.cli)} chunk --job "\${JOBS[$I]}" --chunk "\${CHUNKS[$I]}" --progress json\n`);
  return sbatch(o, seg, sbatchOptions(o, 'stackseg-segment', outputPattern(scriptDir, 'segment-%A_%a.out')),
    [`--array=${entries.map((e) => int(e.taskId)).join(',')}`, ...(dependency ? [`--dependency=afterok:${dependency}`] : [])]);
}

async function submitArray(jobDir: string, spec: JobSpec, o: SlurmOptions, state: SlurmState, tasks: number[]): Promise<void> {
  checkSpec(spec, jobDir, join(jobDir, 'job.json'));
  const dep = state.trainId && !state.history.length && !state.arrayId ? state.trainId : undefined;
  const arrayId = await submitChunkArray(o, slurmDir(jobDir), tasks.map((chunk) => ({ jobDir, chunk, taskId: chunk })), dep);
  recordArray(state, arrayId, tasks);
  await writeJsonAtomic(statePath(jobDir), state);
}

/** Notes a new array in the state (the earlier one goes to history). */
export function recordArray(state: SlurmState, arrayId: string, tasks: number[], taskIds?: number[], logDir?: string): void {
  if (state.arrayId) state.history.push({ arrayId: state.arrayId, tasks: state.arrayTasks });
  state.arrayId = arrayId;
  state.arrayTasks = tasks;
  if (taskIds) state.arrayTaskIds = taskIds; else delete state.arrayTaskIds;
  if (logDir) state.logDir = logDir; else delete state.logDir;
  delete state.mergeId;
}

export const saveSlurmState = (jobDir: string, state: SlurmState) => writeJsonAtomic(statePath(jobDir), state);

export async function loadSlurmState(jobDir: string): Promise<SlurmState> {
  const file = statePath(jobDir);
  let raw: unknown;
  try {
    raw = await readJson<unknown>(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StackSegError('not a Slurm job (no slurm/slurm.json)', { file: jobDir });
    throw new StackSegError(`slurm.json cannot be read: ${(e as Error).message}`, { file, hint: 'restore it, or submit the job again' });
  }
  return parseSlurmState(raw, file);
}

export type TaskStates = Record<string, string>;

/** The array task id of chunk i in the latest array. */
const taskIdOf = (state: SlurmState, i: number) => state.arrayTaskIds?.[state.arrayTasks.indexOf(i)] ?? i;

/** Slurm's view of the job's steps: "train" and "chunk:<i>" -> PENDING / RUNNING / COMPLETED / FAILED... */
export async function querySlurm(jobDir: string, env?: NodeJS.ProcessEnv, state?: SlurmState): Promise<TaskStates> {
  state ??= await loadSlurmState(jobDir);
  const ids = [state.trainId, state.arrayId, state.mergeId].filter(Boolean) as string[];
  const out: TaskStates = {};
  let stdout = '';
  if (ids.length) try {
    stdout = (await run('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i %T'], { env: env ?? process.env })).stdout;
  } catch { /* jobs older than MinJobAge are gone: states come from the files alone */ }
  const chunkOfTask = new Map(state.arrayTasks.map((c) => [taskIdOf(state!, c), c]));
  for (const line of stdout.split('\n')) {
    const [id, st] = line.trim().split(/\s+/);
    if (!id) continue;
    if (id === state.trainId) out.train = st;
    else if (id === state.mergeId) out.merge = st;
    else if (id.startsWith(`${state.arrayId}_`)) {
      const t = id.slice(state.arrayId!.length + 1);
      if (/^\d+$/.test(t)) { const c = chunkOfTask.get(Number(t)); if (c !== undefined) out[`chunk:${c}`] = st; }
      else for (const i of state.arrayTasks) out[`chunk:${i}`] ??= st; // "[0-1]" pending as a block
    }
  }
  return out;
}

const FAILED = new Set(['FAILED', 'NODE_FAIL', 'TIMEOUT', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED', 'CANCELLED']);
const ACTIVE = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'RESIZING', 'SUSPENDED']);

const isFile = (p: string) => { try { return statSync(p).isFile(); } catch { return false; } };
export const doneChunks = (jobDir: string, state: SlurmState) => state.chunks.map((_, i) => i).filter((i) => isFile(chunkMarker(jobDir, i)));

export interface SlurmJobView { record: JobRecord; states: TaskStates; failedChunks: number[]; done: number; total: number }

/**
 * Reads Slurm's states and the chunk markers; marks the job failed (naming the chunk and its log) when a step
 * failed; finishes it when every chunk is done but no task did (a task killed between its marker and the rename).
 */
export async function refreshSlurmJob(jobDir: string, env?: NodeJS.ProcessEnv): Promise<SlurmJobView> {
  let record = await loadRecord(jobDir);
  const state = await loadSlurmState(jobDir);
  const states = await querySlurm(jobDir, env, state);
  const segments = record.spec.kind !== 'train';
  const done = segments ? doneChunks(jobDir, state) : [];
  const total = segments ? state.chunks.length : 0;
  const failedChunks = state.arrayTasks.filter((i) => FAILED.has(states[`chunk:${i}`] ?? '') && !done.includes(i));
  const view = (r: JobRecord): SlurmJobView => ({ record: r, states, failedChunks, done: done.length, total });
  if (record.status === 'succeeded' || record.status === 'cancelled') return view(record);
  if (segments && done.length === total && record.status !== 'failed') {
    const { finishJob } = await import('../merge');
    await finishJob(jobDir);
    return view(await loadRecord(jobDir));
  }
  const logs = state.logDir ?? slurmDir(jobDir);
  let error: string | undefined;
  if (FAILED.has(states.train ?? '')) error = `training step ${state.trainId} ${states.train}: see ${join(slurmDir(jobDir), `train-${state.trainId}.out`)}`;
  else if (failedChunks.length) {
    error = failedChunks.map((i) => `chunk ${i} (slices ${state.chunks[i][0]}:${state.chunks[i][1]}) ${states[`chunk:${i}`]}: see ${join(logs, `segment-${state.arrayId}_${taskIdOf(state, i)}.out`)}`).join('; ');
  } else if (FAILED.has(states.merge ?? '')) error = `merge step ${state.mergeId} ${states.merge}: see ${join(slurmDir(jobDir), `merge-${state.mergeId}.out`)}`;
  if (error && (record.status !== 'failed' || record.error !== error)) {
    record = { ...record, status: 'failed', error, finished: new Date().toISOString() };
    await saveRecord(record);
  }
  return view(record);
}

/** The Slurm ids that are this job's own steps (a batch's shared array: only its tasks). */
export function ownSlurmIds(state: SlurmState): string[] {
  const array = state.arrayId ? (state.arrayTaskIds ? state.arrayTasks.map((c) => `${state.arrayId}_${taskIdOf(state, c)}`) : [state.arrayId]) : [];
  return [state.trainId, ...array, state.mergeId].filter(Boolean) as string[];
}

export async function cancelSlurmJob(jobDir: string, env?: NodeJS.ProcessEnv): Promise<JobRecord> {
  const state = await loadSlurmState(jobDir);
  const ids = ownSlurmIds(state);
  // Only ids parseSlurmState accepted, after "--": nothing from the file can become an scancel option.
  if (ids.length) await run('scancel', ['--', ...ids], { env: env ?? process.env });
  const record = await loadRecord(jobDir);
  if (record.status !== 'succeeded') {
    record.status = 'cancelled';
    record.error = 'cancelled';
    record.finished = new Date().toISOString();
    await saveRecord(record);
    await fs.rm(chunksDir(jobDir), { recursive: true, force: true });
  }
  return record;
}

/**
 * The chunks a retry reruns: those with no marker whose task is not still queued or running. A job whose chunks
 * are all done is finished instead (returns []).
 */
export async function chunksToRetry(jobDir: string, o: SlurmOptions): Promise<{ record: JobRecord; state: SlurmState; missing: number[] }> {
  const { record, states } = await refreshSlurmJob(jobDir, o.env);
  const state = await loadSlurmState(jobDir);
  // Before anything is cancelled or written: the settings, and job.json's paths and values the scripts will hold.
  checkSlurmSettings(o);
  checkSpec(record.spec, jobDir, join(jobDir, 'job.json'));
  if (record.spec.kind === 'train') throw new StackSegError('a training job has no chunks to retry', { file: jobDir, hint: 'submit the training again (stackseg train --runner slurm)' });
  if (record.status === 'succeeded') return { record, state, missing: [] };
  if (!existsSync(partialMask(jobDir))) throw new StackSegError('the preallocated mask is gone (the job was cancelled or finished)', { file: jobDir, hint: 'submit the job again' });
  const missing = state.chunks.map((_, i) => i).filter((i) => !isFile(chunkMarker(jobDir, i)) && !ACTIVE.has(states[`chunk:${i}`] ?? ''));
  return { record, state, missing };
}

/** Marks a job running again before its chunks are resubmitted. */
export async function reopenJob(record: JobRecord): Promise<void> {
  record.status = 'running';
  delete record.error;
  delete record.finished;
  await saveRecord(record);
}

/** Resubmits only the chunks that failed (or never ran); chunks that succeeded are kept. */
export async function retryFailedChunks(dir: string, o: SlurmOptions): Promise<number[]> {
  const jobDir = resolve(dir);
  const { record, state, missing } = await chunksToRetry(jobDir, o);
  if (record.status === 'succeeded') throw new StackSegError('the job already succeeded', { file: jobDir });
  if (missing.length === 0) throw new StackSegError('no failed chunks to retry', { file: jobDir, hint: 'its chunks are still queued or running: see stackseg status --job' });
  await reopenJob(record);
  await submitArray(jobDir, record.spec, o, state, missing);
  return missing;
}
