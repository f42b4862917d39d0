// `--set maskFormat=h5|zarr` (src/core/io/maskOut.ts): a CLI job on an HDF5 / Zarr image also writes mask.h5 /
// mask.zarr in its folder, chunked as the input, recorded in job.json; h5py / python3-zarr read it back equal to
// mask.tif value for value. TIFF inputs and unknown formats are refused before any work.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobOutputPath } from '../../src/core/jobs/jobPaths';
import { openStack } from '../../src/core/tiff';
import { cli } from './helpers';

const PYTHON = '/usr/bin/python3';
const MAKE = `
import os, sys, numpy as np, h5py, zarr, tifffile
out = sys.argv[1]
z, y, x = np.indices((7, 30, 26))
vol = ((np.sin(x / 4.0) + np.cos(y / 5.0) + z / 7.0) * 1000 + 3000).astype(np.uint16)
with h5py.File(os.path.join(out, 'scan.h5'), 'w') as f:
    f.create_dataset('exchange/data', data=vol, chunks=(2, 16, 13), compression='gzip', shuffle=True)
zarr.save_array(os.path.join(out, 'vol.zarr'), vol, chunks=(3, 10, 9))
tifffile.imwrite(os.path.join(out, 'plain.tif'), vol)
`;
const READ = `
import json, sys, numpy as np, h5py, zarr
kind, path, raw = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == 'h5':
    with h5py.File(path, 'r') as f:
        d = f['mask']
        a, chunks, comp = d[:], d.chunks, d.compression
else:
    d = zarr.open(path, 'r')
    a, chunks, comp = d[:], d.chunks, d.compressor.codec_id
a.tofile(raw)
print(json.dumps({'shape': list(a.shape), 'dtype': str(a.dtype), 'chunks': list(chunks), 'compression': comp}))
`;

function make(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import h5py, zarr, tifffile, numpy'], { stdio: 'pipe' });
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-maskout-'));
  execFileSync(PYTHON, ['-c', MAKE, dir], { stdio: 'pipe' });
  return dir;
}

const dir = make();
const hasCli = existsSync(resolve(__dirname, '../../dist/cli.js'));
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.skipIf(!dir || !hasCli)('masks out in the input format', () => {
  it.each([
    ['h5', 'scan.h5', 'maskH5', [2, 16, 13]],
    ['zarr', 'vol.zarr', 'maskZarr', [3, 10, 9]],
  ] as const)('maskFormat=%s', async (format, input, key, chunks) => {
    const run = await cli(['run', '--image', join(dir!, input), '--model', 'threshold', '--set', `maskFormat=${format}`]);
    expect(run.code, run.stderr).toBe(0);
    const extra: string = run.json.outputs[key];
    expect(extra).toBe(join(run.json.job, `mask.${format}`));
    expect(readdirSync(run.json.job).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const record = JSON.parse(readFileSync(join(run.json.job, 'job.json'), 'utf8'));
    expect(record.spec.maskFormat).toBe(format);
    expect(await jobOutputPath(record, key)).toBe(extra);
    expect(readFileSync(join(run.json.job, 'log.txt'), 'utf8')).toMatch(new RegExp(`mask also as ${format}, chunks ${chunks.join('×')}`));

    const raw = join(dir!, `${format}.raw`);
    const meta = JSON.parse(execFileSync(PYTHON, ['-c', READ, format, extra, raw], { encoding: 'utf8' }));
    expect(meta).toMatchObject({ shape: [7, 30, 26], dtype: 'uint8', chunks });
    const got = new Uint8Array(readFileSync(raw));
    const mask = await openStack(run.json.outputs.mask);
    try {
      const n = 30 * 26;
      let classes = new Set<number>();
      for (let z = 0; z < 7; z++) {
        const want = await mask.readSlice(z);
        expect(Buffer.compare(Buffer.from(got.subarray(z * n, (z + 1) * n)), Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `slice ${z}`).toBe(0);
        classes = new Set([...classes, ...want]);
      }
      expect(classes.size).toBeGreaterThan(1); // a real mask, not all zeros
    } finally {
      await mask.close();
    }
  });

  it('job.json pointing maskH5 outside the job folder is refused', async () => {
    const record = { dir: join(dir!, 'somejob'), outputs: { log: 'log.txt', maskH5: '../../etc/passwd' } };
    await expect(jobOutputPath(record, 'maskH5')).rejects.toThrow(/outputs.maskH5 .* outside the job folder/);
  });

  it('refuses maskFormat for a TIFF image and an unknown format, before any job folder', async () => {
    const tif = await cli(['run', '--image', join(dir!, 'plain.tif'), '--model', 'threshold', '--set', 'maskFormat=zarr']);
    expect(tif.code).toBe(1);
    expect(tif.stderr).toMatch(/plain\.tif: --set maskFormat=zarr writes the mask in the input's format \(HDF5 or Zarr\), and this image is a TIFF/);
    expect(existsSync(join(dir!, 'plain.stackseg'))).toBe(false);
    const bad = await cli(['run', '--image', join(dir!, 'scan.h5'), '--model', 'threshold', '--set', 'maskFormat=n5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--set maskFormat=n5: not a mask format/);
  });
});

// A guard for the writer's own file: never left behind when the image cannot be read.
describe.skipIf(!dir)('writer', () => {
  it('writes nothing when the mask TIFF is missing', async () => {
    const { writeMaskAs } = await import('../../src/core/io/maskOut');
    const job = mkdtempSync(join(dir!, 'job-'));
    await expect(writeMaskAs('zarr', join(job, 'mask.tif'), join(dir!, 'vol.zarr'), job)).rejects.toThrow();
    writeFileSync(join(job, 'keep.txt'), '');
    expect(readdirSync(job)).toEqual(['keep.txt']);
  });
});
