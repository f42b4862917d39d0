// Box patches applied run by run (the undo/redo path): same bytes and the same counts as a brute-force rewrite.
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/shared/labels/classes';
import { applyEdit, applyWrite, diffPatch, parseBackup, serializeBackup, strokePatch, type LabelEdit } from '../../src/core/labels/edits';
import { LabelVolume, type Box } from '../../src/core/labels/labelVolume';
import { constantRle, decodeRle, decodeRuns, encodeBoxRle, encodeRle, forEachPatchRun } from '../../src/shared/labels/rle';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function crop(src: Uint8Array, stride: number, b: Box): Uint8Array {
  const out = new Uint8Array(b.width * b.height);
  for (let r = 0; r < b.height; r++) out.set(src.subarray((b.y + r) * stride + b.x, (b.y + r) * stride + b.x + b.width), r * b.width);
  return out;
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : Buffer.compare(a, b) === 0;
}

/** Counts recomputed from every pixel, to compare with the volume's incremental ones. */
function recount(v: LabelVolume): { counts: [number, number][]; annotated: { z: number; labeled: number }[] } {
  const totals = new Array<number>(256).fill(0);
  const annotated: { z: number; labeled: number }[] = [];
  for (let z = 0; z < v.depth; z++) {
    const s = v.slice(z);
    if (!s) continue;
    let labeled = 0;
    for (const x of s) if (x !== 0) { totals[x]++; labeled++; }
    expect(labeled, `slice ${z} is kept allocated with no labels`).toBeGreaterThan(0);
    annotated.push({ z, labeled });
  }
  return { counts: totals.flatMap((n, k) => (k > 0 && n > 0 ? [[k, n] as [number, number]] : [])), annotated };
}

/** Random blobby values (runs of a few classes, with zeros), the kind of data strokes leave. */
function blobs(n: number, rand: () => number, classes = 3): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const len = 1 + Math.floor(rand() * (rand() < 0.1 ? 400 : 12));
    out.fill(rand() < 0.5 ? 0 : 1 + Math.floor(rand() * classes), i, Math.min(n, i + len));
    i += len;
  }
  return out;
}

function randomBox(rand: () => number, width: number, height: number): Box {
  const x = Math.floor(rand() * width), y = Math.floor(rand() * height);
  return { x, y, width: 1 + Math.floor(rand() * (width - x)), height: 1 + Math.floor(rand() * (height - y)) };
}

describe('RLE of boxes and runs', () => {
  it('encodeBoxRle gives the bytes of encodeRle(cropped box), also for runs across rows and over 128', () => {
    const rand = seeded(11);
    const width = 300, height = 40;
    const img = blobs(width * height, rand);
    img.fill(0, 0, 5 * width); // long runs across whole rows
    for (let k = 0; k < 200; k++) {
      const b = randomBox(rand, width, height);
      expect(encodeBoxRle(img, width, b)).toEqual(encodeRle(crop(img, width, b)));
    }
    expect(encodeBoxRle(img, width, { x: 0, y: 0, width, height })).toEqual(encodeRle(img));
  });

  it('constantRle is encodeRle of a filled array', () => {
    for (const n of [1, 127, 128, 16383, 16384, 2048 * 2048, 2 ** 31 + 5]) {
      const want = n < 1e7 ? encodeRle(new Uint8Array(n).fill(9)) : undefined;
      const got = constantRle(9, n);
      if (want) expect(got).toEqual(want);
      expect(decodeRuns(got, n)).toMatchObject({ count: 1 });
    }
  });

  it('decodeRuns lists the runs and rejects what decodeRle rejects', () => {
    const data = Uint8Array.from([0, 0, 0, 5, 5, 0, 7]);
    const runs = decodeRuns(encodeRle(data), data.length);
    expect([...runs.values.subarray(0, runs.count)]).toEqual([0, 5, 0, 7]);
    expect([...runs.lengths.subarray(0, runs.count)]).toEqual([3, 2, 1, 1]);
    expect(() => decodeRuns(Uint8Array.from([1, 10]), 5)).toThrow(/more than the 5/);
    expect(() => decodeRuns(Uint8Array.from([1, 3]), 5)).toThrow(/holds 3 values, expected 5/);
    expect(() => decodeRuns(Uint8Array.from([1, 0x80]), 5)).toThrow(/ends inside/);
    expect(() => decodeRuns(Uint8Array.from([1, 0]), 5)).toThrow(/length 0/);
  });
});

