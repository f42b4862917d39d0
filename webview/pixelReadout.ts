// Pixel readout in the status bar: the value under the pointer. It is exact from level 1, or from a small box of
// full-resolution pixels around the pointer (src/shared/pixelBox.ts): from a coarser level it is marked approximate,
// and a resting pointer fetches the box (never the whole slice: over a slow link that is megabytes the screen cannot
// show).

import { levelSize } from '../src/shared/pyramid';
import type { PixelArray } from '../src/shared/types';
import type { ViewerStackInfo } from '../src/shared/protocol';
import { formatPixelStatus } from './format';
import { imagePixelAt, type View } from './zoom';

/** Pointer rest after which a readout from a coarse level fetches the exact pixels around the pointer. */
const EXACT_READOUT_MS = 200;

export interface ReadoutSource {
  readonly info: ViewerStackInfo | undefined;
  readonly view: View;
  /** Shown slice (-1: none yet), its level and pixels. */
  shown(): { z: number; level: number; pixels: PixelArray | undefined };
  /** Asks for the full-resolution pixels around image pixel (x, y) of slice z. */
  fetchExact(z: number, x: number, y: number): void;
  /** The exact value of image pixel (x, y) of slice z when the host sent it; undefined otherwise. */
  exactAt(z: number, x: number, y: number): number | undefined;
}

export class PixelReadout {
  private lastPointer: { x: number; y: number } | undefined;
  private exactTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly out: HTMLElement, private readonly src: ReadoutSource) {}

  pointerAt(sx: number, sy: number): void {
    this.lastPointer = { x: sx, y: sy };
    this.refresh();
    const { z, level } = this.src.shown();
    if (level > 1 && z >= 0) {
      clearTimeout(this.exactTimer);
      this.exactTimer = setTimeout(() => {
        const now = this.src.shown().z;
        const info = this.src.info;
        const p = this.lastPointer;
        const px = info && p && imagePixelAt(this.src.view, p.x, p.y, info.width, info.height);
        if (now >= 0 && px && this.src.exactAt(now, px.x, px.y) === undefined) this.src.fetchExact(now, px.x, px.y);
      }, EXACT_READOUT_MS);
    }
  }

  pointerLeft(): void {
    this.lastPointer = undefined;
    this.out.textContent = '';
  }

  refresh(): void {
    const info = this.src.info;
    const p = this.lastPointer;
    if (!info || !p) return;
    const px = imagePixelAt(this.src.view, p.x, p.y, info.width, info.height);
    const { z, level: f, pixels } = this.src.shown();
    if (!px || !pixels) {
      this.out.textContent = '';
      return;
    }
    const exact = f > 1 ? this.src.exactAt(z, px.x, px.y) : undefined;
    if (exact !== undefined) {
      this.out.textContent = formatPixelStatus(px.x, px.y, exact, info.dtype, 1);
      return;
    }
    const size = levelSize(info.width, info.height, f);
    const i = Math.floor(px.y / f) * size.width + Math.floor(px.x / f);
    const n = size.width * size.height;
    // A composite holds its channels one after the other (webview/composite.ts): every channel's value.
    const values = pixels.length > n ? Array.from({ length: Math.floor(pixels.length / n) }, (_, c) => pixels[c * n + i]) : [pixels[i]];
    this.out.textContent = formatPixelStatus(px.x, px.y, values.length > 1 ? values : values[0], info.dtype, f);
  }
}
