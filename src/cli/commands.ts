// The CLI's commands as functions returning JSON-able results. Kept out of cli.ts so tests and the extension can
// call them in-process too.

import { existsSync, promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { StackSegError, UsageError } from '../shared/errors';
import { parseClassMap } from '../core/metrics';
import { DEFAULT_CLASSES } from '../shared/labels/classes';
import { writeFailure, writeJsonAtomic } from '../core/fsutil';
import { MODELS, describeParam, modelSpec, parseSets, resolveParams, type ModelKind } from '../shared/models/registry';
import { makeSample } from '../core/sample';
import { openSource } from '../core/io';
import { writeStack } from '../core/tiff/writer';
import { checkModelChannels, recordEvaluation, runJob, validateJobInputs } from '../core/jobs/runJob';
import { mergeChunks } from '../core/jobs/merge';
import { cancelSlurmJob, loadSlurmState, refreshSlurmJob, retryFailedChunks, submitSlurmJob, type SlurmOptions } from '../core/jobs/runners/slurm';
import { runChunk } from '../core/jobs/runners/chunkTask';
import { batchCommand, isBatchDir } from './batchCommands';
import { evaluateFiles } from '../core/jobs/evaluate';
import { loadComparison, toCsv } from '../core/jobs/compare';
import { openImage, parseSliceRange } from '../core/jobs/inputs';
import { takePlaneSelection, type PlaneSelection } from '../core/jobs/plane';
import { loadSegmenter } from '../core/models';
import { writeSegmentation } from '../core/jobs/segmentation';
import type { JobProgress, JobRecord, JobSpec } from '../shared/jobs/spec';
import { defaultJobDir, JobLog, loadRecord, saveRecord } from '../core/jobs/store';
import { jobLogPath, jobOutputPath, trainedModelPath } from '../core/jobs/jobPaths';
import { JobLock } from '../core/jobs/lock';
import { checkJobFolder, checkMaskOut, maskTargetFor } from '../core/jobs/outputs';
import { reapDeadJob } from '../core/jobs/reap';

export interface CliContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  signal: AbortSignal;
  progress: (ev: JobProgress) => void;
}

const str = (c: CliContext, key: string): string | undefined => c.values[key] as string | undefined;
const list = (c: CliContext, key: string): string[] => (c.values[key] as string[] | undefined) ?? [];

function need(c: CliContext, key: string, command: string): string {
  const v = str(c, key);
  if (!v) throw new UsageError(`${command} needs --${key}`, `see stackseg --help`);
  return resolve(v);
}

export async function commandInfo(c: CliContext) {
  const path = c.positionals[0] ?? str(c, 'image');
  if (!path) throw new UsageError('info needs an image path', 'stackseg info <image.tif>');
  const src = await openSource(resolve(path));
  try {
    return { ...src.info };
  } finally {
    await src.close();
  }
}

function trainSpec(c: CliContext, kind: 'train' | 'run'): JobSpec {
  const modelName = str(c, 'model');
  if (!modelName) throw new UsageError(`${kind} needs --model`, `one of ${Object.keys(MODELS).join(', ')}`);
  const model = modelSpec(modelName).kind;
  const labels = str(c, 'labels');
  if (!labels && MODELS[model].supervised) throw new UsageError(`${kind} --model ${model} needs --labels`, 'the <stem>.labels.tif painted in StackSeg');
  const sets = parseSets(list(c, 'set'));
  const plane = takePlaneSelection(sets);
  return {
    kind, model, params: resolveParams(model, sets), ...plane,
    image: need(c, 'image', kind), labels: labels ? resolve(labels) : undefined,
    truth: str(c, 'truth') ? resolve(str(c, 'truth')!) : undefined, classMap: parseClassMap(list(c, 'class')),
  };
}

const summarise = (r: JobRecord) => ({ job: r.dir, id: r.id, status: r.status, runner: r.runner, model: r.spec.model, backend: r.backend, outputs: r.outputs, timings: r.timings, summary: r.summary, error: r.error });

