// Labels saves that notice other writers (no VS Code): sidecar naming of a.tif / a.tiff / a.ome.tif, a rewrite by
// another program detected and never silently replaced, Save As asking before replacing, a full disk changing nothing.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLabelsFile, writeLabelsFile } from '../../src/core/labels/labelFile';
import { LabelVolume } from '../../src/core/labels/labelVolume';
import { encodeRle } from '../../src/shared/labels/rle';
import { resolveSidecars, resolveSidecarsSync } from '../../src/core/labels/sidecars';
import { nodeOps } from '../../src/core/labels/sidecarWrite';
import { DocumentLabels, OVERWRITE, type SaveQuestions } from '../../src/host/documentLabels';

const dims = { width: 40, height: 30, depth: 3 };
const root = mkdtempSync(join(tmpdir(), 'stackseg-labelsdisk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(...images: string[]): string {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  for (const i of images) writeFileSync(join(d, i), 'image');
  return d;
}

function paint(labels: DocumentLabels, z: number, k: number): void {
  const box = { x: 0, y: 0, width: 10, height: 10 };
  labels.stroke(z, box, encodeRle(new Uint8Array(100).fill(k)), 'brush');
}

/** Another program writes a labels file with class k on slice z. */
async function otherWriter(path: string, z: number, k: number): Promise<void> {
  const v = new LabelVolume(dims.width, dims.height, dims.depth);
  v.setSlice(z, new Uint8Array(dims.width * dims.height).fill(k));
  await writeLabelsFile(path, v);
}

function asking(answer: 'overwrite' | 'cancel' | { copyTo: string }, replace = false) {
  const asked: string[][] = [];
  const q: SaveQuestions = {
    replaceUnloaded: async () => false,
    changedOnDisk: async (files) => { asked.push(files); return answer; },
    replaceExisting: async (files) => { asked.push(files); return replace; },
  };
  return { q, asked };
}

describe('sidecar names: a.tif, a.tiff and a.ome.tif do not share labels', () => {
  it('without labels each image would claim the shared names; with an unrecorded pair .tif comes first', async () => {
    const d = folder('a.tif', 'a.tiff', 'a.ome.tif');
    expect((await resolveSidecars(join(d, 'a.tiff'))).labels).toBe(join(d, 'a.labels.tif'));
    writeFileSync(join(d, 'a.labels.tif'), 'old labels');
    expect((await resolveSidecars(join(d, 'a.tif'))).shared).toBe(true);
    const tiff = await resolveSidecars(join(d, 'a.tiff'));
    expect(tiff).toMatchObject({ labels: join(d, 'a.tiff.labels.tif'), settings: join(d, 'a.tiff.stackseg.json'), shared: false });
    expect(tiff.notice).toMatch(/a\.labels\.tif and a\.stackseg\.json belong to a\.tif .*a\.tiff\.labels\.tif/);
    expect((await resolveSidecars(join(d, 'a.ome.tif'))).labels).toBe(join(d, 'a.ome.tif.labels.tif'));
    expect(resolveSidecarsSync(join(d, 'a.ome.tif'))).toEqual(await resolveSidecars(join(d, 'a.ome.tif')));
  });

  it('the first image saved wins: its json records it, and the sibling opened later gets its own names', async () => {
    const d = folder('a.tif', 'a.tiff');
    const first = (await DocumentLabels.load(join(d, 'a.tiff'), dims)).labels;
    paint(first, 0, 2);
    await first.save(OVERWRITE);
    expect(JSON.parse(readFileSync(join(d, 'a.stackseg.json'), 'utf8')).image).toBe('a.tiff');
    const second = await DocumentLabels.load(join(d, 'a.tif'), dims);
    expect(second.labels.paths.labels).toBe(join(d, 'a.tif.labels.tif'));
    expect(second.warnings.join('\n')).toMatch(/belong to a\.tiff \(recorded in a\.stackseg\.json\)/);
    expect(second.labels.volume.classCounts()).toEqual([]);
    paint(second.labels, 1, 1);
    await second.labels.save(OVERWRITE);
    expect((await readLabelsFile(join(d, 'a.labels.tif'), dims)).classCounts()).toEqual([[2, 100]]);
    expect((await readLabelsFile(join(d, 'a.tif.labels.tif'), dims)).classCounts()).toEqual([[1, 100]]);
  });
});

describe('a labels file rewritten by another program while open', () => {
  it('is detected (same shape), Save asks, Cancel keeps it, Overwrite keeps it as .bak', async () => {
    const d = folder('s.tif');
    const { labels } = await DocumentLabels.load(join(d, 's.tif'), dims);
    paint(labels, 0, 2);
    await labels.save(OVERWRITE);
    expect(await labels.changedOnDisk()).toEqual([]); // our own save is not someone else's
    await otherWriter(labels.paths.labels, 2, 1);
    expect(await labels.changedOnDisk()).toEqual([labels.paths.labels]);
    paint(labels, 1, 2);
    const cancel = asking('cancel');
    await expect(labels.save(cancel.q)).rejects.toThrow(/labels not saved: another program changed this file/);
    expect(cancel.asked).toEqual([[labels.paths.labels]]);
    expect((await readLabelsFile(labels.paths.labels, dims)).classCounts()).toEqual([[1, 1200]]);
    const overwrite = asking('overwrite');
    await labels.save(overwrite.q);
    expect((await readLabelsFile(labels.paths.labels, dims)).classCounts()).toEqual([[2, 200]]);
    expect((await readLabelsFile(`${labels.paths.labels}.bak`, dims)).classCounts()).toEqual([[1, 1200]]);
    expect(await labels.changedOnDisk()).toEqual([]);
  });

  it('a different shape or a changed json is detected; Save Mine as Copy writes the copy and leaves the file', async () => {
    const d = folder('c.tif');
    const { labels } = await DocumentLabels.load(join(d, 'c.tif'), dims);
    paint(labels, 0, 2);
    await labels.save(OVERWRITE);
    writeFileSync(labels.paths.settings, JSON.stringify({ classes: [{ index: 1, name: 'x', color: '#000000' }] }));
    const big = new LabelVolume(50, 50, 2);
    await writeLabelsFile(labels.paths.labels, big);
    expect(await labels.changedOnDisk()).toEqual([labels.paths.labels, labels.paths.settings]);
    const copyTo = join(d, 'c-mine.labels.tif');
    await expect(labels.save(asking({ copyTo }).q)).rejects.toThrow(/your labels were saved to .*c-mine\.labels\.tif/);
    expect((await readLabelsFile(copyTo, dims)).classCounts()).toEqual([[2, 100]]);
    expect(JSON.parse(readFileSync(join(d, 'c-mine.stackseg.json'), 'utf8')).classes).toHaveLength(2);
    expect(JSON.parse(readFileSync(labels.paths.settings, 'utf8')).classes).toHaveLength(1);
    // Revert (Reload from Disk) takes the other version: wrong size -> conflict, empty labels, asks on save.
    await labels.revert();
    expect(labels.conflict?.message).toMatch(/labels are 50 x 50 x 2/);
    expect(labels.settings.classes.map((c) => c.name)).toEqual(['x']);
  });
});

describe('Save As and full disk', () => {
  it('Save As asks before replacing an existing b.labels.tif / b.stackseg.json; No leaves them and copies nothing', async () => {
    const d = folder('a.tif');
    writeFileSync(join(d, 'b.labels.tif'), 'theirs');
    writeFileSync(join(d, 'b.stackseg.json'), '{}');
    const { labels } = await DocumentLabels.load(join(d, 'a.tif'), dims);
    paint(labels, 0, 2);
    let copied = false;
    const no = asking('cancel', false);
    await expect(labels.saveAs(join(d, 'b.tif'), no.q, async () => { copied = true; })).rejects.toThrow(/not saved: the labels files there were kept/);
    expect(no.asked).toEqual([[join(d, 'b.labels.tif'), join(d, 'b.stackseg.json')]]);
    expect(copied).toBe(false);
    expect(readFileSync(join(d, 'b.labels.tif'), 'utf8')).toBe('theirs');
    await labels.saveAs(join(d, 'b.tif'), asking('cancel', true).q, async () => { copied = true; });
    expect(copied).toBe(true);
    expect((await readLabelsFile(join(d, 'b.labels.tif'), dims)).classCounts()).toEqual([[2, 100]]);
    expect(readFileSync(join(d, 'b.labels.tif.bak'), 'utf8')).toBe('theirs');
  });

  it('a full disk during the labels write leaves the old json (no class deleted on disk) and names the file', async () => {
    const d = folder('f.tif');
    const { labels } = await DocumentLabels.load(join(d, 'f.tif'), dims);
    paint(labels, 0, 2);
    await labels.save(OVERWRITE);
    const jsonBefore = readFileSync(labels.paths.settings, 'utf8');
    labels.deleteClass(2);
    labels.writeOps = { ...nodeOps, fsync: async (p) => { if (p.includes('.labels.tif')) throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); return nodeOps.fsync(p); } };
    await expect(labels.save(OVERWRITE)).rejects.toThrow(/f\.labels\.tif: cannot be written \(ENOSPC: the disk is full; .* free\)/);
    expect(readFileSync(labels.paths.settings, 'utf8')).toBe(jsonBefore);
    expect((await readLabelsFile(labels.paths.labels, dims)).classCounts()).toEqual([[2, 100]]);
    expect(existsSync(`${labels.paths.labels}.bak`)).toBe(false);
  });
});
