// Job-output safety of the real CLI (issue 10): outputs go only into a new job folder or one StackSeg made, a mask
// file never replaces an input, a job folder is locked while written, job.json paths stay inside the job, a full
// disk or a killed process leaves a failed job without temp files, a read-only data folder says to use --out.
// The full-disk and read-only cases use a real tmpfs (mount needs root); they say so and skip where it cannot mount.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveParams } from '../../src/shared/models/registry';
import { initialRecord } from '../../src/core/jobs/store';
import { cli, tempDir } from './helpers';

let root: string;
let data: string;
let sample: { image: string; labels: string; truth: string };
/** A trained threshold job, for segment --job and eval --job. */
let job: string;

const img = () => ['--image', sample.image, '--model', 'threshold'];
const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));
const jobJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8'));
const edit = (dir: string, f: (r: any) => void) => { const r = jobJson(dir); f(r); writeFileSync(join(dir, 'job.json'), JSON.stringify(r)); };

/** A pid that surely ended: a child that ran and exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

beforeAll(async () => {
  root = tempDir('stackseg-safety-');
  data = join(root, 'data');
  const s = await cli(['sample', '--out', data, '--size', '32x32x2']);
  expect(s.code, s.stderr).toBe(0);
  sample = s.json;
  job = join(root, 'trained');
  const t = await cli(['run', ...img(), '--out', job]);
  expect(t.code, t.stderr).toBe(0);
});

describe('--out job folders', () => {
  it('refuses a folder holding the user\'s files, and the model save leaves them alone', async () => {
    const dir = join(root, 'users');
    mkdirSync(join(dir, 'model'), { recursive: true });
    writeFileSync(join(dir, 'model', 'weights.bin'), 'precious');
    writeFileSync(join(dir, 'mask.tif'), 'my mask');
    writeFileSync(join(dir, 'metrics.json'), '{"mine":1}');
    const r = await cli(['run', ...img(), '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds files that are not a StackSeg job/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dir, 'model', 'weights.bin'), 'utf8')).toBe('precious');
    expect(readFileSync(join(dir, 'mask.tif'), 'utf8')).toBe('my mask');
    expect(readFileSync(join(dir, 'metrics.json'), 'utf8')).toBe('{"mine":1}');
    expect(readdirSync(dir).sort()).toEqual(['mask.tif', 'metrics.json', 'model']);
  });

  it('refuses /, writing nothing there', async () => {
    const before = existsSync('/job.json');
    const r = await cli(['train', ...img(), '--out', '/']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/will not write a job into the root folder/);
    expect(existsSync('/job.json')).toBe(before);
    if (!before) expect(existsSync('/log.txt') && readFileSync('/log.txt', 'utf8').includes('threshold')).toBe(false);
  });

  it('refuses the home folder, even an empty one', async () => {
    const home = tempDir('stackseg-home-');
    const r = await cli(['train', ...img(), '--out', home], { env: { ...process.env, HOME: home } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/home folder/);
    expect(readdirSync(home)).toEqual([]);
  });

  it('refuses the current folder (--out .), even an empty one', async () => {
    const cwd = tempDir('stackseg-cwd-');
    const r = await cli(['train', ...img(), '--out', '.'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/current folder/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses a folder that holds the image (an ancestor of it)', async () => {
    for (const dir of [data, root]) {
      const r = await cli(['train', ...img(), '--out', dir]);
      expect(r.code, dir).toBe(1);
      expect(r.stderr).toMatch(/holds the image/);
    }
    expect(existsSync(join(data, 'job.json'))).toBe(false);
  });

  it('refuses a folder with another job, accepts a new or empty one', async () => {
    const again = await cli(['run', ...img(), '--out', job]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/a job already exists in this folder/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const r = await cli(['run', ...img(), '--out', empty]);
    expect(r.code, r.stderr).toBe(0);
    expect(jobJson(empty).status).toBe('succeeded');
  });

  it('the training step of a Slurm job adopts its queued record; an edited one is checked', async () => {
    const spec = { kind: 'run' as const, model: 'threshold' as const, params: resolveParams('threshold', {}), image: sample.image };
    const dir = join(root, 'queued');
    mkdirSync(dir);
    writeFileSync(join(dir, 'job.json'), JSON.stringify(initialRecord(spec, dir, 'slurm')));
    const r = await cli(['train', ...img(), '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('running'); // the array and merge steps finish a Slurm job
    expect(existsSync(join(dir, 'model'))).toBe(true);

    const hostile = join(root, 'queued-hostile');
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'untouched\n');
    mkdirSync(hostile);
    writeFileSync(join(hostile, 'job.json'), JSON.stringify({ ...initialRecord(spec, hostile, 'slurm'), outputs: { log: victim } }));
    const h = await cli(['train', ...img(), '--out', hostile]);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/outputs\.log .* outside the job folder/);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
  });
});

describe('segment --out MASK', () => {
  const seg = (out: string, ...more: string[]) => cli(['segment', '--job', job, '--image', sample.image, '--out', out, ...more]);

  it('never names an input: image, labels, truth (also by symlink or hard link), the model\'s files', async () => {
    const before = readFileSync(sample.image);
    const link = join(root, 'truth-link.tif'), hard = join(root, 'truth-hard.tif');
    symlinkSync(sample.truth, link);
    linkSync(sample.truth, hard);
    const modelFile = join(job, 'model', readdirSync(join(job, 'model'))[0]);
    for (const [out, what] of [[sample.image, /the image/], [sample.labels, /the labels/], [link, /the truth/], [hard, /the truth/], [modelFile, /model/], [join(job, 'job.json'), /job\.json/]] as const) {
      const r = await seg(out, '--truth', sample.truth, '--force');
      expect(r.code, out).toBe(1);
      expect(r.stderr).toMatch(what);
      expect(r.stderr).toMatch(/never overwritten/);
    }
    expect(Buffer.compare(readFileSync(sample.image), before)).toBe(0);
    expect(readFileSync(sample.truth).length).toBeGreaterThan(0);
    expect(jobJson(job).status).toBe('succeeded');
  });

  it('replaces an existing file only with --force', async () => {
    const out = join(root, 'seg', 'mask.tif');
    mkdirSync(dirname(out));
    writeFileSync(out, 'an older file');
    const r = await seg(out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists — pass --force/);
    expect(readFileSync(out, 'utf8')).toBe('an older file');
    const f = await seg(out, '--force');
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 2).toString()).toBe('II');
    expect(temps(dirname(out))).toEqual([]);
  });

  it('a special file (a FIFO) is not replaced, even with --force', async () => {
    const fifo = join(root, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await seg(fifo, '--force');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a regular file/);
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(temps(root)).toEqual([]);
  });

  it('an existing folder gets a clear message (not EISDIR) and no temp file is left', async () => {
    const out = join(root, 'a-folder');
    mkdirSync(out);
    for (const more of [[], ['--force']]) {
      const r = await seg(out, ...more);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is a folder: --out names the mask file/);
      expect(r.stderr).not.toMatch(/EISDIR/);
    }
    expect(temps(root)).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('sample --out', () => {
  it('does not replace a user\'s files of the same names without --force', async () => {
    const dir = join(root, 'has-sample');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sample.tif'), 'my own sample');
    const r = await cli(['sample', '--out', dir, '--size', '32x32x2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sample\.tif already exists here — choose another --out folder, or pass --force/);
    expect(readFileSync(join(dir, 'sample.tif'), 'utf8')).toBe('my own sample');
    expect(readdirSync(dir)).toEqual(['sample.tif']);
    const f = await cli(['sample', '--out', dir, '--size', '32x32x2', '--force']);
    expect(f.code, f.stderr).toBe(0);
  });
});

describe('job folder lock', () => {
  it('a folder locked by a live process is refused; the lock is left alone', async () => {
    const dir = join(root, 'locked');
    mkdirSync(dir);
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString(), nonce: 'test' });
    writeFileSync(join(dir, '.lock'), lock);
    const r = await cli(['run', ...img(), '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`another StackSeg job \\(pid ${process.pid} on`));
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(lock);
    expect(readdirSync(dir)).toEqual(['.lock']);
  });

  it('a stale lock of a dead pid is taken over by exactly one of three jobs, and released at the end', async () => {
    const dir = join(root, 'stale');
    mkdirSync(dir);
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: deadPid(), host: hostname(), started: '2020-01-01T00:00:00Z', nonce: 'old' }));
    const rs = await Promise.all([1, 2, 3].map(() => cli(['run', ...img(), '--out', dir])));
    expect(rs.map((r) => r.code).sort(), rs.map((r) => r.stderr).join('')).toEqual([0, 1, 1]);
    for (const r of rs.filter((x) => x.code === 1)) expect(r.stderr).toMatch(/another StackSeg job .* is writing into this folder|a job already exists/);
    expect(readdirSync(dir).filter((f) => f.startsWith('.lock'))).toEqual([]);
  });

  it('three `run --out` at once into one folder: exactly one wins', async () => {
    const dir = join(root, 'race-run');
    const rs = await Promise.all([1, 2, 3].map(() => cli(['run', ...img(), '--out', dir])));
    expect(rs.map((r) => r.code).sort()).toEqual([0, 1, 1]);
    for (const r of rs.filter((x) => x.code === 1)) expect(r.stderr).toMatch(/another StackSeg job .* is writing into this folder|a job already exists/);
    expect(jobJson(dir).status).toBe('succeeded');
    expect(rs.find((r) => r.code === 0)!.json.id).toBe(jobJson(dir).id);
  });

  it('three `segment --dir` at once into one folder: exactly one wins', async () => {
    const dir = join(root, 'race-seg');
    const rs = await Promise.all([1, 2, 3].map(() => cli(['segment', '--job', job, '--image', sample.image, '--dir', dir])));
    expect(rs.map((r) => r.code).sort()).toEqual([0, 1, 1]);
    for (const r of rs.filter((x) => x.code === 1)) expect(r.stderr).toMatch(/another StackSeg job .* is writing into this folder|a job already exists/);
    expect(existsSync(join(dir, 'mask.tif'))).toBe(true);
  });
});

describe('job.json is checked before use', () => {
  it('eval --job refuses a mask or log outside the job folder and touches neither', async () => {
    const copy = join(root, 'edited');
    execFileSync('cp', ['-r', job, copy]);
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    const victim = join(elsewhere, 'notes.txt');
    writeFileSync(victim, 'mine\n');
    copyFileSync(join(job, 'mask.tif'), join(elsewhere, 'x.tif'));

    edit(copy, (r) => { r.outputs.mask = '../elsewhere/x.tif'; });
    let r = await cli(['eval', '--job', copy, '--truth', sample.truth]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outputs\.mask .* is outside the job folder/);

    edit(copy, (r) => { r.outputs.mask = join(copy, 'mask.tif'); r.outputs.log = victim; });
    r = await cli(['eval', '--job', copy, '--truth', sample.truth]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outputs\.log .* is outside the job folder/);
    expect(readFileSync(victim, 'utf8')).toBe('mine\n');

    // A symlink inside the folder that leads out of it is refused too.
    symlinkSync(join(elsewhere, 'x.tif'), join(copy, 'link.tif'));
    edit(copy, (r) => { r.outputs.mask = join(copy, 'link.tif'); r.outputs.log = join(copy, 'log.txt'); });
    r = await cli(['eval', '--job', copy, '--truth', sample.truth]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outputs\.mask .* leads outside the job folder/);
  });

  it('a moved job folder still works: its outputs follow it', async () => {
    const moved = join(root, 'moved');
    execFileSync('cp', ['-r', job, moved]);
    const before = readFileSync(join(job, 'log.txt'), 'utf8');
    const r = await cli(['eval', '--job', moved, '--truth', sample.truth]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(job, 'log.txt'), 'utf8')).toBe(before);
    expect(readFileSync(join(moved, 'log.txt'), 'utf8')).toMatch(/evaluation against/);
  });

  it('segment --job refuses a model outside the job folder', async () => {
    const other = join(root, 'other');
    expect((await cli(['run', ...img(), '--out', other])).code).toBe(0);
    const copy = join(root, 'edited-model');
    execFileSync('cp', ['-r', job, copy]);
    edit(copy, (r) => { r.outputs.model = join(other, 'model'); });
    const r = await cli(['segment', '--job', copy, '--image', sample.image, '--out', join(root, 'm-outside.tif')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outputs\.model .* is outside the job folder/);
    expect(existsSync(join(root, 'm-outside.tif'))).toBe(false);
  });
});

describe('a killed job', () => {
  it('after SIGKILL, `status` reports failed, naming the pid, and removes the temp files and the lock', async () => {
    const big = join(root, 'big');
    const s = await cli(['sample', '--out', big, '--size', '96x96x24']);
    expect(s.code, s.stderr).toBe(0);
    const dir = join(root, 'killed');
    let pid = 0;
    let tmpSeen: string[] = [];
    const r = await cli(['run', '--image', s.json.image, '--labels', s.json.labels, '--model', 'rf', '--set', 'trees=3', '--out', dir, '--progress', 'json'], {
      onPid: (p) => { pid = p; },
      onStderrLine: (line, kill) => {
        if (!line.includes('"phase":"segment"') || tmpSeen.length) return;
        tmpSeen = temps(dir);
        kill('SIGKILL');
      },
    });
    expect(r.code).not.toBe(0);
    expect(tmpSeen.length).toBeGreaterThan(0); // the mask was being written under its temp name
    expect(jobJson(dir).status).toBe('running');
    expect(jobJson(dir).pid).toBe(pid);
    const st = await cli(['status', '--job', dir]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.json.status).toBe('failed');
    expect(st.json.error).toBe(`process ${pid} ended without finishing`);
    expect(jobJson(dir).status).toBe('failed');
    expect(temps(dir)).toEqual([]);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(existsSync(join(dir, 'mask.tif'))).toBe(false);
  });
});

// Real file systems for a full disk and a read-only folder: a small tmpfs (root only).
const mounts: string[] = [];
function mountTmpfs(size: string): string | undefined {
  const dir = tempDir('stackseg-mnt-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounts.push(dir);
    return dir;
  } catch {
    return undefined;
  }
}
const probe = mountTmpfs('64k');
const canMount = !!probe;
if (!canMount) console.warn('skipped: full-disk and read-only cases need `mount -t tmpfs` (root); the message mapping is covered where it can run');
afterAll(() => {
  for (const m of mounts.reverse()) { try { execFileSync('umount', [m], { stdio: 'pipe' }); rmSync(m, { recursive: true, force: true }); } catch { /* busy */ } }
});

