// The preallocated mask (Slurm chunk tasks write their slices into it in place) is byte for byte the file
// StackWriter streams, classic and BigTIFF, whatever order the slices arrive in; the reader reads it back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PreallocatedMask, preallocateMask } from '../../src/core/jobs/runners/prealloc';
import { openStack } from '../../src/core/tiff';
import { writeStack } from '../../src/core/tiff/writer';

const slice = (w: number, h: number, z: number) => Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + z * 13) % 5);

describe('preallocated mask', () => {
  for (const [w, h, d, big] of [[37, 23, 5, false], [64, 64, 1, false], [19, 11, 4, true]] as const) {
    it(`${w}x${h}x${d}${big ? ' BigTIFF' : ''}: equals StackWriter's file when slices are written out of order`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'prealloc-'));
      const ref = join(dir, 'ref.tif'), out = join(dir, 'out.tif');
      await writeStack(ref, { width: w, height: h, depth: d, dtype: 'uint8', getSlice: (z) => slice(w, h, z) }, { bigTiff: big || undefined });
      await preallocateMask(out, { width: w, height: h, depth: d }, big);
      const m = await PreallocatedMask.open(out, { width: w, height: h, depth: d }, big);
      for (const z of Array.from({ length: d }, (_, i) => d - 1 - i)) await m.writeSlice(z, slice(w, h, z));
      await m.close();
      expect(Buffer.compare(readFileSync(out), readFileSync(ref))).toBe(0);
      const s = await openStack(out, { cacheBytes: 0 });
      expect(s.info.depth).toBe(d);
      expect(Array.from(await s.readSlice(d - 1))).toEqual(Array.from(slice(w, h, d - 1)));
      await s.close();
    });
  }

  it('refuses to open a file of the wrong size, and never replaces an existing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prealloc-'));
    const out = join(dir, 'out.tif');
    await preallocateMask(out, { width: 8, height: 8, depth: 2 });
    await expect(PreallocatedMask.open(out, { width: 8, height: 8, depth: 3 })).rejects.toThrow(/expected/);
    await expect(preallocateMask(out, { width: 8, height: 8, depth: 2 })).rejects.toThrow(/EEXIST/);
  });
});
