// Pixel operations of the annotation tools on one uint8 label slice (width x height, row-major). Pure (no DOM),
// unit-tested. Every operation grows a dirty rectangle so the caller redraws and sends only what changed.

import { forEachPatchRun, type RleRuns } from '../src/shared/labels/rle';

/** Half-open rectangle [x0, x1) x [y0, y1); empty when x1 <= x0. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function emptyRect(): Rect {
  return { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
}

export function isEmptyRect(r: Rect): boolean {
  return !(r.x1 > r.x0 && r.y1 > r.y0);
}

function grow(r: Rect, x0: number, y0: number, x1: number, y1: number): void {
  if (x0 < r.x0) r.x0 = x0;
  if (y0 < r.y0) r.y0 = y0;
  if (x1 > r.x1) r.x1 = x1;
  if (y1 > r.y1) r.y1 = y1;
}

/**
 * Centre of a brush of `diameter` pixels under image point (px, py): a pixel centre for odd diameters, the nearest
 * pixel corner for even ones, so the stamp is symmetric and a 1 px brush paints exactly the pixel under the cursor.
 */
export function brushCentre(px: number, py: number, diameter: number): { cx: number; cy: number } {
  if (diameter % 2 === 1) return { cx: Math.floor(px) + 0.5, cy: Math.floor(py) + 0.5 };
  return { cx: Math.round(px), cy: Math.round(py) };
}

/** Sets every pixel whose centre lies within diameter/2 of (cx, cy) to `value`. */
export function stampDisc(buf: Uint8Array, width: number, height: number, cx: number, cy: number, diameter: number, value: number, dirty: Rect): void {
  const r = diameter / 2;
  const r2 = r * r + 1e-6;
  const yStart = Math.max(0, Math.floor(cy - r));
  const yEnd = Math.min(height - 1, Math.ceil(cy + r));
  for (let y = yStart; y <= yEnd; y++) {
    const dy = y + 0.5 - cy;
    const rest = r2 - dy * dy;
    if (rest < 0) continue;
    const half = Math.sqrt(rest);
    const xa = Math.max(0, Math.ceil(cx - half - 0.5));
    const xb = Math.min(width - 1, Math.floor(cx + half - 0.5));
    if (xb < xa) continue;
    buf.fill(value, y * width + xa, y * width + xb + 1);
    grow(dirty, xa, y, xb + 1, y + 1);
  }
}

/** Stamps discs along the segment so no gap opens between pointer events however fast the mouse moves. */
export function stampLine(buf: Uint8Array, width: number, height: number, ax: number, ay: number, bx: number, by: number, diameter: number, value: number, dirty: Rect): void {
  const step = Math.max(0.5, diameter / 4);
  const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
  for (let i = 1; i <= n; i++) {
    const t = i / n;
    stampDisc(buf, width, height, ax + (bx - ax) * t, ay + (by - ay) * t, diameter, value, dirty);
  }
}

/** The image under a fill: pixel values of the slice (full resolution, row-major) and how close counts as "same". */
export interface FillImage {
  pixels: ArrayLike<number>;
  /** Values within +- tolerance (image units) of the seed value join the region. */
  tolerance: number;
  /** The value compared against; default the seed pixel's (a neighbourhood mean is steadier on a noisy image). */
  seedValue?: number;
}

/**
 * Fills the 4-connected region around (x, y) with `value` (scanline fill, bounded to the slice): pixels whose label
 * equals the seed's label (existing labels bound the region) and, with `image`, whose intensity lies within
 * `image.tolerance` of the seed's intensity (the image region under the click, like ImageJ's wand or ilastik's
 * magic wand). Returns the number of pixels changed.
 */
export function floodFill(buf: Uint8Array, width: number, height: number, x: number, y: number, value: number, dirty: Rect, image?: FillImage): number {
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  const target = buf[y * width + x];
  if (target === value) return 0;
  const px = image?.pixels;
  const seed = image ? image.seedValue ?? image.pixels[y * width + x] : 0;
  const lo = image ? seed - image.tolerance : 0;
  const hi = image ? seed + image.tolerance : 0;
  // NaN pixels never join (NaN comparisons are false); a NaN seed fills nothing.
  const joins = px ? (i: number) => buf[i] === target && px[i] >= lo && px[i] <= hi : (i: number) => buf[i] === target;
  if (!joins(y * width + x)) return 0;
  let changed = 0;
  const stack: number[] = [x, y];
  while (stack.length > 0) {
    const sy = stack.pop()!;
    const sx = stack.pop()!;
    const row = sy * width;
    if (!joins(row + sx)) continue;
    let l = sx;
    while (l > 0 && joins(row + l - 1)) l--;
    let r = sx;
    while (r < width - 1 && joins(row + r + 1)) r++;
    buf.fill(value, row + l, row + r + 1);
    changed += r - l + 1;
    grow(dirty, l, sy, r + 1, sy + 1);
    for (const ny of [sy - 1, sy + 1]) {
      if (ny < 0 || ny >= height) continue;
      const nrow = ny * width;
      let inRun = false;
      for (let i = l; i <= r; i++) {
        const match = joins(nrow + i);
        if (match && !inRun) stack.push(i, ny);
        inRun = match;
      }
    }
  }
  return changed;
}