describe('forEachPatchRun', () => {
  it('visits every run without `from`, and with it exactly the values that differ, neighbours of one value merged', () => {
    const rand = seeded(21);
    for (let k = 0; k < 50; k++) {
      const n = 1 + Math.floor(rand() * 3000);
      const from = blobs(n, rand, 2);
      const to = from.slice();
      for (let i = 0; i < n; i++) if (rand() < 0.05) to.fill(Math.floor(rand() * 3), i, i + Math.floor(rand() * 30));
      const seen = new Uint8Array(n).fill(255);
      const stretches: [number, number, number][] = [];
      forEachPatchRun(decodeRuns(encodeRle(to), n), decodeRuns(encodeRle(from), n), (start, length, v) => {
        stretches.push([start, length, v]);
        seen.fill(v, start, start + length);
      });
      for (let i = 0; i < n; i++) expect(seen[i]).toBe(from[i] !== to[i] ? to[i] : 255);
      for (let j = 1; j < stretches.length; j++) {
        const [ps, pl, pv] = stretches[j - 1];
        expect(stretches[j][0]).toBeGreaterThanOrEqual(ps + pl);
        if (stretches[j][0] === ps + pl) expect(stretches[j][2]).not.toBe(pv);
      }
      const all: number[] = [];
      forEachPatchRun(decodeRuns(encodeRle(to), n), undefined, (start, length, v) => { for (let i = 0; i < length; i++) all[start + i] = v; });
      expect(Uint8Array.from(all)).toEqual(to);
    }
  });
});

