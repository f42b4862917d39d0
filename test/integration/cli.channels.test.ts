// A job on a 2-channel, 2-time-point ImageJ hyperstack: refused without --set channel=N (never mixed, never a
// silent channel 0); with it, rf trains and segments that channel at time point 0 (said in the log), and
// `segment --job` reuses the trained channel.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStack } from '../../src/core/tiff';
import { cli, tempDir } from './helpers';

const PYTHON = '/usr/bin/python3';
let hasTifffile = true;
try { execFileSync(PYTHON, ['-c', 'import tifffile, numpy'], { stdio: 'pipe' }); } catch { hasTifffile = false; }

const dir = tempDir('stackseg-ch-');
const image = join(dir, 'hs.tif');
const labels = join(dir, 'hs.labels.tif');
const truth = join(dir, 'hs.truth.tif');

beforeAll(() => {
  if (!hasTifffile) return;
  // Channel 1 shows a bright disk (the truth); channel 0 is noise. T, Z, C, Y, X = 2, 4, 2, 48, 48.
  execFileSync(PYTHON, ['-c', `
import numpy as np, tifffile
rng = np.random.default_rng(3)
yy, xx = np.mgrid[:48, :48]
disk = ((yy - 24) ** 2 + (xx - 20) ** 2 < 12 ** 2).astype(np.uint8)
truth = np.stack([disk] * 4)
img = np.zeros((2, 4, 2, 48, 48), np.uint16)
img[:, :, 0] = rng.integers(0, 4000, size=(2, 4, 48, 48))
img[:, :, 1] = 1000 + 2000 * truth[None] + rng.integers(0, 300, size=(2, 4, 48, 48))
tifffile.imwrite(${JSON.stringify(image)}, img, imagej=True, metadata={'axes': 'TZCYX'})
lab = np.zeros((4, 48, 48), np.uint8)
lab[0, 20:28, 16:24] = 2
lab[0, 2:6, 2:40] = 1
tifffile.imwrite(${JSON.stringify(labels)}, lab, photometric='minisblack')
tifffile.imwrite(${JSON.stringify(truth)}, truth, photometric='minisblack')
`]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasTifffile)('jobs on a multi-channel hyperstack', () => {
  it('info reports the channels, time points and axes', async () => {
    const r = await cli(['info', image]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ depth: 4, channels: 2, frames: 2, axes: 'TZCYX' });
  });

  it('refuses a job without --set channel=N, with one line naming the file and the fix', async () => {
    const r = await cli(['run', '--image', image, '--labels', labels, '--model', 'rf', '--set', 'trees=5']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(image);
    expect(r.stderr).toMatch(/2 channels.*--set channel=N \(0 to 1\)/);
  });

  it('refuses a channel that does not exist', async () => {
    const r = await cli(['run', '--image', image, '--labels', labels, '--model', 'rf', '--set', 'channel=2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/channel=2: the image has 2 channels/);
  });

  it('trains and segments the chosen channel at time point 0; segment --job reuses the channel', async () => {
    const r = await cli(['run', '--image', image, '--labels', labels, '--model', 'rf', '--set', 'trees=10', '--set', 'channel=1',
      '--truth', truth, '--class', '2=1', '--class', '1=0']);
    expect(r.code, r.stderr).toBe(0);
    const job = r.json.job as string;
    const log = readFileSync(join(job, 'log.txt'), 'utf8');
    expect(log).toContain('image: channel 1 of 2');
    expect(log).toMatch(/image: time point 0 of 2 \(the default; --set timepoint=N picks another\)/);
    const record = JSON.parse(readFileSync(join(job, 'job.json'), 'utf8'));
    expect(record.spec).toMatchObject({ channel: 1 });
    expect(record.spec.params.channel).toBeUndefined();
    expect(r.json.summary.classF1['1']).toBeGreaterThan(0.9);
    const mask = await readStack(join(job, 'mask.tif'));
    expect(mask.info).toMatchObject({ width: 48, height: 48, depth: 4, channels: 1 });

    const again = join(dir, 'again.tif');
    const s = await cli(['segment', '--job', job, '--image', image, '--out', again]);
    expect(s.code, s.stderr).toBe(0);
    expect(Buffer.from((await readStack(again)).data as Uint8Array).equals(Buffer.from(mask.data as Uint8Array))).toBe(true);
    const t1 = await cli(['segment', '--job', job, '--image', image, '--set', 'timepoint=1', '--out', join(dir, 't1.tif')]);
    expect(t1.code, t1.stderr).toBe(0);
  });
});
