// Job directories beside the data: <dir>/<stem>.stackseg/<jobId>/{job.json, log.txt, model/, mask.tif, metrics.json}.

import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { sourceFingerprint } from '../io';
import { sourceStem } from '../io/imageSpec';
import { isInside, readJson, writeJsonAtomic } from '../fsutil';
import { type JobRecord, type JobSpec, type RunnerKind, newJobId } from '../../shared/jobs/spec';
import { STACKSEG_VERSION } from '../version';

/**
 * `dir/sample.tif` -> `dir/sample` (strips .tif/.tiff and a trailing .ome); a folder `dir/recon` -> `dir/recon`,
 * `scan.h5:/exchange/data` -> `scan`, `vol.zarr` -> `vol` (sourceStem in ../io/spec).
 */
export function stackStem(imagePath: string): string {
  return sourceStem(imagePath);
}

export function jobsRoot(imagePath: string): string {
  return `${stackStem(imagePath)}.stackseg`;
}

export function defaultJobDir(spec: JobSpec): string {
  return join(jobsRoot(spec.image), newJobId(spec.model));
}

/**
 * The record of a job starting in dir, a folder claimJobFolder made and locked: a new record, or the queued one a
 * Slurm submission wrote (adopted). Records the pid and host, so `stackseg status` can tell a dead job.
 */
export async function createJobRecord(spec: JobSpec, dir: string, adopted?: JobRecord): Promise<JobRecord> {
  const record = adopted ?? initialRecord(spec, dir, 'local');
  const { fingerprint } = await import('../fsutil');
  const inputs = adopted ? adopted.spec : spec;
  record.inputs.image = await sourceFingerprint(inputs.image);
  if (inputs.labels && inputs.kind !== 'segment') record.inputs.labels = await fingerprint(inputs.labels);
  if (inputs.truth) record.inputs.truth = await fingerprint(inputs.truth);
  record.pid = process.pid;
  record.host = hostname();
  await saveRecord(record);
  return record;
}

export function initialRecord(spec: JobSpec, dir: string, runner: RunnerKind): JobRecord {
  return {
    format: 'stackseg-job', version: 1, id: basename(dir), dir, spec,
    inputs: {}, status: 'queued', created: new Date().toISOString(), timings: {}, runner,
    versions: { stackseg: STACKSEG_VERSION, node: process.version, platform: `${process.platform}-${process.arch}` },
    outputs: { log: join(dir, 'log.txt') },
  };
}

export async function saveRecord(record: JobRecord): Promise<void> {
  await writeJsonAtomic(join(record.dir, 'job.json'), record);
}

export async function loadRecord(dir: string): Promise<JobRecord> {
  try {
    const r = await readJson<JobRecord>(join(dir, 'job.json'));
    if (r?.format !== 'stackseg-job') throw new Error('not a StackSeg job file');
    if (typeof r.spec !== 'object' || r.spec === null || typeof r.outputs !== 'object' || r.outputs === null) throw new Error('no spec or outputs');
    return { ...r, outputs: rebase(r.outputs, r.dir, dir), dir };
  } catch (e) {
    throw new StackSegError(`not a readable StackSeg job (${(e as Error).message})`, { file: join(dir, 'job.json'), hint: 'pass a folder made by `stackseg train` or `stackseg run`' });
  }
}

/** A job folder that was moved: outputs recorded under its old path point into the new one (checked later, jobPaths). */
function rebase(outputs: JobRecord['outputs'], from: unknown, to: string): JobRecord['outputs'] {
  if (typeof from !== 'string' || !isAbsolute(from) || resolve(from) === resolve(to)) return outputs;
  const out: Record<string, unknown> = { ...outputs };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === 'string' && isAbsolute(v) && isInside(resolve(v), resolve(from))) out[k] = join(to, relative(resolve(from), resolve(v)));
  }
  return out as JobRecord['outputs'];
}

/** All jobs of a stack, newest first; unreadable folders are skipped. */
export async function listJobs(imagePath: string): Promise<JobRecord[]> {
  const root = jobsRoot(imagePath);
  let names: string[] = [];
  try { names = await fs.readdir(root); } catch { return []; }
  const out: JobRecord[] = [];
  for (const n of names) {
    try { out.push(await loadRecord(join(root, n))); } catch { /* not a job */ }
  }
  return out.sort((a, b) => b.created.localeCompare(a.created));
}

/** Append-only log with timestamps; flushed on close. A failing write (full disk) never crashes the job: the
 * first error is kept in `error`, later lines are dropped. */
export class JobLog {
  error?: Error;

  private constructor(private readonly stream: WriteStream, readonly path: string) {
    stream.on('error', (e) => { this.error ??= e; });
  }

  static async open(path: string): Promise<JobLog> {
    const stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return new JobLog(stream, path);
  }

  line(text: string): void {
    if (!this.error && !this.stream.destroyed) this.stream.write(`${new Date().toISOString()} ${text}\n`);
  }

  close(): Promise<void> {
    if (this.error || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.stream.once('close', resolve);
      this.stream.end();
    });
  }
}
