// Folder stacks, HDF5 and Zarr (issue 14): each fixture (written by test/fixtures/make_io_formats.py with tifffile,
// h5py and zarr) reads value for value as the Python reader of the same file reads it; bad input is refused with
// one message naming the file; and a CLI job runs end to end on each format, its sidecars beside the data.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource, sourceStem } from '../../src/core/io';
import { FolderStack } from '../../src/core/io/folder';
import { openStack } from '../../src/core/tiff';
import type { DType, PixelArray } from '../../src/shared/types';
import { cli } from './helpers';

const PYTHON = '/usr/bin/python3';
const GENERATOR = resolve(__dirname, '../fixtures/make_io_formats.py');

interface Case { name: string; spec: string; format: string; dtype: DType; shape: number[]; ref: string }
interface Manifest { cases: Case[]; refused: { spec: string; match: string }[]; badsize: { spec: string; file: string } }

function generate(): { dir: string; m: Manifest } | string {
  try {
    execFileSync(PYTHON, ['-c', 'import h5py, zarr, tifffile, numpy'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} with h5py, zarr, tifffile and numpy is not available (apt-get install python3-h5py python3-zarr python3-tifffile)`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-io-'));
  execFileSync(PYTHON, [GENERATOR, dir], { stdio: 'pipe' });
  return { dir, m: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

const generated = generate();
const skip = typeof generated === 'string' ? generated : undefined;
if (skip) console.warn(`skipping data-format comparisons: ${skip}`);
const fx = typeof generated === 'string' ? { dir: '', m: { cases: [], refused: [], badsize: { spec: '', file: '' } } as Manifest } : generated;
afterAll(() => { if (fx.dir) rmSync(fx.dir, { recursive: true, force: true }); });

const CTOR: Record<DType, new (b: ArrayBuffer) => PixelArray> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
} as never;

function reference(c: Case): PixelArray {
  const b = readFileSync(c.ref);
  return new CTOR[c.dtype](b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe.skipIf(!!skip)('every format reads as its Python reader reads it', () => {
  it('wrote the expected variety', () => {
    expect(fx.m.cases.map((c) => c.format).sort()).toEqual(expect.arrayContaining(['folder', 'hdf5', 'zarr']));
    expect(fx.m.cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(fx.m.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const src = await openSource(c.spec, { cacheBytes: 0 });
    try {
      const [d, h, w] = c.shape;
      expect({ width: src.info.width, height: src.info.height, depth: src.info.depth, dtype: src.info.dtype, format: src.info.format })
        .toEqual({ width: w, height: h, depth: d, dtype: c.dtype, format: c.format });
      const ref = reference(c);
      // Backwards, so chunks that span slices are met from their far end too.
      for (let z = d - 1; z >= 0; z--) {
        const got = await src.readSlice(z);
        expect(got.constructor).toBe(ref.constructor);
        const want = ref.subarray(z * w * h, (z + 1) * w * h);
        let bad = -1;
        for (let i = 0; i < want.length; i++) if (!(got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) { bad = i; break; }
        expect(bad, `${c.name} slice ${z} first difference at ${bad}: ${got[bad]} vs ${want[bad]}`).toBe(-1);
      }
    } finally {
      await src.close();
    }
  });

  it.each(fx.m.refused.map((r) => [r.spec.slice(fx.dir.length + 1), r] as const))('refuses %s with one clear message', async (_n, r) => {
    await expect(openSource(r.spec)).rejects.toThrow(new RegExp(r.match.replace(/[×]/g, '.')));
  });

  it('a folder opens lazily and names the first file that differs when it is read', async () => {
    const src = await openSource(fx.m.badsize.spec) as FolderStack;
    expect(src.info.depth).toBe(6);
    await src.readSlice(2);
    await expect(src.readSlice(3)).rejects.toThrow(/s_003\.tif: is 15×16 uint16 but the first file, s_000\.tif, is 16×16 uint16/);
    await expect(src.checkAll()).rejects.toThrow(/s_003\.tif/);
    await src.close();
  });

  it('lists an HDF5 file\'s 3D datasets with shape and dtype when none is the default', async () => {
    const err = await openSource(join(fx.dir, 'multi.h5')).catch((e: Error) => e);
    expect(String(err)).toMatch(/multi\.h5:\/entry\/vol \(10×30×21 float32\)/);
    expect(String(err)).toMatch(/multi\.h5:\/entry\/be \(3×7×5 int16\)/);
  });
});

describe('sidecars sit beside the data', () => {
  it.each([
    ['/d/sample.tif', '/d/sample'], ['/d/a.ome.tiff', '/d/a'], ['/d/recon', '/d/recon'], ['/d/recon/', '/d/recon'],
    ['/d/recon_*.tiff', '/d/recon'], ['/d/*.tif', '/d'], ['/d/scan.h5', '/d/scan'], ['/d/scan.h5:/exchange/data', '/d/scan'],
    ['/d/scan.nxs:/entry/data/data', '/d/scan.entry_data_data'], ['/d/vol.zarr', '/d/vol'], ['/d/cells.ome.zarr', '/d/cells'],
    ['/d/grp.zarr:raw/volume', '/d/grp.raw_volume'],
  ])('%s -> %s', (spec, stem) => expect(sourceStem(spec)).toBe(stem));
});

describe.skipIf(!!skip || !existsSync(resolve(__dirname, '../../dist/cli.js')))('CLI on each format', () => {
  const specs = () => [
    ['folder', join(fx.dir, 'recon'), join(fx.dir, 'recon.stackseg')],
    ['glob', join(fx.dir, 'mixed', 'recon_*.tif'), join(fx.dir, 'mixed', 'recon.stackseg')],
    ['hdf5', `${join(fx.dir, 'scan.h5')}:/exchange/data`, join(fx.dir, 'scan.stackseg')],
    ['zarr', join(fx.dir, 'vol.zarr'), join(fx.dir, 'vol.stackseg')],
    ['ome-zarr', join(fx.dir, 'cells.ome.zarr'), join(fx.dir, 'cells.stackseg')],
  ] as const;

  it.each([0, 1, 2, 3, 4])('info and a threshold job (case %i)', async (i) => {
    const [format, spec, jobsRoot] = specs()[i];
    const info = await cli(['info', '--image', spec]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.json.format).toBe(format === 'glob' ? 'folder' : format === 'ome-zarr' ? 'zarr' : format);
    const run = await cli(['run', '--image', spec, '--model', 'threshold']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.status).toBe('succeeded');
    expect(run.json.job.startsWith(jobsRoot + '/')).toBe(true);
    const mask = await openStack(run.json.outputs.mask);
    expect([mask.info.width, mask.info.height, mask.info.depth]).toEqual([info.json.width, info.json.height, info.json.depth]);
    await mask.close();
  });

  it('refuses a folder of mixed sizes naming the file, before any output', async () => {
    const run = await cli(['run', '--image', fx.m.badsize.spec, '--model', 'threshold']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/s_003\.tif: is 15×16 uint16 but the first file/);
  });
});
