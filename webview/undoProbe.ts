// Perf probe of undo/redo in the webview: where the time goes from the Ctrl+Z keydown to the undone labels painted,
// with the host's side (HostEditTiming, sent with each undo/redo labelPatch). Read by the e2e test through
// window.__stacksegPerf.undoTraces; costs nothing but a keydown listener and one record per step.
// Optimistic steps (optimisticUndo.ts) are painted on the key press; their trace gets the host's timings when the
// host's patch of the same step arrives (skipped, already painted), so the host path stays measured.

import type { HostEditTiming, HostToWebview, UndoStep } from '../src/shared/protocol';
import type { Rect } from './paintOps';

/** One undo/redo, epoch ms (performance.timeOrigin based: comparable across host and webview). */
export interface UndoTrace extends Partial<HostEditTiming> {
  /** The Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y keydown in this webview (undefined when the key went elsewhere). */
  keyAt?: number;
  /** Who painted the pixels: the prepared step on the key press, or the host's patch. */
  painted: 'optimistic' | 'host';
  step?: UndoStep;
  /** Optimistic steps: still waiting for the host, confirmed by its patch, or rolled back. */
  outcome?: 'pending' | 'confirmed' | 'rolled back';
  /** The webview started writing (key handler, or the host's patch received). */
  paintStartAt: number;
  /** The host's patch of this step arrived in the webview. */
  receivedAt?: number;
  drawnAt: number;
  /** The end of the frame that showed the paint (optimistic steps; the webview shares its thread with the workbench). */
  frameAt?: number;
  /** ms to write the step into the label buffer (the rest, to drawnAt, is redrawing). */
  writeMs: number;
  /** Pixels of the step's boxes; rectangles (changed tiles) redrawn and their pixels. */
  pixels: number;
  rects: number;
  redrawn: number;
}

type LabelPatch = Extract<HostToWebview, { type: 'labelPatch' }>;

const area = (rects: readonly Rect[]) => rects.reduce((n, r) => n + (r.x1 - r.x0) * (r.y1 - r.y0), 0);

export class UndoProbe {
  private keyAt: number | undefined;

  constructor(private readonly traces: UndoTrace[]) {
    document.addEventListener('keydown', (e) => {
      const k = e.key.toLowerCase();
      if ((e.ctrlKey || e.metaKey) && (k === 'z' || k === 'y')) this.keyAt = performance.timeOrigin + e.timeStamp;
    }, { capture: true });
  }

  private push(t: UndoTrace): void {
    this.traces.push(t);
    if (this.traces.length > 200) this.traces.splice(0, 100);
    this.keyAt = undefined;
  }

  /** A prepared step was painted on the key press: t0 key handled, tWritten in the buffer, t1 drawn (performance.now()). */
  optimistic(step: UndoStep, t0: number, tWritten: number, t1: number, pixels: number, changed: readonly Rect[]): void {
    const origin = performance.timeOrigin;
    const trace: UndoTrace = {
      keyAt: this.keyAt, painted: 'optimistic', step, outcome: 'pending', paintStartAt: origin + t0, drawnAt: origin + t1,
      writeMs: tWritten - t0, pixels, rects: changed.length, redrawn: area(changed),
    };
    this.push(trace);
    // A task queued from a rAF callback runs after that frame is painted.
    requestAnimationFrame(() => setTimeout(() => { trace.frameAt = performance.timeOrigin + performance.now(); }, 0));
  }

  /** The host's patch of an optimistic step arrived (at t0) and was skipped: the step's host timings. */
  confirmed(msg: LabelPatch, t0: number): void {
    const t = this.find(msg.step);
    if (!t) return;
    Object.assign(t, msg.timing, { receivedAt: performance.timeOrigin + t0, outcome: 'confirmed' });
  }

  rolledBack(step: UndoStep): void {
    const t = this.find(step);
    if (t) t.outcome = 'rolled back';
  }

  private find(step: UndoStep | undefined): UndoTrace | undefined {
    if (!step) return undefined;
    for (let i = this.traces.length - 1; i >= 0; i--) {
      const t = this.traces[i];
      if (t.painted === 'optimistic' && t.outcome === 'pending' && t.step?.id === step.id && t.step.direction === step.direction) return t;
    }
    return undefined;
  }

  /** A host patch was applied (no optimistic paint): t0 received, tWritten in the buffer, t1 drawn (performance.now()). */
  record(msg: LabelPatch, t0: number, tWritten: number, t1: number, changed: readonly Rect[]): void {
    if (!msg.timing) return; // not an undo/redo
    const origin = performance.timeOrigin;
    this.push({
      keyAt: this.keyAt, ...msg.timing, painted: 'host', step: msg.step, paintStartAt: origin + t0, receivedAt: origin + t0, drawnAt: origin + t1,
      writeMs: tWritten - t0, pixels: msg.width * msg.height, rects: changed.length, redrawn: area(changed),
    });
  }
}
