// `stackseg compare` end to end: three real jobs (threshold, rf, kmeans) on the sample with truth plus one without,
// compared as JSON and CSV by the built CLI; the values are the ones each job wrote in its metrics.json.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

let dir: string;
const jobs: Record<string, string> = {};

beforeAll(async () => {
  dir = tempDir('stackseg-compare-');
  const s = await cli(['sample', '--out', join(dir, 'data'), '--size', '64x64x4']);
  expect(s.code, s.stderr).toBe(0);
  const { image, labels, truth } = s.json;
  const run = async (name: string, model: string, extra: string[]) => {
    const r = await cli(['run', '--image', image, '--labels', labels, '--model', model, '--out', join(dir, name), ...extra]);
    expect(r.code, r.stderr).toBe(0);
    jobs[name] = join(dir, name);
  };
  const scored = ['--truth', truth, '--class', '2=1', '--class', '1=0'];
  await run('threshold', 'threshold', scored);
  await run('rf, "quoted"', 'rf', ['--set', 'trees=6', ...scored]);
  await run('kmeans', 'kmeans', scored);
  await run('notruth', 'threshold', ['--set', 'method=fixed', '--set', 'value=0.5']);
});

const metrics = (job: string) => JSON.parse(readFileSync(join(job, 'metrics.json'), 'utf8')).evaluation;
const record = (job: string) => JSON.parse(readFileSync(join(job, 'job.json'), 'utf8'));

describe('stackseg compare', () => {
  it('prints per-class F1/IoU, times, backend and parameters of each job as JSON, as the jobs recorded them', async () => {
    const dirs = [jobs.threshold, jobs['rf, "quoted"'], jobs.kmeans, jobs.notruth];
    const r = await cli(['compare', ...dirs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.classes).toEqual(['0', '1']);
    expect(r.json.jobs.map((j: any) => [j.dir, j.model])).toEqual([[dirs[0], 'threshold'], [dirs[1], 'rf'], [dirs[2], 'kmeans'], [dirs[3], 'threshold']]);
    for (const j of r.json.jobs.slice(0, 3)) {
      const m = metrics(j.dir), rec = record(j.dir);
      expect(j.classes).toEqual(['0', '1'].map((k) => ({ truth: k, f1: m.classF1[k], iou: m.classIoU[k] })));
      expect([j.meanF1, j.meanIoU]).toEqual([m.meanF1, m.meanIoU]);
      expect(j.time).toEqual({ train: rec.timings.train, segment: rec.timings.segment, total: rec.timings.total });
      expect(j.backend).toBe(rec.backend);
      expect(j.params).toEqual(rec.spec.params);
    }
    // Real scores of three different models, not one value copied thrice.
    const f1 = r.json.jobs.slice(0, 3).map((j: any) => j.classes[1].f1);
    for (const v of f1) expect(v).toBeGreaterThan(0.5);
    expect(new Set(f1).size).toBe(3);
    const none = r.json.jobs[3];
    expect([none.classes, none.meanF1, none.truth]).toEqual([[], null, undefined]);
    expect(none.params).toMatchObject({ method: 'fixed', value: 0.5 });
  });

  it('--csv prints RFC 4180 CSV: one row per job, the quoted job name intact, empty cells where there is no truth', async () => {
    const r = await cli(['compare', jobs['rf, "quoted"'], jobs.notruth, '--csv']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines).toHaveLength(4); // header, 2 rows, final CRLF
    expect(lines[3]).toBe('');
    const head = lines[0].split(',');
    expect(head.slice(0, 3)).toEqual(['job', 'id', 'stack']);
    expect(head).toContain('f1_class_1');
    expect(lines[1].startsWith(`"${jobs['rf, "quoted"'].replace(/"/g, '""')}","rf, ""quoted""",sample.tif,`)).toBe(true);
    const m = metrics(jobs['rf, "quoted"']);
    expect(lines[1]).toContain(`,${m.classF1['1']},${m.classIoU['1']},${m.meanF1},${m.meanIoU},`);
    // notruth: F1/IoU/mean cells empty, the threshold value parameter filled.
    const cells = lines[2].split(',');
    for (const k of ['f1_class_0', 'iou_class_0', 'f1_class_1', 'mean_f1', 'truth']) expect(cells[head.indexOf(k)], k).toBe('');
    expect(cells[head.indexOf('param.value')]).toBe('0.5');
  });

  it('a folder that is not a job, an edited job.json, no folder: one clear line, exit 1 or 2', async () => {
    const notJob = await cli(['compare', jobs.kmeans, join(dir, 'data')]);
    expect(notJob.code).toBe(1);
    expect(notJob.stderr.trim()).toBe(`stackseg: ${join(dir, 'data', 'job.json')}: not a readable StackSeg job (ENOENT: no such file or directory, open '${join(dir, 'data', 'job.json')}') — pass a folder made by \`stackseg train\` or \`stackseg run\``);
    const edited = tempDir('stackseg-compare-edit-');
    const rec = record(jobs.kmeans);
    writeFileSync(join(edited, 'job.json'), JSON.stringify({ ...rec, dir: edited, outputs: { log: 'log.txt' }, timings: { total: -1 } }));
    const bad = await cli(['compare', edited]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${join(edited, 'job.json')}: timings.total is -1, not a number of seconds`);
    const usage = await cli(['compare']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/compare needs one or more job folders/);
  });
});