describe.skipIf(!canMount)('a full disk (real tmpfs)', () => {
  it('names the file and the free space, marks the job failed and leaves no temp files', async () => {
    const big = join(root, 'big-full');
    const s = await cli(['sample', '--out', big, '--size', '128x128x4']);
    expect(s.code, s.stderr).toBe(0);
    // Small enough that the model, job.json or the mask does not fit (each size fails at another file).
    for (const size of ['40k', '60k', '100k']) {
      const disk = mountTmpfs(size)!;
      const dir = join(disk, 'job');
      const r = await cli(['run', '--image', s.json.image, '--labels', s.json.labels, '--model', 'rf', '--set', 'seed=1', '--out', dir]);
      expect(r.code, size).toBe(1);
      expect(r.stderr, size).toMatch(new RegExp(`${dir}/[a-z.]+: the disk is full while writing this file \\(ENOSPC; [0-9.]+ (bytes|KB) free\\)`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      const record = jobJson(dir);
      expect(record.status, size).toBe('failed');
      expect(record.error).toMatch(/disk is full/);
      expect(temps(dir), size).toEqual([]);
      expect(existsSync(join(dir, '.lock'))).toBe(false);
    }
  });
});

describe.skipIf(!canMount)('a read-only data folder (real tmpfs remounted read-only)', () => {
  it('says the folder is not writable and to use --out (not ENOENT)', async () => {
    const ro = mountTmpfs('1m')!;
    copyFileSync(sample.image, join(ro, 'sample.tif'));
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    const r = await cli(['run', '--image', join(ro, 'sample.tif'), '--model', 'threshold']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not writable \(EROFS\) — the data folder is read-only: use --out/);
    expect(r.stderr).not.toMatch(/ENOENT/);
    const ok = await cli(['run', '--image', join(ro, 'sample.tif'), '--model', 'threshold', '--out', join(root, 'from-ro')]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
