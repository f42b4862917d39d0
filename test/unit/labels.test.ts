import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSettings, nextClass, parseSettings, serializeSettings } from '../../src/shared/labels/classes';
import { applyEdit, applyWrite, clearClassPatches, diffPatch, EditJournal, parseBackup, serializeBackup, type LabelEdit } from '../../src/core/labels/edits';
import { labelPaths, readLabelsFile, readSettingsFile, writeLabelsFile } from '../../src/core/labels/labelFile';
import { LabelVolume } from '../../src/core/labels/labelVolume';
import { base64ToBytes, bytesToBase64, decodeRle, encodeRle } from '../../src/shared/labels/rle';
import { writeStack } from '../../src/core/tiff/index';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('RLE', () => {
  it('round-trips empty, constant, alternating, long-run and random data', () => {
    const rand = seeded(7);
    const cases = [
      new Uint8Array(0),
      new Uint8Array(1),
      new Uint8Array(2048 * 2048),
      Uint8Array.from({ length: 1000 }, (_, i) => i & 1),
      Uint8Array.from({ length: 300_000 }, (_, i) => (i > 100_000 && i < 200_003 ? 7 : 0)),
      Uint8Array.from({ length: 5000 }, () => Math.floor(rand() * 256)),
    ];
    for (const data of cases) expect(Buffer.compare(decodeRle(encodeRle(data), data.length), data)).toBe(0);
  });

  it('is compact on sparse labels', () => {
    const slice = new Uint8Array(2048 * 2048);
    slice.fill(2, 1000 * 2048 + 100, 1000 * 2048 + 140);
    expect(encodeRle(slice).length).toBeLessThan(12);
    expect(encodeRle(new Uint8Array(2048 * 2048))).toEqual(Uint8Array.from([0, 0x80, 0x80, 0x80, 0x02]));
  });

  it('rejects corrupt input instead of writing out of bounds', () => {
    expect(() => decodeRle(Uint8Array.from([1, 10]), 5)).toThrow(/more than the 5/);
    expect(() => decodeRle(Uint8Array.from([1, 3]), 5)).toThrow(/holds 3 values, expected 5/);
    expect(() => decodeRle(Uint8Array.from([1, 0x80]), 5)).toThrow(/ends inside/);
    expect(() => decodeRle(Uint8Array.from([1, 0]), 5)).toThrow(/length 0/);
  });

  it('base64 round-trips every length mod 3', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);
      expect(base64ToBytes(bytesToBase64(b))).toEqual(b);
      expect(bytesToBase64(b)).toBe(Buffer.from(b).toString('base64'));
    }
    expect(() => base64ToBytes('ab$=')).toThrow(/base64/);
  });
});

describe('LabelVolume', () => {
  it('allocates a slice on the first non-zero write only and frees it when erased', () => {
    const v = new LabelVolume(2048, 2048, 1000);
    expect(v.allocatedBytes).toBe(0);
    v.writeBox(5, { x: 0, y: 0, width: 2, height: 2 }, new Uint8Array(4));
    expect(v.allocatedBytes).toBe(0);
    v.writeBox(5, { x: 10, y: 20, width: 2, height: 1 }, Uint8Array.from([1, 2]));
    expect(v.allocatedBytes).toBe(2048 * 2048);
    expect(v.slice(5)![20 * 2048 + 11]).toBe(2);
    expect(v.annotatedSlices()).toEqual([{ z: 5, labeled: 2 }]);
    expect(v.classCounts()).toEqual([[1, 1], [2, 1]]);
    v.writeBox(5, { x: 10, y: 20, width: 2, height: 1 }, Uint8Array.from([0, 0]));
    expect(v.allocatedBytes).toBe(0);
    expect(v.annotatedSlices()).toEqual([]);
    expect(v.classCounts()).toEqual([]);
  });

  it('refuses boxes outside the slice and wrong value counts', () => {
    const v = new LabelVolume(10, 10, 2);
    expect(() => v.writeBox(0, { x: 9, y: 0, width: 2, height: 1 }, new Uint8Array(2))).toThrow(/not inside/);
    expect(() => v.writeBox(2, { x: 0, y: 0, width: 1, height: 1 }, new Uint8Array(1))).toThrow(/outside 0\.\.1/);
    expect(() => v.writeBox(0, { x: 0, y: 0, width: 2, height: 2 }, new Uint8Array(3))).toThrow(/3 values/);
  });
});

