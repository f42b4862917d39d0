// Labels at full size: opening reads the directories only (slices decoded when first needed, pages counted), a save
// encodes only what changed and copies the rest, the file round-trips value for value through StackSeg's reader and
// tifffile, older uncompressed files still open, and decoded slices that equal the file are dropped under pressure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearClassPatches } from '../../src/core/labels/edits';
import { readLabelsFile, writeLabelsFile } from '../../src/core/labels/labelFile';
import { LabelVolume } from '../../src/core/labels/labelVolume';
import { writeStats } from '../../src/core/labels/labelWrite';
import { encodeRle } from '../../src/shared/labels/rle';
import { openStack, StackWriter } from '../../src/core/tiff/index';
import { DocumentLabels, OVERWRITE } from '../../src/host/documentLabels';

const root = mkdtempSync(join(tmpdir(), 'stackseg-lazy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => { const d = join(root, `t${n++}`); execFileSync('mkdir', ['-p', d]); return d; };
const python = (() => { try { execFileSync('/usr/bin/python3', ['-c', 'import tifffile'], { stdio: 'pipe' }); return true; } catch { return false; } })();

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** A stroke: a filled box of class k at (x, y). */
function paint(labels: DocumentLabels, z: number, k: number, x = 3, y = 4, w = 20, h = 10): void {
  labels.stroke(z, { x, y, width: w, height: h }, encodeRle(new Uint8Array(w * h).fill(k)), 'brush');
}

/** Labels painted on slices `zs` of a stack, saved; returns the image path. */
async function savedStack(dims: { width: number; height: number; depth: number }, zs: number[]): Promise<string> {
  const image = join(fresh(), 'img.tif');
  const { labels } = await DocumentLabels.load(image, dims);
  zs.forEach((z, i) => paint(labels, z, 1 + (i % 3), 2 + i, 3 + 2 * i));
  await labels.save(OVERWRITE);
  labels.dispose();
  return image;
}

describe('opening a labels file reads only what it needs', () => {
  it('parses the directories, decodes no page; a slice is decoded when first read, empty ones never', async () => {
    const dims = { width: 64, height: 48, depth: 40 };
    const image = await savedStack(dims, [2, 7, 31]);
    const { labels } = await DocumentLabels.load(image, dims);
    const v = labels.volume;
    const pages = v.backing!;
    expect(pages).toBeDefined();
    expect(pages.pagesDecoded).toBe(0);
    expect(v.loadedSlices).toBe(0);
    expect(v.annotatedSlices()).toEqual([{ z: 2, labeled: 200 }, { z: 7, labeled: 200 }, { z: 31, labeled: 200 }]);
    expect(v.classCounts()).toEqual([[1, 200], [2, 200], [3, 200]]);
    expect(v.slice(5)).toBeUndefined(); // empty: known from the file's counts, nothing read
    expect(pages.pagesDecoded).toBe(0);
    const s7 = v.slice(7)!;
    expect(pages.pagesDecoded).toBe(1);
    expect(s7[(3 + 2) * 64 + 2 + 1]).toBe(2);
    v.slice(7);
    expect(pages.pagesDecoded).toBe(1); // kept
    // Painting another slice decodes it first; the counts stay exact.
    paint(labels, 31, 1, 0, 0, 5, 5);
    expect(pages.pagesDecoded).toBe(2);
    expect(v.classCounts()).toEqual([[1, 225], [2, 200], [3, 200]]);
    labels.dispose();
  });

  it('a save after one stroke encodes that slice, copies the other labelled pages and shares one empty page', async () => {
    const dims = { width: 256, height: 256, depth: 200 };
    const image = await savedStack(dims, [10, 100, 150]);
    const { labels } = await DocumentLabels.load(image, dims);
    const before = statSync(labels.paths.labels).size;
    const opened = labels.volume.backing!;
    paint(labels, 100, 2, 50, 50, 30, 30);
    Object.assign(writeStats, { bytes: 0, encoded: 0, copied: 0, zero: 0 });
    await labels.save(OVERWRITE);
    expect(writeStats).toMatchObject({ encoded: 1, copied: 2, zero: 197 });
    // Directories (~200 B a page) and a few KB of deflate, instead of 256 x 256 x 200 = 13 MB.
    expect(writeStats.bytes).toBeLessThan(80_000);
    expect(writeStats.bytes).toBe(statSync(labels.paths.labels).size);
    expect(Math.abs(writeStats.bytes - before)).toBeLessThan(2_000);
    expect(opened.pagesDecoded).toBe(1); // only the painted slice was decoded
    expect(opened.rawReads).toBe(2); // the two others were copied as compressed bytes
    expect(labels.volume.backing).not.toBe(opened); // now backed by the file just written
    expect(labels.volume.dirtyCount).toBe(0);
    // The next save (auto-save after the next stroke) copies the slice just encoded.
    paint(labels, 10, 3, 0, 0, 4, 4);
    Object.assign(writeStats, { bytes: 0, encoded: 0, copied: 0, zero: 0 });
    await labels.save(OVERWRITE);
    expect(writeStats).toMatchObject({ encoded: 1, copied: 2 });
    labels.dispose();
  });

  it('round trip: every slice equal value for value, through the lazy volume and through the stack reader', async () => {
    const dims = { width: 37, height: 23, depth: 12 };
    const rand = seeded(5);
    const v = new LabelVolume(dims.width, dims.height, dims.depth);
    const expected = Array.from({ length: dims.depth }, (_, z) => {
      const s = new Uint8Array(dims.width * dims.height);
      if (z % 3 !== 1) for (let i = 0; i < s.length; i++) if (rand() < 0.3) s[i] = Math.floor(rand() * 256);
      return s;
    });
    expected.forEach((s, z) => v.setSlice(z, s));
    const path = join(fresh(), 'r.labels.tif');
    await writeLabelsFile(path, v);
    const back = await readLabelsFile(path, dims);
    expect(back.classCounts()).toEqual(v.classCounts());
    const stack = await openStack(path, { cacheBytes: 0 });
    expect(stack.info).toMatchObject({ dtype: 'uint8', compression: 'deflate', depth: dims.depth });
    for (let z = 0; z < dims.depth; z++) {
      expect(Buffer.compare(back.sliceOrZeros(z), expected[z])).toBe(0);
      expect(Buffer.compare(await stack.readSlice(z) as Uint8Array, expected[z])).toBe(0);
    }
    await stack.close();
    back.close();
  });

  it.skipIf(!python)('tifffile reads the file value for value (ImageJ stack, shared empty page, counts tag)', async () => {
    const dims = { width: 40, height: 30, depth: 9 };
    const rand = seeded(11);
    const v = new LabelVolume(dims.width, dims.height, dims.depth);
    const all = new Uint8Array(dims.width * dims.height * dims.depth);
    for (const z of [1, 4, 8]) {
      const s = Uint8Array.from({ length: dims.width * dims.height }, () => (rand() < 0.5 ? 1 + Math.floor(rand() * 4) : 0));
      v.setSlice(z, s);
      all.set(s, z * s.length);
    }
    const d = fresh();
    const path = join(d, 'p.labels.tif');
    await writeLabelsFile(path, v);
    writeFileSync(join(d, 'expected.raw'), all);
    const script = [
      'import sys, numpy, tifffile',
      'a = tifffile.imread(sys.argv[1]); e = numpy.fromfile(sys.argv[2], dtype=numpy.uint8).reshape(a.shape)',
      't = tifffile.TiffFile(sys.argv[1])',
      'print(a.shape, a.dtype, t.is_imagej, len(t.pages), int((a != e).sum()), int(t.pages[0].compression))',
    ].join('\n');
    const out = execFileSync('/usr/bin/python3', ['-c', script, path, join(d, 'expected.raw')], { encoding: 'utf8' }).trim();
    expect(out).toBe('(9, 30, 40) uint8 True 9 0 8'); // 8: Adobe deflate
  });
});

describe('files written by other programs and older versions', () => {
  it('an uncompressed stack (every page, zeros included) is scanned once, keeping nothing, and saved compressed', async () => {
    const dims = { width: 64, height: 64, depth: 30 };
    const d = fresh();
    const image = join(d, 'old.tif');
    const w = await StackWriter.create(join(d, 'old.labels.tif'), { ...dims, dtype: 'uint8' });
    for (let z = 0; z < dims.depth; z++) {
      const s = new Uint8Array(64 * 64);
      if (z === 4 || z === 20) s.fill(z === 4 ? 1 : 2, 64 * 10, 64 * 12);
      await w.appendSlice(s);
    }
    await w.close();
    const oldBytes = statSync(join(d, 'old.labels.tif')).size;
    const { labels } = await DocumentLabels.load(image, dims);
    expect(labels.volume.annotatedSlices()).toEqual([{ z: 4, labeled: 128 }, { z: 20, labeled: 128 }]);
    expect(labels.volume.loadedSlices).toBe(0);
    expect(labels.volume.backing!.pagesDecoded).toBe(dims.depth); // the one scan: the file has no counts
    await labels.save(OVERWRITE);
    expect(statSync(labels.paths.labels).size).toBeLessThan(oldBytes / 5);
    expect(readFileSync(`${labels.paths.labels}.bak`).length).toBe(oldBytes); // the old file kept as .bak
    const again = await readLabelsFile(labels.paths.labels, dims);
    expect(again.backing!.pagesDecoded).toBe(0);
    expect(again.sliceOrZeros(20)[64 * 11]).toBe(2);
    again.close();
    labels.dispose();
  });

  it('deflate pages without counts (tifffile, Fiji) are scanned once; a tiled file is read up front', async () => {
    const dims = { width: 32, height: 32, depth: 6 };
    const d = fresh();
    const w = await StackWriter.create(join(d, 'z.labels.tif'), { ...dims, dtype: 'uint8' }, { compression: 'deflate' });
    for (let z = 0; z < dims.depth; z++) await w.appendSlice(new Uint8Array(32 * 32).fill(z === 3 ? 5 : 0));
    await w.close();
    const v = await readLabelsFile(join(d, 'z.labels.tif'), dims);
    expect(v.classCounts()).toEqual([[5, 1024]]);
    expect(v.backing!.copyable(3)).toBe(true);
    v.close();
  });
});

describe('memory stays bounded by what is painted', () => {
  it('decoded slices equal to the file are dropped over the budget and read back; painted ones never', async () => {
    const dims = { width: 64, height: 64, depth: 30 };
    const image = await savedStack(dims, Array.from({ length: 20 }, (_, z) => z));
    const { labels } = await DocumentLabels.load(image, dims);
    const v = labels.volume;
    v.cleanCacheBytes = 4 * 64 * 64;
    paint(labels, 0, 3, 40, 40, 5, 5); // dirty: kept whatever the budget
    for (let z = 1; z < 20; z++) expect(v.slice(z)).toBeDefined();
    expect(v.loadedSlices).toBeLessThanOrEqual(5);
    expect(v.slice(0)![40 * 64 + 40]).toBe(3);
    const again = v.slice(1)!; // read back
    expect(again[(3 + 2) * 64 + 2 + 1]).toBe(2);
    labels.dispose();
  });

  it('deleting a class decodes only the slices the file says hold it', async () => {
    const dims = { width: 32, height: 32, depth: 10 };
    const image = await savedStack(dims, [1, 2, 3, 4]); // classes 1, 2, 3, 1
    const { labels } = await DocumentLabels.load(image, dims);
    const patches = clearClassPatches(labels.volume, 2);
    expect(patches.map((p) => p.z)).toEqual([2]);
    expect(labels.volume.backing!.pagesDecoded).toBe(1);
    labels.dispose();
  });
});
