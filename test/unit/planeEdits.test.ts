// A stroke painted in an orthogonal plane (3 views) becomes per-slice boxes: one undoable edit touching many slices,
// replayed exactly by undo/redo, the hot-exit backup and save.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyWrite, parseBackup } from '../../src/core/labels/edits';
import { readLabelsFile } from '../../src/core/labels/labelFile';
import { LabelVolume } from '../../src/core/labels/labelVolume';
import { labelPlane, planeBoxToSlices } from '../../src/core/labels/planeEdits';
import { encodeRle } from '../../src/shared/labels/rle';
import { DocumentLabels, OVERWRITE } from '../../src/host/documentLabels';

const dims = { width: 40, height: 30, depth: 12 };

/** A plane box of `h` rows (z) by `w` columns filled with k except its corners (the brush disc's cut corners). */
function blob(w: number, h: number, k: number): Uint8Array {
  const v = new Uint8Array(w * h).fill(k);
  v[0] = v[w - 1] = v[(h - 1) * w] = v[h * w - 1] = 0;
  return v;
}

describe('plane strokes -> per-slice edits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-planeedits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an XZ box is row y of each slice it crosses; a YZ box is column x of each slice', () => {
    const v = blob(5, 3, 2);
    const xz = planeBoxToSlices(dims, 'xz', 17, { x: 4, y: 6, width: 5, height: 3 }, v);
    expect(xz.map((s) => s.z)).toEqual([6, 7, 8]);
    expect(xz[0].box).toEqual({ x: 4, y: 17, width: 5, height: 1 });
    expect([...xz[0].values]).toEqual([0, 2, 2, 2, 0]);
    expect([...xz[1].values]).toEqual([2, 2, 2, 2, 2]);
    const yz = planeBoxToSlices(dims, 'yz', 33, { x: 2, y: 10, width: 5, height: 3 }, v); // YZ: x across is z
    expect(yz.map((s) => s.z)).toEqual([2, 3, 4, 5, 6]);
    expect(yz[0].box).toEqual({ x: 33, y: 10, width: 1, height: 3 });
    expect([...yz[0].values]).toEqual([0, 2, 0]);
    expect([...yz[2].values]).toEqual([2, 2, 2]);
    expect(() => planeBoxToSlices(dims, 'xz', 17, { x: 38, y: 6, width: 5, height: 3 }, v)).toThrow(/not inside the 40 x 12 XZ plane/);
    expect(() => planeBoxToSlices(dims, 'yz', 40, { x: 0, y: 0, width: 5, height: 3 }, v)).toThrow(/YZ plane 40 is outside 0..39/);
  });

  it('an XZ stroke is ONE edit touching many slices; undo/redo, backup and save all follow it', async () => {
    const image = join(dir, 'a.tif');
    const { labels } = await DocumentLabels.load(image, dims);
    const box = { x: 4, y: 2, width: 20, height: 7 }; // slices 2..8
    const values = blob(box.width, box.height, 2);
    const r = labels.planeStroke('xz', 11, box, encodeRle(values), 'brush')!;
    expect(r.edit.label).toBe('Paint foreground (XZ plane y = 11, slices 3–9)');
    expect(r.edit.patches.map((p) => p.z)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const painted = values.reduce((n, x) => n + (x ? 1 : 0), 0);
    expect(labels.volume.classCounts()).toEqual([[2, painted]]);
    expect(labels.volume.annotatedSlices().map((a) => a.z)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    // Each slice changed in row 11 only.
    const s5 = labels.volume.slice(5)!;
    expect(s5.subarray(11 * 40 + 4, 11 * 40 + 24).every((x) => x === 2)).toBe(true);
    expect(s5.reduce((n, x) => n + (x ? 1 : 0), 0)).toBe(20);
    // The plane as the view shows it.
    const plane = labelPlane(labels.volume, 'xz', 11);
    expect([...plane.subarray(2 * 40 + 3, 2 * 40 + 7)]).toEqual([0, 0, 2, 2]);
    // The same stroke again changes nothing; a YZ stroke crossing it is one more edit.
    expect(labels.planeStroke('xz', 11, box, encodeRle(values), 'brush')).toBeUndefined();
    const yz = labels.planeStroke('yz', 10, { x: 0, y: 11, width: 12, height: 1 }, encodeRle(new Uint8Array(12).fill(1)), 'brush')!;
    expect(yz.edit.patches.length).toBe(12);
    // Undo of both, one edit each; redo brings the XZ stroke back exactly.
    labels.apply(yz.edit, 'undo');
    expect(labels.volume.classCounts()).toEqual([[2, painted]]);
    labels.apply(r.edit, 'undo');
    expect(labels.volume.classCounts()).toEqual([]);
    labels.apply(r.edit, 'redo');
    expect(labels.volume.classCounts()).toEqual([[2, painted]]);
    // The backup journal replays to the same labels on an empty volume.
    const backup = parseBackup(labels.backupText(), 'backup', dims);
    const replay = new LabelVolume(dims.width, dims.height, dims.depth);
    for (const w of backup.writes) applyWrite(replay, w);
    for (let z = 0; z < dims.depth; z++) expect(replay.slice(z)).toEqual(labels.volume.slice(z));
    // Save writes every touched slice.
    await labels.save(OVERWRITE);
    const back = await readLabelsFile(labels.paths.labels, dims);
    expect(back.classCounts()).toEqual([[2, painted]]);
    expect(back.slice(8)!.subarray(11 * 40 + 4, 11 * 40 + 24).filter((x) => x === 2).length).toBe(18);
    labels.dispose();
    back.close();
  });

  it('a corrupt plane stroke changes nothing', async () => {
    const { labels } = await DocumentLabels.load(join(dir, 'b.tif'), dims);
    const rle = encodeRle(blob(5, 3, 1));
    expect(() => labels.planeStroke('xz', 3, { x: 0, y: 0, width: 5, height: 4 }, rle, 'brush')).toThrow();
    expect(labels.volume.classCounts()).toEqual([]);
  });
});
