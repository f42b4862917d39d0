// Writer round trips (every dtype, classic and forced BigTIFF, deflate), tifffile reading our files, atomic
// temp-name writes, and the reader's byte-bounded slice cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocPixels, openStack, readStack, SliceCache, StackWriter, writeStack } from '../../src/core/tiff';
import type { DType } from '../../src/shared/types';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-tiffw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 37;
const H = 23;
const D = 5;
/** Deterministic values that use the whole range of the type (negative values for signed, fractions for float). */
function sliceOf(dtype: DType, z: number) {
  const a = allocPixels(dtype, W * H);
  for (let i = 0; i < a.length; i++) {
    const v = (i * 2654435761 + z * 97) >>> 0;
    a[i] = dtype.startsWith('float') ? (v % 100000) / 7 - 5000 : v; // integer arrays wrap the value
  }
  return a;
}
const DTYPES: DType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];
const python = (() => { try { execFileSync('/usr/bin/python3', ['-c', 'import tifffile'], { stdio: 'pipe' }); return true; } catch { return false; } })();

describe('writeStack -> readStack round trips', () => {
  const cases = DTYPES.flatMap((dtype) => [false, true].flatMap((bigTiff) => (['none', 'deflate'] as const).map((compression) => [dtype, bigTiff, compression] as const)));
  it.each(cases)('%s bigTiff=%s compression=%s', async (dtype, bigTiff, compression) => {
    const path = join(dir, `rt_${dtype}_${bigTiff}_${compression}.tif`);
    await writeStack(path, { width: W, height: H, depth: D, dtype, getSlice: (z) => sliceOf(dtype, z) }, { bigTiff, compression });
    const { info, data } = await readStack(path);
    expect(info).toMatchObject({ width: W, height: H, depth: D, dtype, bigTiff, compression: compression === 'none' ? 'none' : 'deflate' });
    for (let z = 0; z < D; z++) expect(data.subarray(z * W * H, (z + 1) * W * H)).toEqual(sliceOf(dtype, z));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('writes an ImageJ description with slices and spacing for ImageJ types', async () => {
    const path = join(dir, 'ij.tif');
    await writeStack(path, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: (z) => sliceOf('uint16', z) }, { spacing: 0.5, unit: 'µm' });
    const stack = await openStack(path);
    expect(stack.info.imagej).toEqual({ slices: D, channels: undefined, frames: undefined, spacing: 0.5, unit: 'µm' });
    await stack.close();
  });

  it.skipIf(!python)('tifffile reads what the writer wrote (classic+ImageJ, BigTIFF, deflate)', async () => {
    const files: string[] = [];
    for (const [name, opts] of [['c', {}], ['b', { bigTiff: true }], ['d', { compression: 'deflate' as const }]] as const) {
      const path = join(dir, `py_${name}.tif`);
      await writeStack(path, { width: W, height: H, depth: D, dtype: 'float32', getSlice: (z) => sliceOf('float32', z) }, opts);
      files.push(path);
    }
    let expectedSum = 0;
    for (let z = 0; z < D; z++) for (const v of sliceOf('float32', z)) expectedSum += v;
    const script = 'import sys, tifffile\nfor p in sys.argv[1:]:\n a = tifffile.imread(p)\n t = tifffile.TiffFile(p)\n print(a.shape, a.dtype, t.is_imagej, t.is_bigtiff, float(a.astype("float64").sum()))';
    const lines = execFileSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const [i, line] of lines.entries()) {
      expect(line).toContain(`(${D}, ${H}, ${W}) float32 True ${i === 1 ? "True" : "False"}`);
      expect(Number(line.split(' ').pop())).toBeCloseTo(expectedSum, 3);
    }
  });

  it('StackWriter refuses wrong slices and removes the temp file when slices are missing', async () => {
    const path = join(dir, 'partial.tif');
    const writer = await StackWriter.create(path, { width: W, height: H, depth: 3, dtype: 'uint8' });
    await expect(writer.appendSlice(new Uint16Array(W * H))).rejects.toThrow(/Uint16Array, expected Uint8Array/);
    await expect(writer.appendSlice(new Uint8Array(5))).rejects.toThrow(/5 pixels, expected 37x23/);
    await writer.appendSlice(new Uint8Array(W * H));
    await expect(writer.close()).rejects.toThrow(/only 1 of 3 slices were written/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('chooses BigTIFF by itself only when the file would pass 4 GB (checked on a sparse file)', async () => {
    const path = join(dir, 'big.tif');
    // 1100 pages of 2048x1024 uint16 = 4.6 GB; write just the first page and abort: the choice is made up front.
    const writer = await StackWriter.create(path, { width: 2048, height: 1024, depth: 1100, dtype: 'uint16' });
    expect(writer.bigTiff).toBe(true);
    await writer.abort();
    const small = await StackWriter.create(path, { width: 2048, height: 1024, depth: 1000, dtype: 'uint16' });
    expect(small.bigTiff).toBe(false);
    await small.abort();
    expect(existsSync(path)).toBe(false);
  });
});

describe('slice cache', () => {
  it('SliceCache evicts least recently used slices to stay under its byte budget', () => {
    const cache = new SliceCache(2500);
    cache.set(0, new Uint8Array(1000));
    cache.set(1, new Uint8Array(1000));
    expect(cache.get(0)).toBeDefined(); // 0 is now more recent than 1
    cache.set(2, new Uint8Array(1000));
    expect([cache.has(0), cache.has(1), cache.has(2)]).toEqual([true, false, true]);
    expect(cache.bytes).toBe(2000);
    cache.set(3, new Uint8Array(3000)); // larger than the whole budget: not cached, nothing evicted
    expect(cache.size).toBe(2);
  });

  it('TiffStack keeps at most cacheBytes of decoded slices and returns fresh arrays', async () => {
    const path = join(dir, 'cache.tif');
    await writeStack(path, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: (z) => sliceOf('uint16', z) });
    const sliceBytes = W * H * 2;
    const stack = await openStack(path, { cacheBytes: Math.floor(sliceBytes * 2.5) });
    for (let z = 0; z < D; z++) await stack.readSlice(z);
    expect(stack.cachedSlices).toBe(2);
    expect(stack.cachedBytes).toBeLessThanOrEqual(sliceBytes * 2.5);
    const a = await stack.readSlice(4); // cached
    a.fill(0);
    expect(await stack.readSlice(4)).toEqual(sliceOf('uint16', 4));
    const [x, y] = await Promise.all([stack.readSlice(0), stack.readSlice(0)]); // one decode, two fresh arrays
    expect(x).not.toBe(y);
    expect(x).toEqual(y);
    await stack.close();
    expect(statSync(path).size).toBeGreaterThan(D * sliceBytes);
  });
});
