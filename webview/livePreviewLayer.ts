// Live preview overlay: the host's prediction for the shown slice (class per pixel), drawn semi-transparent between
// the image (and a job's segmentation) and the labels, in the class colours. A large slice's preview arrives at the
// resolution it was computed at (e.g. 512 x 512 for 2048 x 2048) and is scaled up by the canvas transform, so a
// stroke costs 16x fewer bytes and pixels than a full-resolution overlay. Also times stroke end -> preview painted:
// the host tags each result with how many of this webview's strokes its training saw.

import type { LabelClass } from '../src/shared/labels/classes';
import type { HostToWebview } from '../src/shared/protocol';
import { OverlayCanvas } from './labelLayer';
import type { View } from './zoom';

export interface LivePreviewPerf {
  /** ms from a stroke's pointerup to the end of the frame that painted the first preview trained on it. */
  livePreview?: { strokes: number; z: number; ms: number; hostMs: number }[];
}

/** Screen period of the live preview's hatching (stripes half of it). */
export const HATCH_PX = 8;

export class LivePreviewLayer {
  private readonly overlay: OverlayCanvas;
  private shown: { z: number; labels: Uint8Array } | undefined;
  private image = { width: 0, height: 0 };
  private factor = 1;
  private strokesSent = 0;
  /** pointerup time per stroke number (1-based), for the latency probe. */
  private readonly strokeEnds = new Map<number, number>();
  private painted = 0;
  /** Slice whose prediction the canvas holds now (the viewer repaints often; redraw only when it changed). */
  private drawnZ = -1;

  constructor(labelsCanvas: HTMLCanvasElement, private readonly shownSlice: () => number, private readonly perf: LivePreviewPerf) {
    const c = document.createElement('canvas');
    // Hatched (media/viewer/labels.css): diagonal stripes in the class colours, so a prediction never reads as painted labels.
    c.className = 'overlay live-preview hatched';
    c.dataset.testid = 'live-preview-canvas';
    c.hidden = true;
    labelsCanvas.before(c); // under the labels
    this.overlay = new OverlayCanvas(c);
  }

  setSize(width: number, height: number): void {
    this.image = { width, height };
  }

  setColours(classes: readonly LabelClass[]): void {
    this.overlay.setColours(classes);
    this.drawnZ = -1;
    if (this.shown) this.sliceShown(this.shownSlice());
  }

  setView(v: View): void {
    const scale = v.scale * this.factor;
    this.overlay.setView({ ...v, scale });
    // The hatch is a mask in canvas pixels, scaled with the canvas: keep its period HATCH_PX on screen at any zoom.
    this.overlay.canvas.style.setProperty('--hatch', `${HATCH_PX / scale}px`);
  }

  /** Called when a stroke message goes to the host. */
  strokeSent(): void {
    this.strokesSent++;
    this.strokeEnds.set(this.strokesSent, performance.now());
    if (this.strokeEnds.size > 200) this.strokeEnds.delete(this.strokesSent - 200);
  }

  show(msg: Extract<HostToWebview, { type: 'livePreview' }>, view: View): void {
    const { z, data, width, height, factor, strokes } = msg;
    const hostMs = msg.ms.total;
    const { width: W, height: H } = this.image;
    if (!(data instanceof ArrayBuffer) || !Number.isInteger(factor) || factor < 1 || width !== Math.ceil(W / factor) || height !== Math.ceil(H / factor) || data.byteLength !== width * height) return;
    this.factor = factor;
    this.overlay.setSize(width, height);
    this.setView(view);
    this.shown = { z, labels: new Uint8Array(data) };
    this.drawnZ = -1;
    if (z !== this.shownSlice()) return;
    this.overlay.drawAll(this.shown.labels);
    this.drawnZ = z;
    this.overlay.canvas.hidden = false;
    this.painted++;
    document.body.dataset.livePreviewPainted = String(this.painted);
    document.body.dataset.livePreviewSlice = String(z);
    const ended = this.strokeEnds.get(strokes);
    if (ended === undefined) return;
    this.strokeEnds.delete(strokes); // the first preview that saw the stroke is the one timed
    // A task queued from a rAF callback runs after that frame is painted.
    requestAnimationFrame(() => setTimeout(() => {
      const ms = performance.now() - ended;
      const series = (this.perf.livePreview ??= []);
      series.push({ strokes, z, ms, hostMs });
      if (series.length > 500) series.splice(0, series.length - 500);
      document.body.dataset.livePreviewTimed = String(strokes);
    }, 0));
  }

  /** The panel's opacity slider (kept in the view state); undefined keeps the stylesheet's default. */
  setOpacity(opacity: number | undefined): void {
    this.overlay.canvas.style.opacity = opacity === undefined ? '' : String(opacity);
    document.body.dataset.livePreviewOpacity = opacity === undefined ? '' : String(opacity);
  }

  clear(): void {
    this.shown = undefined;
    this.overlay.canvas.hidden = true;
  }

  /** Only the slice the prediction is for shows it. */
  sliceShown(z: number): void {
    const match = this.shown?.z === z;
    this.overlay.canvas.hidden = !match;
    if (match && this.drawnZ !== z) {
      this.overlay.drawAll(this.shown!.labels);
      this.drawnZ = z;
    }
  }
}
