// Runs a job: check inputs, train and/or segment, write outputs beside the data (temp + rename), keep job.json
// current. Used by the CLI, hence by the extension's worker process and by Slurm tasks.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { writeFailure, writeJsonAtomic } from '../fsutil';
import { Evaluation, type EvaluationReport } from './evaluate';
import { writeSegmentation } from './segmentation';
import { checkMaskFormat, writeMaskAs } from '../io/maskOut';
import { loadSegmenter, trainSegmenter } from '../models';
import { MODELS } from '../../shared/models/registry';
import type { Segmenter } from '../models/segmenter';
import { fitNormalization } from '../models/normalize';
import type { Normalization } from '../models/segmenter';
import { MODEL_HEADER_FILE } from '../models/modelHeader';
import { modelChannels } from '../features/channels';
import type { SliceSource } from '../../shared/types';
import { channelsRead, ChannelsView } from './plane';
import { collectTrainingSlices, openImage, openLabels, parseSliceRange, sampleChannels, sampleIntensities, volumeInput } from './inputs';
import type { JobProgress, JobRecord, JobSpec } from '../../shared/jobs/spec';
import { jobLogPath, removeTempFiles, trainedModelPath } from './jobPaths';
import { checkJobFolder, claimJobFolder, SpaceReserve } from './outputs';
import { createJobRecord, JobLog, loadRecord, saveRecord } from './store';

export interface RunHooks {
  onProgress?: (p: JobProgress) => void;
  signal?: AbortSignal;
}

interface Opened { image: SliceSource; labels?: SliceSource; truth?: SliceSource }

/** Checks a job's inputs as runJob would, without writing anything (runners call it before submitting). */
export async function validateJobInputs(spec: JobSpec): Promise<void> {
  const opened = await openInputs(spec);
  try {
    if (spec.kind !== 'segment' && opened.labels) await collectTrainingSlices(opened.image, opened.labels, spec.model);
    if (spec.kind === 'segment') await checkModelChannels(await trainedModelPath(await loadRecord(spec.modelFrom!)), opened.image);
  } finally {
    await Promise.all([opened.image.close(), opened.labels?.close(), opened.truth?.close()]);
  }
}

/**
 * Checks the output folder and the inputs (nothing written on failure), then creates and locks jobDir and runs.
 * Returns the final record.
 */
export async function runJob(spec: JobSpec, jobDir: string, hooks: RunHooks = {}): Promise<JobRecord> {
  await checkJobFolder(jobDir, spec);
  const modelDir = spec.kind === 'segment' ? await trainedModelPath(await loadRecord(spec.modelFrom!)) : undefined;
  const opened = await openInputs(spec);
  try {
    if (modelDir) await checkModelChannels(modelDir, opened.image);
    const training = spec.kind !== 'segment' ? await prepareTraining(spec, opened, hooks.signal) : undefined;
    const { lock, adopted } = await claimJobFolder(jobDir, spec);
    let reserve: SpaceReserve | undefined;
    try {
      reserve = await SpaceReserve.hold(jobDir);
      const record = await createJobRecord(spec, jobDir, adopted).catch(async (e) => { throw await writeFailure(e, join(jobDir, 'job.json')); });
      return await execute(record, spec, opened, training, modelDir, reserve, hooks);
    } finally {
      await reserve?.release();
      await lock.release();
    }
  } finally {
    await Promise.all([opened.image.close(), opened.labels?.close(), opened.truth?.close()]);
  }
}

