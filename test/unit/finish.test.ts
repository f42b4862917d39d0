// Merge-free finishing of a Slurm segmentation: with every chunk's marker present, finishJob verifies and renames in
// well under a second for 2000 slices (no pixel read), sums the chunks' per-slice scores into metrics.json, and does
// nothing while a chunk is missing; an edited marker is refused naming it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finishJob } from '../../src/core/jobs/merge';
import { preallocateMask } from '../../src/core/jobs/runners/prealloc';
import { chunkMarker, partialMask, splitSlices } from '../../src/core/jobs/runners/slurm';
import { initialRecord } from '../../src/core/jobs/store';

async function fakeJob(depth: number, chunks: number) {
  const dir = mkdtempSync(join(tmpdir(), 'finish-'));
  const spec = { kind: 'segment' as const, model: 'rf' as const, params: {}, image: '/data/x.tif', modelFrom: '/data/m', truth: '/data/x.truth.tif', classMap: { 2: 1 } };
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ ...initialRecord(spec, dir, 'slurm'), status: 'running' }));
  mkdirSync(join(dir, 'slurm'));
  mkdirSync(join(dir, 'chunks'));
  const parts = splitSlices(depth, chunks);
  writeFileSync(join(dir, 'slurm', 'slurm.json'), JSON.stringify({ format: 'stackseg-slurm', version: 1, depth, first: 0, width: 64, height: 64, chunks: parts, arrayTasks: parts.map((_, i) => i), history: [] }));
  await preallocateMask(partialMask(dir), { width: 64, height: 64, depth });
  const now = Date.now();
  const mark = (i: number) => writeFileSync(chunkMarker(dir, i), JSON.stringify({
    chunk: i, slices: parts[i], started: now - 5000, ended: Date.now(), seconds: 5, backend: 'js',
    scores: Array.from({ length: parts[i][1] - parts[i][0] }, () => [[2 * 256 + 1, 3000], [256, 1000], [2 * 256, 96]]),
  }));
  return { dir, parts, mark };
}

describe('finishJob (no merge)', () => {
  it('2000 slices in 8 chunks: done < 1 s after the last marker, scores summed, mask renamed', async () => {
    const { dir, parts, mark } = await fakeJob(2000, 8);
    for (let i = 0; i < parts.length - 1; i++) mark(i);
    expect((await finishJob(dir)).finished).toBe(false); // chunk 7 not done
    expect(existsSync(join(dir, 'mask.tif'))).toBe(false);
    mark(parts.length - 1);
    const r = await finishJob(dir);
    expect(r.finished).toBe(true);
    expect(r.afterLastChunk).toBeLessThan(1);
    const rec = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8'));
    expect(rec.status).toBe('succeeded');
    expect(rec.timings.afterLastChunk).toBeLessThan(1);
    expect(existsSync(join(dir, 'mask.tif'))).toBe(true);
    expect(existsSync(join(dir, 'chunks'))).toBe(false);
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.evaluation.perSlice).toHaveLength(2000);
    expect(metrics.evaluation.classF1['1']).toBeCloseTo((2 * 3000) / (2 * 3000 + 96), 6);
    expect((await finishJob(dir)).reason).toBe('already finished');
  });

  it('refuses a marker whose slices or scores were edited, naming it', async () => {
    const { dir, parts, mark } = await fakeJob(10, 2);
    parts.forEach((_, i) => mark(i));
    const m = JSON.parse(readFileSync(chunkMarker(dir, 1), 'utf8'));
    writeFileSync(chunkMarker(dir, 1), JSON.stringify({ ...m, scores: [[[70000, 1]]] }));
    await expect(finishJob(dir)).rejects.toThrow(/done-0001\.json: the marker of chunk 1 holds scores/);
    writeFileSync(chunkMarker(dir, 1), JSON.stringify({ ...m, slices: [0, 10] }));
    await expect(finishJob(dir)).rejects.toThrow(/marker of chunk 1 names slices \[0,10\], not 5:10/);
  });
});