async function runAndSummarise(spec: JobSpec, c: CliContext) {
  const dir = str(c, 'out') ? resolve(str(c, 'out')!) : defaultJobDir(spec);
  const runner = str(c, 'runner') ?? 'local';
  if (runner === 'slurm') return runOnSlurm(spec, dir, c);
  if (runner !== 'local') throw new UsageError(`unknown runner "${runner}"`, 'valid runners: local, slurm');
  return summarise(await runJob(spec, dir, { onProgress: c.progress, signal: c.signal }));
}

export function slurmOptions(c: CliContext): SlurmOptions {
  const int = (key: string, def: number) => {
    const v = str(c, key);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) < (key === 'gpus' ? 0 : 1)) throw new UsageError(`--${key} ${v} is not a positive integer`);
    return Number(v);
  };
  return {
    node: str(c, 'node-path') ?? process.execPath, cli: __filename, chunks: int('chunks', 4), gpus: int('gpus', 0),
    partition: str(c, 'partition'), account: str(c, 'account'), timeLimit: str(c, 'time'), extraArgs: list(c, 'sbatch-arg'),
  };
}

export async function runOnSlurm(spec: JobSpec, dir: string, c: CliContext) {
  if (spec.maskFormat) throw new UsageError(`--set maskFormat=${spec.maskFormat} is written by the local runner only`, 'run without --runner slurm, or convert mask.tif afterwards');
  await checkJobFolder(dir, spec);
  await validateJobInputs(spec);
  const o = slurmOptions(c);
  await submitSlurmJob(spec, dir, o);
  if (c.values.detach) return { ...summarise(await loadRecord(dir)), slurm: await loadSlurmState(dir) };
  return summarise(await waitForSlurmJob(dir, c));
}

