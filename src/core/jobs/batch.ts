// Batches: one trained model applied to many stacks in one job. A batch folder holds batch.json (the model, the
// runner and one entry per stack); each stack gets an ordinary segment job beside it (<stem>.stackseg/<id>), whose
// spec names the batch. Locally the stacks run as a queue, one after another; on Slurm as one job array over
// stacks x chunks. A stack that fails fails alone; a retry reruns only what failed (on Slurm: only its chunks).

import { promises as fs, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { StackSegError, UsageError } from '../../shared/errors';
import { readJson, writeJsonAtomic } from '../fsutil';
import type { PlaneSelection } from './plane';
import type { JobRecord, JobSpec, JobStatus, RunnerKind } from '../../shared/jobs/spec';
import { defaultJobDir, loadRecord } from './store';

export interface BatchStack {
  image: string;
  /** The stack's child job folder (may not exist yet: pending, or refused before it was made). */
  job: string;
  truth?: string;
  /** Why the stack could not start (no job folder to say it). */
  error?: string;
  /** Child job folders of earlier attempts (a retry gives a stack a new job when it must start over). */
  previous?: string[];
}

export interface BatchRecord {
  format: 'stackseg-batch';
  version: 1;
  id: string;
  dir: string;
  created: string;
  /** The job folder of the trained model. */
  model: string;
  runner: RunnerKind;
  plane?: PlaneSelection;
  classMap?: Record<number, number>;
  stacks: BatchStack[];
}

export type StackStatus = JobStatus | 'pending';

export const batchFile = (dir: string) => join(dir, 'batch.json');

export function newBatchId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}-batch-${Math.random().toString(36).slice(2, 6)}`;
}

/** Default batch folder: beside the model job, in its stack's jobs folder. */
export const defaultBatchDir = (modelJob: string) => join(dirname(modelJob), newBatchId());

const STACK_EXT = /\.(tif|tiff)$/i;
/** Files beside a stack that are not stacks to segment: its labels, truth and StackSeg's outputs. */
const NOT_A_STACK = /\.(labels|truth|mask|uncertainty)\.tiff?$/i;

function globToRegExp(pattern: string): RegExp {
  const esc = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

/**
 * The stacks named by `--image` (each one path) and `--images` (a folder: its TIFF stacks; or a glob such as
 * dir/*.tif, wildcards in the last part only). Absolute, in order, without repeats; sidecars and outputs skipped.
 */
export async function expandStacks(images: string[], patterns: string[], cwd = process.cwd()): Promise<string[]> {
  const out: string[] = images.map((p) => resolve(cwd, p));
  for (const pattern of patterns) {
    const abs = resolve(cwd, pattern);
    const isDir = (() => { try { return statSync(abs).isDirectory(); } catch { return false; } })();
    let dir: string, match: (name: string) => boolean;
    if (isDir && !/[*?[]/.test(pattern)) {
      dir = abs;
      match = (n) => STACK_EXT.test(n);
    } else {
      dir = dirname(abs);
      if (/[*?[]/.test(dir)) throw new UsageError(`--images "${pattern}": wildcards go in the file name only`, 'e.g. --images "scans/*.tif", or --images scans/ for every stack in a folder');
      const re = globToRegExp(basename(abs));
      match = (n) => re.test(n);
    }
    let names: string[];
    try {
      names = (await fs.readdir(dir)).sort();
    } catch (e) {
      throw new StackSegError(`--images: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? e})`, { file: dir, hint: 'name a folder of stacks or a pattern such as "scans/*.tif"' });
    }
    const found = names.filter((n) => match(n) && !NOT_A_STACK.test(n) && !n.endsWith('.stackseg')).map((n) => join(dir, n));
    if (found.length === 0) throw new StackSegError(`--images "${pattern}" matches no stack`, { file: dir, hint: 'TIFF stacks (*.tif, *.tiff) other than labels, truth and masks are taken' });
    out.push(...found);
  }
  return [...new Set(out)];
}

export async function saveBatch(b: BatchRecord): Promise<void> {
  await writeJsonAtomic(batchFile(b.dir), b);
}

/** batch.json read back and checked (it is a text file users can edit: paths must be absolute strings). */
export async function loadBatch(dir: string): Promise<BatchRecord> {
  const file = batchFile(dir);
  let b: BatchRecord;
  try {
    b = await readJson<BatchRecord>(file);
  } catch (e) {
    throw new StackSegError(`not a readable StackSeg batch (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, hint: 'pass a folder made by `stackseg segment --job M --images ...`' });
  }
  const bad = (field: string) => new StackSegError(`batch.json field "${field}" is not valid`, { file, hint: 'the file was edited or damaged; restore it' });
  if (b?.format !== 'stackseg-batch' || b.version !== 1) throw bad('format');
  const path = (v: unknown) => typeof v === 'string' && isAbsolute(v) && !/[\x00-\x1f]/.test(v);
  if (!path(b.model)) throw bad('model');
  if (b.runner !== 'local' && b.runner !== 'slurm') throw bad('runner');
  if (!Array.isArray(b.stacks)) throw bad('stacks');
  b.stacks.forEach((s, i) => {
    if (!path(s?.image)) throw bad(`stacks[${i}].image`);
    if (!path(s.job)) throw bad(`stacks[${i}].job`);
    if (s.truth !== undefined && !path(s.truth)) throw bad(`stacks[${i}].truth`);
  });
  return { ...b, dir: resolve(dir) };
}