describe('edits, undo and redo', () => {
  const paint = (v: LabelVolume, z: number, x: number, y: number, w: number, h: number, k: number): LabelEdit => {
    const after = v.readBox(z, { x, y, width: w, height: h }).fill(k);
    const p = diffPatch(v, z, { x, y, width: w, height: h }, after);
    const edit: LabelEdit = { label: 'paint', patches: p ? [p] : [] };
    applyEdit(v, edit, 'redo');
    return edit;
  };

  it('crops a patch to the changed pixels and undo/redo restore exact states', () => {
    const v = new LabelVolume(64, 48, 3);
    const e1 = paint(v, 1, 10, 10, 20, 5, 1);
    const s1 = v.slice(1)!.slice();
    const e2 = paint(v, 1, 5, 5, 30, 30, 2);
    expect(e2.patches[0].box).toEqual({ x: 5, y: 5, width: 30, height: 30 });
    // Repainting the same class over itself changes nothing.
    const same = diffPatch(v, 1, { x: 5, y: 5, width: 3, height: 3 }, new Uint8Array(9).fill(2));
    expect(same).toBeUndefined();
    // Only the changed column of a wider box is kept.
    const narrow = diffPatch(v, 1, { x: 5, y: 5, width: 31, height: 2 }, Uint8Array.from({ length: 62 }, (_, i) => (i % 31 === 30 ? 3 : 2)));
    expect(narrow!.box).toEqual({ x: 35, y: 5, width: 1, height: 2 });
    const s2 = v.slice(1)!.slice();
    applyEdit(v, e2, 'undo');
    expect(v.slice(1)).toEqual(s1);
    applyEdit(v, e1, 'undo');
    expect(v.slice(1)).toBeUndefined();
    expect(v.classCounts()).toEqual([]);
    applyEdit(v, e1, 'redo');
    applyEdit(v, e2, 'redo');
    expect(v.slice(1)).toEqual(s2);
    expect(v.classCount(2)).toBe(900);
    expect(v.classCount(1)).toBe(0); // the second stroke covered the first completely
  });

  it('deleting a class clears its pixels on every slice, undoably', () => {
    const v = new LabelVolume(32, 32, 4);
    paint(v, 0, 0, 0, 4, 4, 1);
    paint(v, 2, 10, 10, 3, 3, 2);
    paint(v, 3, 1, 1, 2, 2, 2);
    const patches = clearClassPatches(v, 2);
    expect(patches.map((p) => p.z)).toEqual([2, 3]);
    const edit: LabelEdit = { label: 'delete class', patches };
    applyEdit(v, edit, 'redo');
    expect(v.classCount(2)).toBe(0);
    expect(v.classCount(1)).toBe(16);
    expect(v.annotatedSlices().map((s) => s.z)).toEqual([0]);
    applyEdit(v, edit, 'undo');
    expect(v.classCount(2)).toBe(13);
  });

  it('a backup journal replayed on the saved file gives the current labels, also after undo past the save', () => {
    const v = new LabelVolume(40, 30, 2);
    const journal = new EditJournal();
    const history: LabelEdit[] = [];
    const record = (e: LabelEdit, d: 'undo' | 'redo') => journal.record(applyEdit(v, e, d));
    const e1 = paint(v, 0, 0, 0, 10, 10, 1); history.push(e1); journal.record(e1.patches.map((p) => ({ z: p.z, box: p.box, rle: p.after })));
    // "save": the disk now holds this state, the journal restarts
    const disk = new LabelVolume(40, 30, 2);
    disk.setSlice(0, v.sliceOrZeros(0).slice());
    journal.reset();
    const e2 = paint(v, 1, 5, 5, 5, 5, 2); journal.record(e2.patches.map((p) => ({ z: p.z, box: p.box, rle: p.after })));
    record(e2, 'undo');
    record(e1, 'undo'); // undo past the save point
    const e3 = paint(v, 0, 20, 20, 4, 4, 2); journal.record(e3.patches.map((p) => ({ z: p.z, box: p.box, rle: p.after })));
    const text = serializeBackup({ width: 40, height: 30, depth: 2, settings: defaultSettings(), writes: [...journal.entries] });
    expect(text).not.toContain('"data"');
    const restored = parseBackup(text, 'b.json', { width: 40, height: 30, depth: 2 });
    for (const w of restored.writes) applyWrite(disk, w);
    expect(disk.sliceOrZeros(0)).toEqual(v.sliceOrZeros(0));
    expect(disk.sliceOrZeros(1)).toEqual(v.sliceOrZeros(1));
    expect(() => parseBackup(text, 'b.json', { width: 41, height: 30, depth: 2 })).toThrow(/40 x 30 x 2 stack/);
    expect(() => parseBackup('{', 'b.json', { width: 40, height: 30, depth: 2 })).toThrow(/b\.json.*not valid JSON/);
  });
});