export async function waitForSlurmJob(dir: string, c: CliContext): Promise<JobRecord> {
  let last = '';
  for (;;) {
    if (c.signal.aborted) {
      await cancelSlurmJob(dir);
      throw new StackSegError('cancelled', { hint: `job ${dir}` });
    }
    const { record, states, done, total } = await refreshSlurmJob(dir);
    const text = `${total ? `${done}/${total} chunks done ` : ''}${Object.entries(states).map(([k, v]) => `${k}=${v}`).join(' ')}`;
    if (text !== last) { c.progress({ phase: 'slurm', percent: total ? (100 * done) / total : 0, message: text }); last = text; }
    if (record.status === 'succeeded') return record;
    if (record.status === 'failed' || record.status === 'cancelled') throw new StackSegError(`Slurm job ${record.status}: ${record.error ?? ''}`, { hint: `retry with stackseg retry --job ${dir}` });
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function commandMerge(c: CliContext) {
  return mergeChunks(need(c, 'job', 'merge'));
}

/** `chunk --job JOBDIR --chunk I`: one Slurm array task (writes its slices into the job's preallocated mask). */
export async function commandChunk(c: CliContext) {
  const i = str(c, 'chunk');
  if (!i || !/^\d+$/.test(i)) throw new UsageError('chunk needs --chunk N (a whole number)');
  return runChunk(need(c, 'job', 'chunk'), Number(i), { signal: c.signal, progress: c.progress });
}

export async function commandStatus(c: CliContext) {
  if (isBatchDir(c)) return batchCommand('status', c);
  const dir = need(c, 'job', 'status');
  const record = await loadRecord(dir);
  // A local job whose process died (SIGKILL, out of memory) is marked failed here, not left "running".
  if (record.runner !== 'slurm') return summarise(await reapDeadJob(record));
  const { states, failedChunks, done, total } = await refreshSlurmJob(dir);
  return { ...summarise(await loadRecord(dir)), slurm: states, failedChunks, chunks: { done, total } };
}

export async function commandCancel(c: CliContext) {
  if (isBatchDir(c)) return batchCommand('cancel', c);
  const dir = need(c, 'job', 'cancel');
  const record = await loadRecord(dir);
  if (record.runner !== 'slurm') throw new StackSegError('only Slurm jobs are cancelled with `stackseg cancel`', { file: dir, hint: 'a local job stops with Ctrl-C (SIGINT/SIGTERM) of its process' });
  return summarise(await cancelSlurmJob(dir));
}

export async function commandRetry(c: CliContext) {
  if (isBatchDir(c)) return batchCommand('retry', c);
  const dir = need(c, 'job', 'retry');
  const retried = await retryFailedChunks(dir, slurmOptions(c));
  if (c.values.detach) return { ...summarise(await loadRecord(dir)), retried };
  return { ...summarise(await waitForSlurmJob(dir, c)), retried };
}

export const commandTrain = (c: CliContext) => runAndSummarise(trainSpec(c, 'train'), c);
export const commandRun = (c: CliContext) => runAndSummarise(trainSpec(c, 'run'), c);

export async function commandSegment(c: CliContext) {
  // Several stacks (--image repeated, --images DIR|GLOB): a batch, one child job per stack.
  if (list(c, 'images').length || list(c, 'image-list').length > 1) return batchCommand('segment', c);
  const jobDir = need(c, 'job', 'segment');
  const trained = await loadRecord(jobDir);
  const modelDir = await trainedModelPath(trained);
  const imagePath = need(c, 'image', 'segment');
  // The channel / time point the model was trained on, unless --set picks another.
  const plane: PlaneSelection = { channel: trained.spec.channel, timepoint: trained.spec.timepoint, ...takePlaneSelection(parseSets(list(c, 'set'))) };
  const out = str(c, 'out');
  if (out) {
    const truth = str(c, 'truth') ? resolve(str(c, 'truth')!) : undefined;
    await checkMaskOut(resolve(out), maskTargetFor(trained, imagePath, modelDir, truth, c.values.force === true));
    return segmentToFile(c, modelDir, jobDir, imagePath, resolve(out), plane);
  }
  const info = await commandInfo({ ...c, positionals: [imagePath] });
  const spec: JobSpec = {
    kind: 'segment', model: trained.spec.model, params: trained.spec.params, image: imagePath, modelFrom: jobDir, ...plane,
    slices: parseSliceRange(str(c, 'slices'), info.depth),
    truth: str(c, 'truth') ? resolve(str(c, 'truth')!) : undefined, classMap: parseClassMap(list(c, 'class')),
  };
  const into = str(c, 'dir');
  return runAndSummarise(spec, { ...c, values: { ...c.values, out: into } });
}

/** `segment --out MASK`: just the mask (a Slurm chunk, a quick check), no job folder of its own. */
async function segmentToFile(c: CliContext, modelDir: string, jobDir: string, imagePath: string, out: string, plane: PlaneSelection) {
  const image = await openImage(imagePath, plane);
  try {
    await checkModelChannels(modelDir, image);
    const range = parseSliceRange(str(c, 'slices'), image.info.depth);
    const segmenter = await loadSegmenter(modelDir);
    try {
      const { seconds } = await writeSegmentation(image, segmenter, range, out, {
        signal: c.signal, onSlice: (done, total, z) => c.progress({ phase: 'segment', percent: (100 * done) / total, message: `slice ${z + 1}` }),
      });
      return { mask: out, slices: range, seconds, backend: segmenter.backend, model: jobDir };
    } finally {
      await segmenter.dispose?.();
    }
  } finally {
    await image.close();
  }
}

export async function commandEval(c: CliContext) {
  const jobDir = str(c, 'job') ? resolve(str(c, 'job')!) : undefined;
  const record = jobDir ? await loadRecord(jobDir) : undefined;
  // job.json is user-editable: its mask and log must lie inside the job folder.
  const jobMask = record ? await jobOutputPath(record, 'mask') : undefined;
  if (record && !jobMask) throw new StackSegError('this job has no mask to evaluate', { file: jobDir, hint: 'segment first' });
  const pred = jobMask ?? need(c, 'pred', 'eval');
  const report = await evaluateFiles(pred, need(c, 'truth', 'eval'), parseClassMap(list(c, 'class')));
  if (record) {
    // Recorded in the job (under its lock): metrics.json gains the evaluation, job.json its summary.
    const lock = await JobLock.acquire(record.dir).catch(async (e) => { throw await writeFailure(e, join(record.dir, '.lock')); });
    try {
      record.spec.truth = report.truth;
      record.spec.classMap = parseClassMap(list(c, 'class'));
      const log = await JobLog.open(await jobLogPath(record));
      await recordEvaluation(record, report, log);
      await log.close();
      await saveRecord(record);
    } finally {
      await lock.release();
    }
  }
  return report;
}

/** `compare JOBDIR...`: the jobs side by side as JSON, or CSV text with --csv (printed as is). */
export async function commandCompare(c: CliContext) {
  if (c.positionals.length === 0) throw new UsageError('compare needs one or more job folders', 'stackseg compare JOBDIR JOBDIR... [--csv]');
  const comparison = await loadComparison(c.positionals.map((d) => resolve(d)));
  return c.values.csv === true ? toCsv(comparison) : comparison;
}

export async function commandParams(c: CliContext) {
  const kinds = c.positionals.length ? c.positionals.map((k) => modelSpec(k).kind) : (Object.keys(MODELS) as ModelKind[]);
  return Object.fromEntries(kinds.map((k) => [k, { title: MODELS[k].title, supervised: MODELS[k].supervised, params: MODELS[k].params.map(describeParam) }]));
}

export async function commandSample(c: CliContext) {
  const out = need(c, 'out', 'sample');
  const size = str(c, 'size') ?? '160x160x16';
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(size);
  if (!m) throw new UsageError(`--size "${size}" is not WxHxD`, 'e.g. --size 160x160x16');
  const [width, height, depth] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (width < 32 || height < 32 || depth < 1 || width * height * depth > 2 ** 28) throw new UsageError(`--size ${size} out of range`, 'each side >= 32, at most 268M voxels');
  const seed = Number(str(c, 'seed') ?? 1);
  await fs.mkdir(out, { recursive: true });
  const s = makeSample({ width, height, depth, seed });
  const n = width * height;
  const paths = { image: join(out, 'sample.tif'), labels: join(out, 'sample.labels.tif'), truth: join(out, 'sample.truth.tif'), settings: join(out, 'sample.stackseg.json') };
  // Never over a user's files of the same names (only with --force).
  const existing = Object.values(paths).filter((p) => existsSync(p));
  if (existing.length && c.values.force !== true) throw new StackSegError(`${existing.map((p) => basename(p)).join(', ')} already ${existing.length > 1 ? 'exist' : 'exists'} here`, { file: out, hint: 'choose another --out folder, or pass --force to replace them' });
  const slab = <T extends Float32Array | Uint8Array>(a: T) => (z: number) => a.subarray(z * n, (z + 1) * n) as T;
  await writeStack(paths.image, { width, height, depth, dtype: 'float32', getSlice: slab(s.image) });
  await writeStack(paths.labels, { width, height, depth, dtype: 'uint8', getSlice: slab(s.labels) });
  await writeStack(paths.truth, { width, height, depth, dtype: 'uint8', getSlice: slab(s.truth) });
  await writeJsonAtomic(paths.settings, { format: 'stackseg-settings', version: 1, classes: DEFAULT_CLASSES.map((k, i) => ({ ...k, name: i === 0 ? 'background' : 'foam' })) });
  return { ...paths, width, height, depth, seed, hint: `stackseg run --image ${paths.image} --labels ${paths.labels} --model rf --truth ${paths.truth} --class 2=1` };
}
