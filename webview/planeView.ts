// One orthogonal view of the 3-view mode (orthoViews.ts): the XZ plane at a row y (x across, z down) or the YZ
// plane at a column x (z across, y down). Like the XY view it streams by resolution level (the host cuts level f
// from level-f XY slices: src/shared/levels/planes.ts): a coarse level first, then the level its zoom needs. It holds
// the plane's labels at full resolution (planeLabels from the host) and paints on them with the same Painter as XY;
// a finished stroke is one box in plane coordinates that the host turns into per-slice edits.

import { displayLevel, levelSize } from '../src/shared/pyramid';
import { planeDims, planePreviewLevel, type PlaneAxis, type StackDims } from '../src/shared/levels/planes';
import type { LabelClass } from '../src/shared/labels/classes';
import { decodeRle } from '../src/shared/labels/rle';
import type { DType, PixelArray } from '../src/shared/types';
import { ImageCanvas } from './imageCanvas';
import { OverlayCanvas } from './labelLayer';
import type { Tool } from './labelPanel';
import type { DisplayWindow } from './lut';
import { Painter, type FinishedStroke } from './painter';
import { ViewTransform } from './viewTransform';
import type { View } from './zoom';

export interface PlaneViewHost {
  readonly dtype: DType;
  window(): DisplayWindow;
  tool(): Tool;
  brush(): number;
  selectedClass(): number;
  classColour(): string | undefined;
  /** A finished stroke on plane `index`. */
  stroke(axis: PlaneAxis, index: number, s: FinishedStroke): void;
  /** A click without a drag at plane pixel (u, v): the crosshair moves there. */
  click(axis: PlaneAxis, u: number, v: number): void;
  /** Wheel: the next or previous plane. */
  step(axis: PlaneAxis, delta: number): void;
  request(axis: PlaneAxis, index: number, level: number): void;
}

/** Crosshair lines in plane pixels: a vertical line at column u and a horizontal one at row v (undefined: none). */
export interface Cross { u?: number; v?: number; uColour: string; vColour: string }

export class PlaneView {
  readonly root: HTMLElement;
  private readonly image: ImageCanvas;
  private readonly overlay: OverlayCanvas;
  private readonly painter: Painter;
  private readonly transform: ViewTransform;
  private readonly lines: { u: HTMLElement; v: HTMLElement };
  private readonly size: { width: number; height: number };
  /** Plane shown (or asked for): its index, the levels received for it, and its labels. */
  private index = -1;
  private readonly levels = new Map<number, PixelArray>();
  private shownLevel = 0;
  private labels: Uint8Array | undefined;
  /** Labels that came while a stroke was being painted: applied when it ends. */
  private pendingLabels: Uint8Array | undefined;
  private strokeIndex = -1;
  private cross: Cross = { uColour: '', vColour: '' };
  private press: { id: number; x: number; y: number; moved: boolean } | undefined;

