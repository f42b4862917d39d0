// The `stackseg` CLI end to end on generated stacks: contract of docs/formats.md (JSON out, exit codes, files beside data).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStack } from '../../src/core/tiff';
import { writeStack } from '../../src/core/tiff/writer';
import { cli, tempDir } from './helpers';

let dir: string;
let sample: { image: string; labels: string; truth: string };

beforeAll(async () => {
  dir = tempDir();
  const r = await cli(['sample', '--out', dir, '--size', '96x96x6']);
  expect(r.code, r.stderr).toBe(0);
  sample = r.json;
});

describe('stackseg sample / info', () => {
  it('writes image, labels, truth and settings that info reads back', async () => {
    for (const p of [sample.image, sample.labels, sample.truth]) expect(existsSync(p)).toBe(true);
    const r = await cli(['info', sample.image]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ width: 96, height: 96, depth: 6, dtype: 'float32' });
    const labels = await readStack(sample.labels);
    const counts = [0, 0, 0];
    for (const v of labels.data as Uint8Array) counts[v]++;
    expect(counts[1]).toBeGreaterThan(50);
    expect(counts[2]).toBeGreaterThan(50);
    // Labels only on slice 0, and never wrong against the truth.
    const truth = (await readStack(sample.truth)).data as Uint8Array;
    const n = 96 * 96;
    for (let i = 0; i < labels.data.length; i++) {
      const v = labels.data[i];
      if (v === 0) continue;
      expect(i).toBeLessThan(n);
      expect(v === 2 ? 1 : 0).toBe(truth[i]);
    }
  });
});

describe('stackseg run / segment / eval', () => {
  for (const model of ['rf', 'kmeans', 'threshold', 'msdnet'] as const) {
    it(`${model}: trains, segments, writes the job beside the data and scores against truth`, async () => {
      const sets = model === 'msdnet' ? ['--set', 'epochs=30'] : model === 'rf' ? ['--set', 'trees=10'] : [];
      const r = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', model, ...sets,
        '--truth', sample.truth, '--class', '2=1', '--class', '1=0', '--progress', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const job = r.json.job as string;
      expect(job.startsWith(join(dir, 'sample.stackseg'))).toBe(true);
      for (const f of ['job.json', 'log.txt', 'mask.tif', 'metrics.json', 'model']) expect(existsSync(join(job, f)), f).toBe(true);
      expect(readdirSync(job).filter((f) => f.includes('.tmp-'))).toEqual([]);
      const record = JSON.parse(readFileSync(join(job, 'job.json'), 'utf8'));
      expect(record.status).toBe('succeeded');
      expect(record.inputs.image.sha256).toMatch(/^[0-9a-f]{64}$/);
      const metrics = JSON.parse(readFileSync(join(job, 'metrics.json'), 'utf8'));
      expect(metrics.evaluation.perSlice).toHaveLength(6);
      expect(r.progress.some((p) => p.phase === 'segment')).toBe(true);
      const mask = await readStack(join(job, 'mask.tif'));
      expect(mask.info).toMatchObject({ width: 96, height: 96, depth: 6, dtype: 'uint8' });
      // rf also writes its uncertainty (255 * (1 - top class probability)); the other models do not.
      expect(existsSync(join(job, 'uncertainty.tif'))).toBe(model === 'rf');
      if (model === 'rf') {
        const u = await readStack(join(job, 'uncertainty.tif'));
        expect(u.info).toMatchObject({ width: 96, height: 96, depth: 6, dtype: 'uint8' });
        const values = u.data as Uint8Array;
        // Two classes: the top probability is >= 0.5, so uncertainty <= 128; mostly confident, some doubt at edges.
        expect(Math.max(...values)).toBeLessThanOrEqual(128);
        expect(values.some((v) => v > 0)).toBe(true);
        expect(record.outputs.uncertainty).toBe(join(job, 'uncertainty.tif'));
      }
      const f1 = r.json.summary.classF1['1'];
      expect(f1).toBeGreaterThan(model === 'msdnet' ? 0.75 : 0.85);

      const e = await cli(['eval', '--pred', join(job, 'mask.tif'), '--truth', sample.truth, '--class', '2=1', '--class', '1=0']);
      expect(e.code, e.stderr).toBe(0);
      expect(e.json.classF1['1']).toBeCloseTo(f1, 6);
    });
  }

  it('rf --set uncertainty=off: no uncertainty.tif, the same mask; settle=0 (all trees) differs in few pixels', async () => {
    const base = ['run', '--image', sample.image, '--labels', sample.labels, '--model', 'rf', '--set', 'trees=10'];
    const on = await cli(base);
    const off = await cli([...base, '--set', 'uncertainty=off']);
    const onExact = await cli([...base, '--set', 'settle=0']);
    const offExact = await cli([...base, '--set', 'uncertainty=off', '--set', 'settle=0']);
    for (const r of [on, off, onExact, offExact]) expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(on.json.job, 'uncertainty.tif'))).toBe(true);
    expect(existsSync(join(off.json.job, 'uncertainty.tif'))).toBe(false);
    const record = JSON.parse(readFileSync(join(off.json.job, 'job.json'), 'utf8'));
    expect(record.spec.uncertainty).toBe(false);
    expect(record.outputs.uncertainty).toBeUndefined();
    const mask = (r: typeof on) => readFileSync(join(r.json.job, 'mask.tif'));
    // Labels-only prediction decides each pixel as the prediction with probabilities does.
    expect(Buffer.compare(mask(on), mask(off))).toBe(0);
    expect(Buffer.compare(mask(onExact), mask(offExact))).toBe(0);
    // The default settle stops once a vote is clear: a few pixels whose vote is close may differ from all trees'.
    const a = (await readStack(join(onExact.json.job, 'mask.tif'))).data as Uint8Array;
    const b = (await readStack(join(on.json.job, 'mask.tif'))).data as Uint8Array;
    expect(b.length).toBe(a.length);
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
    expect(differ / a.length).toBeLessThan(1e-3);
    const bad = await cli([...base, '--set', 'uncertainty=maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/uncertainty=maybe: not on or off/);
  });

  it('segment --job reuses a trained model and reproduces its mask', async () => {
    const t = await cli(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'rf', '--set', 'trees=5']);
    expect(t.code, t.stderr).toBe(0);
    expect(existsSync(join(t.json.job, 'mask.tif'))).toBe(false);
    const out = join(dir, 'chunk.tif');
    const s = await cli(['segment', '--job', t.json.job, '--image', sample.image, '--slices', '2:5', '--out', out]);
    expect(s.code, s.stderr).toBe(0);
    const chunk = await readStack(out);
    expect(chunk.info.depth).toBe(3);
    const all = join(dir, 'all.tif');
    expect((await cli(['segment', '--job', t.json.job, '--image', sample.image, '--out', all])).code).toBe(0);
    const full = (await readStack(all)).data as Uint8Array;
    expect(Buffer.compare(Buffer.from(chunk.data as Uint8Array), Buffer.from(full.subarray(2 * 96 * 96, 5 * 96 * 96)))).toBe(0);
  });
});

