// Painting tools on the viewport: brush, eraser, fill (the image region under the click) and lasso write into the webview's copy of the shown
// slice's labels and redraw the dirty rectangle once per animation frame; the brush outline follows the pointer at
// the current zoom. A finished stroke is handed over as ONE changed box (the Annotator sends it to the host, where
// it becomes one undoable edit).

import type { OverlayCanvas } from './labelLayer';
import type { Tool } from './labelPanel';
import type { PixelArray } from '../src/shared/types';
import { brushCentre, emptyRect, extractRect, fillPolygon, floodFill, isEmptyRect, neighbourhoodMean, stampDisc, stampLine, type Rect } from './paintOps';
import type { View } from './zoom';

export const MAX_BRUSH = 200;

interface Stroke {
  z: number;
  tool: Tool;
  value: number;
  buf: Uint8Array;
  /** Everything the stroke changed (sent on pointerup). */
  dirty: Rect;
  /** Not yet redrawn. */
  pending: Rect;
  last?: { cx: number; cy: number };
  lasso?: { x: number; y: number }[];
  pointerId: number;
  work: number;
}

/** A finished stroke: the changed box of slice z and its label values (row-major). */
export interface FinishedStroke { z: number; box: Rect; values: Uint8Array; tool: Exclude<Tool, 'pan'> }

export interface PainterHost {
  readonly width: number;
  readonly height: number;
  readonly shownSlice: number;
  readonly view: View;
  /** Class painted by brush, fill and lasso (0: none yet). */
  selectedClass(): number;
  /** Colour of the selected class (the brush outline is tinted with it). */
  classColour(): string | undefined;
  /**
   * The image under a fill on slice z: full-resolution pixels and the tolerance in image units; a promise while the
   * exact slice is on its way (only a coarser level is shown); undefined: not available.
   */
  fillImage(z: number): FillSource | Promise<FillSource | undefined> | undefined;
  /** The slice's label buffer, created empty on first paint. */
  labelsOf(z: number): Uint8Array;
  readonly overlay: OverlayCanvas;
  /** ms of main-thread work per painted frame. */
  frameTime(ms: number): void;
  finished(stroke: FinishedStroke): void;
}

export interface FillSource { pixels: PixelArray; tolerance: number }

export class Painter {
  tool: Tool = 'pan';
  brush = 9;
  private spaceHeld = false;
  private stroke: Stroke | undefined;
  private frameScheduled = false;
  private lastPointer: { clientX: number; clientY: number } | undefined;
  private readonly cursor: HTMLElement;
  private readonly lassoSvg: SVGSVGElement;
  private readonly lassoPath: SVGPolylineElement;

  constructor(private readonly viewport: HTMLElement, private readonly host: PainterHost) {
    this.cursor = document.createElement('div');
    this.cursor.className = 'brush-cursor';
    this.cursor.dataset.testid = 'brush-cursor';
    this.cursor.hidden = true;
    this.lassoSvg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.lassoSvg.classList.add('lasso');
    this.lassoPath = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    this.lassoSvg.append(this.lassoPath);
    viewport.append(this.cursor, this.lassoSvg);
    viewport.addEventListener('pointermove', (e) => this.pointerMove(e));
    viewport.addEventListener('pointerup', (e) => this.pointerUp(e));
    viewport.addEventListener('pointercancel', (e) => this.pointerUp(e));
    viewport.addEventListener('pointerleave', () => { this.cursor.hidden = true; });
    document.addEventListener('keyup', (e) => {
      if (e.key === ' ') this.setSpace(false);
    });
    window.addEventListener('blur', () => this.setSpace(false));
  }

  /** The slice a stroke is being painted on, if any. */
  get strokeSlice(): number | undefined {
    return this.stroke?.z;
  }

  get lassoActive(): boolean {
    return this.stroke?.lasso !== undefined;
  }