async function openInputs(spec: JobSpec): Promise<Opened> {
  const image = await openImage(spec.image, { channel: spec.channel, timepoint: spec.timepoint });
  try {
    checkMaskFormat(spec.maskFormat, image.info);
    if (image instanceof ChannelsView && spec.model === 'threshold') {
      throw new StackSegError(`threshold works on one channel, and --set channel=${spec.channel} reads ${image.channels.length} together`, {
        file: spec.image, hint: 'pick one channel with --set channel=N, or use k-means (clusters of all channels) or rf for several channels',
      });
    }
    const supervised = MODELS[spec.model].supervised;
    if (spec.kind !== 'segment' && supervised && !spec.labels) {
      throw new StackSegError(`${MODELS[spec.model].title} needs labels`, { hint: 'pass --labels <stem>.labels.tif (paint them in the StackSeg editor)' });
    }
    const labels = spec.kind !== 'segment' && spec.labels ? await openLabels(spec.labels, image) : undefined;
    const truth = spec.truth ? await openLabels(spec.truth, image, 'truth').catch((e) => { void labels?.close(); throw e; }) : undefined;
    parseSliceRange(spec.slices ? `${spec.slices[0]}:${spec.slices[1]}` : undefined, image.info.depth);
    return { image, labels, truth };
  } catch (e) {
    await image.close();
    throw e;
  }
}

async function prepareTraining(spec: JobSpec, o: Opened, signal?: AbortSignal): Promise<{ slices: Awaited<ReturnType<typeof collectTrainingSlices>>; sample: Float32Array; norm: Normalization }> {
  const slices = o.labels ? await collectTrainingSlices(o.image, o.labels, spec.model, signal) : [];
  if (o.image instanceof ChannelsView) {
    // Several channels: the same pixels of each (k-means fits on the joint vectors), one normalisation per channel.
    const perChannel = await sampleChannels(o.image, o.image.channels.length, 200_000, signal);
    const joint = new Float32Array(perChannel.reduce((a, p) => a + p.length, 0));
    perChannel.forEach((p, c) => joint.set(p, c * p.length));
    const channels = perChannel.map((p, i) => ({ ...fitNormalization(p), channel: (o.image as ChannelsView).channels[i] }));
    const { channel: _, ...first } = channels[0];
    return { slices, sample: joint, norm: { ...first, channels } };
  }
  const sample = await sampleIntensities(o.image, 200_000, signal);
  return { slices, sample, norm: fitNormalization(sample) };
}

/**
 * Refuses to segment with a model trained on another number of channels (a `channel=all` model on one picked
 * channel, or a 2-channel model on a 3-channel stack) before anything is written: one message naming both.
 */
export async function checkModelChannels(modelDir: string, image: SliceSource): Promise<void> {
  const file = join(modelDir, MODEL_HEADER_FILE);
  let norm: Normalization | undefined;
  try { norm = (JSON.parse(await fs.readFile(file, 'utf8')) as { norm?: Normalization }).norm; } catch { return; } // loadSegmenter reports it
  const trained = norm ? modelChannels(norm) : undefined;
  const read = image instanceof ChannelsView ? image.channels : undefined;
  const count = (c: readonly number[] | undefined) => c?.length ?? 1;
  if (count(trained) === count(read)) return;
  const describe = (c: readonly number[] | undefined) => (c ? `${c.length} channels (${c.join(', ')}) together` : 'one channel');
  throw new StackSegError(`the model reads ${describe(trained)}, but this job reads ${describe(read)} of the image`, {
    file: image.info.path,
    hint: trained ? `segment with --set channel=${trained.join(',')} (or channel=all on a stack with ${trained.length} channels), or train a model on this channel` : 'segment with --set channel=N (one channel, as the model was trained), or train a model with --set channel=all',
  });
}

