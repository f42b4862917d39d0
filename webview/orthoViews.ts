// The "3 views" mode: XZ and YZ views beside XY (Fiji's layout: YZ right of XY sharing its y, XZ under XY sharing
// its x) with crosshairs. A click without a drag in one view moves the others: in XY it picks the XZ row y and the
// YZ column x, in XZ the slice z and the YZ column x, in YZ the slice z and the XZ row y. Each plane view streams by
// resolution level and paints labels (planeView.ts); the host turns a plane stroke into one edit across slices.
// Off by default; on/off and the crosshair are kept in the view state.

import type { LabelClass } from '../src/shared/labels/classes';
import { planeCount, type StackDims } from '../src/shared/levels/planes';
import { encodeRle } from '../src/shared/labels/rle';
import { type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/shared/protocol';
import { PIXEL_ARRAYS } from '../src/shared/types';
import type { Tool } from './labelPanel';
import type { DisplayWindow } from './lut';
import { PlaneView, type PlaneViewHost } from './planeView';
import type { ViewState } from './viewState';
import type { View } from './zoom';

/** Line colours: each plane's index line has the colour of that plane's frame. */
const COLOUR = { xy: '#f5c542', xz: '#39c5e6', yz: '#e657c8' };

/** What the 3 views need from the XY viewer and the label panel. */
export interface OrthoHost {
  readonly stackInfo: ViewerStackInfo | undefined;
  readonly currentTarget: number;
  readonly currentView: View;
  readonly displayWindow: DisplayWindow;
  goTo(z: number, keyTime: number | undefined): void;
  /** Channel and time point shown (absent: a one-channel stack). */
  plane(): { c?: number; t?: number };
}

export class OrthoViews {
  private enabled = false;
  private info: ViewerStackInfo | undefined;
  private views: { xz: PlaneView; yz: PlaneView } | undefined;
  private readonly grid: HTMLElement;
  private readonly xyLines: { u: HTMLElement; v: HTMLElement };
  private cross = { x: 0, y: 0 };
  private classes: LabelClass[] = [];
  private display = { labelOpacity: 0.5, showLabels: true };
  private lastWindow: DisplayWindow | undefined;
  /** Channel and time point the planes were asked for (another one shown: they are asked again). */
  private lastPlane = '{}';

  constructor(
    private readonly xyViewport: HTMLElement,
    private readonly button: HTMLElement,
    private readonly viewer: OrthoHost,
    private readonly host: { postMessage(m: WebviewToHost): void },
    private readonly state: ViewState,
  ) {
    this.grid = document.createElement('div');
    this.grid.className = 'ortho-grid';
    this.grid.dataset.testid = 'ortho-grid';
    this.xyLines = { u: crossLine('u'), v: crossLine('v') };
    xyViewport.append(this.xyLines.u, this.xyLines.v);
    button.addEventListener('click', () => this.setEnabled(!this.enabled));
    const saved = state.restored;
    if (saved.cross) this.cross = { ...saved.cross };
    this.enabled = saved.ortho === true; // applied once the stack is known
  }

  /** Plane messages (true: handled); peeks at init and classes. */
  handleMessage(msg: HostToWebview): boolean {
    switch (msg.type) {
      case 'init':
        this.info = msg.info;
        if (msg.labelView) this.button.hidden = true; // a label view has no planes to paint
        else if (this.enabled) this.apply();
        return false;
      case 'classes':
        this.classes = msg.classes;
        this.display = msg.display;
        for (const v of this.planeViews()) v.setColours(this.classes, this.display.labelOpacity, this.display.showLabels);
        return false;
      case 'plane': {
        const info = this.info;
        const v = this.views?.[msg.axis];
        if (!info || !v || msg.dtype !== info.dtype) return true;
        const Ctor = PIXEL_ARRAYS[msg.dtype];
        if (!(msg.data instanceof ArrayBuffer) || msg.data.byteLength !== msg.width * msg.height * Ctor.BYTES_PER_ELEMENT) return true;
        v.receive(msg.index, msg.level, msg.width, msg.height, new Ctor(msg.data));
        document.body.dataset[`plane${msg.axis === 'xz' ? 'Xz' : 'Yz'}`] = `${msg.index}@${msg.level}`;
        return true;
      }
      case 'planeLabels':
        this.views?.[msg.axis].receiveLabels(msg.index, msg.rle);
        return true;
      default:
        return false;
    }
  }

  get isEnabled(): boolean { return this.enabled; }

  setEnabled(on: boolean): void {
    this.enabled = on;
    this.state.patch({ ortho: on || undefined });
    this.apply();
  }

  private apply(): void {
    const info = this.info;
    this.button.toggleAttribute('checked', this.enabled);
    this.button.classList.toggle('active', this.enabled);
    this.button.setAttribute('aria-pressed', String(this.enabled));
    document.body.dataset.orthoViews = String(this.enabled);
    if (!info) return;
    if (this.enabled) {
      if (!this.views) this.views = this.build(info);
      if (!this.grid.isConnected) {
        this.xyViewport.replaceWith(this.grid);
        this.grid.append(this.xyViewport, this.views.yz.root, this.views.xz.root, cornerNote());
      }
      for (const v of this.planeViews()) v.reload();
      this.moveTo(this.cross.x, this.cross.y);
    } else if (this.grid.isConnected) {
      this.grid.replaceWith(this.xyViewport);
      this.host.postMessage({ type: 'closePlanes' });
    }
    this.placeXyLines();
  }

  private build(info: ViewerStackInfo): { xz: PlaneView; yz: PlaneView } {
    const dims: StackDims = { width: info.width, height: info.height, depth: info.depth };
    this.cross = { x: clamp(this.cross.x, info.width), y: clamp(this.cross.y, info.height) };
    if (!this.state.restored.cross) this.cross = { x: info.width >> 1, y: info.height >> 1 };
    const ortho = this;
    const host: PlaneViewHost = {
      dtype: info.dtype,
      window: () => this.viewer.displayWindow,
      tool: () => (this.state.current.tool ?? 'pan') as Tool,
      brush: () => this.state.current.brush ?? 9,
      selectedClass: () => ortho.selectedClass(),
      classColour: () => this.classes.find((c) => c.index === ortho.selectedClass())?.color,
      stroke: (axis, index, s) => {
        this.host.postMessage({
          type: 'planeStroke', axis, index, x: s.box.x0, y: s.box.y0, width: s.box.x1 - s.box.x0, height: s.box.y1 - s.box.y0, rle: encodeRle(s.values), tool: s.tool,
        });
        document.body.dataset.planeStrokes = String(Number(document.body.dataset.planeStrokes ?? 0) + 1);
      },
      click: (axis, u, v) => {
        if (axis === 'xz') { this.moveTo(u, this.cross.y); this.viewer.goTo(v, undefined); }
        else { this.moveTo(this.cross.x, v); this.viewer.goTo(u, undefined); }
      },
      step: (axis, d) => (axis === 'xz' ? this.moveTo(this.cross.x, this.cross.y + d) : this.moveTo(this.cross.x + d, this.cross.y)),
      request: (axis, index, level) => this.host.postMessage({ type: 'requestPlane', axis, index, level, ...this.viewer.plane() }),
    };
    const views = { xz: new PlaneView('xz', dims, host), yz: new PlaneView('yz', dims, host) };
    for (const v of Object.values(views)) v.setColours(this.classes, this.display.labelOpacity, this.display.showLabels);
    return views;
  }

  /** The class the label panel paints with: the one it saved as selected, else the first. */
  private selectedClass(): number {
    const k = this.state.current.classIndex;
    return k !== undefined && this.classes.some((c) => c.index === k) ? k : this.classes[0]?.index ?? 0;
  }

  private planeViews(): PlaneView[] {
    return this.views ? [this.views.xz, this.views.yz] : [];
  }

  /** Moves the crosshair to column x, row y: the XZ view shows row y, the YZ view column x. */
  moveTo(x: number, y: number): void {
    const info = this.info;
    if (!info) return;
    const dims = { width: info.width, height: info.height, depth: info.depth };
    this.cross = { x: clamp(x, planeCount(dims, 'yz')), y: clamp(y, planeCount(dims, 'xz')) };
    this.state.patch({ cross: this.cross });
    document.body.dataset.cross = `${this.cross.x},${this.cross.y}`;
    if (!this.enabled || !this.views) return;
    this.views.xz.show(this.cross.y);
    this.views.yz.show(this.cross.x);
    this.placeAllLines();
  }

  /** XY click (no drag) at viewport point (sx, sy): the crosshair moves there. False when 3 views are off. */
  clickXY(sx: number, sy: number): boolean {
    if (!this.enabled || !this.info) return false;
    const v = this.viewer.currentView;
    const x = Math.floor((sx - v.tx) / v.scale), y = Math.floor((sy - v.ty) / v.scale);
    if (x < 0 || y < 0 || x >= this.info.width || y >= this.info.height) return false;
    this.moveTo(x, y);
    return true;
  }

  /** The XY view was zoomed or panned. */
  xyViewChanged(): void {
    this.placeXyLines();
  }

  /** The XY view painted slice z (a slice change, or the display window changed). */
  sliceShown(): void {
    if (!this.enabled) return;
    this.placeAllLines();
    const plane = JSON.stringify(this.viewer.plane());
    if (plane !== this.lastPlane) {
      this.lastPlane = plane;
      for (const v of this.planeViews()) v.reload();
    }
    const w = this.viewer.displayWindow;
    if (!this.lastWindow || w.min !== this.lastWindow.min || w.max !== this.lastWindow.max) {
      this.lastWindow = { ...w };
      for (const v of this.planeViews()) v.redraw();
    }
  }

  private placeAllLines(): void {
    this.placeXyLines();
    const z = this.viewer.currentTarget;
    this.views?.xz.setCross({ u: this.cross.x, v: z, uColour: COLOUR.yz, vColour: COLOUR.xy });
    this.views?.yz.setCross({ u: z, v: this.cross.y, uColour: COLOUR.xy, vColour: COLOUR.xz });
  }

  private placeXyLines(): void {
    const on = this.enabled && this.info !== undefined;
    this.xyLines.u.hidden = !on;
    this.xyLines.v.hidden = !on;
    if (!on) return;
    const v = this.viewer.currentView;
    this.xyLines.u.style.transform = `translateX(${(this.cross.x + 0.5) * v.scale + v.tx}px)`;
    this.xyLines.u.style.background = COLOUR.yz;
    this.xyLines.v.style.transform = `translateY(${(this.cross.y + 0.5) * v.scale + v.ty}px)`;
    this.xyLines.v.style.background = COLOUR.xz;
  }
}

function clamp(v: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.round(v)));
}

