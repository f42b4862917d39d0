import { describe, expect, it } from 'vitest';
import { decodeRuns, encodeRle } from '../../src/shared/labels/rle';
import { brushCentre, emptyRect, extractRect, fillPolygon, floodFill, neighbourhoodMean, PATCH_TILE, stampDisc, stampLine, writeRect, writeRunsTracked } from '../../webview/paintOps';

const W = 40, H = 30;
const count = (b: Uint8Array, v: number) => b.reduce((n, x) => n + (x === v ? 1 : 0), 0);

describe('brush', () => {
  it('a 1 px brush paints exactly the pixel under the cursor; 3 px a 3x3 block; 5 px a disc', () => {
    for (const [d, n] of [[1, 1], [2, 4], [3, 9], [5, 21]] as const) {
      const b = new Uint8Array(W * H);
      const c = brushCentre(10.7, 12.2, d);
      const dirty = emptyRect();
      stampDisc(b, W, H, c.cx, c.cy, d, 2, dirty);
      expect(count(b, 2)).toBe(n);
      expect(dirty.x1 - dirty.x0).toBe(d);
      if (d === 1) expect(b[12 * W + 10]).toBe(2);
    }
  });

  it('a fast stroke leaves no gaps and clips at the slice edge', () => {
    const b = new Uint8Array(W * H);
    const dirty = emptyRect();
    stampLine(b, W, H, 0.5, 5.5, 39.5, 5.5, 1, 1, dirty);
    expect(count(b, 1)).toBe(40);
    stampDisc(b, W, H, 0, 0, 9, 3, dirty);
    expect(dirty).toMatchObject({ x0: 0, y0: 0 });
    expect(b[0]).toBe(3);
  });
});

describe('flood fill', () => {
  it('fills a 4-connected region bounded by other labels and by the slice', () => {
    const b = new Uint8Array(W * H);
    // A closed square outline of class 1 from (5,5) to (14,14); a diagonal gap does not leak (4-connectivity).
    for (let i = 5; i <= 14; i++) { b[5 * W + i] = 1; b[14 * W + i] = 1; b[i * W + 5] = 1; b[i * W + 14] = 1; }
    const inside = emptyRect();
    expect(floodFill(b, W, H, 8, 8, 2, inside)).toBe(64);
    expect(inside).toEqual({ x0: 6, y0: 6, x1: 14, y1: 14 });
    expect(floodFill(b, W, H, 8, 8, 2, emptyRect())).toBe(0); // same value: nothing to do
    const outside = emptyRect();
    expect(floodFill(b, W, H, 0, 0, 3, outside)).toBe(W * H - 64 - 36);
    expect(outside).toEqual({ x0: 0, y0: 0, x1: W, y1: H });
  });
});

describe('lasso', () => {
  it('fills pixels whose centres are inside the polygon', () => {
    const b = new Uint8Array(W * H);
    const dirty = emptyRect();
    expect(fillPolygon(b, W, H, [{ x: 2, y: 2 }, { x: 12, y: 2 }, { x: 12, y: 7 }, { x: 2, y: 7 }], 4, dirty)).toBe(50);
    expect(dirty).toEqual({ x0: 2, y0: 2, x1: 12, y1: 7 });
    const tri = new Uint8Array(W * H);
    const n = fillPolygon(tri, W, H, [{ x: 0, y: 0 }, { x: 20, y: 0 }, { x: 0, y: 20 }], 1, emptyRect());
    expect(n).toBeGreaterThan(180);
    expect(n).toBeLessThan(220);
  });

  it('extractRect and writeRect are inverse', () => {
    const b = Uint8Array.from({ length: W * H }, (_, i) => i & 255);
    const r = { x0: 3, y0: 4, x1: 9, y1: 8 };
    const v = extractRect(b, W, r);
    const c = new Uint8Array(W * H);
    writeRect(c, W, 3, 4, 6, 4, v);
    expect(c[5 * W + 7]).toBe(b[5 * W + 7]);
    expect(count(c, 0)).toBe(W * H - 24 + count(v, 0));
  });
});

