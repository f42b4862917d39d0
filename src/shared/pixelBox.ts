// A small box of full-resolution pixels: what the exact pixel readout needs from a slice shown at a coarse level.
// Over a slow link the host sends this box (8 KB for 64 x 64 uint16) instead of the whole slice (8 MB for 2048²):
// the screen cannot show full resolution, so it is never sent for a readout. Pure (no vscode, no DOM).

import type { PixelArray } from './types';

/** Longest side of a box the webview may ask for (protocol `requestPixels`). */
export const MAX_PIXEL_BOX = 64;

export interface Box { x: number; y: number; width: number; height: number }

/** The box of `side` x `side` pixels centred on (x, y), moved inside a width x height slice (smaller if the slice is). */
export function boxAround(x: number, y: number, width: number, height: number, side = MAX_PIXEL_BOX): Box {
  const w = Math.min(side, width), h = Math.min(side, height);
  const bx = Math.max(0, Math.min(width - w, Math.round(x) - (w >> 1)));
  const by = Math.max(0, Math.min(height - h, Math.round(y) - (h >> 1)));
  return { x: bx, y: by, width: w, height: h };
}

/** Whether pixel (x, y) lies in `box`. */
export function inBox(box: Box, x: number, y: number): boolean {
  return x >= box.x && y >= box.y && x < box.x + box.width && y < box.y + box.height;
}

/** A copy of `box` of a row-major slice `width` pixels wide, same element type; the box must lie inside the slice. */
export function cropBox(pixels: PixelArray, width: number, box: Box): PixelArray {
  const height = pixels.length / width;
  if (box.x < 0 || box.y < 0 || box.width < 1 || box.height < 1 || box.x + box.width > width || box.y + box.height > height) {
    throw new RangeError(`box ${box.x},${box.y} ${box.width}x${box.height} is not inside the ${width} x ${height} slice`);
  }
  const out = new (pixels.constructor as new (n: number) => PixelArray)(box.width * box.height);
  for (let r = 0; r < box.height; r++) {
    const from = (box.y + r) * width + box.x;
    out.set(pixels.subarray(from, from + box.width) as never, r * box.width);
  }
  return out;
}