/** The child job of stack i, or undefined when its folder holds no job (yet). */
export async function childRecord(b: BatchRecord, i: number): Promise<JobRecord | undefined> {
  const s = b.stacks[i];
  try { statSync(join(s.job, 'job.json')); } catch { return undefined; }
  const r = await loadRecord(s.job);
  // A child must be this batch's segmentation of this stack: an edited batch.json cannot adopt another job.
  if (r.spec.kind !== 'segment' || r.spec.image !== s.image) throw new StackSegError(`the job of stack ${i} is not this batch's segmentation of ${s.image}`, { file: s.job, hint: 'restore batch.json' });
  return r;
}

/** The spec of stack i's child job. */
export function childSpec(b: BatchRecord, trained: JobRecord, i: number): JobSpec {
  const s = b.stacks[i];
  return {
    kind: 'segment', model: trained.spec.model, params: trained.spec.params, image: s.image, modelFrom: b.model,
    ...(b.plane ?? {}), truth: s.truth, classMap: b.classMap, batch: b.dir,
  };
}

/** A new batch record (not yet saved); child job folders beside each stack. */
export function newBatch(dir: string, model: string, runner: RunnerKind, stacks: { image: string; truth?: string }[], trained: JobRecord, plane: PlaneSelection, classMap?: Record<number, number>): BatchRecord {
  const b: BatchRecord = { format: 'stackseg-batch', version: 1, id: basename(dir), dir, created: new Date().toISOString(), model, runner, stacks: [], ...(Object.keys(plane).length ? { plane } : {}), ...(classMap ? { classMap } : {}) };
  for (const s of stacks) b.stacks.push({ image: s.image, job: '', ...(s.truth ? { truth: s.truth } : {}) });
  b.stacks.forEach((s, i) => { s.job = defaultJobDir(childSpec(b, trained, i)); });
  return b;
}

export interface StackSummary { image: string; job: string; status: StackStatus; error?: string; mask?: string; meanF1?: number; seconds?: number }

export async function stackSummaries(b: BatchRecord): Promise<StackSummary[]> {
  const out: StackSummary[] = [];
  for (let i = 0; i < b.stacks.length; i++) {
    const s = b.stacks[i];
    const r = await childRecord(b, i).catch((e) => ({ status: 'failed', error: (e as Error).message } as Partial<JobRecord>));
    out.push({
      image: s.image, job: s.job, status: (r?.status ?? (s.error ? 'failed' : 'pending')) as StackStatus,
      ...(r?.error ?? s.error ? { error: r?.error ?? s.error } : {}),
      ...(r?.outputs?.mask ? { mask: r.outputs.mask } : {}),
      ...(r?.summary?.meanF1 != null ? { meanF1: r.summary.meanF1 } : {}),
      ...(r?.timings?.total !== undefined ? { seconds: r.timings.total } : {}),
    });
  }
  return out;
}

/** succeeded when every stack did; running while any is queued, running or pending; else failed or cancelled. */
export function batchStatus(stacks: StackSummary[]): StackStatus {
  const has = (s: StackStatus) => stacks.some((x) => x.status === s);
  if (stacks.every((x) => x.status === 'succeeded')) return 'succeeded';
  if (has('running') || has('queued')) return 'running';
  if (has('pending')) return 'pending';
  return has('failed') ? 'failed' : 'cancelled';
}

export async function summariseBatch(b: BatchRecord) {
  const stacks = await stackSummaries(b);
  const counts: Record<string, number> = {};
  for (const s of stacks) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return { batch: b.dir, id: b.id, runner: b.runner, model: b.model, status: batchStatus(stacks), counts, stacks };
}

/** A batch where some stacks failed: the CLI prints its summary as usual and exits 1. */
export class BatchFailure extends StackSegError {
  constructor(message: string, readonly result: unknown, hint: string) {
    super(message, { hint });
  }
}

export async function failIfAnyFailed<T extends { status: StackStatus; stacks: StackSummary[]; batch: string }>(summary: T): Promise<T> {
  const failed = summary.stacks.filter((s) => s.status === 'failed' || s.status === 'cancelled');
  if (failed.length === 0) return summary;
  const first = failed[0];
  throw new BatchFailure(`${failed.length} of ${summary.stacks.length} stacks ${failed.length === 1 ? 'was' : 'were'} not segmented (${basename(first.image)}: ${first.error ?? first.status}${failed.length > 1 ? '; …' : ''})`,
    summary, `retry only those with: stackseg retry --batch ${summary.batch}`);
}
