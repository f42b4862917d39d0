// Batches of stacks with the real CLI: a batch of 3 stacks on the local runner (a queue) and on a real single-node
// Slurm (one array over stacks x chunks), each stack's mask equal to a single local segment job's; one bad stack
// fails alone and `retry --batch` reruns only it (on Slurm only its chunks). Also every job kind on Slurm.
// The Slurm part skips, saying why, only where Slurm cannot be installed or started (scripts/slurm-cluster.sh).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from './helpers';

function startCluster(): string | undefined {
  try {
    execFileSync(join(ROOT, 'scripts/slurm-cluster.sh'), ['install'], { stdio: 'pipe' });
    return execFileSync(join(ROOT, 'scripts/slurm-cluster.sh'), ['start'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 }).toString().trim().split('\n').pop();
  } catch (e) {
    console.warn(`Slurm part skipped: Slurm cannot be installed or started here (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

let root: string, model: string;
const stacks: string[] = [];
const same = (a: string, b: string) => Buffer.compare(readFileSync(a), readFileSync(b)) === 0;

beforeAll(async () => {
  root = tempDir('stackseg-batch-');
  for (const [i, name] of ['a', 'b', 'c'].entries()) {
    const s = (await cli(['sample', '--out', join(root, 'scans', name), '--size', '64x48x5', '--seed', String(i + 1)])).json;
    // One folder of stacks: scans/all/{a,b,c}.tif with their truth beside them.
    mkdirSync(join(root, 'all'), { recursive: true });
    copyFileSync(s.image, join(root, 'all', `${name}.tif`));
    copyFileSync(s.truth, join(root, 'all', `${name}.truth.tif`));
    copyFileSync(s.labels, join(root, 'all', `${name}.labels.tif`));
    stacks.push(join(root, 'all', `${name}.tif`));
  }
  model = join(root, 'model');
  const t = await cli(['train', '--image', stacks[0], '--labels', join(root, 'all', 'a.labels.tif'), '--model', 'rf', '--set', 'trees=5', '--set', 'seed=3', '--out', model]);
  expect(t.code, t.stderr).toBe(0);
  // The reference: each stack segmented alone, locally.
  for (const [i, s] of stacks.entries()) {
    const r = await cli(['segment', '--job', model, '--image', s, '--dir', join(root, `ref-${i}`)]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);

function expectSameAsReference(summary: any): void {
  expect(summary.stacks.map((s: any) => s.image)).toEqual(stacks);
  summary.stacks.forEach((s: any, i: number) => {
    expect(s.status).toBe('succeeded');
    expect(s.job.startsWith(join(root, 'all', `${'abc'[i]}.stackseg`))).toBe(true); // beside its stack
    expect(same(s.mask, join(root, `ref-${i}`, 'mask.tif'))).toBe(true);
    expect(s.meanF1).toBeGreaterThan(0.9);
  });
}

describe('batch on the local runner (a queue)', () => {
  it('segments a folder of 3 stacks (labels and truth skipped), one job each, grouped by batch.json', async () => {
    const out = join(root, 'batch-local');
    const r = await cli(['segment', '--job', model, '--images', join(root, 'all'), '--out', out, '--truth', 'auto', '--class', '2=1', '--progress', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('succeeded');
    expect(r.json.counts).toEqual({ succeeded: 3 });
    expectSameAsReference(r.json);
    const batch = JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8'));
    expect(batch.format).toBe('stackseg-batch');
    for (const s of batch.stacks) expect(JSON.parse(readFileSync(join(s.job, 'job.json'), 'utf8')).spec.batch).toBe(out);
    // Progress names each stack's job.
    const jobs = new Set(r.progress.filter((p) => p.job).map((p) => p.job));
    expect(jobs.size).toBe(3);
  });

  it('a glob and repeated --image; a bad stack fails alone (exit 1, summary on stdout); retry reruns only it', async () => {
    const broken = join(root, 'all-broken');
    mkdirSync(broken);
    for (const n of ['a', 'b', 'c']) copyFileSync(join(root, 'all', `${n}.tif`), join(broken, `${n}.tif`));
    writeFileSync(join(broken, 'b.tif'), 'not a tiff');
    const out = join(root, 'batch-local-retry');
    const r = await cli(['segment', '--job', model, '--image', join(broken, 'a.tif'), '--images', join(broken, '[bc].tif'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 3 stacks was not segmented \(b\.tif: .*\) — retry only those with: stackseg retry --batch/);
    expect(r.json.counts).toEqual({ succeeded: 2, failed: 1 });
    const before = r.json.stacks.map((s: any) => s.job);
    copyFileSync(stacks[1], join(broken, 'b.tif'));
    const retry = await cli(['retry', '--batch', out]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.json.retried).toEqual([join(broken, 'b.tif')]);
    expect(retry.json.stacks[0].job).toBe(before[0]); // kept, not rerun
    expect(retry.json.stacks[2].job).toBe(before[2]);
    expect(same(retry.json.stacks[1].mask, join(root, 'ref-1', 'mask.tif'))).toBe(true);
    const status = await cli(['status', '--batch', out]);
    expect(status.json.status).toBe('succeeded');
  });

  it('refuses a pattern that matches nothing, one --truth file for many stacks, and a non-empty batch folder', async () => {
    const none = await cli(['segment', '--job', model, '--images', join(root, 'all', '*.nothing')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/matches no stack/);
    const truth = await cli(['segment', '--job', model, '--image', stacks[0], '--image', stacks[1], '--truth', stacks[0]]);
    expect(truth.code).toBe(2);
    expect(truth.stderr).toMatch(/--truth auto/);
    const full = join(root, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const r = await cli(['segment', '--job', model, '--images', join(root, 'all'), '--out', full]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not empty/);
    expect(readFileSync(join(full, 'keep.txt'), 'utf8')).toBe('mine');
  });
});

const conf = startCluster();
if (conf) process.env.SLURM_CONF = conf;

describe.skipIf(!conf)('batch and every job kind on a real Slurm', () => {
  it('a batch of 3 stacks runs as one array over stacks x chunks; masks equal the local ones', async () => {
    const out = join(root, 'batch-slurm');
    const r = await cli(['segment', '--job', model, '--images', join(root, 'all', '*.tif'), '--runner', 'slurm', '--chunks', '2', '--out', out, '--truth', 'auto', '--class', '2=1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.counts).toEqual({ succeeded: 3 });
    expectSameAsReference(r.json);
    const states = r.json.stacks.map((s: any) => JSON.parse(readFileSync(join(s.job, 'slurm', 'slurm.json'), 'utf8')));
    expect(new Set(states.map((s: any) => s.arrayId)).size).toBe(1); // one array
    expect(states.map((s: any) => s.arrayTaskIds)).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(existsSync(join(out, 'slurm', `segment-${states[0].arrayId}_5.out`))).toBe(true);
    for (const s of r.json.stacks) {
      const rec = JSON.parse(readFileSync(join(s.job, 'job.json'), 'utf8'));
      expect(rec.runner).toBe('slurm');
      expect(rec.timings.afterLastChunk).toBeLessThan(1);
    }
  });

  it('a failed chunk of one stack fails that stack only; retry --batch resubmits only that chunk', async () => {
    const out = join(root, 'batch-slurm-retry');
    const r = await cli(['segment', '--job', model, '--image', stacks[0], '--image', stacks[1], '--image', stacks[2], '--runner', 'slurm', '--chunks', '2', '--out', out, '--detach']);
    expect(r.code, r.stderr).toBe(0);
    const victim = r.json.stacks[1].job;
    // Chunk 1 of stack b cannot leave its marker (a folder is in the way): that task fails.
    mkdirSync(join(victim, 'chunks', 'done-0001.json'), { recursive: true });
    let status: any;
    for (let i = 0; i < 120; i++) {
      status = (await cli(['status', '--batch', out])).json;
      if (status.status !== 'running' && status.status !== 'pending') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(status.counts).toEqual({ succeeded: 2, failed: 1 });
    expect(status.stacks[1].error).toMatch(/chunk 1 \(slices 2:5\) FAILED: see .*batch-slurm-retry\/slurm\/segment-\d+_3\.out/);
    rmSync(join(victim, 'chunks', 'done-0001.json'), { recursive: true });
    const retry = await cli(['retry', '--batch', out]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.json.status).toBe('succeeded');
    expect(retry.json.stacks[1].job).toBe(victim); // same job: chunk 0 kept
    const state = JSON.parse(readFileSync(join(victim, 'slurm', 'slurm.json'), 'utf8'));
    expect(state.arrayTasks).toEqual([1]);
    expect(state.history).toHaveLength(1);
    expect(same(join(victim, 'mask.tif'), join(root, 'ref-1', 'mask.tif'))).toBe(true);
  });

  it('train alone and segment alone run on Slurm too (same mask as local)', async () => {
    const train = await cli(['train', '--image', stacks[0], '--labels', join(root, 'all', 'a.labels.tif'), '--model', 'rf', '--set', 'trees=5', '--set', 'seed=3', '--runner', 'slurm', '--out', join(root, 'slurm-train')]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.json.status).toBe('succeeded');
    expect(train.json.runner).toBe('slurm');
    const seg = await cli(['segment', '--job', join(root, 'slurm-train'), '--image', stacks[2], '--runner', 'slurm', '--chunks', '3', '--dir', join(root, 'slurm-seg')]);
    expect(seg.code, seg.stderr).toBe(0);
    expect(seg.json.status).toBe('succeeded');
    expect(same(join(root, 'slurm-seg', 'mask.tif'), join(root, 'ref-2', 'mask.tif'))).toBe(true);
  });
});
