// The labels of an open document (no VS Code): a stroke as the webview sends it, undo/redo, backup and save.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRle } from '../../src/shared/labels/rle';
import { DocumentLabels, OVERWRITE } from '../../src/host/documentLabels';

const dims = { width: 300, height: 200, depth: 4 };

/** A diagonal band of class k across box (20,10)-(279,189), as the webview would send it. */
function band(k: number): { box: { x: number; y: number; width: number; height: number }; rle: Uint8Array } {
  const box = { x: 20, y: 10, width: 260, height: 180 };
  const values = new Uint8Array(box.width * box.height);
  for (let r = 0; r < box.height; r++) for (let c = 0; c < box.width; c++) if (Math.abs(c - Math.round(r * 1.44)) < 6) values[r * box.width + c] = k;
  return { box, rle: encodeRle(values) };
}

describe('DocumentLabels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-doclabels-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a stroke is one edit named after its class; undo/redo restore pixels and counts; a corrupt stroke changes nothing', async () => {
    const { labels } = await DocumentLabels.load(join(dir, 'a.tif'), dims);
    const s = band(2);
    const r = labels.stroke(1, s.box, s.rle, 'brush')!;
    expect(r.edit.label).toBe('Paint foreground (slice 2)');
    const painted = labels.volume.classCount(2);
    expect(painted).toBeGreaterThan(180 * 10);
    expect(labels.stroke(1, s.box, s.rle, 'brush')).toBeUndefined(); // the same stroke again changes nothing
    const over = band(1);
    const r2 = labels.stroke(1, over.box, over.rle, 'brush')!;
    expect(labels.volume.classCounts()).toEqual([[1, painted]]);
    const undo = labels.apply(r2.edit, 'undo');
    expect(undo[0].from).toBeDefined(); // undo writes only what the edit changed
    expect(labels.volume.classCounts()).toEqual([[2, painted]]);
    labels.apply(r.edit, 'undo');
    expect(labels.volume.classCounts()).toEqual([]);
    expect(labels.volume.allocatedBytes).toBe(0);
    labels.apply(r.edit, 'redo');
    expect(labels.volume.annotatedSlices()).toEqual([{ z: 1, labeled: painted }]);
    const bad = s.rle.slice(0, s.rle.length - 2);
    expect(() => labels.stroke(1, s.box, bad, 'eraser')).toThrow(/run-length/);
    expect(labels.volume.classCounts()).toEqual([[2, painted]]);
  });

  it('the backup of unsaved strokes and undos restores the same labels on top of the saved file', async () => {
    const image = join(dir, 'b.tif');
    const { labels } = await DocumentLabels.load(image, dims);
    const a = band(2);
    labels.stroke(0, a.box, a.rle, 'brush');
    await labels.save(OVERWRITE);
    expect(labels.journal.entries).toHaveLength(0);
    const b = band(1);
    const rb = labels.stroke(3, b.box, b.rle, 'lasso')!;
    const c = band(1);
    const rc = labels.stroke(0, c.box, c.rle, 'brush')!;
    labels.apply(rc.edit, 'undo');
    labels.apply(rb.edit, 'undo');
    labels.apply(rb.edit, 'redo');
    const restored = await DocumentLabels.load(image, dims, labels.backupText(), 'backup.json');
    expect(restored.warnings).toEqual([]);
    expect(restored.labels.restoredFromBackup).toBe(true);
    for (let z = 0; z < dims.depth; z++) expect(Buffer.compare(restored.labels.volume.sliceOrZeros(z), labels.volume.sliceOrZeros(z))).toBe(0);
    expect(restored.labels.volume.classCounts()).toEqual(labels.volume.classCounts());
  });
});
