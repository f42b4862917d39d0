// Zarr v2 chunks read without zarrita (src/core/io/zarrDirect.ts): python3-zarr writes the arrays StackSeg meets —
// Blosc (default), gzip, zlib, no compressor, '/' chunk keys, partial edge chunks, chunks never written (fill
// value), several dtypes — and every slice must equal what zarr reads, served by the direct path where it applies
// and by zarrita where it does not (filters, Fortran order, int64).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/core/io';
import type { ZarrStack } from '../../src/core/io/zarr';
import { CachedLevels } from '../../src/core/levels/levels';
import { downsampleMean } from '../../src/shared/pyramid';

const PYTHON = '/usr/bin/python3';
const MAKE = `
import json, os, sys, numpy as np, zarr
from numcodecs import GZip, Zlib, Blosc, Delta
out = sys.argv[1]
rng = np.random.default_rng(5)
cases = []
def vol(shape, dtype):
    z, y, x = np.indices(shape)
    return ((z * 97 + y * 13 + x * 7) % 1000 + rng.integers(0, 50, shape)).astype(dtype)
def add(name, data, direct, **kw):
    path = os.path.join(out, name + '.zarr')
    a = zarr.open(path, mode='w', shape=data.shape, dtype=data.dtype, **kw)
    a[:] = data
    ref = zarr.open(path, 'r')[:]
    ref.astype(ref.dtype.newbyteorder('<')).tofile(os.path.join(out, name + '.raw'))
    cases.append({'name': name, 'shape': list(ref.shape), 'dtype': str(ref.dtype), 'direct': direct})
add('blosc_slices', vol((6, 40, 50), np.uint16), True, chunks=(1, 40, 50))
add('blosc_edges', vol((7, 33, 29), np.float32), True, chunks=(3, 16, 8))
add('blosc_noshuffle_u8', vol((5, 20, 20), np.uint8), True, chunks=(2, 7, 20), compressor=Blosc(cname='lz4', shuffle=Blosc.NOSHUFFLE))
add('blosc_zstd', vol((4, 20, 20), np.uint16), True, chunks=(2, 20, 20), compressor=Blosc(cname='zstd'))
add('gzip', vol((5, 21, 22), np.int16), True, chunks=(2, 10, 22), compressor=GZip(level=4))
add('zlib_slash', vol((4, 12, 12), np.int32), True, chunks=(1, 12, 6), compressor=Zlib(level=3), dimension_separator='/')
add('raw', vol((3, 9, 9), np.float64), True, chunks=(2, 9, 9), compressor=None)
add('filters', vol((3, 9, 9), np.uint16), False, chunks=(1, 9, 9), filters=[Delta(dtype='<u2')])
add('int64', vol((3, 9, 9), np.int64), False, chunks=(1, 9, 9))
p = os.path.join(out, 'unwritten.zarr')
a = zarr.open(p, mode='w', shape=(6, 16, 16), chunks=(2, 8, 8), dtype='<u2', fill_value=7)
a[0:2, 0:8] = vol((2, 8, 16), np.uint16)
zarr.open(p, 'r')[:].tofile(os.path.join(out, 'unwritten.raw'))
cases.append({'name': 'unwritten', 'shape': [6, 16, 16], 'dtype': 'uint16', 'direct': True})
# OME-Zarr whose level 1 keeps z and halves y, x (values marked +1000 so a test sees it was read, not computed)
# and whose level 2 halves z too (cannot serve a slice level).
g = zarr.open_group(os.path.join(out, 'levels.ome.zarr'), mode='w')
l0 = vol((6, 20, 30), np.uint16)
g.create_dataset('0', data=l0, chunks=(1, 20, 30))
g.create_dataset('1', data=l0[:, ::2, ::2] + 1000, chunks=(2, 10, 15))
g.create_dataset('2', data=l0[::2, ::4, ::4], chunks=(3, 5, 8))
g.attrs['multiscales'] = [{'version': '0.4', 'axes': [{'name': n, 'type': 'space'} for n in 'zyx'], 'datasets': [{'path': p} for p in '012']}]
(l0[:, ::2, ::2] + 1000).astype('<u2').tofile(os.path.join(out, 'levels_1.raw'))
json.dump(cases, open(os.path.join(out, 'cases.json'), 'w'))
`;

interface Case { name: string; shape: number[]; dtype: string; direct: boolean }

function make(): { dir: string; cases: Case[] } | string {
  try {
    execFileSync(PYTHON, ['-c', 'import zarr, numpy'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} with zarr is not available (apt-get install python3-zarr)`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-zd-'));
  execFileSync(PYTHON, ['-c', MAKE, dir], { stdio: 'pipe' });
  return { dir, cases: JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) };
}

const made = make();
const skip = typeof made === 'string' ? made : undefined;
if (skip) console.warn(`skipping Zarr direct-read comparisons: ${skip}`);
const fx = typeof made === 'string' ? { dir: '', cases: [] as Case[] } : made;
afterAll(() => { if (fx.dir) rmSync(fx.dir, { recursive: true, force: true }); });

const VIEW: Record<string, new (b: ArrayBuffer) => ArrayLike<number>> = {
  uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array, int64: BigInt64Array as never,
};

describe.skipIf(!!skip)('Zarr chunks read directly equal python3-zarr', () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const src = await openSource(join(fx.dir, `${c.name}.zarr`), { cacheBytes: 0 }) as ZarrStack;
    try {
      const [d, h, w] = c.shape;
      const b = readFileSync(join(fx.dir, `${c.name}.raw`));
      const raw = new VIEW[c.dtype](b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      const want = c.dtype === 'int64' ? Array.from(raw as unknown as bigint[], Number) : Array.from(raw);
      // Backwards, then forwards (in order, the next chunk row's files are read ahead).
      for (const z of [...Array(d).keys()].reverse().concat([...Array(d).keys()])) {
        expect(Array.from(await src.readSlice(z)), `${c.name} slice ${z}`).toEqual(want.slice(z * h * w, (z + 1) * h * w));
      }
      if (c.direct) expect(src.reads.zarrita).toBe(0);
      else expect(src.reads.direct).toBe(0);
    } finally {
      await src.close();
    }
  });
});

describe.skipIf(!!skip)('OME-Zarr levels serve the viewer', () => {
  it('reads a stored level that keeps z; computes the others', async () => {
    const src = await openSource(join(fx.dir, 'levels.ome.zarr'), { cacheBytes: 0 });
    const levels = new CachedLevels(src);
    try {
      const b = readFileSync(join(fx.dir, 'levels_1.raw'));
      const l1 = new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      for (const z of [5, 0, 3]) {
        const got = await levels.readLevel(z, 2);
        expect([got.width, got.height]).toEqual([15, 10]);
        expect(Array.from(got.data)).toEqual(Array.from(l1.subarray(z * 150, (z + 1) * 150)));
      }
      // Level 2 of the file halves z: factor 4 is computed from full slices.
      const four = await levels.readLevel(1, 4);
      expect(Array.from(four.data)).toEqual(Array.from(downsampleMean(await src.readSlice(1), 30, 20, 'uint16', 4).data));
    } finally {
      await levels.close();
      await src.close();
    }
  });
});