function crossLine(which: 'u' | 'v'): HTMLElement {
  const el = document.createElement('div');
  el.className = `cross-line cross-${which}`;
  el.hidden = true;
  return el;
}

function cornerNote(): HTMLElement {
  const el = document.createElement('div');
  el.className = 'ortho-note muted';
  el.textContent = 'Click (pan tool) or Shift+click a view to move the crosshair. Wheel over XZ/YZ: next plane. Paint in any view.';
  return el;
}

/** The XY viewer as the 3 views see it. */
export function orthoAccess(viewer: {
  readonly stackInfo: ViewerStackInfo | undefined;
  readonly currentTarget: number;
  readonly currentView: View;
  readonly displayWindow: DisplayWindow;
  readonly channels: { readChannel: number; time: number } | undefined;
  goTo(z: number, keyTime: number | undefined): void;
}): OrthoHost {
  return {
    get stackInfo() { return viewer.stackInfo; },
    get currentTarget() { return viewer.currentTarget; },
    get currentView() { return viewer.currentView; },
    get displayWindow() { return viewer.displayWindow; },
    goTo: (z, t) => viewer.goTo(z, t),
    plane: () => {
      const c = viewer.channels;
      return c && (c.readChannel || c.time) ? { c: c.readChannel, t: c.time } : {};
    },
  };
}
