// The merge step of a Slurm job: concatenates the array tasks' chunk masks into mask.tif (temp + rename), scores it
// against truth when the job names one, and marks the job succeeded.

import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../errors';
import { toLabels } from '../pixels';
import { openStack } from '../tiff';
import { StackWriter } from '../tiff/writer';
import { recordEvaluation } from './engine';
import { Evaluation } from './evaluate';
import { chunkPath, loadSlurmState } from './runners/slurm';
import { readTruthSlice } from './segmentation';
import { JobLog, loadRecord, saveRecord } from './store';

export async function mergeChunks(jobDir: string): Promise<{ mask: string; seconds: number }> {
  const t0 = performance.now();
  const [record, state] = [await loadRecord(jobDir), await loadSlurmState(jobDir)];
  // The job's own log: an edited job.json's outputs.log must not make this step append to another file.
  const log = await JobLog.open(join(jobDir, 'log.txt'));
  const missing = state.chunks.map((_, i) => i).filter((i) => !fsExists(chunkPath(jobDir, i)));
  if (missing.length) {
    await log.close();
    throw new StackSegError(`chunks ${missing.join(', ')} are missing`, { file: jobDir, hint: 'retry the failed chunks (stackseg retry --job)' });
  }
  const first = await openStack(chunkPath(jobDir, 0), { cacheBytes: 0 });
  const { width, height } = first.info;
  await first.close();
  const mask = join(jobDir, 'mask.tif');
  const writer = await StackWriter.create(mask, { width, height, depth: state.depth, dtype: 'uint8' });
  const truth = record.spec.truth ? await openStack(record.spec.truth, { cacheBytes: 0 }) : undefined;
  const evaluation = truth ? new Evaluation(record.spec.classMap) : undefined;
  try {
    for (let i = 0; i < state.chunks.length; i++) {
      const [a, b] = state.chunks[i];
      const chunk = await openStack(chunkPath(jobDir, i), { cacheBytes: 0 });
      try {
        if (chunk.info.depth !== b - a || chunk.info.width !== width || chunk.info.height !== height) {
          throw new StackSegError(`chunk ${i} holds ${chunk.info.depth} slices of ${chunk.info.width}×${chunk.info.height}, expected ${b - a} of ${width}×${height}`, { file: chunk.info.path, hint: 'retry this chunk' });
        }
        for (let z = 0; z < b - a; z++) {
          const labels = toLabels(await chunk.readSlice(z), chunk.info.path, z);
          await writer.appendSlice(labels);
          if (truth && evaluation) evaluation.addSlice(a + z, labels, await readTruthSlice(truth, a + z));
        }
      } finally {
        await chunk.close();
      }
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    await log.close();
    throw e;
  } finally {
    await truth?.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  record.outputs.mask = mask;
  record.timings.merge = seconds;
  log.line(`merged ${state.chunks.length} chunks (${state.depth} slices) in ${seconds.toFixed(2)} s -> ${mask}`);
  if (evaluation) await recordEvaluation(record, evaluation.result({ truth: record.spec.truth }), log);
  record.status = 'succeeded';
  record.finished = new Date().toISOString();
  record.timings.total = (Date.parse(record.finished) - Date.parse(record.created)) / 1000;
  await log.close();
  await saveRecord(record);
  await fs.rm(join(jobDir, 'chunks'), { recursive: true, force: true });
  return { mask, seconds };
}

function fsExists(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}
