// The image canvas: holds one slice at full resolution (one canvas pixel per image pixel) and is placed
// in the viewport with a CSS transform. Zoom and pan change only the transform, so they never redraw
// pixels; a slice change is one pass through the window LUT into a reused ImageData and one putImageData.

import type { DType, PixelArray } from '../src/core/types';
import { applyWindow, buildLut, type DisplayWindow } from './lut';
import type { View } from './zoom';

export class ImageCanvas {
  private readonly ctx: CanvasRenderingContext2D;
  private imageData: ImageData | undefined;
  private words: Uint32Array | undefined;
  private lut: { dtype: DType; min: number; max: number; table: Uint32Array } | undefined;

  constructor(readonly canvas: HTMLCanvasElement) {
    // alpha:false lets the compositor skip blending; every pixel we write is opaque anyway.
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('This webview cannot create a 2D canvas.');
    this.ctx = ctx;
  }

  setSize(width: number, height: number): void {
    if (this.canvas.width === width && this.canvas.height === height && this.imageData) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.imageData = this.ctx.createImageData(width, height);
    this.words = new Uint32Array(this.imageData.data.buffer);
  }

  /** Paints a slice under the display window. */
  draw(pixels: PixelArray, dtype: DType, w: DisplayWindow): void {
    if (!this.imageData || !this.words) throw new Error('ImageCanvas.setSize must be called before draw');
    applyWindow(pixels, dtype, w, this.words, this.lutFor(dtype, w));
    this.ctx.putImageData(this.imageData, 0, 0);
  }

  private lutFor(dtype: DType, w: DisplayWindow): Uint32Array | undefined {
    const l = this.lut;
    if (l && l.dtype === dtype && l.min === w.min && l.max === w.max) return l.table;
    const table = buildLut(dtype, w);
    this.lut = table ? { dtype, min: w.min, max: w.max, table } : undefined;
    return table;
  }

  /** Places the canvas: screen = image * scale + (tx, ty). Magnified pixels stay crisp squares. */
  setView(v: View): void {
    this.canvas.style.transform = `translate(${v.tx}px, ${v.ty}px) scale(${v.scale})`;
    this.canvas.classList.toggle('pixelated', v.scale >= 1);
  }
}
