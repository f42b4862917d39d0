// A Slurm chunk task (`stackseg chunk`, run here directly; sbatch is a fake that submits nothing) runs the channel
// count check that `segment` runs: a stack that lost its second channel after a `channel=all` job was submitted is
// refused with one message naming the image, before the task writes anything (job.json, partial mask, marker).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

const PYTHON = '/usr/bin/python3';
let hasTifffile = true;
try { execFileSync(PYTHON, ['-c', 'import tifffile, numpy'], { stdio: 'pipe' }); } catch { hasTifffile = false; }

const dir = tempDir('stackseg-chunkch-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under a folder with its bytes, to show that nothing changed. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else out[p] = readFileSync(p).toString('base64');
    }
  };
  walk(root);
  return out;
}

describe.skipIf(!hasTifffile)('Slurm chunk task: channel count', () => {
  it('refuses a chunk whose stack no longer has the channels the model reads, naming the file, writing nothing', async () => {
    const image = join(dir, 'two.tif'), one = join(dir, 'one.tif'), labels = join(dir, 'two.labels.tif');
    execFileSync(PYTHON, ['-c', `
import numpy as np, tifffile
rng = np.random.default_rng(1)
img = rng.integers(0, 1000, size=(4, 2, 32, 32)).astype(np.uint16)
tifffile.imwrite(${JSON.stringify(image)}, img, imagej=True, metadata={'axes': 'ZCYX'})
tifffile.imwrite(${JSON.stringify(one)}, img[:, 0], photometric='minisblack')
lab = np.zeros((4, 32, 32), np.uint8)
lab[0, ::4, ::4] = 1 + (img[0, 0, ::4, ::4] > 500)
tifffile.imwrite(${JSON.stringify(labels)}, lab, photometric='minisblack')
`]);
    const model = join(dir, 'model'), job = join(dir, 'seg');
    const trained = await cli(['train', '--image', image, '--labels', labels, '--model', 'rf', '--set', 'channel=all', '--set', 'trees=3', '--out', model]);
    expect(trained.code, trained.stderr).toBe(0);
    // A fake sbatch (prints a job id) and squeue: the job is submitted, nothing runs.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'sbatch'), '#!/bin/bash\necho 123\n');
    writeFileSync(join(bin, 'squeue'), '#!/bin/bash\nexit 0\n');
    for (const f of ['sbatch', 'squeue']) chmodSync(join(bin, f), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const submitted = await cli(['segment', '--job', model, '--image', image, '--runner', 'slurm', '--chunks', '2', '--detach', '--dir', job], { env });
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(job, 'job.json'), 'utf8')).status).toBe('queued');

    copyFileSync(one, image); // the stack changed after submission: one channel left
    const before = snapshot(job);
    const r = await cli(['chunk', '--job', job, '--chunk', '0']);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(image);
    expect(lines[0]).toMatch(/the model reads 2 channels \(0, 1\) together, but this job reads one channel of the image/);
    expect(snapshot(job)).toEqual(before);
  });
});
