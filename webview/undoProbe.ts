// Perf probe of undo/redo in the webview: where the time goes from the Ctrl+Z keydown to the patch drawn, with
// the host's side (HostEditTiming, sent with each undo/redo labelPatch). Read by the e2e test through
// window.__stacksegPerf.undoTraces; costs nothing but a keydown listener and one record per patch.

import type { HostEditTiming, HostToWebview } from '../src/protocol';
import type { Rect } from './paintOps';

/** One undo/redo patch, epoch ms (performance.timeOrigin based: comparable across host and webview). */
export interface UndoTrace extends Partial<HostEditTiming> {
  /** The Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y keydown in this webview (undefined when the key went elsewhere). */
  keyAt?: number;
  receivedAt: number;
  drawnAt: number;
  /** ms to decode and write the patch into the label buffer (the rest, to drawnAt, is redrawing). */
  writeMs: number;
  /** Pixels of the patch's box; rectangles (changed tiles) redrawn and their pixels. */
  pixels: number;
  rects: number;
  redrawn: number;
}

export class UndoProbe {
  private keyAt: number | undefined;

  constructor(private readonly traces: UndoTrace[]) {
    document.addEventListener('keydown', (e) => {
      const k = e.key.toLowerCase();
      if ((e.ctrlKey || e.metaKey) && (k === 'z' || k === 'y')) this.keyAt = performance.timeOrigin + e.timeStamp;
    }, { capture: true });
  }

  /** A patch was applied: t0 received, tWritten in the buffer, t1 drawn (performance.now() values). */
  record(msg: Extract<HostToWebview, { type: 'labelPatch' }>, t0: number, tWritten: number, t1: number, changed: readonly Rect[]): void {
    if (!msg.timing) return; // not an undo/redo
    const origin = performance.timeOrigin;
    const redrawn = changed.reduce((n, r) => n + (r.x1 - r.x0) * (r.y1 - r.y0), 0);
    this.traces.push({
      keyAt: this.keyAt, ...msg.timing, receivedAt: origin + t0, drawnAt: origin + t1, writeMs: tWritten - t0,
      pixels: msg.width * msg.height, rects: changed.length, redrawn,
    });
    if (this.traces.length > 200) this.traces.splice(0, 100);
    this.keyAt = undefined;
  }
}
