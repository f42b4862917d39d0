// Where a job may write. A job folder is new, empty, or the queued record a Slurm submission made for this very
// job; any other folder (the user's files, another job, /, the home folder, the current folder, a folder holding
// the inputs) is refused before anything is written. A mask file (`segment --out`) never names an input and
// replaces an existing file only with --force.

import { constants as fsConstants, promises as fs, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, parse } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { isInside, isNotWritable, mkdirs, nearestExisting, realpathLoose, writeFailure } from '../fsutil';
import { JobLock, LOCK_NAME } from './lock';
import type { JobRecord, JobSpec } from '../../shared/jobs/spec';
import { loadRecord, stackStem } from './store';

const NEW_FOLDER_HINT = 'choose a new or empty folder for --out (StackSeg never writes among other files)';

/** Inputs of a job as [what, path]: image, labels, truth. */
function inputsOf(spec: JobSpec): [string, string][] {
  return ([['the image', spec.image], ['the labels', spec.labels], ['the truth', spec.truth]] as [string, string | undefined][])
    .filter((x): x is [string, string] => !!x[1]);
}

/** Refuses /, the home folder, the current folder and any folder holding an input. Writes nothing. */
async function refuseForbidden(dir: string, spec: JobSpec): Promise<void> {
  const real = await realpathLoose(dir);
  const refuse = (what: string) => new StackSegError(`will not write a job into ${what}`, { file: dir, hint: 'name a new folder for the job, e.g. --out results/job1 (segment: --dir)' });
  if (real === parse(real).root) throw refuse('the root folder');
  if (real === (await realpathLoose(homedir()))) throw refuse('the home folder');
  if (real === (await realpathLoose(process.cwd()))) throw refuse('the current folder');
  for (const [what, path] of inputsOf(spec)) {
    const input = await realpathLoose(path);
    if (isInside(input, real)) throw refuse(`a folder that holds ${what} (${path})`);
  }
}

/** Checks what is in an existing folder: nothing (new job), or the queued Slurm record to adopt. */
async function inspectContents(dir: string, spec: JobSpec): Promise<JobRecord | undefined> {
  let st: Stats;
  try {
    st = await fs.stat(dir);
  } catch {
    return undefined; // does not exist yet
  }
  if (!st.isDirectory()) throw new StackSegError('is a file, not a folder', { file: dir, hint: 'pass --out a new folder for the job' });
  const entries = (await fs.readdir(dir)).filter((n) => !n.startsWith(LOCK_NAME));
  if (entries.length === 0) return undefined;
  if (!entries.includes('job.json')) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new StackSegError(`this folder already holds files that are not a StackSeg job (${shown})`, { file: dir, hint: NEW_FOLDER_HINT });
  }
  const record = await loadRecord(dir);
  // The training step of a Slurm job takes over the record its submission wrote; nothing else reuses a job folder.
  const sameJob = record.spec?.image === spec.image && record.spec?.model === spec.model && (spec.kind === 'train' || spec.kind === record.spec.kind);
  if (record.status === 'queued' && record.runner === 'slurm' && sameJob) return record;
  throw new StackSegError(`a job already exists in this folder (${record.spec?.kind ?? '?'} ${record.spec?.model ?? '?'}, ${record.status})`, {
    file: dir, hint: 'choose a new --out folder; StackSeg never overwrites a job',
  });
}

/** The checks of claimJobFolder without writing anything: runners call it before they start work. */
export async function checkJobFolder(dir: string, spec: JobSpec): Promise<void> {
  await refuseForbidden(dir, spec);
  await inspectContents(dir, spec);
}

export interface ClaimedFolder { lock: JobLock; adopted?: JobRecord }

