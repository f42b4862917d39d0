// Zoom and pan of the viewer: Fit, 1:1, Ctrl+wheel zoom about the cursor, drag pan, the wheel's slice steps, and
// the view saved in the view state (as the image point at the viewport's centre, so it comes back centred on the
// same place whatever size the editor has then). A fitted view is not saved: it is fitted again.

import type { SavedView } from './viewState';
import { fitView, oneToOneView, pan, wheelSliceSteps, wheelZoomFactor, zoomAbout, type View } from './zoom';

export class ViewTransform {
  view: View = { scale: 1, tx: 0, ty: 0 };
  /** Zoomed or panned by the user (else the view is fitted, and refitted when the editor is resized). */
  private userMoved = false;
  private wheelRest = 0;

  constructor(
    private readonly viewport: HTMLElement,
    private readonly image: () => { width: number; height: number } | undefined,
    private readonly changed: (v: View, saved: SavedView | undefined) => void,
  ) {}

  private size(): { w: number; h: number } {
    return { w: this.viewport.clientWidth, h: this.viewport.clientHeight };
  }

  private set(v: View, userMoved: boolean): void {
    this.view = v;
    this.userMoved = userMoved;
    const { w, h } = this.size();
    this.changed(v, userMoved ? { scale: v.scale, cx: (w / 2 - v.tx) / v.scale, cy: (h / 2 - v.ty) / v.scale } : undefined);
  }

  /** Back to a saved view: the same scale, centred on the same image point. */
  restore(s: SavedView): void {
    const { w, h } = this.size();
    this.set({ scale: s.scale, tx: w / 2 - s.cx * s.scale, ty: h / 2 - s.cy * s.scale }, true);
  }

  fit(): void {
    const img = this.image();
    if (!img) return;
    const { w, h } = this.size();
    this.set(fitView(img.width, img.height, w, h), false);
  }

  oneToOne(): void {
    const img = this.image();
    if (!img) return;
    const { w, h } = this.size();
    this.set(oneToOneView(img.width, img.height, w, h, window.devicePixelRatio || 1, this.view), true);
  }

  /** Keeps a fitted image fitted when the editor is resized; a zoomed/panned view stays where the user put it. */
  onResize(): void {
    if (!this.userMoved) this.fit();
  }

  zoomAt(factor: number, sx: number, sy: number): void {
    this.set(zoomAbout(this.view, factor, sx, sy), true);
  }

  panBy(dx: number, dy: number): void {
    this.set(pan(this.view, dx, dy), true);
  }

  /** Ctrl/Cmd+wheel zooms about the cursor (0 steps); the plain wheel returns whole slice steps (down = forward). */
  wheel(e: WheelEvent, sx: number, sy: number): number {
    if (e.ctrlKey || e.metaKey) {
      this.zoomAt(wheelZoomFactor(e.deltaY, e.deltaMode), sx, sy);
      return 0;
    }
    const { steps, rest } = wheelSliceSteps(this.wheelRest, e.deltaY, e.deltaMode);
    this.wheelRest = rest;
    return steps;
  }
}
