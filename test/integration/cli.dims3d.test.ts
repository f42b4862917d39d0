// 3-D features (rf --set dims=3d) and 2.5-D MSDNet (--set contextSlices=k) through the real CLI: the model records
// what it used, spacing comes from the ImageJ description, and a z range segments like the whole stack (the z window
// reads slices beyond the range).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStack } from '../../src/core/tiff';
import { writeStack } from '../../src/core/tiff/writer';
import { cli, expectSlicesLikeJobMask, tempDir } from './helpers';

let dir: string;
let sample: { image: string; labels: string; truth: string };
let spaced: string;

beforeAll(async () => {
  dir = tempDir();
  const r = await cli(['sample', '--out', dir, '--size', '64x64x10']);
  expect(r.code, r.stderr).toBe(0);
  sample = r.json;
  const img = await readStack(sample.image);
  const n = 64 * 64;
  spaced = join(dir, 'spaced.tif');
  await writeStack(spaced, { width: 64, height: 64, depth: 10, dtype: 'float32', getSlice: (z) => (img.data as Float32Array).slice(z * n, (z + 1) * n) }, { spacing: 2.5 });
});

const modelJson = (job: string) => JSON.parse(readFileSync(join(job, 'model', 'stackseg.json'), 'utf8'));

describe('rf dims=3d', () => {
  it('trains on 3-D features with the ImageJ spacing, scores well, and a z range equals the whole stack', async () => {
    const r = await cli(['run', '--image', spaced, '--labels', sample.labels, '--model', 'rf', '--set', 'dims=3d', '--set', 'trees=8',
      '--truth', sample.truth, '--class', '2=1', '--class', '1=0']);
    expect(r.code, r.stderr).toBe(0);
    const job = r.json.job as string;
    expect(modelJson(job).params).toMatchObject({ dims: '3d', spacing: 2.5 });
    const metrics = JSON.parse(readFileSync(join(job, 'metrics.json'), 'utf8'));
    expect(metrics.training).toMatchObject({ dims: '3d', zRatio: 2.5 });
    expect(metrics.training.topFeatures.length).toBeGreaterThan(0);
    expect(r.json.summary.classF1['1']).toBeGreaterThan(0.85);
    await expectSlicesLikeJobMask(job, spaced, join(dir, 'part.tif'), 3, 6, 64 * 64);
  }, 120_000);

  it('--set spacing overrides the file; dims=auto decides by noise and says why; a bad spacing is one clear line', async () => {
    const r = await cli(['train', '--image', spaced, '--labels', sample.labels, '--model', 'rf', '--set', 'dims=3d', '--set', 'spacing=1', '--set', 'trees=4']);
    expect(r.code, r.stderr).toBe(0);
    expect(modelJson(r.json.job).params).toMatchObject({ dims: '3d', spacing: 1 });
    const auto = await cli(['train', '--image', spaced, '--labels', sample.labels, '--model', 'rf', '--set', 'trees=4']);
    expect(auto.code, auto.stderr).toBe(0);
    const training = JSON.parse(readFileSync(join(auto.json.job, 'metrics.json'), 'utf8')).training;
    expect(training.dimsReason).toMatch(/^auto: in-plane noise [\d.]+ (>=|<) 0\.2$/);
    expect(modelJson(auto.json.job).params.dims).toBe(training.dims);
    const bad = await cli(['train', '--image', spaced, '--labels', sample.labels, '--model', 'rf', '--set', 'spacing=-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/spacing/);
  }, 120_000);
});

describe('msdnet contextSlices=1 (2.5-D)', () => {
  // inputSigmas=0: the plain window (auto would add 2 smoothed planes with contextSlices > 0, msdnet.teacher.test.ts)
  it('records 3 input channels, segments, and a z range equals the whole stack', async () => {
    const r = await cli(['run', '--image', sample.image, '--labels', sample.labels, '--model', 'msdnet', '--set', 'contextSlices=1', '--set', 'inputSigmas=0',
      '--set', 'epochs=20', '--set', 'backend=native', '--set', 'tta=false', '--truth', sample.truth, '--class', '2=1', '--class', '1=0']);
    expect(r.code, r.stderr).toBe(0);
    const job = r.json.job as string;
    expect(modelJson(job).params).toMatchObject({ contextSlices: 1, inputSigmas: [0], teacherSlices: 4 });
    const net = JSON.parse(readFileSync(join(job, 'model', 'model.json'), 'utf8'));
    expect(net.modelTopology.arch.inChannels).toBe(3);
    expect(net.weightsManifest[0].weights[0]).toMatchObject({ name: 'layer0/filter', shape: [3, 3, 3, 1] });
    expect(r.json.summary.classF1['1']).toBeGreaterThan(0.6);
    await expectSlicesLikeJobMask(job, sample.image, join(dir, 'part25.tif'), 0, 2, 64 * 64);
  }, 180_000);
});
