// Paths read back from an edited job.json stay inside the job folder; the job folder lock (issue 10).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StackSegError } from '../../src/shared/errors';
import { jobOutputPath } from '../../src/core/jobs/jobPaths';
import { JobLock } from '../../src/core/jobs/lock';
import { markWorkerDied } from '../../src/host/jobs/workerProcess';

const tmp = () => mkdtempSync(join(tmpdir(), 'stackseg-jobpaths-'));

describe('jobOutputPath', () => {
  it('accepts outputs inside the job folder, refuses the rest with one message naming job.json', async () => {
    const dir = tmp();
    const outside = tmp();
    writeFileSync(join(outside, 'x.tif'), 'x');
    symlinkSync(join(outside, 'x.tif'), join(dir, 'link.tif'));
    const at = (mask: unknown) => jobOutputPath({ dir, outputs: { log: join(dir, 'log.txt'), mask } as never }, 'mask');
    expect(await at(join(dir, 'mask.tif'))).toBe(join(dir, 'mask.tif'));
    expect(await at('mask.tif')).toBe(join(dir, 'mask.tif'));
    expect(await at(undefined)).toBeUndefined();
    for (const bad of ['../x.tif', join(outside, 'x.tif'), join(dir, 'link.tif'), dir, 42, '', `${dir}/a\0b`]) {
      const e = await at(bad).catch((x) => x);
      expect(e, String(bad)).toBeInstanceOf(StackSegError);
      expect(e.message).toContain(join(dir, 'job.json'));
      expect(e.message).toMatch(/outputs\.mask/);
    }
  });
});

describe('markWorkerDied (the extension, after a worker died)', () => {
  it('never appends to an outputs.log outside the job folder', async () => {
    const dir = tmp();
    const victim = join(tmp(), 'notes.txt');
    writeFileSync(victim, 'mine\n');
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ format: 'stackseg-job', status: 'running', dir, spec: {}, outputs: { log: victim } }));
    writeFileSync(join(dir, 'mask.tif.tmp-1'), 'partial');
    const r = await markWorkerDied(dir, { code: null, signal: 'SIGKILL', stdout: '' });
    expect(r?.status).toBe('failed');
    expect(readFileSync(victim, 'utf8')).toBe('mine\n');
    expect(readdirSync(dir)).toEqual(['job.json']);
  });
});

describe('JobLock', () => {
  it('a second lock in the same folder is refused until the first is released', async () => {
    const dir = tmp();
    const a = await JobLock.acquire(dir);
    const e = await JobLock.acquire(dir).catch((x) => x);
    expect(e).toBeInstanceOf(StackSegError);
    expect(e.message).toMatch(new RegExp(`another StackSeg job \\(pid ${process.pid} on ${hostname()}`));
    await a.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    const b = await JobLock.acquire(dir);
    await b.release();
  });

  it('a stale lock (dead pid) is taken over by exactly one of several takers', async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: dead, host: hostname(), started: 'then', nonce: 'old' }));
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => JobLock.acquire(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason.message)).toMatch(/another StackSeg job/);
    expect(readdirSync(dir)).toEqual(['.lock']); // no stale copies left beside it
    await (won[0] as PromiseFulfilledResult<JobLock>).value.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock of another host is never taken over; the message says how to clear it', async () => {
    const dir = tmp();
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 1, host: 'elsewhere.example', started: 'then', nonce: 'x' }));
    const e = await JobLock.acquire(dir).catch((x) => x);
    expect(e.message).toMatch(/on elsewhere\.example.*delete .*\.lock/);
    expect(existsSync(join(dir, '.lock'))).toBe(true);
  });
});
