// Accepted bad values gave silently wrong results (issue 10 item 8): every parameter is checked by type and
// integrality, empty values and unknown keys (__proto__, constructor too) are refused, and a truth or label stack
// of another depth is refused; each with one clear message and no job folder.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeStack } from '../../src/core/tiff/writer';
import { cli, tempDir } from './helpers';

let dir: string;
let sample: { image: string; labels: string; truth: string };
let oneSlice: string;

beforeAll(async () => {
  dir = tempDir('stackseg-params-');
  const r = await cli(['sample', '--out', dir, '--size', '96x96x6']);
  expect(r.code, r.stderr).toBe(0);
  sample = r.json;
  oneSlice = join(dir, 'one-slice.tif');
  const slice = new Uint8Array(96 * 96).fill(1);
  await writeStack(oneSlice, { width: 96, height: 96, depth: 1, dtype: 'uint8', getSlice: () => slice });
});

const jobsMade = () => (existsSync(join(dir, 'sample.stackseg')) ? readdirSync(join(dir, 'sample.stackseg')) : []);

async function refused(model: string, set: string, code = 2) {
  const before = jobsMade().length;
  const r = await cli(['train', '--image', sample.image, '--labels', sample.labels, '--model', model, '--set', set]);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1); // one line, no stack trace
  expect(jobsMade()).toHaveLength(before);
  return r.stderr;
}

describe('--set values are checked by type', () => {
  it('refuses a fractional MSDNet dilation (it trained to NaN and "succeeded")', async () => {
    const err = await refused('msdnet', 'dilations=1.2');
    expect(err).toMatch(/msdnet\.dilations=1\.2: item 1 \(1\.2\) is not an integer/);
    expect(err).toMatch(/expected dilations \(integers, 1\.\.64/);
    expect(err).toMatch(/e\.g\. dilations=1,2,3,4,5,6/);
    expect(await refused('msdnet', 'dilations=1,2,0')).toMatch(/item 3 \(0\) is below 1/);
  });

  it('refuses an empty value (value= was read as 0)', async () => {
    expect(await refused('threshold', 'value=')).toMatch(/threshold\.value=: empty value — expected value \(number/);
    expect(await refused('rf', 'trees= ')).toMatch(/rf\.trees= : empty value/);
    expect(await refused('rf', 'sigmas=1,,2')).toMatch(/item 2 is empty/);
  });

  it('refuses __proto__ and constructor as unknown keys (__proto__=1 was ignored silently)', async () => {
    expect(await refused('rf', '__proto__=1')).toMatch(/unknown parameter "__proto__" for model rf — valid: trees, depth/);
    expect(await refused('rf', 'constructor=1')).toMatch(/unknown parameter "constructor" for model rf/);
    expect(await refused('kmeans', 'toString=3')).toMatch(/unknown parameter "toString" for model kmeans/);
  });

  it('refuses an unknown key, naming the valid ones and an example', async () => {
    expect(await refused('rf', 'tress=50')).toMatch(/unknown parameter "tress" for model rf — valid: trees.*; e\.g\. trees=30/);
  });

  it('refuses non-decimal and non-integer numbers', async () => {
    expect(await refused('rf', 'trees=2.5')).toMatch(/rf\.trees=2\.5: the value is not an integer/);
    expect(await refused('rf', 'trees=0x10')).toMatch(/rf\.trees=0x10: the value is not a number/);
    expect(await refused('rf', 'fillWeight=Infinity')).toMatch(/not a number/);
  });

  it('still accepts valid values', async () => {
    const r = await cli(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'threshold', '--set', 'method=fixed', '--set', 'value=0.5', '--out', join(dir, 'ok')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('succeeded');
  });
});

describe('truth and labels must have the image\'s depth', () => {
  it('refuses a one-slice truth for a 6-slice image (it scored every slice against slice 0)', async () => {
    const r = await cli(['run', '--image', sample.image, '--model', 'threshold', '--truth', oneSlice, '--out', join(dir, 'truth1')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/one-slice\.tif: the truth stack is 96×96×1 but the image is 96×96×6 \(the number of slices differ\)/);
    expect(existsSync(join(dir, 'truth1'))).toBe(false);
  });

  it('refuses one-slice labels for a 6-slice image', async () => {
    const r = await cli(['train', '--image', sample.image, '--labels', oneSlice, '--model', 'rf', '--out', join(dir, 'labels1')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the labels are 96×96×1 but the image is 96×96×6/);
  });

  it('eval refuses a truth of another depth than the prediction', async () => {
    const r = await cli(['eval', '--pred', sample.truth, '--truth', oneSlice]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/one-slice\.tif: the truth stack is 96×96×1 but the prediction .* is 96×96×6/);
  });
});
