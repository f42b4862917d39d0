// job.json is a text file users can edit: every output path read back from it is checked to lie inside the job
// folder (after resolving symlinks) before anything reads, appends to or scores it.

import { promises as fs } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { isInside, realpathLoose } from '../fsutil';
import type { JobRecord } from '../../shared/jobs/spec';

export type OutputKey = 'log' | 'mask' | 'model' | 'metrics' | 'uncertainty' | 'maskH5' | 'maskZarr';

/** The default place of each output inside a job folder. */
export const OUTPUT_NAMES: Record<OutputKey, string> = { log: 'log.txt', mask: 'mask.tif', model: 'model', metrics: 'metrics.json', uncertainty: 'uncertainty.tif', maskH5: 'mask.h5', maskZarr: 'mask.zarr' };

/**
 * record.outputs[key] as a path checked to lie inside the job folder (symlinks resolved); undefined when the job
 * has no such output. Throws one clear message naming job.json when it points elsewhere.
 */
export async function jobOutputPath(record: Pick<JobRecord, 'dir' | 'outputs'>, key: OutputKey): Promise<string | undefined> {
  const value = (record.outputs as Record<string, unknown> | undefined)?.[key];
  if (value === undefined || value === null) return undefined;
  const dir = resolve(record.dir);
  const bad = (why: string) => new StackSegError(`outputs.${key} ${JSON.stringify(value)} ${why}`, {
    file: join(dir, 'job.json'), hint: `a job's outputs must lie inside its folder (e.g. ${join(dir, OUTPUT_NAMES[key])}); fix or remove job.json`,
  });
  if (typeof value !== 'string' || value === '' || value.includes('\0')) throw bad('is not a file path');
  const abs = isAbsolute(value) ? resolve(value) : resolve(dir, value);
  if (abs === dir || !isInside(abs, dir)) throw bad('is outside the job folder');
  const [realAbs, realDir] = await Promise.all([realpathLoose(abs), realpathLoose(dir)]);
  if (realAbs === realDir || !isInside(realAbs, realDir)) throw bad(`leads outside the job folder (to ${realAbs})`);
  return abs;
}

/** The job's log file: the checked outputs.log, or log.txt in the folder when the record names none. */
export async function jobLogPath(record: Pick<JobRecord, 'dir' | 'outputs'>): Promise<string> {
  return (await jobOutputPath(record, 'log')) ?? join(record.dir, OUTPUT_NAMES.log);
}

/** The trained model folder of a job, checked; throws when the job has none. */
export async function trainedModelPath(record: JobRecord): Promise<string> {
  const model = await jobOutputPath(record, 'model');
  const st = model ? await fs.stat(model).catch(() => undefined) : undefined;
  if (!model || !st?.isDirectory()) {
    throw new StackSegError('this job has no trained model', { file: record.dir, hint: 'pass a job made by `stackseg train` or `stackseg run` that succeeded' });
  }
  return model;
}

/** Removes the temporary files a writer left in a job folder (a killed or failed job's `*.tmp-*`). */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.includes('.tmp-')) continue;
    await fs.rm(join(dir, name), { recursive: true, force: true }).then(() => removed.push(name), () => undefined);
  }
  return removed;
}