describe('LabelVolume.writeRuns', () => {
  it('writes the same pixels as writeBox and keeps counts equal to a full recount', () => {
    const rand = seeded(5);
    const W = 70, H = 50, D = 3;
    const byRuns = new LabelVolume(W, H, D);
    const byValues = new LabelVolume(W, H, D);
    for (let k = 0; k < 300; k++) {
      const z = Math.floor(rand() * D);
      const b = randomBox(rand, W, H);
      // Every few writes erase a box completely, so slices get freed and reallocated.
      const values = rand() < 0.2 ? new Uint8Array(b.width * b.height) : blobs(b.width * b.height, rand, 4);
      byRuns.writeRuns(z, b, decodeRuns(encodeRle(values), values.length));
      byValues.writeBox(z, b, values);
      if (k % 10 === 0) byRuns.writeRuns(z, { x: 0, y: 0, width: W, height: H }, decodeRuns(constantRle(0, W * H), W * H));
      if (k % 10 === 0) byValues.writeBox(z, { x: 0, y: 0, width: W, height: H }, new Uint8Array(W * H));
      for (let s = 0; s < D; s++) expect(same(byRuns.slice(s), byValues.slice(s)), `slice ${s} after write ${k}`).toBe(true);
      const want = recount(byRuns);
      expect(byRuns.classCounts()).toEqual(want.counts);
      expect(byRuns.annotatedSlices()).toEqual(want.annotated);
    }
    expect(byRuns.allocatedBytes).toBe(byValues.allocatedBytes);
  });

  it('with `from` writes only where from and to differ, and counts what it really replaced', () => {
    const rand = seeded(8);
    const W = 60, H = 40;
    for (let k = 0; k < 60; k++) {
      const v = new LabelVolume(W, H, 1);
      if (k % 4 !== 0) v.writeBox(0, { x: 0, y: 0, width: W, height: H }, blobs(W * H, rand));
      const b = randomBox(rand, W, H);
      const n = b.width * b.height;
      const from = v.readBox(0, b);
      // k odd: the slice no longer holds `from` everywhere (an external change after a revert); those pixels stay.
      if (k % 2 === 1) for (let i = 0; i < 20; i++) v.writeBox(0, { x: Math.floor(rand() * W), y: Math.floor(rand() * H), width: 1, height: 1 }, Uint8Array.of(Math.floor(rand() * 4)));
      const held = v.sliceOrZeros(0).slice();
      const to = from.slice();
      for (let i = 0; i < n; i++) if (rand() < 0.1) to[i] = Math.floor(rand() * 4);
      v.writeRuns(0, b, decodeRuns(encodeRle(to), n), decodeRuns(encodeRle(from), n));
      const got = v.sliceOrZeros(0);
      for (let r = 0; r < b.height; r++) {
        for (let c = 0; c < b.width; c++) {
          const i = (b.y + r) * W + b.x + c, j = r * b.width + c;
          expect(got[i]).toBe(from[j] !== to[j] ? to[j] : held[i]);
        }
      }
      const want = recount(v);
      expect(v.classCounts()).toEqual(want.counts);
      expect(v.annotatedSlices()).toEqual(want.annotated);
    }
  });

  it('reuses the buffer of a slice erased to nothing for the next slice painted (no 4 MB allocation per undo/redo)', () => {
    const v = new LabelVolume(64, 64, 3);
    v.writeRuns(0, { x: 1, y: 1, width: 2, height: 1 }, decodeRuns(constantRle(3, 2), 2));
    const buffer = v.slice(0);
    v.writeRuns(0, { x: 0, y: 0, width: 64, height: 64 }, decodeRuns(constantRle(0, 4096), 4096));
    expect(v.slice(0)).toBeUndefined();
    v.writeRuns(2, { x: 5, y: 5, width: 1, height: 1 }, decodeRuns(constantRle(1, 1), 1));
    expect(v.slice(2)).toBe(buffer);
    expect(v.slice(2)!.reduce((n, x) => n + x, 0)).toBe(1); // zeroed but for the new pixel
    expect(v.classCounts()).toEqual([[1, 1]]);
  });

  it('zeros into an unpainted slice allocate nothing; a wrong run total or a box outside throws before writing', () => {
    const v = new LabelVolume(16, 16, 2);
    v.writeRuns(0, { x: 0, y: 0, width: 16, height: 16 }, decodeRuns(constantRle(0, 256), 256));
    expect(v.allocatedBytes).toBe(0);
    v.writeRuns(1, { x: 2, y: 3, width: 4, height: 2 }, decodeRuns(constantRle(2, 8), 8));
    expect(v.classCounts()).toEqual([[2, 8]]);
    const runs = decodeRuns(constantRle(1, 8), 8);
    expect(() => v.writeRuns(1, { x: 2, y: 3, width: 3, height: 2 }, runs)).toThrow(/8 values for a 3 x 2 box/);
    expect(() => v.writeRuns(1, { x: 14, y: 3, width: 4, height: 2 }, runs)).toThrow(/not inside/);
    expect(v.classCounts()).toEqual([[2, 8]]);
  });
});

