// Orthogonal planes (3 views) cut from resolution levels: exact at level 1, block means of one slice per f at level f,
// and the number of slices read (a coarse XZ plane of a deep stack must not read every slice).
import { describe, expect, it } from 'vitest';
import { CachedLevels } from '../../src/core/levels/levels';
import { planeDims, planeLevelSize, planePreviewLevel, planeSlices, readPlane } from '../../src/shared/levels/planes';
import { downsampleMean } from '../../src/shared/pyramid';
import type { PixelArray, SliceSource, StackInfo } from '../../src/shared/types';
import { PlaneServer } from '../../src/host/planeServer';
import { LabelVolume } from '../../src/core/labels/labelVolume';
import { decodeRle } from '../../src/shared/labels/rle';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSource } from '../../src/core/io';
import { writeStack } from '../../src/core/tiff/writer';
import type { HostToWebview } from '../../src/shared/protocol';

/** Voxel value of a synthetic stack: distinct per (x, y, z). */
const voxel = (x: number, y: number, z: number) => x + 100 * y + 10_000 * z;

function source(width: number, height: number, depth: number): SliceSource & { reads: number[] } {
  const reads: number[] = [];
  const info = { path: 'mem.tif', width, height, depth, dtype: 'uint32', bytesPerPixel: 4, bigTiff: false, littleEndian: true, compression: 'none', tiled: false, fileBytes: 0 } as StackInfo;
  return {
    info,
    reads,
    async readSlice(z: number): Promise<PixelArray> {
      reads.push(z);
      const s = new Uint32Array(width * height);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) s[y * width + x] = voxel(x, y, z);
      return s;
    },
    async close() {},
  };
}

describe('orthogonal planes from levels', () => {
  const W = 37, H = 29, D = 21; // odd sizes: partial blocks on every axis
  const dims = { width: W, height: H, depth: D, dtype: 'uint32' as const };

  it('level 1 is exact: XZ plane y has x across and z down, YZ plane x has z across and y down', async () => {
    const src = source(W, H, D);
    const levels = new CachedLevels(src);
    const xz = (await readPlane(levels, dims, 'xz', 7, 1))!;
    expect([xz.width, xz.height]).toEqual([W, D]);
    expect(xz.slices).toBe(D);
    for (const [x, z] of [[0, 0], [36, 20], [5, 11]]) expect(xz.data[z * W + x]).toBe(voxel(x, 7, z));
    const yz = (await readPlane(levels, dims, 'yz', 30, 1))!;
    expect([yz.width, yz.height]).toEqual([D, H]);
    for (const [z, y] of [[0, 0], [20, 28], [9, 14]]) expect(yz.data[y * D + z]).toBe(voxel(30, y, z));
    expect(planeDims(dims, 'yz')).toEqual({ width: D, height: H });
  });

  it('level f reads one slice per f in z (the middle one) and takes the row/column of its level-f block mean', async () => {
    const src = source(W, H, D);
    const levels = new CachedLevels(src);
    const f = 4;
    expect(planeSlices(D, f)).toEqual([2, 6, 10, 14, 18, 20]); // last block 20..20 is partial
    const xz = (await readPlane(levels, dims, 'xz', 13, f))!;
    expect([xz.width, xz.height]).toEqual([10, 6]);
    expect(planeLevelSize(dims, 'xz', f)).toEqual({ width: 10, height: 6 });
    expect(xz.slices).toBe(6);
    expect(new Set(src.reads)).toEqual(new Set([2, 6, 10, 14, 18, 20])); // not all 21 slices
    const slice10 = await src.readSlice(10);
    const level = downsampleMean(slice10, W, H, 'uint32', f).data;
    const row = Math.floor(13 / f);
    expect([...xz.data.subarray(2 * 10, 3 * 10)]).toEqual([...level.subarray(row * 10, row * 10 + 10)]);
    // A YZ plane of the same level reuses the cached level-f slices: no new reads.
    src.reads.length = 0;
    const yz = (await readPlane(levels, dims, 'yz', 36, f))!;
    expect(src.reads).toEqual([]);
    expect([yz.width, yz.height]).toEqual([6, 8]);
    for (let r = 0; r < 8; r++) expect(yz.data[r * 6 + 2]).toBe(level[r * 10 + 9]);
  });

  it('a stale read stops between slices; an index outside the stack is refused', async () => {
    const src = source(W, H, D);
    let n = 0;
    const out = await readPlane(new CachedLevels(src), dims, 'xz', 3, 1, 0, 0, () => ++n > 3);
    expect(out).toBeUndefined();
    expect(src.reads.length).toBe(3);
    await expect(readPlane(new CachedLevels(src), dims, 'yz', W, 1)).rejects.toThrow(/outside 0..36/);
  });

  it('the first frame of an XZ plane of 2048 x 2048 x 500 is level 8: 63 slices, 256 x 63 pixels', () => {
    const big = { width: 2048, height: 2048, depth: 500 };
    const f = planePreviewLevel(big, 'xz');
    expect(f).toBe(8);
    expect(planeSlices(500, f).length).toBe(63);
    expect(planeLevelSize(big, 'xz', f)).toEqual({ width: 256, height: 63 });
  });
});

