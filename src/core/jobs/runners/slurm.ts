// Slurm runner: training through sbatch, segmentation as a job array over slice chunks (each task writes its
// chunk), then a dependent merge step writing mask.tif and metrics.json (temp + rename). State in <job>/slurm/.
// Every command is spawned without a shell. The batch scripts hold only single-quoted values and checked integers;
// sbatch's options go on its argv, never in `#SBATCH` lines (sbatch parses those itself, where quoting does not
// apply). What comes back from slurm.json and job.json is checked (slurmSafety.ts) before a command is built.

import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { StackSegError } from '../../errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../fsutil';
import { openSource } from '../../io';
import type { JobRecord, JobSpec } from '../spec';
import { initialRecord, loadRecord, saveRecord } from '../store';
import { trainArgs } from './args';
import { checkSlurmSettings, checkSpecForSlurm, outputPattern, parseSbatchId, parseSlurmState, sbatchExtraArg, shellQuote } from './slurmSafety';

export { shellQuote } from './slurmSafety';

const run = promisify(execFile);

export interface SlurmOptions {
  /** Node on the compute nodes (default: the Node running this code, e.g. the VS Code server's). */
  node: string;
  /** The bundled CLI (dist/cli.js) — must be readable from the compute nodes. */
  cli: string;
  /** Number of array tasks the slices are split into. */
  chunks: number;
  partition?: string;
  account?: string;
  /** sbatch --time, e.g. "01:00:00". */
  timeLimit?: string;
  /** GPUs for the training step (--gres=gpu:N); 0 = none. */
  gpus?: number;
  cpusPerTask?: number;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface SlurmState {
  format: 'stackseg-slurm';
  version: 1;
  depth: number;
  chunks: [number, number][];
  trainId?: string;
  arrayId?: string;
  /** Array task ids submitted in the latest array (all chunks, or the retried ones). */
  arrayTasks: number[];
  mergeId?: string;
  /** Earlier array submissions (retries keep the chunks that succeeded). */
  history: { arrayId: string; tasks: number[] }[];
}

export const slurmDir = (jobDir: string) => join(jobDir, 'slurm');
export const chunkPath = (jobDir: string, i: number) => join(jobDir, 'chunks', `chunk-${String(i).padStart(4, '0')}.tif`);
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

/** Writes the queued record and the batch scripts, submits train -> array -> merge. */
export async function submitSlurmJob(spec: JobSpec, dir: string, o: SlurmOptions): Promise<JobRecord> {
  const jobDir = resolve(dir);
  if (spec.kind !== 'run') throw new StackSegError('the Slurm runner runs train+segment jobs', { hint: 'use `stackseg run --runner slurm`' });
  checkSlurmSettings(o);
  checkSpecForSlurm(spec, jobDir);
  const src = await openSource(spec.image, { cacheBytes: 0 });
  const depth = src.info.depth;
  await src.close();
  await fs.mkdir(join(jobDir, 'chunks'), { recursive: true });
  await fs.mkdir(slurmDir(jobDir), { recursive: true });
  // --gpus N: MSDNet trains with the torch backend on the node (auto would fall back to the CPU without a word).
  if (o.gpus && spec.model === 'msdnet' && (spec.params.backend ?? 'auto') === 'auto') spec = { ...spec, params: { ...spec.params, backend: 'torch' } };
  const record = initialRecord(spec, jobDir, 'slurm');
  await saveRecord(record);
  const state: SlurmState = { format: 'stackseg-slurm', version: 1, depth, chunks: splitSlices(depth, o.chunks), arrayTasks: [], history: [] };
  const cmd = (args: string[]) => `exec ${shellQuote(o.node)} ${shellQuote(o.cli)} ${args.map(shellQuote).join(' ')}\n`;

  const train = join(slurmDir(jobDir), 'train.sbatch');
  await writeFileAtomic(train, SCRIPT_HEAD + cmd(trainArgs(spec, jobDir, 'train')));
  state.trainId = await sbatch(o, train, sbatchOptions(o, 'stackseg-train', outputPattern(slurmDir(jobDir), 'train-%j.out'), o.gpus ? [`--gres=gpu:${o.gpus}`] : []));
  await submitArray(jobDir, spec, o, state, state.chunks.map((_, i) => i));
  return record;
}

async function submitArray(jobDir: string, spec: JobSpec, o: SlurmOptions, state: SlurmState, tasks: number[]): Promise<void> {
  checkSlurmSettings(o);
  checkSpecForSlurm(spec, jobDir, join(jobDir, 'job.json'));
  // Integers only (parseSlurmState checked them): nothing else is written unquoted.
  const int = (n: number) => String(Math.trunc(Number(n)));
  const starts = state.chunks.map((c) => int(c[0])).join(' '), ends = state.chunks.map((c) => int(c[1])).join(' ');
  const seg = join(slurmDir(jobDir), 'segment.sbatch');
  await writeFileAtomic(seg, SCRIPT_HEAD +
    `STARTS=(${starts})\nENDS=(${ends})\nI=$SLURM_ARRAY_TASK_ID\nOUT=${shellQuote(join(jobDir, 'chunks'))}/chunk-$(printf %04d "$I").tif\n` +
    `exec ${shellQuote(o.node)} ${shellQuote(o.cli)} segment --job ${shellQuote(jobDir)} --image ${shellQuote(spec.image)} --slices "\${STARTS[$I]}:\${ENDS[$I]}" --out "$OUT" --force --progress json\n`);
  const merge = join(slurmDir(jobDir), 'merge.sbatch');
  await writeFileAtomic(merge, SCRIPT_HEAD +
    `exec ${shellQuote(o.node)} ${shellQuote(o.cli)} merge --job ${shellQuote(jobDir)}\n`);
  const dep = state.trainId && !state.history.length ? [`--dependency=afterok:${state.trainId}`] : [];
  if (state.arrayId) state.history.push({ arrayId: state.arrayId, tasks: state.arrayTasks });
  state.arrayId = await sbatch(o, seg, sbatchOptions(o, 'stackseg-segment', outputPattern(slurmDir(jobDir), 'segment-%A_%a.out')), [`--array=${tasks.map(int).join(',')}`, ...dep]);
  state.arrayTasks = tasks;
  state.mergeId = await sbatch(o, merge, sbatchOptions(o, 'stackseg-merge', outputPattern(slurmDir(jobDir), 'merge-%j.out')), [`--dependency=afterok:${state.arrayId}`]);
  await writeJsonAtomic(statePath(jobDir), state);
}

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

/** Slurm's view of the job's steps: "train", "merge" and "chunk:<i>" -> PENDING / RUNNING / COMPLETED / FAILED... */
export async function querySlurm(jobDir: string, env?: NodeJS.ProcessEnv): Promise<TaskStates> {
  const state = await loadSlurmState(jobDir);
  const ids = [state.trainId, state.arrayId, state.mergeId].filter(Boolean) as string[];
  const out: TaskStates = {};
  let stdout = '';
  if (ids.length) try {
    stdout = (await run('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i %T'], { env: env ?? process.env })).stdout;
  } catch { /* jobs older than MinJobAge are gone: states come from the files alone */ }
  for (const line of stdout.split('\n')) {
    const [id, st] = line.trim().split(/\s+/);
    if (!id) continue;
    if (id === state.trainId) out.train = st;
    else if (id === state.mergeId) out.merge = st;
    else if (id.startsWith(`${state.arrayId}_`)) {
      const t = id.slice(state.arrayId!.length + 1);
      if (/^\d+$/.test(t)) out[`chunk:${t}`] = st;
      else for (const i of state.arrayTasks) out[`chunk:${i}`] ??= st; // "[0-1]" pending as a block
    }
  }
  return out;
}

