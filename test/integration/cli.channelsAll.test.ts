// `--set channel=all` on a real 2-channel ImageJ hyperstack (written by python3-tifffile): the classes are the XOR
// of a block pattern in channel 0 and another in channel 1, so neither channel alone separates them and both
// together do. rf, k-means and MSDNet read both channels; threshold refuses; a model of another channel count refuses
// to segment, with one line naming the file.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

const PYTHON = '/usr/bin/python3';
let hasTifffile = true;
try { execFileSync(PYTHON, ['-c', 'import tifffile, numpy'], { stdio: 'pipe' }); } catch { hasTifffile = false; }

const dir = tempDir('stackseg-chall-');
const image = join(dir, 'xor.tif');
const labels = join(dir, 'xor.labels.tif');
const truth = join(dir, 'xor.truth.tif');

beforeAll(() => {
  if (!hasTifffile) return;
  // Z, C, Y, X = 6, 2, 64, 64; 8x8 blocks on/off at random in each channel; truth 1 + (b0 xor b1).
  execFileSync(PYTHON, ['-c', `
import numpy as np, tifffile
rng = np.random.default_rng(7)
b0 = rng.integers(0, 2, size=(6, 8, 8)).repeat(8, 1).repeat(8, 2)
b1 = rng.integers(0, 2, size=(6, 8, 8)).repeat(8, 1).repeat(8, 2)
img = np.zeros((6, 2, 64, 64), np.uint16)
img[:, 0] = 500 + 2000 * b0 + rng.integers(0, 400, size=(6, 64, 64))
img[:, 1] = 100 + 300 * b1 + rng.integers(0, 60, size=(6, 64, 64))
tifffile.imwrite(${JSON.stringify(image)}, img, imagej=True, metadata={'axes': 'ZCYX'})
truth = (1 + (b0 ^ b1)).astype(np.uint8)
lab = np.zeros_like(truth)
lab[:2, ::5, ::5] = truth[:2, ::5, ::5]
tifffile.imwrite(${JSON.stringify(labels)}, lab, photometric='minisblack')
tifffile.imwrite(${JSON.stringify(truth)}, truth, photometric='minisblack')
`]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (model: string, channel: string, ...set: string[]) => cli(['run', '--image', image, '--labels', labels, '--truth', truth, '--model', model,
  '--set', `channel=${channel}`, ...set.flatMap((s) => ['--set', s]), '--out', join(dir, `${model}-${channel.replace(',', '_')}-${set.length}`)]);

describe.skipIf(!hasTifffile)('--set channel=all on a 2-channel hyperstack', () => {
  let allJob = '', oneJob = '';

  it('rf: both channels together beat either channel alone; job.json and the log say which were read', async () => {
    const f1: Record<string, number> = {};
    for (const channel of ['0', '1', 'all']) {
      const r = await run('rf', channel);
      expect(r.code, r.stderr).toBe(0);
      f1[channel] = r.json.summary.meanF1;
      if (channel === 'all') allJob = r.json.job;
      if (channel === '1') oneJob = r.json.job;
    }
    console.log(`rf mean F1 on the XOR hyperstack: channel 0 ${f1['0'].toFixed(3)}, channel 1 ${f1['1'].toFixed(3)}, all ${f1.all.toFixed(3)}`);
    expect(f1.all).toBeGreaterThan(0.9);
    expect(f1.all).toBeGreaterThan(Math.max(f1['0'], f1['1']) + 0.2);
    const record = JSON.parse(readFileSync(join(allJob, 'job.json'), 'utf8'));
    expect(record.spec.channel).toBe('all');
    expect(record.channels).toEqual([0, 1]);
    expect(JSON.parse(readFileSync(join(oneJob, 'job.json'), 'utf8')).channels).toEqual([1]);
    expect(readFileSync(join(allJob, 'log.txt'), 'utf8')).toContain('image: channels 0, 1 of 2 read together (--set channel=all)');
    const model = JSON.parse(readFileSync(join(allJob, 'model', 'stackseg.json'), 'utf8'));
    expect(model.norm.channels.map((c: { channel: number }) => c.channel)).toEqual([0, 1]);
    const metrics = JSON.parse(readFileSync(join(allJob, 'metrics.json'), 'utf8'));
    expect(metrics.training.topFeatures[0].feature).toMatch(/^c[01]_/);
    expect(metrics.training.fill).toMatch(/^skipped/); // the threshold fill looks at one intensity
  });

  it('segment --job reuses channel=all; another channel count is refused with one line naming the file', async () => {
    const again = await cli(['segment', '--job', allJob, '--image', image, '--out', join(dir, 'again.tif')]);
    expect(again.code, again.stderr).toBe(0);
    const one = await cli(['segment', '--job', allJob, '--image', image, '--set', 'channel=1', '--out', join(dir, 'one.tif')]);
    expect(one.code).toBe(1);
    expect(one.stderr.trim().split('\n')).toHaveLength(1);
    expect(one.stderr).toContain(image);
    expect(one.stderr).toMatch(/the model reads 2 channels \(0, 1\) together, but this job reads one channel.*--set channel=0,1/);
    const back = await cli(['segment', '--job', oneJob, '--image', image, '--set', 'channel=all', '--dir', join(dir, 'back')]);
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/the model reads one channel, but this job reads 2 channels \(0, 1\) together/);
  });

  it('k-means clusters both channels; threshold refuses them with one line', async () => {
    const k = await cli(['run', '--image', image, '--model', 'kmeans', '--set', 'channel=all', '--set', 'k=4', '--out', join(dir, 'km')]);
    expect(k.code, k.stderr).toBe(0);
    const km = JSON.parse(readFileSync(join(dir, 'km', 'metrics.json'), 'utf8'));
    expect(km.training.centers).toHaveLength(4);
    expect(km.training.centers[0]).toHaveLength(2);
    const t = await cli(['run', '--image', image, '--model', 'threshold', '--set', 'channel=all', '--out', join(dir, 'th')]);
    expect(t.code).toBe(1);
    expect(t.stderr.trim().split('\n')).toHaveLength(1);
    expect(t.stderr).toContain(image);
    expect(t.stderr).toMatch(/threshold works on one channel.*--set channel=N/);
  });

  it('MSDNet (native) reads both channels as inputs and beats either channel alone', async () => {
    const f1: Record<string, number> = {};
    for (const channel of ['0', '1', 'all']) {
      const r = await run('msdnet', channel, 'backend=native');
      expect(r.code, r.stderr).toBe(0);
      f1[channel] = r.json.summary.meanF1;
      if (channel === 'all') {
        const top = JSON.parse(readFileSync(join(r.json.job, 'model', 'model.json'), 'utf8')).modelTopology;
        expect(top.arch.inChannels).toBe(2);
        expect(top.normalization.channels).toHaveLength(2);
      }
    }
    console.log(`msdnet mean F1 on the XOR hyperstack: channel 0 ${f1['0'].toFixed(3)}, channel 1 ${f1['1'].toFixed(3)}, all ${f1.all.toFixed(3)}`);
    expect(f1.all).toBeGreaterThan(0.9);
    expect(f1.all).toBeGreaterThan(Math.max(f1['0'], f1['1']) + 0.2);
  }, 240_000);
});
