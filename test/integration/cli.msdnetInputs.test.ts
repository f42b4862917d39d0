// MSDNet with fixed Gaussian-smoothed inputs (--set inputSigmas=1,2 inputSmoothing=3d, contextSlices=1) through the
// real CLI: model.json records the inputs, a z range segments like the whole stack, and a model whose inputs cannot
// be rebuilt is refused with one clear message.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, expectSlicesLikeJobMask, tempDir } from './helpers';

let dir: string;
let sample: { image: string; labels: string; truth: string };

beforeAll(async () => {
  dir = tempDir();
  const r = await cli(['sample', '--out', dir, '--size', '64x64x10']);
  expect(r.code, r.stderr).toBe(0);
  sample = r.json;
});

describe('msdnet inputSigmas', () => {
  it('records 5 input planes and the inputs, segments, a z range equals the whole stack, a bad record is refused', async () => {
    const r = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', 'msdnet', '--set', 'contextSlices=1',
      '--set', 'inputSigmas=1,2', '--set', 'inputSmoothing=3d', '--set', 'epochs=20', '--set', 'backend=native', '--set', 'tta=false',
      '--truth', sample.truth, '--class', '2=1', '--class', '1=0']);
    expect(r.code, r.stderr).toBe(0);
    const job = r.json.job as string;
    const header = JSON.parse(readFileSync(join(job, 'model', 'stackseg.json'), 'utf8'));
    expect(header.params).toMatchObject({ contextSlices: 1, inputSigmas: [1, 2], inputSmoothing: '3d' });
    const netPath = join(job, 'model', 'model.json');
    const net = JSON.parse(readFileSync(netPath, 'utf8'));
    expect(net.modelTopology.arch.inChannels).toBe(5);
    expect(net.modelTopology.inputs).toEqual({ contextSlices: 1, sigmas: [1, 2], smoothing: '3d' });
    expect(r.json.summary.classF1['1']).toBeGreaterThan(0.6);
    await expectSlicesLikeJobMask(job, sample.image, join(dir, 'part.tif'), 0, 2, 64 * 64);
    net.modelTopology.inputs.sigmas = [1];
    writeFileSync(netPath, JSON.stringify(net));
    const bad = await cli(['segment', '--job', job, '--image', sample.image, '--slices', '0:2', '--out', join(dir, 'bad.tif')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/5 input planes cannot be rebuilt/);
  }, 180_000);
});