async function execute(record: JobRecord, spec: JobSpec, o: Opened, training: Awaited<ReturnType<typeof prepareTraining>> | undefined, modelFrom: string | undefined, reserve: SpaceReserve, hooks: RunHooks): Promise<JobRecord> {
  const logPath = await jobLogPath(record);
  const log = await JobLog.open(logPath).catch(async (e) => { throw await writeFailure(e, logPath); });
  const t0 = performance.now();
  const progress = (p: JobProgress) => {
    record.progress = p;
    hooks.onProgress?.(p);
  };
  let segmenter: Segmenter | undefined;
  record.status = 'running';
  record.started = new Date().toISOString();
  log.line(`job ${record.id}: ${spec.kind} ${spec.model} on ${spec.image}`);
  log.line(`params ${JSON.stringify(spec.params)}`);
  for (const note of o.image.info.notes ?? []) log.line(`image: ${note}`);
  const read = channelsRead(o.image);
  if (read) record.channels = [...read];
  try {
    await saveJob(record);
    const { width, height } = o.image.info;
    if (training) {
      const tTrain = performance.now();
      progress({ phase: 'train', percent: 0 });
      segmenter = await trainSegmenter(spec.model, {
        width, height, slices: training.slices, sample: training.sample, norm: training.norm, params: spec.params,
        volume: volumeInput(o.image), signal: hooks.signal,
        onProgress: (p) => {
          progress({ phase: 'train', ...p });
          if (p.loss !== undefined) log.line(`epoch ${p.epoch} loss ${p.loss.toFixed(5)}`);
        },
      });
      record.backend = segmenter.backend;
      record.runtime = segmenter.runtime;
      if (segmenter.runtime) log.line(`runtime ${JSON.stringify(segmenter.runtime)}`);
      record.timings.train = (performance.now() - tTrain) / 1000;
      const modelDir = join(record.dir, 'model');
      await saveModelAtomic(segmenter, modelDir);
      record.outputs.model = modelDir;
      const report: Record<string, unknown> = { ...segmenter.trainingReport(), trainSeconds: record.timings.train };
      record.summary = { ...record.summary, trainAccuracy: report.trainAccuracy as number | undefined };
      log.line(`trained in ${record.timings.train.toFixed(2)} s (${segmenter.backend})`);
      const metricsPath = join(record.dir, 'metrics.json');
      await writeJsonAtomic(metricsPath, { training: report }).catch(async (e) => { throw await writeFailure(e, metricsPath); });
      record.outputs.metrics = metricsPath;
      await saveJob(record);
    } else {
      segmenter = await loadSegmenter(modelFrom!);
      record.backend = segmenter.backend;
      record.runtime = segmenter.runtime;
      if (segmenter.runtime) log.line(`runtime ${JSON.stringify(segmenter.runtime)}`);
    }
    if (spec.kind !== 'train') {
      await segmentStack(record, spec, o, segmenter, progress, log, hooks.signal);
    }
    // A Slurm job's training step leaves the job running: its array tasks and merge step finish it.
    record.status = record.runner === 'slurm' && record.spec.kind === 'run' && spec.kind === 'train' ? 'running' : 'succeeded';
    progress({ phase: 'done', percent: 100 });
  } catch (e) {
    const cancelled = hooks.signal?.aborted === true;
    record.status = cancelled ? 'cancelled' : 'failed';
    record.error = cancelled ? 'cancelled' : (e as Error).message ?? String(e);
    log.line(cancelled ? 'cancelled' : `failed: ${(e as Error)?.stack ?? e}`);
  }
  await segmenter?.dispose?.();
  record.timings.total = (performance.now() - t0) / 1000;
  record.finished = new Date().toISOString();
  // A failed job leaves no temporary files; removing them first also frees the space job.json needs on a full disk.
  if (record.status !== 'succeeded' && record.status !== 'running') await removeTempFiles(record.dir);
  log.line(`${record.status} after ${record.timings.total.toFixed(2)} s`);
  await log.close();
  await reserve.release(); // on a full disk, the space job.json needs
  try {
    await saveRecord(record);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const jobJson = join(record.dir, 'job.json');
    throw new StackSegError(`${record.status === 'failed' ? `${record.error}; ` : ''}${jobJson} could not be written either (${why}), so it may still say "running"`, {
      hint: '`stackseg status --job` marks it failed once space is free',
    });
  }
  if (record.status === 'failed') throw new StackSegError(record.error ?? 'job failed', { hint: `see ${logPath}` });
  if (record.status === 'cancelled') throw new StackSegError('cancelled', { hint: `job ${record.dir}` });
  return record;
}