  setTool(t: Tool): void {
    if (this.stroke) this.endStroke(true);
    this.tool = t;
    this.viewport.dataset.tool = t;
    this.updateCursor();
  }

  setBrush(px: number): number {
    this.brush = Math.min(MAX_BRUSH, Math.max(1, Math.round(px)));
    this.updateCursor();
    return this.brush;
  }

  setSpace(held: boolean): void {
    this.spaceHeld = held;
    this.viewport.classList.toggle('space-pan', held);
  }

  viewChanged(): void {
    this.updateCursor();
    if (this.stroke?.lasso) this.drawLasso();
  }

  private imagePoint(e: { clientX: number; clientY: number }): { x: number; y: number } {
    const r = this.viewport.getBoundingClientRect();
    const v = this.host.view;
    return { x: (e.clientX - r.left - v.tx) / v.scale, y: (e.clientY - r.top - v.ty) / v.scale };
  }

  /** Starts a stroke for a left press with a painting tool; false leaves the press to the viewer (pan). */
  pointerDown(e: PointerEvent): boolean {
    const { width, height } = this.host;
    const z = this.host.shownSlice;
    if (e.button !== 0 || this.spaceHeld || this.tool === 'pan' || width === 0 || z < 0) return false;
    const value = this.tool === 'eraser' ? 0 : this.host.selectedClass();
    if (this.tool !== 'eraser' && value === 0) return true; // no class to paint with
    if (this.stroke) this.endStroke(true);
    const p = this.imagePoint(e);
    if (this.tool === 'fill') {
      const x = Math.floor(p.x), y = Math.floor(p.y);
      if (x < 0 || y < 0 || x >= width || y >= height) return true;
      const image = this.host.fillImage(z);
      // From a coarse level the fill waits for the exact slice (a fill on block means would be blocky).
      if (image instanceof Promise) void image.then((src) => { if (src && this.host.shownSlice === z) this.fill(z, x, y, value, src, e.pointerId); });
      else if (image) this.fill(z, x, y, value, image, e.pointerId);
      return true;
    }
    const buf = this.host.labelsOf(z);
    const s: Stroke = { z, tool: this.tool, value, buf, dirty: emptyRect(), pending: emptyRect(), pointerId: e.pointerId, work: 0 };
    this.stroke = s;
    this.viewport.setPointerCapture(e.pointerId);
    const t0 = performance.now();
    if (this.tool === 'lasso') {
      s.lasso = [p];
      this.drawLasso();
      return true;
    }
    const c = brushCentre(p.x, p.y, this.brush);
    stampDisc(buf, width, height, c.cx, c.cy, this.brush, value, s.pending);
    s.last = c;
    s.work += performance.now() - t0;
    this.scheduleFlush();
    return true;
  }

  /** Fills the image region under (x, y) on slice z: one edit. */
  private fill(z: number, x: number, y: number, value: number, src: FillSource, pointerId: number): void {
    if (this.stroke) this.endStroke(true);
    const { width, height } = this.host;
    const t0 = performance.now();
    const s: Stroke = { z, tool: 'fill', value, buf: this.host.labelsOf(z), dirty: emptyRect(), pending: emptyRect(), pointerId, work: 0 };
    this.stroke = s;
    const seedValue = neighbourhoodMean(src.pixels, width, height, x, y);
    const n = floodFill(s.buf, width, height, x, y, value, s.pending, { pixels: src.pixels, tolerance: src.tolerance, seedValue });
    document.body.dataset.lastFill = String(n);
    s.work += performance.now() - t0;
    this.flush();
    this.endStroke(true);
  }