/** Mean of the (2r+1)^2 pixels around (x, y) inside the slice: a steadier fill seed than one noisy pixel. */
export function neighbourhoodMean(pixels: ArrayLike<number>, width: number, height: number, x: number, y: number, r = 1): number {
  let sum = 0, n = 0;
  for (let yy = Math.max(0, y - r); yy <= Math.min(height - 1, y + r); yy++) {
    for (let xx = Math.max(0, x - r); xx <= Math.min(width - 1, x + r); xx++) {
      const v = pixels[yy * width + xx];
      if (Number.isFinite(v)) { sum += v; n++; }
    }
  }
  return n > 0 ? sum / n : NaN;
}

/** Fills the polygon (image coordinates, closed implicitly) by pixel centres, even-odd rule. Returns pixels set. */
export function fillPolygon(buf: Uint8Array, width: number, height: number, points: readonly { x: number; y: number }[], value: number, dirty: Rect): number {
  if (points.length < 3) return 0;
  let minY = Infinity, maxY = -Infinity;
  for (const p of points) {
    if (p.y < minY) minY = p.y;
    if (p.y > maxY) maxY = p.y;
  }
  let count = 0;
  const xs: number[] = [];
  for (let y = Math.max(0, Math.floor(minY)); y <= Math.min(height - 1, Math.ceil(maxY)); y++) {
    const yc = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const a = points[j], b = points[i];
      if ((a.y <= yc) !== (b.y <= yc)) xs.push(a.x + ((yc - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const xa = Math.max(0, Math.ceil(xs[k] - 0.5));
      const xb = Math.min(width - 1, Math.floor(xs[k + 1] - 0.5));
      if (xb < xa) continue;
      buf.fill(value, y * width + xa, y * width + xb + 1);
      count += xb - xa + 1;
      grow(dirty, xa, y, xb + 1, y + 1);
    }
  }
  return count;
}

/** Copies the rectangle's values out of a slice (row-major, rect width x height). */
export function extractRect(buf: Uint8Array, width: number, r: Rect): Uint8Array {
  const w = r.x1 - r.x0;
  const out = new Uint8Array(w * (r.y1 - r.y0));
  for (let y = r.y0; y < r.y1; y++) out.set(buf.subarray(y * width + r.x0, y * width + r.x1), (y - r.y0) * w);
  return out;
}

/** Writes box values into a slice (inverse of extractRect). */
export function writeRect(buf: Uint8Array, width: number, x: number, y: number, w: number, h: number, values: Uint8Array): void {
  for (let r = 0; r < h; r++) buf.set(values.subarray(r * w, (r + 1) * w), (y + r) * width + x);
}

/** Side of the square tiles in which writeRunsTracked reports changes. */
export const PATCH_TILE = 64;

/**
 * Writes a host patch into the slice, one fill per row and tile of each stretch it sets (see forEachPatchRun: with
 * `from`, the values the patch replaces, only where from and `to` differ, never reading the slice; without it the
 * whole box, filling only what differs). Returns the rectangles that changed: horizontal runs of changed PATCH_TILE
 * tiles, clipped to the box, so undoing a long diagonal stroke redraws the tiles along the stroke, not its box.
 */
export function writeRunsTracked(buf: Uint8Array, width: number, box: { x: number; y: number; width: number; height: number }, to: RleRuns, from?: RleRuns): Rect[] {
  const T = PATCH_TILE;
  const tilesX = Math.ceil(box.width / T);
  const dirty = new Uint8Array(tilesX * Math.ceil(box.height / T));
  forEachPatchRun(to, from, (start, length, v) => {
    for (let p = start, left = length; left > 0;) {
      const r = Math.floor(p / box.width);
      const c = p - r * box.width;
      // Up to the end of this row and of this tile.
      const len = Math.min(left, box.width - c, T - (c % T));
      const at = (box.y + r) * width + box.x + c;
      const tile = Math.floor(r / T) * tilesX + Math.floor(c / T);
      if (from) {
        buf.fill(v, at, at + len);
        dirty[tile] = 1;
      } else {
        for (let i = at, end = at + len; i < end; i++) {
          if (buf[i] !== v) {
            buf.fill(v, i, end);
            dirty[tile] = 1;
            break;
          }
        }
      }
      p += len;
      left -= len;
    }
  });
  const rects: Rect[] = [];
  for (let ty = 0; ty * T < box.height; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      if (!dirty[ty * tilesX + tx]) continue;
      const start = tx;
      while (tx + 1 < tilesX && dirty[ty * tilesX + tx + 1]) tx++;
      rects.push({
        x0: box.x + start * T, x1: box.x + Math.min(box.width, (tx + 1) * T),
        y0: box.y + ty * T, y1: box.y + Math.min(box.height, (ty + 1) * T),
      });
    }
  }
  return rects;
}