/** Makes the job folder and takes its lock; then (under the lock) checks it is new or this job's queued record. */
export async function claimJobFolder(dir: string, spec: JobSpec): Promise<ClaimedFolder> {
  await refuseForbidden(dir, spec);
  let lock: JobLock;
  try {
    await mkdirs(dir);
    lock = await JobLock.acquire(dir);
  } catch (e) {
    throw await folderError(e, dir);
  }
  try {
    return { lock, adopted: await inspectContents(dir, spec) };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/** mkdir/lock failures as one message; a read-only data folder says to use --out. */
async function folderError(e: unknown, dir: string): Promise<unknown> {
  if (e instanceof StackSegError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  // Some file systems still answer ENOENT for a folder that cannot be made: ask the parent directly.
  const parentReadOnly = code === 'ENOENT' && (await fs.access(await nearestExisting(dir), fsConstants.W_OK).then(() => false, () => true));
  if (isNotWritable(e) || parentReadOnly) {
    return new StackSegError(`cannot create the job folder: ${await nearestExisting(dir)} is not writable (${code})`, {
      file: dir, hint: 'the data folder is read-only: use --out to write the job to a writable folder',
    });
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') return new StackSegError('a file is in the way of the job folder', { file: dir, hint: 'pass --out a new folder for the job' });
  return new StackSegError(`cannot create the job folder (${code ?? (e as Error).message})`, { file: dir, hint: 'pass --out a writable folder' });
}

/**
 * A few KB held in the job folder while the job runs (<dir>/.lock.reserve). On a full disk they are released
 * first, so the final job.json ("failed", naming the file) can still be written.
 */
export class SpaceReserve {
  static readonly NAME = `${LOCK_NAME}.reserve`;
  private constructor(private readonly path: string | undefined) {}

  static async hold(dir: string, bytes = 16 * 1024): Promise<SpaceReserve> {
    const path = join(dir, SpaceReserve.NAME);
    try {
      await fs.writeFile(path, Buffer.alloc(bytes, 0x20));
      return new SpaceReserve(path);
    } catch (e) {
      await fs.rm(path, { force: true });
      throw await writeFailure(e, dir);
    }
  }

  async release(): Promise<void> {
    if (this.path) await fs.rm(this.path, { force: true });
  }
}

export interface MaskTarget {
  /** Files the mask must never replace, as [what, path]. */
  protect: [string, string][];
  /** Folders the mask must never be written into (a model's files). */
  protectDirs: [string, string][];
  force: boolean;
}

/** What `segment --job J --image I --out MASK` must leave alone. */
export function maskTargetFor(trained: JobRecord, image: string, modelDir: string, truth: string | undefined, force: boolean): MaskTarget {
  const stem = stackStem(image);
  const protect: [string, string][] = [
    ['the image', image], ['the labels of the image', `${stem}.labels.tif`], ['the settings of the image', `${stem}.stackseg.json`],
    ['the image the model was trained on', trained.spec.image],
  ];
  if (truth) protect.push(['the truth', truth]);
  if (trained.spec.labels) protect.push(['the labels the model was trained on', trained.spec.labels]);
  if (trained.spec.truth) protect.push(['the truth of the model job', trained.spec.truth]);
  for (const f of ['job.json', 'log.txt', 'metrics.json', 'mask.tif', 'uncertainty.tif', LOCK_NAME]) protect.push([`the model job's ${f}`, join(trained.dir, f)]);
  return { protect, protectDirs: [["the model's files", modelDir]], force };
}

/** Refuses a mask path that names an input (also through a symlink or hard link), a folder, or an existing file without --force. */
export async function checkMaskOut(out: string, t: MaskTarget): Promise<void> {
  const st = await fs.stat(out).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new StackSegError('is a folder: --out names the mask file to write', { file: out, hint: `e.g. --out ${join(out, 'mask.tif')}, or --dir NEWFOLDER for a job folder` });
  }
  if (st && !st.isFile()) throw new StackSegError('is not a regular file', { file: out, hint: '--out names the mask file to write: choose a new file name' });
  const real = await realpathLoose(out);
  const same = async (p: string) => {
    if ((await realpathLoose(p)) === real) return true;
    if (!st) return false;
    const s = await fs.stat(p).catch(() => undefined);
    return !!s && s.dev === st.dev && s.ino === st.ino; // a hard link to the same file
  };
  const refuse = (what: string, p: string) => new StackSegError(`--out names ${what} (${p})`, { file: out, hint: 'inputs are never overwritten: choose a new file name for the mask' });
  for (const [what, p] of t.protect) if (await same(p)) throw refuse(what, p);
  for (const [what, d] of t.protectDirs) {
    const realDir = await realpathLoose(d);
    if (isInside(real, realDir)) throw refuse(what, d);
    for (const f of await fs.readdir(d).catch(() => [] as string[])) if (await same(join(d, f))) throw refuse(what, join(d, f));
  }
  if (st && !t.force) {
    throw new StackSegError('the mask file already exists', { file: out, hint: `pass --force to replace it, or choose another name (e.g. ${join(dirname(out), `new-${basename(out)}`)})` });
  }
}