  constructor(readonly axis: PlaneAxis, private readonly dims: StackDims, private readonly host: PlaneViewHost) {
    this.size = planeDims(dims, axis);
    this.root = document.createElement('div');
    this.root.className = `viewport plane-view plane-${axis}`;
    this.root.dataset.testid = `plane-${axis}`;
    const canvas = document.createElement('canvas');
    canvas.className = 'image empty';
    canvas.dataset.testid = `plane-${axis}-canvas`;
    const lab = document.createElement('canvas');
    lab.className = 'overlay labels';
    lab.dataset.testid = `plane-${axis}-labels`;
    const label = document.createElement('span');
    label.className = 'plane-label';
    label.textContent = axis.toUpperCase();
    this.lines = { u: line('u'), v: line('v') };
    this.root.append(canvas, lab, this.lines.u, this.lines.v, label);
    this.image = new ImageCanvas(canvas);
    this.image.setSize(this.size.width, this.size.height);
    this.overlay = new OverlayCanvas(lab);
    this.overlay.setSize(this.size.width, this.size.height);
    this.transform = new ViewTransform(this.root, () => this.size, (v) => this.viewChanged(v));
    const view = this;
    this.painter = new Painter(this.root, {
      get width() { return view.size.width; },
      get height() { return view.size.height; },
      get shownSlice() { return view.labels ? 0 : -1; },
      get view() { return view.transform.view; },
      selectedClass: () => host.selectedClass(),
      classColour: () => host.classColour(),
      fillImage: () => undefined, // fill works in XY (it floods one slice's image)
      labelsOf: () => this.labels ?? new Uint8Array(0),
      overlay: this.overlay,
      frameTime: () => undefined,
      finished: (s) => this.strokeEnded(s),
    });
    this.root.addEventListener('pointerdown', (e) => this.pointerDown(e));
    this.root.addEventListener('pointermove', (e) => this.pointerMove(e));
    this.root.addEventListener('pointerup', (e) => this.pointerUp(e));
    this.root.addEventListener('pointercancel', () => { this.press = undefined; this.root.classList.remove('panning'); });
    this.root.addEventListener('pointerenter', () => this.syncTool());
    this.root.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = this.root.getBoundingClientRect();
      const steps = this.transform.wheel(e, e.clientX - r.left, e.clientY - r.top);
      if (steps !== 0) this.host.step(this.axis, steps);
    }, { passive: false });
    new ResizeObserver(() => this.transform.onResize()).observe(this.root);
  }

  get shownIndex(): number { return this.index; }

  get currentView(): View { return this.transform.view; }

  fit(): void { this.transform.fit(); }

  /** Shows plane `index`: asks for a coarse level first (the finer one follows when it has come). */
  show(index: number): void {
    if (index === this.index) return;
    if (this.painter.strokeSlice !== undefined) this.painter.endStroke(true);
    this.index = index;
    this.levels.clear();
    this.labels = undefined;
    this.pendingLabels = undefined;
    this.host.request(this.axis, index, this.coarseLevel());
  }

  /** Asks again for the plane shown (3 views turned on again, or the image changed). */
  reload(): void {
    const i = this.index;
    this.index = -1;
    if (i >= 0) this.show(i);
  }

  private coarseLevel(): number {
    return Math.max(planePreviewLevel(this.dims, this.axis), this.displayLevel());
  }

  private displayLevel(): number {
    return displayLevel(this.transform.view.scale * (window.devicePixelRatio || 1));
  }

  /** A plane from the host (already checked for size and dtype by the caller). */
  receive(index: number, level: number, width: number, height: number, pixels: PixelArray): void {
    const want = levelSize(this.size.width, this.size.height, level);
    if (index !== this.index || width !== want.width || height !== want.height) return;
    this.levels.set(level, pixels);
    if (!this.shownLevel || level <= this.shownLevel || !this.levels.has(this.shownLevel)) this.draw(level);
    const need = this.displayLevel();
    if (need < level && !this.levels.has(need)) this.host.request(this.axis, index, need);
  }

  /** The plane's labels (full resolution, RLE) from the host. */
  receiveLabels(index: number, rle: ArrayBuffer): void {
    if (index !== this.index) return;
    let values: Uint8Array;
    try {
      values = decodeRle(new Uint8Array(rle), this.size.width * this.size.height);
    } catch {
      return;
    }
    if (this.painter.strokeSlice !== undefined) {
      this.pendingLabels = values;
      return;
    }
    this.labels = values;
    this.overlay.drawAll(values);
  }

  /** Redraws the image under the current display window (the XY window changed). */
  redraw(): void {
    if (this.shownLevel) this.draw(this.shownLevel);
  }

  private draw(level: number): void {
    const pixels = this.levels.get(level);
    if (!pixels) return;
    const s = levelSize(this.size.width, this.size.height, level);
    this.image.draw(pixels, this.host.dtype, this.host.window(), level, s.width, s.height);
    this.image.canvas.classList.remove('empty');
    this.shownLevel = level;
    this.root.dataset.level = String(level);
    this.root.dataset.index = String(this.index);
  }

  setColours(classes: readonly LabelClass[], opacity: number, show: boolean): void {
    this.overlay.setColours(classes);
    this.overlay.canvas.style.opacity = String(opacity);
    this.overlay.canvas.hidden = !show;
    this.overlay.drawAll(this.labels);
  }

  setCross(c: Cross): void {
    this.cross = c;
    this.placeLines();
  }

  private placeLines(): void {
    const v = this.transform.view;
    const { u, v: row, uColour, vColour } = this.cross;
    const put = (el: HTMLElement, at: number | undefined, colour: string, vertical: boolean) => {
      el.hidden = at === undefined;
      if (at === undefined) return;
      const p = vertical ? (at + 0.5) * v.scale + v.tx : (at + 0.5) * v.scale + v.ty;
      el.style.transform = vertical ? `translateX(${p}px)` : `translateY(${p}px)`;
      el.style.background = colour;
    };
    put(this.lines.u, u, uColour, true);
    put(this.lines.v, row, vColour, false);
  }

  private viewChanged(v: View): void {
    this.image.setView(v);
    this.overlay.setView(v);
    this.painter.viewChanged();
    this.placeLines();
    if (this.index >= 0 && this.shownLevel && this.displayLevel() < this.shownLevel && !this.levels.has(this.displayLevel())) {
      this.host.request(this.axis, this.index, this.displayLevel());
    }
  }

  /** The tool and brush of the label panel (one set for all three views). */
  private syncTool(): void {
    const t = this.host.tool();
    if (this.painter.tool !== t) this.painter.setTool(t);
    if (this.painter.brush !== this.host.brush()) this.painter.setBrush(this.host.brush());
  }

  private pointerDown(e: PointerEvent): void {
    this.syncTool();
    // Shift+click moves the crosshair whatever the tool; a painting tool otherwise paints.
    if (!e.shiftKey && this.painter.tool !== 'fill' && this.painter.pointerDown(e)) {
      this.strokeIndex = this.index;
      return;
    }
    if (e.button !== 0 && e.button !== 1) return;
    this.press = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
    this.root.setPointerCapture(e.pointerId);
  }

  private pointerMove(e: PointerEvent): void {
    const p = this.press;
    if (!p || e.pointerId !== p.id) return;
    const dx = e.clientX - p.x, dy = e.clientY - p.y;
    if (!p.moved && Math.hypot(dx, dy) < 4) return;
    p.moved = true;
    this.root.classList.add('panning');
    this.transform.panBy(dx, dy);
    p.x = e.clientX;
    p.y = e.clientY;
  }

  private pointerUp(e: PointerEvent): void {
    const p = this.press;
    if (!p || e.pointerId !== p.id) return;
    this.press = undefined;
    this.root.classList.remove('panning');
    if (p.moved) return;
    const r = this.root.getBoundingClientRect();
    const v = this.transform.view;
    const u = Math.floor((e.clientX - r.left - v.tx) / v.scale);
    const w = Math.floor((e.clientY - r.top - v.ty) / v.scale);
    if (u >= 0 && w >= 0 && u < this.size.width && w < this.size.height) this.host.click(this.axis, u, w);
  }

  private strokeEnded(s: FinishedStroke): void {
    this.host.stroke(this.axis, this.strokeIndex, s);
    if (this.pendingLabels && this.strokeIndex === this.index) {
      this.labels = this.pendingLabels;
      this.overlay.drawAll(this.labels);
    }
    this.pendingLabels = undefined;
  }
}

function line(which: 'u' | 'v'): HTMLElement {
  const el = document.createElement('div');
  el.className = `cross-line cross-${which}`;
  el.hidden = true;
  return el;
}