describe('XZ planes from rows (uncompressed TIFF strips)', () => {
  it('read only the block\'s rows of each slice and give the same plane as the level-f slices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stackseg-planes-'));
    try {
      const W = 50, H = 33, D = 9;
      const path = join(dir, 's.tif');
      const slices = Array.from({ length: D }, (_, z) => Uint16Array.from({ length: W * H }, (_, i) => (i % W) * 3 + Math.floor(i / W) * 7 + z * 101));
      await writeStack(path, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: (z: number) => slices[z] });
      const src = await openSource(path, { cacheBytes: 0 });
      const dims = { width: W, height: H, depth: D, dtype: 'uint16' as const };
      expect([...(await src.readRows!(4, 10, 2))!]).toEqual([...slices[4].subarray(10 * W, 12 * W)]);
      let rowsRead = 0;
      const rows = async (z: number, y0: number, n: number) => { rowsRead += n; return src.readRows!(z, y0, n); };
      for (const f of [1, 2, 4]) {
        for (const y of [0, 17, 32]) {
          rowsRead = 0;
          const fromRows = (await readPlane(new CachedLevels(src), dims, 'xz', y, f, 0, 0, undefined, rows))!;
          const fromLevels = (await readPlane(new CachedLevels(src), dims, 'xz', y, f))!;
          expect([...fromRows.data]).toEqual([...fromLevels.data]);
          expect(rowsRead).toBeLessThanOrEqual(f * planeSlices(D, f).length); // not H rows per slice
        }
      }
      await src.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PlaneServer', () => {
  it('sends a plane\'s labels before its first image, resends them when an edit touches the plane, and stops after close', async () => {
    const W = 16, H = 12, D = 6;
    const src = source(W, H, D);
    const volume = new LabelVolume(W, H, D);
    volume.writeBox(2, { x: 3, y: 5, width: 4, height: 1 }, new Uint8Array([1, 1, 2, 2]));
    const sent: HostToWebview[] = [];
    const server = new PlaneServer(new CachedLevels(src), { width: W, height: H, depth: D, dtype: 'uint32' }, () => volume, { post: (m) => sent.push(m), error: (_a, _i, e) => { throw e; } });
    await server.request('xz', 5, 2);
    expect(sent.map((m) => m.type)).toEqual(['planeLabels', 'plane']);
    const labels = sent[0] as Extract<HostToWebview, { type: 'planeLabels' }>;
    const plane = decodeRle(new Uint8Array(labels.rle), W * D);
    expect([...plane.subarray(2 * W, 2 * W + 8)]).toEqual([0, 0, 0, 1, 1, 2, 2, 0]);
    const img = sent[1] as Extract<HostToWebview, { type: 'plane' }>;
    expect([img.width, img.height, img.level, img.slices]).toEqual([8, 3, 2, 3]);
    sent.length = 0;
    await server.request('xz', 5, 1); // same plane, finer level: no labels again
    expect(sent.map((m) => m.type)).toEqual(['plane']);
    sent.length = 0;
    server.labelsChanged([{ z: 1, box: { x: 0, y: 0, width: 3, height: 3 } }]); // does not cross y = 5
    expect(sent).toEqual([]);
    server.labelsChanged([{ z: 1, box: { x: 0, y: 4, width: 3, height: 3 } }]);
    expect(sent.map((m) => m.type)).toEqual(['planeLabels']);
    server.labelsChanged('all', { axis: 'xz', index: 5 }); // the plane the stroke came from
    expect(sent.length).toBe(1);
    server.close();
    server.labelsChanged('all');
    expect(sent.length).toBe(1);
  });
});
