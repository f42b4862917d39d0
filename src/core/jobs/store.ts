// Job directories beside the data: <dir>/<stem>.stackseg/<jobId>/{job.json, log.txt, model/, mask.tif, metrics.json}.

import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StackSegError } from '../errors';
import { readJson, writeJsonAtomic } from '../fsutil';
import { type JobRecord, type JobSpec, type RunnerKind, newJobId } from './spec';
import { STACKSEG_VERSION } from '../version';

/** `dir/sample.tif` -> `dir/sample` (strips .tif/.tiff and a trailing .ome). */
export function stackStem(imagePath: string): string {
  return join(dirname(imagePath), basename(imagePath).replace(/(\.ome)?\.tiff?$/i, ''));
}

export function jobsRoot(imagePath: string): string {
  return `${stackStem(imagePath)}.stackseg`;
}

export function defaultJobDir(spec: JobSpec): string {
  return join(jobsRoot(spec.image), newJobId(spec.model));
}

export async function createJobRecord(spec: JobSpec, dir: string): Promise<JobRecord> {
  try {
    await fs.mkdir(dir, { recursive: true });
    const entries = await fs.readdir(dir);
    const queued = entries.includes('job.json') ? await adoptQueued(dir) : undefined;
    if (queued) return queued;
    if (entries.includes('job.json')) {
      throw new StackSegError('a job already exists in this folder', { file: dir, hint: 'choose a new --out folder; StackSeg never overwrites a job' });
    }
  } catch (e) {
    if (e instanceof StackSegError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new StackSegError(`cannot create the job folder (${code ?? (e as Error).message})`, {
      file: dir, hint: code === 'EACCES' || code === 'EROFS' || code === 'EPERM' ? 'the data folder is read-only: pass --out to write the job elsewhere' : undefined,
    });
  }
  const record = initialRecord(spec, dir, 'local');
  const { fingerprint } = await import('../fsutil');
  record.inputs.image = await fingerprint(spec.image);
  if (spec.labels && spec.kind !== 'segment') record.inputs.labels = await fingerprint(spec.labels);
  if (spec.truth) record.inputs.truth = await fingerprint(spec.truth);
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

/** A record a Slurm runner wrote at submission ("queued") is taken over by the training step on the node. */
async function adoptQueued(dir: string): Promise<JobRecord | undefined> {
  const r = await loadRecord(dir).catch(() => undefined);
  if (!r || r.status !== 'queued' || r.runner !== 'slurm') return undefined;
  const { fingerprint } = await import('../fsutil');
  r.inputs.image = await fingerprint(r.spec.image);
  if (r.spec.labels) r.inputs.labels = await fingerprint(r.spec.labels);
  if (r.spec.truth) r.inputs.truth = await fingerprint(r.spec.truth);
  return r;
}

export async function saveRecord(record: JobRecord): Promise<void> {
  await writeJsonAtomic(join(record.dir, 'job.json'), record);
}

export async function loadRecord(dir: string): Promise<JobRecord> {
  try {
    const r = await readJson<JobRecord>(join(dir, 'job.json'));
    if (r.format !== 'stackseg-job') throw new Error('not a StackSeg job file');
    return { ...r, dir };
  } catch (e) {
    throw new StackSegError(`not a readable StackSeg job (${(e as Error).message})`, { file: join(dir, 'job.json'), hint: 'pass a folder made by `stackseg train` or `stackseg run`' });
  }
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

/** Append-only log with timestamps; flushed on close. */
export class JobLog {
  private constructor(private readonly stream: WriteStream) {}

  static async open(path: string): Promise<JobLog> {
    const stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return new JobLog(stream);
  }

  line(text: string): void {
    this.stream.write(`${new Date().toISOString()} ${text}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
