// HDF5 chunks read without h5wasm (src/core/io/h5chunks.ts): h5py writes the layouts StackSeg meets — version-1
// B-trees deep enough to have inner nodes, fixed arrays and single chunks (libver='latest'), partial edge chunks,
// chunks never written, gzip with and without shuffle, no filter — and every slice must equal what h5py reads,
// served by the direct path where it applies and by h5wasm where it does not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/core/io';
import type { Hdf5Stack } from '../../src/core/io/hdf5';

const PYTHON = '/usr/bin/python3';
const MAKE = `
import json, os, sys, numpy as np, h5py
out = sys.argv[1]
rng = np.random.default_rng(3)
cases = []
def vol(shape, dtype):
    z, y, x = np.indices(shape)
    v = (z * 97 + y * 13 + x * 7) % 1000 + rng.integers(0, 50, shape)
    return v.astype(dtype)
def add(name, data, direct, libver='earliest', read=None, **kw):
    path = os.path.join(out, name + '.h5')
    with h5py.File(path, 'w', libver=libver) as f:
        d = f.create_dataset('exchange/data', data=data, **kw) if data is not None else f.create_dataset('exchange/data', **kw)
        if read is not None: read(d)
    with h5py.File(path, 'r') as f:
        ref = f['exchange/data'][:]
    ref.astype(ref.dtype.newbyteorder('<')).tofile(os.path.join(out, name + '.raw'))
    cases.append({'name': name, 'shape': list(ref.shape), 'dtype': str(ref.dtype), 'direct': direct})
add('gzip_slices', vol((12, 40, 50), np.uint16), True, chunks=(1, 40, 50), compression='gzip')
add('gzip_shuffle_edges', vol((10, 37, 29), np.float32), True, chunks=(3, 16, 8), compression='gzip', shuffle=True)
add('deep_btree', vol((300, 8, 8), np.uint8), True, chunks=(1, 4, 4), compression='gzip', compression_opts=1)
add('shuffle_only', vol((6, 20, 20), np.int32), True, chunks=(2, 20, 7), shuffle=True)
add('plain_chunks', vol((5, 9, 11), np.int16), True, chunks=(2, 5, 5))
add('int64', vol((4, 6, 5), np.int64), True, chunks=(2, 6, 5), compression='gzip')
add('float16', vol((3, 10, 10), np.float16), True, chunks=(1, 10, 10), compression='gzip', shuffle=True)
add('latest_fixed_array', vol((8, 30, 30), np.uint16), True, libver='latest', chunks=(2, 16, 16), compression='gzip', shuffle=True)
add('latest_single_chunk', vol((4, 12, 12), np.uint16), True, libver='latest', chunks=(4, 12, 12), compression='gzip')
add('latest_extensible', vol((6, 10, 10), np.uint16), False, libver='latest', chunks=(2, 10, 10), maxshape=(None, 10, 10), compression='gzip')
def partly(d):
    d[0:2] = vol((2, 16, 16), np.uint16)
add('unwritten_chunks', None, True, read=partly, shape=(6, 16, 16), dtype=np.uint16, chunks=(2, 8, 8), compression='gzip', fillvalue=7)
add('fletcher', vol((4, 8, 8), np.uint16), False, chunks=(1, 8, 8), fletcher32=True, compression='gzip')
add('big_endian', vol((3, 8, 8), '>u2'), False, chunks=(1, 8, 8), compression='gzip')
json.dump(cases, open(os.path.join(out, 'cases.json'), 'w'))
`;

interface Case { name: string; shape: number[]; dtype: string; direct: boolean }

function make(): { dir: string; cases: Case[] } | string {
  try {
    execFileSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} with h5py is not available (apt-get install python3-h5py)`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-h5d-'));
  execFileSync(PYTHON, ['-c', MAKE, dir], { stdio: 'pipe' });
  return { dir, cases: JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) };
}

const made = make();
const skip = typeof made === 'string' ? made : undefined;
if (skip) console.warn(`skipping HDF5 direct-read comparisons: ${skip}`);
const fx = typeof made === 'string' ? { dir: '', cases: [] as Case[] } : made;
afterAll(() => { if (fx.dir) rmSync(fx.dir, { recursive: true, force: true }); });

const VIEW: Record<string, new (b: ArrayBuffer) => ArrayLike<number>> = {
  uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, '>u2': Uint16Array, int32: Int32Array, float32: Float32Array, float16: Uint16Array, int64: BigInt64Array as never,
};

function reference(c: Case): number[] {
  const b = readFileSync(join(fx.dir, `${c.name}.raw`));
  const raw = new VIEW[c.dtype](b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  if (c.dtype === 'int64') return Array.from(raw as unknown as bigint[], Number);
  if (c.dtype === 'float16') return Array.from(raw, half);
  return Array.from(raw);
}

function half(x: number): number {
  const s = x & 0x8000 ? -1 : 1, e = (x >> 10) & 0x1f, f = x & 0x3ff;
  return e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
}

describe.skipIf(!!skip)('HDF5 chunks read directly equal h5py', () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const src = await openSource(join(fx.dir, `${c.name}.h5`), { cacheBytes: 0 }) as Hdf5Stack;
    try {
      const [d, h, w] = c.shape;
      const want = reference(c);
      // Backwards, then forwards (in order, the next slab is read ahead).
      for (const z of [...Array(d).keys()].reverse().concat([...Array(d).keys()])) {
        const got = Array.from(await src.readSlice(z));
        expect(got, `${c.name} slice ${z}`).toEqual(want.slice(z * h * w, (z + 1) * h * w));
      }
      if (c.name === 'unwritten_chunks') {
        // Written chunks come directly; slabs with chunks never written take h5wasm's fill values.
        expect(src.reads.direct).toBeGreaterThan(0);
        expect(src.reads.h5wasm).toBeGreaterThan(0);
      } else if (c.direct) expect(src.reads).toEqual({ direct: src.reads.direct, h5wasm: 0 });
      else expect(src.reads.direct).toBe(0);
    } finally {
      await src.close();
    }
  });

  it('a damaged chunk is one clear error naming the file', async () => {
    const path = join(fx.dir, 'gzip_slices.h5');
    const bytes = readFileSync(path);
    // Corrupt the middle of the file (chunk data; the metadata sits at the start).
    const bad = join(fx.dir, 'damaged.h5');
    const copy = Buffer.from(bytes);
    copy.fill(0x55, Math.floor(copy.length * 0.6), Math.floor(copy.length * 0.6) + 2000);
    writeFileSync(bad, copy);
    const src = await openSource(bad, { cacheBytes: 0 });
    const errors: string[] = [];
    for (let z = 0; z < src.info.depth; z++) await src.readSlice(z).catch((e: Error) => errors.push(String(e)));
    await src.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/damaged\.h5.*cannot read slices|cannot read slices.*damaged\.h5/);
  });
});