describe('host patches (undo/redo) in the webview', () => {
  it('writeRunsTracked writes the box and reports exactly the changed tiles, as disjoint rectangles', () => {
    const SW = 300, SH = 200, T = PATCH_TILE;
    let seed = 1;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    for (let k = 0; k < 40; k++) {
      const buf = Uint8Array.from({ length: SW * SH }, () => (rand() < 0.02 ? 2 : 0));
      const before = buf.slice();
      const box = { x: Math.floor(rand() * 100), y: Math.floor(rand() * 60), width: 1 + Math.floor(rand() * 199), height: 1 + Math.floor(rand() * 139) };
      // The patch: the box as it is, with a diagonal stroke of 1s (k = 0: no change at all).
      const values = extractRect(buf, SW, { x0: box.x, y0: box.y, x1: box.x + box.width, y1: box.y + box.height });
      if (k > 0) for (let r = 0; r < box.height; r++) for (let c = 0; c < box.width; c++) if (Math.abs(c - r * (k % 3)) < 4) values[r * box.width + c] = 1;
      const expected = before.slice();
      writeRect(expected, SW, box.x, box.y, box.width, box.height, values);
      // Odd k: with `from` (what the box held), as undo/redo patches come.
      const from = k % 2 === 1 ? decodeRuns(encodeRle(extractRect(before, SW, { x0: box.x, y0: box.y, x1: box.x + box.width, y1: box.y + box.height })), values.length) : undefined;
      const rects = writeRunsTracked(buf, SW, box, decodeRuns(encodeRle(values), values.length), from);
      expect(Buffer.compare(buf, expected)).toBe(0);
      const cover = new Uint8Array(SW * SH);
      for (const r of rects) {
        expect(r.x0 >= box.x && r.y0 >= box.y && r.x1 <= box.x + box.width && r.y1 <= box.y + box.height).toBe(true);
        expect((r.x0 - box.x) % T === 0 && (r.y0 - box.y) % T === 0).toBe(true);
        for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) cover[y * SW + x]++;
        // Every tile of the rectangle holds a change.
        for (let tx = r.x0; tx < r.x1; tx += T) {
          let hit = false;
          for (let y = r.y0; y < r.y1 && !hit; y++) for (let x = tx; x < Math.min(tx + T, r.x1); x++) if (before[y * SW + x] !== expected[y * SW + x]) { hit = true; break; }
          expect(hit, `tile at ${tx},${r.y0} reported without a change`).toBe(true);
        }
      }
      for (let i = 0; i < SW * SH; i++) {
        expect(cover[i]).toBeLessThanOrEqual(1);
        if (before[i] !== expected[i]) expect(cover[i], `changed pixel ${i % SW},${Math.floor(i / SW)} not redrawn`).toBe(1);
      }
      if (k === 0) expect(rects).toEqual([]);
    }
  });
});

describe('fill on the image (magic wand)', () => {
  // A dark disc (value 10) in a bright field (100) with a dark ring around it (12) behind a bright wall (100).
  const image = (): Float32Array => {
    const px = new Float32Array(W * H).fill(100);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const r = Math.hypot(x - 15, y - 15);
      if (r < 6) px[y * W + x] = 10 + ((x + y) % 3); // 10..12: a little noise
      else if (r >= 8 && r < 10) px[y * W + x] = 12;
    }
    return px;
  };

  it('fills the connected pixels within the tolerance of the seed, not the whole unlabelled slice', () => {
    const px = image();
    const b = new Uint8Array(W * H);
    const n = floodFill(b, W, H, 15, 15, 1, emptyRect(), { pixels: px, tolerance: 5 });
    let disc = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (Math.hypot(x - 15, y - 15) < 6) disc++;
    expect(n).toBe(disc); // the ring is dark too but the bright wall between stops the fill
    expect(b[15 * W + 24]).toBe(0);
    // Without an image the old behaviour: the whole unlabelled slice.
    expect(floodFill(new Uint8Array(W * H), W, H, 15, 15, 1, emptyRect())).toBe(W * H);
  });

  it('a larger tolerance grows the region; existing labels bound it', () => {
    const px = image();
    const all = floodFill(new Uint8Array(W * H), W, H, 15, 15, 1, emptyRect(), { pixels: px, tolerance: 100 });
    expect(all).toBe(W * H);
    const b = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) b[y * W + 20] = 2; // a labelled column
    const n = floodFill(b, W, H, 15, 15, 1, emptyRect(), { pixels: px, tolerance: 100 });
    expect(n).toBe(20 * H);
    expect(b[0 * W + 25]).toBe(0);
    expect(b[0 * W + 20]).toBe(2);
  });

  it('the seed value can be a neighbourhood mean (steadier on noise); NaN pixels never join', () => {
    const px = image();
    const mean = neighbourhoodMean(px, W, H, 15, 15);
    expect(mean).toBeGreaterThanOrEqual(10);
    expect(mean).toBeLessThanOrEqual(12);
    expect(neighbourhoodMean(px, W, H, 0, 0)).toBe(100); // corner: the 4 pixels inside
    px[15 * W + 16] = NaN;
    const b = new Uint8Array(W * H);
    floodFill(b, W, H, 15, 15, 1, emptyRect(), { pixels: px, tolerance: 5, seedValue: mean });
    expect(b[15 * W + 16]).toBe(0);
    expect(b[15 * W + 15]).toBe(1);
  });
});
