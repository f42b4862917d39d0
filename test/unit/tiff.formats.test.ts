// Every TIFF variant that tifffile and libtiff's tiffcp write (codecs incl. Zstandard, predictors, tiles, BigTIFF,
// byte orders, FillOrder 2, dtypes incl. half floats, 64-bit integers, 1-bit, palette, packed 12-bit, ImageJ
// layouts) and the foam benchmark stacks decode to exactly the pixels tifffile reads (converted as StackSeg reads
// them: float16 -> float32, int64/uint64 -> float64, bool -> uint8).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStack, readStack } from '../../src/core/tiff';

const PYTHON = '/usr/bin/python3';
const GENERATOR = resolve(__dirname, '../fixtures/make_tiff_variants.py');
const FOAM = resolve(__dirname, '../../../shared/data/foam');

interface Variant { name: string; file: string; raw: string; dtype: string; shape: number[] }

function generate(): { dir: string; variants: Variant[]; skipped: string[] } | string {
  try {
    execFileSync(PYTHON, ['-c', 'import tifffile, numpy'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} with numpy + tifffile is not available`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-tiff-'));
  execFileSync(PYTHON, [GENERATOR, dir, ...(existsSync(FOAM) ? [FOAM] : [])], { stdio: 'pipe' });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return { dir, variants: manifest.variants, skipped: manifest.skipped };
}

const generated = generate();
const skipReason = typeof generated === 'string' ? generated : undefined;
if (skipReason) console.warn(`skipping tifffile comparisons: ${skipReason}`);
const variants = typeof generated === 'string' ? [] : generated.variants;
if (typeof generated !== 'string' && generated.skipped.length) console.warn('variants not generated:\n' + generated.skipped.join('\n'));
afterAll(() => { if (typeof generated !== 'string') rmSync(generated.dir, { recursive: true, force: true }); });

describe.skipIf(!!skipReason)('TIFF variants read exactly as tifffile reads them', () => {
  it('generated the expected variety', () => {
    const names = variants.map((v) => v.name);
    for (const must of ['u16_zlib_pred2', 'u16_tiles', 'u16_bigtiff', 'u16_bigendian', 'int8_plain', 'float64_zlib', 'u16_imagej_truncated',
      'f16_plain', 'int64_plain', 'uint64_zlib_pred2', 'bilevel_plain', 'palette_u8', 'u12_packed', 'u12_packed_fillorder2',
      ...(existsSync('/usr/bin/tiffcp') ? ['tc_u16_zstd', 'tc_u16_zstd_pred2', 'tc_f32_zstd_pred3', 'tc_u16_fillorder2', 'tc_bilevel_zip_fillorder2'] : [])]) {
      expect(names).toContain(must);
    }
  });

  it.each(variants.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const { info, data } = await readStack(v.file);
    const [depth, height, width] = v.shape.length === 3 ? v.shape : [1, ...v.shape];
    expect({ width: info.width, height: info.height, depth: info.depth, dtype: info.dtype }).toEqual({ width, height, depth, dtype: v.dtype });
    const expected = readFileSync(v.raw);
    const got = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    expect(got.length).toBe(expected.length);
    // Buffer.equals is exact; on mismatch report the first differing byte instead of dumping megabytes.
    if (!got.equals(expected)) {
      let i = 0;
      while (got[i] === expected[i]) i++;
      expect.fail(`first difference at byte ${i} (pixel ${Math.floor(i / info.bytesPerPixel)}): got ${got[i]}, expected ${expected[i]}`);
    }
  });

  it('reports ImageJ metadata and the one-directory ImageJ layout', async () => {
    const dir = (generated as { dir: string }).dir;
    const truncated = await openStack(join(dir, 'u16_imagej_truncated.tif'));
    expect(truncated.info.depth).toBe(6);
    await truncated.close();
    const f32 = await openStack(join(dir, 'f32_imagej.tif'));
    expect(f32.info.imagej?.spacing).toBe(2.5);
    expect(f32.info.imagej?.unit).toBe('um');
    await f32.close();
  });

  it('notes what it converts, and 64-bit integers that lose precision', async () => {
    const dir = (generated as { dir: string }).dir;
    const f16 = await openStack(join(dir, 'f16_plain.tif'));
    expect(f16.info.notes).toContain('16-bit (half) floats are read as float32');
    await f16.close();
    const u64 = await openStack(join(dir, 'uint64_bigendian.tif'));
    expect(u64.info.notes?.[0]).toMatch(/64-bit integers are read as float64/);
    await u64.readSlice(0); // random values over the full uint64 range: far beyond 2^53
    expect(u64.info.notes?.some((n) => /beyond ±2\^53/.test(n))).toBe(true);
    await u64.close();
  });

  it.skipIf(!existsSync(FOAM))('reads the foam stacks with the metadata the README gives', async () => {
    const hq = await openStack(join(FOAM, 'hq.tif'));
    expect(hq.info).toMatchObject({ width: 256, height: 256, depth: 32, dtype: 'float32', compression: 'deflate' });
    await hq.close();
    const labels = await readStack(join(FOAM, 'sparse_labels_slice0.tif'));
    let bg = 0;
    let fg = 0;
    for (const v of labels.data) { if (v === 1) bg++; else if (v === 2) fg++; }
    expect([bg, fg]).toEqual([9324, 761]);
  });
});