describe('diffPatch, strokePatch and undo/redo with run-wise writes', () => {
  it('crop to the changed pixels; before/after hold the old and new values of that box; both give the same patch', () => {
    const rand = seeded(9);
    const W = 64, H = 48;
    for (let k = 0; k < 100; k++) {
      const v = new LabelVolume(W, H, 1);
      if (k % 3 !== 0) v.writeBox(0, { x: 0, y: 0, width: W, height: H }, blobs(W * H, rand));
      const old = v.sliceOrZeros(0).slice();
      const b = randomBox(rand, W, H);
      const after = v.readBox(0, b);
      // Change a random sub-box (sometimes nothing).
      const inner = randomBox(rand, b.width, b.height);
      for (let r = inner.y; r < inner.y + inner.height; r++) for (let c = inner.x; c < inner.x + inner.width; c++) if (rand() < 0.7) after[r * b.width + c] = 1 + Math.floor(rand() * 3);
      const p = diffPatch(v, 0, b, after);
      const fromRle = strokePatch(v, 0, b, encodeRle(after));
      expect(fromRle).toEqual(p);
      const next = old.slice();
      for (let r = 0; r < b.height; r++) next.set(after.subarray(r * b.width, (r + 1) * b.width), (b.y + r) * W + b.x);
      if (!p) {
        expect(next).toEqual(old);
        continue;
      }
      expect(decodeRle(p.before, p.box.width * p.box.height)).toEqual(crop(old, W, p.box));
      expect(decodeRle(p.after, p.box.width * p.box.height)).toEqual(crop(next, W, p.box));
      // Tight: every edge row and column of the box holds a change.
      const changed = (x: number, y: number) => old[y * W + x] !== next[y * W + x];
      const { x, y, width, height } = p.box;
      const rowHas = (yy: number) => Array.from({ length: width }, (_, i) => changed(x + i, yy)).some(Boolean);
      const colHas = (xx: number) => Array.from({ length: height }, (_, i) => changed(xx, y + i)).some(Boolean);
      expect(rowHas(y) && rowHas(y + height - 1) && colHas(x) && colHas(x + width - 1)).toBe(true);
    }
  });

  it('a random history undone and redone keeps pixels and counts exact at every step', () => {
    const rand = seeded(3);
    const W = 50, H = 40, D = 2;
    const v = new LabelVolume(W, H, D);
    const edits: LabelEdit[] = [];
    const states: Uint8Array[][] = [[0, 1].map((z) => v.sliceOrZeros(z).slice())];
    for (let k = 0; k < 40; k++) {
      const z = Math.floor(rand() * D);
      const b = randomBox(rand, W, H);
      const after = rand() < 0.25 ? new Uint8Array(b.width * b.height) : blobs(b.width * b.height, rand);
      const p = diffPatch(v, z, b, after);
      if (!p) continue;
      const e: LabelEdit = { label: `edit ${k}`, patches: [p] };
      applyEdit(v, e, 'redo');
      edits.push(e);
      states.push([0, 1].map((s) => v.sliceOrZeros(s).slice()));
    }
    const check = (i: number) => {
      for (let s = 0; s < D; s++) expect(same(v.sliceOrZeros(s), states[i][s]), `slice ${s} in state ${i}`).toBe(true);
      const want = recount(v);
      expect(v.classCounts()).toEqual(want.counts);
      expect(v.annotatedSlices()).toEqual(want.annotated);
    };
    for (let i = edits.length - 1; i >= 0; i--) {
      applyEdit(v, edits[i], 'undo');
      check(i);
    }
    expect(v.allocatedBytes).toBe(0);
    for (let i = 0; i < edits.length; i++) {
      applyEdit(v, edits[i], 'redo');
      check(i + 1);
    }
  });

  it('a backup with a corrupt or misplaced write is refused whole, before anything is applied', () => {
    const dims = { width: 20, height: 10, depth: 2 };
    const good = { z: 1, box: { x: 2, y: 2, width: 3, height: 3 }, rle: constantRle(2, 9) };
    const text = (writes: unknown[]) => serializeBackup({ ...dims, settings: defaultSettings(), writes: writes as never });
    const ok = parseBackup(text([good]), 'b.json', dims);
    const v = new LabelVolume(20, 10, 2);
    for (const w of ok.writes) applyWrite(v, w);
    expect(v.classCounts()).toEqual([[2, 9]]);
    expect(() => parseBackup(text([good, { ...good, rle: constantRle(2, 8) }]), 'b.json', dims)).toThrow(/b\.json.*write 1.*holds 8 values, expected 9/);
    expect(() => parseBackup(text([good, { ...good, box: { x: 19, y: 2, width: 3, height: 3 } }]), 'b.json', dims)).toThrow(/write 1 is outside/);
    expect(() => parseBackup(text([{ ...good, z: 2 }]), 'b.json', dims)).toThrow(/write 0 is outside/);
    expect(() => parseBackup(text([{ ...good, from: constantRle(0, 10) }]), 'b.json', dims)).toThrow(/write 0.*holds more than the 9/);
    // An undo/redo write keeps its `from` through the backup and is replayed like it was applied.
    const sparse = { ...good, rle: encodeRle(Uint8Array.of(0, 0, 0, 0, 3, 0, 0, 0, 0)), from: constantRle(0, 9) };
    const back = parseBackup(text([good, sparse]), 'b.json', dims);
    expect(back.writes[1].from).toEqual(sparse.from);
    const w = new LabelVolume(20, 10, 2);
    for (const x of back.writes) applyWrite(w, x);
    expect(w.readBox(1, good.box)).toEqual(Uint8Array.of(2, 2, 2, 2, 3, 2, 2, 2, 2));
  });
});
