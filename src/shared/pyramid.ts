// Resolution levels of a slice for streaming to the viewer: level f is the slice reduced by block mean over f x f
// pixels (f = 1, 2, 4, ... MAX_LEVEL). Only level 1 is exact; coarser levels are what a zoomed-out view shows anyway
// and cost 1/f^2 of the bytes to send. Pure (no vscode), so the host, the CLI and the tests share it.

import { allocPixels, type DType, type PixelArray } from './types';

/** Coarsest level served (a 65536-pixel-wide slice still fits in 1024 columns). */
export const MAX_LEVEL = 64;

/** True for 1, 2, 4, ... MAX_LEVEL. */
export function isLevel(f: unknown): f is number {
  return typeof f === 'number' && Number.isInteger(f) && f >= 1 && f <= MAX_LEVEL && (f & (f - 1)) === 0;
}

/** Size of level f of a width x height slice: a partial block at the right/bottom edge makes one more pixel. */
export function levelSize(width: number, height: number, f: number): { width: number; height: number } {
  return { width: Math.ceil(width / f), height: Math.ceil(height / f) };
}

/** Finest level whose longer side is at most `maxSide` pixels (the cheap preview level). */
export function previewLevel(width: number, height: number, maxSide = 512): number {
  let f = 1;
  while (f < MAX_LEVEL && Math.max(width, height) / f > maxSide) f *= 2;
  return f;
}

/**
 * Coarsest level that still gives at least one level pixel per device pixel when the image is drawn at
 * `devicePixelsPerImagePixel` (view scale x devicePixelRatio); >= 1 (zoomed in) gives level 1, the exact data.
 */
export function displayLevel(devicePixelsPerImagePixel: number): number {
  if (!(devicePixelsPerImagePixel > 0)) return 1;
  let f = 1;
  while (f * 2 <= MAX_LEVEL && devicePixelsPerImagePixel * f * 2 <= 1) f *= 2;
  return f;
}

/**
 * Level f of a slice: each output pixel is the mean of its f x f block (of the pixels that exist, at the right and
 * bottom edges). Keeps the dtype so the viewer's window/level and histogram work unchanged; integer means are
 * rounded to nearest. A NaN in a float block makes that block NaN. Level 1 returns the input itself.
 */
export function downsampleMean(pixels: PixelArray, width: number, height: number, dtype: DType, f: number): { data: PixelArray; width: number; height: number } {
  if (!isLevel(f)) throw new Error(`level must be a power of two 1..${MAX_LEVEL}, got ${f}`);
  return blockMean(pixels, width, height, dtype, f);
}

/** The f x f block mean for any integer factor f >= 1 (the live preview reduces by factors that are not levels). */
export function blockMean(pixels: PixelArray, width: number, height: number, dtype: DType, f: number): { data: PixelArray; width: number; height: number } {
  if (!Number.isInteger(f) || f < 1) throw new Error(`block factor must be an integer >= 1, got ${f}`);
  if (pixels.length !== width * height) throw new Error(`slice has ${pixels.length} pixels, expected ${width} x ${height}`);
  if (f === 1) return { data: pixels, width, height };
  const out = levelSize(width, height, f);
  const data = allocPixels(dtype, out.width * out.height);
  const sums = new Float64Array(out.width);
  const round = dtype !== 'float32' && dtype !== 'float64';
  for (let oy = 0; oy < out.height; oy++) {
    sums.fill(0);
    const y0 = oy * f;
    const y1 = Math.min(height, y0 + f);
    for (let y = y0; y < y1; y++) {
      const row = y * width;
      // Whole blocks first (no bounds test in the inner loop), then the partial block at the right edge.
      let x = 0;
      const full = Math.floor(width / f);
      for (let ox = 0; ox < full; ox++) {
        let s = 0;
        for (const end = x + f; x < end; x++) s += pixels[row + x];
        sums[ox] += s;
      }
      for (; x < width; x++) sums[full] += pixels[row + x];
    }
    const rows = y1 - y0;
    const base = oy * out.width;
    for (let ox = 0; ox < out.width; ox++) {
      const cols = Math.min(width, (ox + 1) * f) - ox * f;
      const mean = sums[ox] / (rows * cols);
      data[base + ox] = round ? Math.round(mean) : mean;
    }
  }
  return { data, width: out.width, height: out.height };
}