/** Saves into model.tmp-<pid>, then renames; never deletes an existing model folder (the job folder is new). */
async function saveModelAtomic(segmenter: Segmenter, modelDir: string): Promise<void> {
  const tmp = `${modelDir}.tmp-${process.pid}`;
  try {
    await fs.mkdir(tmp);
    await segmenter.save(tmp);
    await fs.rename(tmp, modelDir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new StackSegError('a model folder is already there', { file: modelDir, hint: 'StackSeg never replaces a model folder: use a new --out folder' });
    throw await writeFailure(e, (e as NodeJS.ErrnoException).path ?? modelDir);
  }
}

/** saveRecord, naming job.json (and the free space) when the disk is full. */
async function saveJob(record: JobRecord): Promise<void> {
  await saveRecord(record).catch(async (e) => { throw await writeFailure(e, join(record.dir, 'job.json')); });
}

async function segmentStack(record: JobRecord, spec: JobSpec, o: Opened, segmenter: Segmenter, progress: (p: JobProgress) => void, log: JobLog, signal?: AbortSignal) {
  const { depth } = o.image.info;
  const range = spec.slices ?? [0, depth];
  const maskPath = spec.maskOut ?? join(record.dir, 'mask.tif');
  const evaluation = o.truth ? new Evaluation(spec.classMap) : undefined;
  // rf: an uncertainty map beside the job's own mask (not beside a --out mask elsewhere) for the viewer's heat overlay.
  const uncertaintyPath = spec.model === 'rf' && !spec.maskOut && spec.uncertainty !== false ? join(record.dir, 'uncertainty.tif') : undefined;
  const { seconds } = await writeSegmentation(o.image, segmenter, range, maskPath, {
    truth: o.truth, evaluation, signal, uncertaintyPath,
    onSlice: (done, total, z) => progress({ phase: 'segment', percent: (100 * done) / total, message: `slice ${z + 1}/${depth}` }),
  });
  record.outputs.mask = maskPath;
  if (uncertaintyPath) record.outputs.uncertainty = uncertaintyPath;
  record.timings.segment = seconds;
  log.line(`segmented ${range[1] - range[0]} slices in ${seconds.toFixed(2)} s -> ${maskPath}`);
  if (spec.maskFormat && !spec.maskOut) {
    const t0 = performance.now();
    const extra = await writeMaskAs(spec.maskFormat, maskPath, spec.image, record.dir);
    record.outputs[extra.key] = extra.path;
    log.line(`mask also as ${spec.maskFormat}, chunks ${extra.chunks.join('×')}, in ${((performance.now() - t0) / 1000).toFixed(2)} s -> ${extra.path}`);
  }
  if (evaluation) await recordEvaluation(record, evaluation.result({ truth: spec.truth }), log);
  await saveJob(record);
}

/** Merges an evaluation into metrics.json (beside any training report) and the record's summary. */
export async function recordEvaluation(record: JobRecord, metrics: EvaluationReport, log: JobLog): Promise<void> {
  const path = join(record.dir, 'metrics.json');
  let prev: Record<string, unknown> = {};
  try { prev = JSON.parse(await fs.readFile(path, 'utf8')); } catch { /* no training part */ }
  await writeJsonAtomic(path, { ...prev, evaluation: metrics }).catch(async (e) => { throw await writeFailure(e, path); });
  record.outputs.metrics = path;
  record.summary = { ...record.summary, meanF1: metrics.meanF1 ?? undefined, classF1: metrics.classF1 };
  log.line(`evaluation against ${metrics.truth}: mean F1 ${metrics.meanF1?.toFixed(4)}`);
}