const FAILED = new Set(['FAILED', 'NODE_FAIL', 'TIMEOUT', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED']);

/** Reads Slurm's states, marks the job failed (naming the chunk and its log) when a step failed, returns the record. */
export async function refreshSlurmJob(jobDir: string, env?: NodeJS.ProcessEnv): Promise<{ record: JobRecord; states: TaskStates; failedChunks: number[] }> {
  const [record, state, states] = [await loadRecord(jobDir), await loadSlurmState(jobDir), await querySlurm(jobDir, env)];
  const failedChunks = state.arrayTasks.filter((i) => FAILED.has(states[`chunk:${i}`] ?? ''));
  if (record.status === 'succeeded' || record.status === 'cancelled') return { record, states, failedChunks };
  let error: string | undefined;
  if (FAILED.has(states.train ?? '')) error = `training step ${state.trainId} ${states.train}: see ${join(slurmDir(jobDir), `train-${state.trainId}.out`)}`;
  else if (failedChunks.length) {
    error = failedChunks.map((i) => `chunk ${i} (slices ${state.chunks[i][0]}:${state.chunks[i][1]}) ${states[`chunk:${i}`]}: see ${join(slurmDir(jobDir), `segment-${state.arrayId}_${i}.out`)}`).join('; ');
  } else if (FAILED.has(states.merge ?? '')) error = `merge step ${state.mergeId} ${states.merge}: see ${join(slurmDir(jobDir), `merge-${state.mergeId}.out`)}`;
  if (error && (record.status !== 'failed' || record.error !== error)) {
    record.status = 'failed';
    record.error = error;
    record.finished = new Date().toISOString();
    await saveRecord(record);
  }
  return { record, states, failedChunks };
}

export async function cancelSlurmJob(jobDir: string, env?: NodeJS.ProcessEnv): Promise<JobRecord> {
  const state = await loadSlurmState(jobDir);
  const ids = [state.trainId, state.arrayId, state.mergeId].filter(Boolean) as string[];
  // Only ids parseSlurmState accepted, after "--": nothing from the file can become an scancel option.
  if (ids.length) await run('scancel', ['--', ...ids], { env: env ?? process.env });
  const record = await loadRecord(jobDir);
  if (record.status !== 'succeeded') {
    record.status = 'cancelled';
    record.error = 'cancelled';
    record.finished = new Date().toISOString();
    await saveRecord(record);
    await fs.rm(join(jobDir, 'chunks'), { recursive: true, force: true });
  }
  return record;
}

/** Resubmits only the failed chunks (and a new merge step); chunks that succeeded are kept. */
export async function retryFailedChunks(dir: string, o: SlurmOptions): Promise<number[]> {
  const jobDir = resolve(dir);
  const { record, failedChunks } = await refreshSlurmJob(jobDir, o.env);
  const state = await loadSlurmState(jobDir);
  // Before anything is cancelled or written: the settings, and job.json's paths and values the scripts will hold.
  checkSlurmSettings(o);
  checkSpecForSlurm(record.spec, jobDir, join(jobDir, 'job.json'));
  const missing = failedChunks.length ? failedChunks : state.chunks.map((_, i) => i).filter((i) => !existsSync(chunkPath(jobDir, i)));
  if (missing.length === 0) throw new StackSegError('no failed chunks to retry', { file: jobDir });
  if (state.mergeId) await run('scancel', ['--', state.mergeId], { env: o.env ?? process.env }).catch(() => undefined);
  record.status = 'running';
  delete record.error;
  delete record.finished;
  await saveRecord(record);
  await submitArray(jobDir, record.spec, o, state, missing);
  return missing;
}
