// Channels and time points are never mixed into the slices: ImageJ hyperstacks, OME-TIFF, RGB / multi-sample
// (contiguous and planar) and tifffile's shaped files open as Z slices of C channels at T time points, each plane
// exactly as tifffile reads it. Files whose axes cannot be determined are refused with one message.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackSegError } from '../../src/shared/errors';
import { openStack } from '../../src/core/tiff';

const PYTHON = '/usr/bin/python3';
const GENERATOR = resolve(__dirname, '../fixtures/make_tiff_channels.py');

interface Variant { name: string; file: string; raw: string; dtype: string; frames: number; channels: number; depth: number; width: number; height: number; expect?: string }

function generate(): { dir: string; variants: Variant[]; errors: Array<{ name: string; file: string }> } | string {
  try {
    execFileSync(PYTHON, ['-c', 'import tifffile, numpy'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} with numpy + tifffile is not available`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-tiffch-'));
  execFileSync(PYTHON, [GENERATOR, dir], { stdio: 'pipe' });
  return { dir, ...JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

const generated = generate();
const skipReason = typeof generated === 'string' ? generated : undefined;
if (skipReason) console.warn(`skipping tifffile channel comparisons: ${skipReason}`);
const variants = typeof generated === 'string' ? [] : generated.variants;
const refusals = typeof generated === 'string' ? [] : generated.errors;
afterAll(() => { if (typeof generated !== 'string') rmSync(generated.dir, { recursive: true, force: true }); });

describe.skipIf(!!skipReason)('multi-channel TIFF: every (z, c, t) plane as tifffile reads it', () => {
  it('generated the expected variety', () => {
    expect(variants.map((v) => v.name)).toEqual(expect.arrayContaining(['ij_czyx', 'ij_tzcyx', 'ome_tzcyx', 'rgb_contig', 'rgb_planar', 'samples5_contig']));
  });

  it.each(variants.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const stack = await openStack(v.file);
    try {
      const { info } = stack;
      expect({ width: info.width, height: info.height, depth: info.depth, channels: info.channels, frames: info.frames, dtype: info.dtype })
        .toEqual({ width: v.width, height: v.height, depth: v.depth, channels: v.channels, frames: v.frames, dtype: v.dtype });
      if (v.expect === 'framesAsSlices') expect(info.notes?.join('\n')).toMatch(/frames are the stack's slices/);
      const expected = readFileSync(v.raw);
      const plane = v.width * v.height * info.bytesPerPixel;
      // Channels read in an order other than the file's, so the cache and read-ahead paths are exercised too.
      for (let c = v.channels - 1; c >= 0; c--) for (let t = 0; t < v.frames; t++) for (let z = 0; z < v.depth; z++) {
        const got = await (z % 2 ? stack.readSliceShared(z, c, t) : stack.readSlice(z, c, t));
        const at = ((t * v.channels + c) * v.depth + z) * plane;
        const want = expected.subarray(at, at + plane);
        if (!Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(want)) expect.fail(`plane z=${z} c=${c} t=${t} differs from tifffile's`);
      }
    } finally {
      await stack.close();
    }
  });

  it('readSlice(z) alone is channel 0 at time point 0, and out-of-range channels and time points are refused', async () => {
    const v = variants.find((x) => x.name === 'ij_tzcyx')!;
    const stack = await openStack(v.file);
    expect(stack.info.axes).toBe('TZCYX');
    expect(Array.from(await stack.readSlice(1))).toEqual(Array.from(await stack.readSlice(1, 0, 0)));
    await expect(stack.readSlice(0, 2, 0)).rejects.toThrow(/channel 2 is out of range \(the stack has 2 channels\)/);
    await expect(stack.readSlice(0, 0, 3)).rejects.toThrow(/time point 3 is out of range \(the stack has 3 time points\)/);
    await expect(stack.readSlice(4)).rejects.toThrow(/slice 4 is out of range \(the stack has 4 slices\)/);
    await stack.close();
  });

  it.each(refusals.map((r) => [r.name, r] as const))('refuses %s: the axes cannot be determined', async (_name, r) => {
    const err = await openStack(r.file).then(async (s) => { await s.close(); return undefined; }, (e: unknown) => e);
    expect(err).toBeInstanceOf(StackSegError);
    expect((err as StackSegError).message).toMatch(/cannot tell which pages are slices and which are channels or time points/);
    expect((err as StackSegError).message).toContain(r.file);
    expect((err as StackSegError).hint).toMatch(/ImageJ hyperstack/);
  });
});
