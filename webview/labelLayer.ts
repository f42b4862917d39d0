// Label overlay: a canvas the size of the image, placed over the image canvas with the same CSS transform, that
// shows one label slice in the class colours. Painting redraws only the dirty rectangle (one putImageData of that
// rectangle), so a brush stroke on a 2048 x 2048 slice costs a few hundred pixels per frame, not 4 million.
// Opacity and visibility are CSS properties of the canvas: changing them never touches pixels.

import type { LabelClass } from '../src/shared/labels/classes';
import type { Rect } from './paintOps';
import type { View } from './zoom';

/** Packed RGBA (little-endian: 0xAABBGGRR) per label value; 0 stays transparent. */
export function colourTable(classes: readonly LabelClass[]): Uint32Array {
  const table = new Uint32Array(256);
  for (let v = 1; v < 256; v++) table[v] = 0xff808080; // a value without a class shows grey, never invisible
  for (const c of classes) {
    const n = parseInt(c.color.slice(1), 16);
    const r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    table[c.index] = (0xff << 24 | b << 16 | g << 8 | r) >>> 0;
  }
  return table;
}

export class OverlayCanvas {
  private readonly ctx: CanvasRenderingContext2D;
  private imageData: ImageData | undefined;
  private words: Uint32Array | undefined;
  private table: Uint32Array = new Uint32Array(256);
  private width = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('This webview cannot create a 2D canvas.');
    this.ctx = ctx;
  }

  setSize(width: number, height: number): void {
    if (this.canvas.width === width && this.canvas.height === height && this.imageData) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.width = width;
    this.imageData = this.ctx.createImageData(width, height);
    this.words = new Uint32Array(this.imageData.data.buffer);
  }

  setColours(classes: readonly LabelClass[]): void {
    this.table = colourTable(classes);
  }

  /** Any value -> RGBA (little-endian ABGR words) table, e.g. a heat map. */
  setTable(table: Uint32Array): void {
    this.table = table;
  }

  /** Draws a whole slice (undefined: nothing labeled). */
  drawAll(labels: Uint8Array | undefined): void {
    const words = this.words;
    if (!words || !this.imageData) return;
    if (!labels) {
      words.fill(0);
      this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      return;
    }
    const t = this.table;
    for (let i = 0; i < labels.length; i++) words[i] = t[labels[i]];
    this.ctx.putImageData(this.imageData, 0, 0);
  }

  /** Redraws the rectangle from the label slice. */
  drawRect(labels: Uint8Array, r: Rect): void {
    const words = this.words;
    if (!words || !this.imageData || !(r.x1 > r.x0 && r.y1 > r.y0)) return;
    const t = this.table;
    const w = this.width;
    for (let y = r.y0; y < r.y1; y++) {
      const row = y * w;
      for (let i = row + r.x0, end = row + r.x1; i < end; i++) words[i] = t[labels[i]];
    }
    this.ctx.putImageData(this.imageData, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
  }

  setView(v: View): void {
    this.canvas.style.transform = `translate(${v.tx}px, ${v.ty}px) scale(${v.scale})`;
    this.canvas.classList.toggle('pixelated', v.scale >= 1);
  }
}