describe('bad input: exit 1 (or 2 for usage), one clear line, nothing written', () => {
  const jobsDir = () => join(dir, 'sample.stackseg');
  const countJobs = () => (existsSync(jobsDir()) ? readdirSync(jobsDir()).length : 0);
  const expectOneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

  it('labels of other dimensions', async () => {
    const bad = join(dir, 'bad.labels.tif');
    await writeStack(bad, { width: 50, height: 96, depth: 6, dtype: 'uint8', getSlice: () => new Uint8Array(50 * 96).fill(1) });
    const before = countJobs();
    const r = await cli(['run', '--image', sample.image, '--labels', bad, '--model', 'rf']);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/bad\.labels\.tif.*50×96×6.*96×96×6/);
    expect(countJobs()).toBe(before);
  });

  it('no labeled pixels, and one class only', async () => {
    const empty = join(dir, 'empty.labels.tif');
    await writeStack(empty, { width: 96, height: 96, depth: 6, dtype: 'uint8', getSlice: () => new Uint8Array(96 * 96) });
    const one = join(dir, 'one.labels.tif');
    await writeStack(one, { width: 96, height: 96, depth: 6, dtype: 'uint8', getSlice: (z) => new Uint8Array(96 * 96).fill(z === 0 ? 2 : 0) });
    const before = countJobs();
    const a = await cli(['run', '--image', sample.image, '--labels', empty, '--model', 'rf']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/no labeled pixels/);
    const b = await cli(['train', '--image', sample.image, '--labels', one, '--model', 'msdnet']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/only one class/);
    expectOneLine(b.stderr);
    expect(countJobs()).toBe(before);
  });

  it('NaN in float data', async () => {
    const nanDir = tempDir();
    const img = join(nanDir, 'nan.tif');
    await writeStack(img, { width: 32, height: 32, depth: 2, dtype: 'float32', getSlice: (z) => { const a = new Float32Array(1024).fill(0.5); if (z === 1) a[77] = NaN; return a; } });
    const r = await cli(['run', '--image', img, '--model', 'threshold']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nan\.tif.*NaN/);
    expect(existsSync(join(nanDir, 'nan.stackseg'))).toBe(false);
  });

  it('unknown model and unknown parameter list the valid ones (usage, exit 2)', async () => {
    const m = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', 'svm']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/unknown model "svm".*rf, kmeans, threshold, msdnet/);
    const p = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', 'rf', '--set', 'leaves=3']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/unknown parameter "leaves".*trees, depth/);
    const v = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', 'rf', '--set', 'trees=0']);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/trees=0.*below 1/);
  });

  it('a missing file and a non-TIFF', async () => {
    const r = await cli(['info', join(dir, 'nope.tif')]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    const txt = join(dir, 'text.tif');
    await copyFile(__filename, txt);
    const t = await cli(['info', txt]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/text\.tif/);
    expect(statSync(txt).size).toBeGreaterThan(0);
  });
});

describe('cancellation', () => {
  it('SIGTERM during msdnet training marks the job cancelled and leaves no mask', async () => {
    let sent = false;
    const r = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', 'msdnet', '--set', 'epochs=100000', '--progress', 'json'], {
      onStderrLine: (line, kill) => { if (!sent && line.includes('"epoch"')) { sent = true; kill('SIGTERM'); } },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cancelled/);
    const jobs = readdirSync(join(dir, 'sample.stackseg')).map((j) => join(dir, 'sample.stackseg', j));
    const cancelled = jobs.map((j) => JSON.parse(readFileSync(join(j, 'job.json'), 'utf8'))).filter((j) => j.status === 'cancelled');
    expect(cancelled).toHaveLength(1);
    expect(existsSync(join(cancelled[0].dir, 'mask.tif'))).toBe(false);
    expect(readFileSync(join(cancelled[0].dir, 'log.txt'), 'utf8')).toMatch(/cancelled/);
  });
});