describe('classes and settings', () => {
  it('defaults are 1 background, 2 foreground; nextClass fills the first free index', () => {
    const s = defaultSettings();
    expect(s.classes.map((c) => [c.index, c.name])).toEqual([[1, 'background'], [2, 'foreground']]);
    expect(nextClass(s.classes)!.index).toBe(3);
    expect(nextClass([{ index: 2, name: 'x', color: '#000000' }])!.index).toBe(1);
  });

  it('parses, validates and keeps unknown keys', () => {
    const text = serializeSettings({ classes: [{ index: 3, name: ' pores ', color: '#AABBCC' }], display: { labelOpacity: 0.3, showLabels: false } }, { owner: 'other' });
    const back = parseSettings(text, 's.json');
    expect(back.classes).toEqual([{ index: 3, name: 'pores', color: '#aabbcc' }]);
    expect(back.display).toEqual({ labelOpacity: 0.3, showLabels: false });
    expect(JSON.parse(text).owner).toBe('other');
    expect(() => parseSettings('{"classes":[{"index":0,"name":"a","color":"#000000"}]}', 's.json')).toThrow(/s\.json.*1\.\.255/);
    expect(() => parseSettings('{"classes":[{"index":1,"name":"a","color":"red"}]}', 's.json')).toThrow(/#rrggbb/);
    expect(() => parseSettings('[1]', 's.json')).toThrow(/not a JSON object/);
  });
});

describe('label files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-labels-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes uint8 labels with the image size and reads them back', async () => {
    const paths = labelPaths(join(dir, 'a.ome.tif'));
    expect(paths).toEqual({ labels: join(dir, 'a.labels.tif'), settings: join(dir, 'a.stackseg.json') });
    const v = new LabelVolume(33, 17, 5);
    v.writeBox(3, { x: 1, y: 2, width: 3, height: 1 }, Uint8Array.from([1, 2, 3]));
    await writeLabelsFile(paths.labels, v);
    const back = await readLabelsFile(paths.labels, { width: 33, height: 17, depth: 5 });
    expect(back.annotatedSlices()).toEqual([{ z: 3, labeled: 3 }]);
    expect(back.readBox(3, { x: 0, y: 2, width: 5, height: 1 })).toEqual(Uint8Array.from([0, 1, 2, 3, 0]));
    await expect(readLabelsFile(paths.labels, { width: 33, height: 17, depth: 6 })).rejects.toMatchObject({ code: 'label-dims' });
    const f32 = join(dir, 'f.labels.tif');
    await writeStack(f32, { width: 4, height: 4, depth: 1, dtype: 'float32', getSlice: () => new Float32Array(16) });
    await expect(readLabelsFile(f32, { width: 4, height: 4, depth: 1 })).rejects.toMatchObject({ code: 'label-dtype' });
  });

  it('an unreadable sidecar gives defaults and a warning naming it; a missing one gives defaults silently', async () => {
    const bad = join(dir, 'bad.stackseg.json');
    writeFileSync(bad, '{ not json');
    const r = await readSettingsFile(bad);
    expect(r.settings).toEqual(defaultSettings());
    expect(r.warning).toMatch(/bad\.stackseg\.json.*not valid JSON/);
    const missing = await readSettingsFile(join(dir, 'none.stackseg.json'));
    expect(missing.warning).toBeUndefined();
    expect(existsSync(join(dir, 'none.stackseg.json'))).toBe(false);
  });
});
