// A job's segmentation over the viewer (stackseg.showSegmentation): the overlay canvas under the labels, the panel's
// Segmentation section, and the few mask slices received for it. The host sends the shown slice's mask (class
// view) or uncertainty (heat view); `data: null` takes the overlay away.

import type { LabelClass } from '../src/shared/labels/classes';
import type { HostToWebview, SegmentationView, WebviewToHost } from '../src/shared/protocol';
import { OverlayCanvas } from './labelLayer';
import { heatTable, SegmentationPanel } from './segmentationPanel';
import type { View } from './zoom';

/** Mask slices held in the webview (the most recently received). */
const MASK_SLICES_KEPT = 8;

type SegmentationMessage = Extract<HostToWebview, { type: 'segmentation' }>;

export class SegmentationLayer {
  readonly panel: SegmentationPanel;
  private readonly overlay: OverlayCanvas;
  private view: SegmentationView = 'classes';
  private classes: readonly LabelClass[] = [];
  private readonly masks = new Map<number, Uint8Array>();

  /** Puts the overlay canvas right after `imageCanvas` (under anything added after it). */
  constructor(imageCanvas: HTMLCanvasElement, host: { postMessage(m: WebviewToHost): void }) {
    const canvas = document.createElement('canvas');
    canvas.className = 'overlay segmentation';
    canvas.dataset.testid = 'segmentation-canvas';
    canvas.hidden = true;
    imageCanvas.after(canvas);
    this.overlay = new OverlayCanvas(canvas);
    this.panel = new SegmentationPanel(canvas, (view) => host.postMessage({ type: 'setSegmentationView', view }));
  }

  setSize(width: number, height: number): void {
    this.overlay.setSize(width, height);
  }

  setView(v: View): void {
    this.overlay.setView(v);
  }

  setClasses(classes: readonly LabelClass[]): void {
    this.classes = classes;
    if (this.view === 'classes') this.overlay.setColours(classes);
    this.panel.setClasses(classes);
  }

  /** A mask slice (or the end of the overlay) from the host; `pixels` = width * height of the stack. */
  receive(msg: SegmentationMessage, pixels: number, shownSlice: number): void {
    if (msg.data === null) {
      this.masks.clear();
      this.panel.setSource(undefined);
      return;
    }
    if (msg.data.byteLength !== pixels) return;
    const view = msg.view ?? 'classes';
    if (view !== this.view) {
      this.view = view;
      this.masks.clear(); // other slices hold the other view
      if (view === 'uncertainty') this.overlay.setTable(heatTable());
      else this.overlay.setColours(this.classes);
    }
    // Keep the few slices around the shown one (the host sends a slice again when it is shown again):
    // unbounded, stepping through a 2048 x 2048 x 2000 mask would hold 8 GB here.
    this.masks.delete(msg.z);
    this.masks.set(msg.z, new Uint8Array(msg.data));
    if (this.masks.size > MASK_SLICES_KEPT) this.masks.delete(this.masks.keys().next().value!);
    this.panel.setSource(msg.source, msg.view, msg.canShowUncertainty);
    this.overlay.canvas.title = msg.source;
    if (msg.z === shownSlice) this.overlay.drawAll(this.masks.get(msg.z));
  }

  /** Draws slice z's mask (cleared when it has not arrived yet). */
  draw(z: number): void {
    if (this.masks.size > 0) this.overlay.drawAll(this.masks.get(z));
  }
}
