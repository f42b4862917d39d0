// The image canvas: holds one slice at one resolution level (one canvas pixel per level pixel: level 1 is one per
// image pixel, level f one per f x f block) and is placed in the viewport with a CSS transform scaled by f, so it
// covers the same screen area at every level and overlays in image coordinates stay aligned. Zoom and pan change only
// the transform, so they never redraw pixels; a slice change is one pass through the window LUT into a reused
// ImageData and one putImageData.

import type { DType, PixelArray } from '../src/shared/types';
import { applyWindow, buildLut, type DisplayWindow } from './lut';
import type { View } from './zoom';

export class ImageCanvas {
  private readonly ctx: CanvasRenderingContext2D;
  /** One reusable ImageData per level size (the preview and the display level alternate while stepping). */
  private readonly buffers = new Map<string, { imageData: ImageData; words: Uint32Array }>();
  private lut: { dtype: DType; min: number; max: number; table: Uint32Array } | undefined;
  private view: View = { scale: 1, tx: 0, ty: 0 };
  private level = 1;
  /** Label view: packed RGBA per value (uint8/uint16 data) used instead of the gray window (webview/labelView.ts). */
  private palette: Uint32Array | undefined;

  constructor(readonly canvas: HTMLCanvasElement) {
    // alpha:false lets the compositor skip blending; every pixel we write is opaque anyway.
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('This webview cannot create a 2D canvas.');
    this.ctx = ctx;
  }

  /** Full-resolution size, before the first slice arrives. */
  setSize(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  /** Paints a slice of resolution level `level` (`width` x `height` level pixels) under the display window. */
  draw(pixels: PixelArray, dtype: DType, w: DisplayWindow, level = 1, width = this.canvas.width, height = this.canvas.height): void {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const buf = this.bufferFor(width, height);
    applyWindow(pixels, dtype, w, buf.words, this.lutFor(dtype, w));
    this.ctx.putImageData(buf.imageData, 0, 0);
    if (level !== this.level) {
      this.level = level;
      this.applyTransform();
    }
  }

  /** Paints RGBA words made by `fill` (a composite of channels: webview/composite.ts) at level `level`. */
  drawWords(fill: (out: Uint32Array) => void, level: number, width: number, height: number): void {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const buf = this.bufferFor(width, height);
    fill(buf.words);
    this.ctx.putImageData(buf.imageData, 0, 0);
    if (level !== this.level) {
      this.level = level;
      this.applyTransform();
    }
  }

  private bufferFor(width: number, height: number): { imageData: ImageData; words: Uint32Array } {
    const key = `${width}x${height}`;
    let buf = this.buffers.get(key);
    if (!buf) {
      if (this.buffers.size >= 4) this.buffers.clear();
      const imageData = this.ctx.createImageData(width, height);
      buf = { imageData, words: new Uint32Array(imageData.data.buffer) };
      this.buffers.set(key, buf);
    }
    return buf;
  }

  setPalette(table: Uint32Array | undefined): void {
    this.palette = table;
  }

  private lutFor(dtype: DType, w: DisplayWindow): Uint32Array | undefined {
    if (this.palette && (dtype === 'uint8' || dtype === 'uint16')) return this.palette;
    const l = this.lut;
    if (l && l.dtype === dtype && l.min === w.min && l.max === w.max) return l.table;
    const table = buildLut(dtype, w);
    this.lut = table ? { dtype, min: w.min, max: w.max, table } : undefined;
    return table;
  }

  /** Places the canvas: screen = image * scale + (tx, ty). Magnified full-resolution pixels stay crisp squares. */
  setView(v: View): void {
    this.view = v;
    this.applyTransform();
  }

  private applyTransform(): void {
    const v = this.view;
    this.canvas.style.transform = `translate(${v.tx}px, ${v.ty}px) scale(${v.scale * this.level})`;
    // A coarse level is a stand-in: smooth it rather than show its blocks as if they were pixels.
    this.canvas.classList.toggle('pixelated', this.level === 1 && v.scale >= 1);
  }
}