  private pointerMove(e: PointerEvent): void {
    this.lastPointer = { clientX: e.clientX, clientY: e.clientY };
    this.updateCursor();
    const s = this.stroke;
    if (!s || e.pointerId !== s.pointerId) return;
    const t0 = performance.now();
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length > 0 ? events : [e]) {
      const p = this.imagePoint(ev);
      if (s.lasso) {
        s.lasso.push(p);
        continue;
      }
      const c = brushCentre(p.x, p.y, this.brush);
      const from = s.last ?? c;
      stampLine(s.buf, this.host.width, this.host.height, from.cx, from.cy, c.cx, c.cy, this.brush, s.value, s.pending);
      s.last = c;
    }
    s.work += performance.now() - t0;
    if (s.lasso) this.drawLasso();
    else this.scheduleFlush();
  }

  private pointerUp(e: PointerEvent): void {
    const s = this.stroke;
    if (!s || e.pointerId !== s.pointerId) return;
    if (s.lasso) {
      s.lasso.push(this.imagePoint(e));
      fillPolygon(s.buf, this.host.width, this.host.height, s.lasso, s.value, s.pending);
      this.flush();
    }
    this.endStroke(true);
  }

  private scheduleFlush(): void {
    if (this.frameScheduled) return;
    this.frameScheduled = true;
    requestAnimationFrame(() => {
      this.frameScheduled = false;
      this.flush();
    });
  }

  /** Redraws what the stroke changed since the last frame. */
  private flush(): void {
    const s = this.stroke;
    if (!s || isEmptyRect(s.pending)) return;
    const t0 = performance.now();
    if (s.z === this.host.shownSlice) this.host.overlay.drawRect(s.buf, s.pending);
    const p = s.pending;
    s.dirty.x0 = Math.min(s.dirty.x0, p.x0); s.dirty.y0 = Math.min(s.dirty.y0, p.y0);
    s.dirty.x1 = Math.max(s.dirty.x1, p.x1); s.dirty.y1 = Math.max(s.dirty.y1, p.y1);
    s.pending = emptyRect();
    this.host.frameTime(s.work + performance.now() - t0);
    s.work = 0;
  }

  /** Ends the stroke: `commit` hands the changed box over (PainterHost.finished) as one edit. */
  endStroke(commit: boolean): void {
    const s = this.stroke;
    if (!s) return;
    this.flush();
    this.stroke = undefined;
    this.lassoSvg.classList.remove('active');
    this.lassoPath.setAttribute('points', '');
    if (!commit || isEmptyRect(s.dirty)) return;
    const values = extractRect(s.buf, this.host.width, s.dirty);
    this.host.finished({ z: s.z, box: s.dirty, values, tool: s.tool === 'pan' ? 'brush' : s.tool });
  }

  private drawLasso(): void {
    const s = this.stroke;
    if (!s?.lasso) return;
    const v = this.host.view;
    this.lassoSvg.classList.add('active');
    this.lassoPath.setAttribute('points', s.lasso.map((p) => `${(p.x * v.scale + v.tx).toFixed(1)},${(p.y * v.scale + v.ty).toFixed(1)}`).join(' '));
  }

  /** Brush outline at the current zoom, centred where the stamp will land. */
  private updateCursor(): void {
    const p = this.lastPointer;
    const show = p !== undefined && (this.tool === 'brush' || this.tool === 'eraser') && !this.spaceHeld;
    this.cursor.hidden = !show;
    if (!show || !p) return;
    const v = this.host.view;
    const ip = this.imagePoint(p);
    const c = brushCentre(ip.x, ip.y, this.brush);
    const d = Math.max(2, this.brush * v.scale);
    const sx = c.cx * v.scale + v.tx;
    const sy = c.cy * v.scale + v.ty;
    this.cursor.style.width = `${d}px`;
    this.cursor.style.height = `${d}px`;
    this.cursor.style.transform = `translate(${sx - d / 2}px, ${sy - d / 2}px)`;
    this.cursor.classList.toggle('eraser', this.tool === 'eraser');
    this.cursor.style.setProperty('--class-color', this.tool === 'brush' ? this.host.classColour() ?? 'transparent' : 'transparent');
  }
}
