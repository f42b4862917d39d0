// The viewer's perf probe (window.__stacksegPerf), read by the e2e tests and the harness.

import type { LivePreviewPerf } from './livePreviewLayer';
import type { UndoTrace } from './undoProbe';

export interface PerfProbe {
  /** ms from a slice-changing keydown to the end of the frame that painted the new slice. */
  switches: number[];
  /** Key-triggered slice changes overtaken by the next key before their slice was painted. */
  superseded: number;
  /** ms from asking the host for a slice to receiving it (transfer + decode on the host). */
  fetches: number[];
  /** ms spent in each slice paint (window/level pass + putImageData), to tell drawing from compositing. */
  draws: number[];
  /** ms from a slice-changing keydown to the end of the frame that painted it at the display level (or finer). */
  refined: number[];
}

export interface AnnotationPerf extends LivePreviewPerf {
  /** ms of main-thread work per painted stroke frame (stamping + redrawing the dirty rectangle). */
  strokeFrames: number[];
  /** ms to apply a host label patch (undo/redo) and redraw it. */
  patches: number[];
  /** Where the time of each undo/redo goes (see UndoProbe); set up by the Annotator. */
  undoTraces?: UndoTrace[];
}

/** Appends to a perf series, keeping the last `cap` values so a long session does not grow without bound. */
export function pushCapped(series: number[], value: number, cap = 1000): void {
  series.push(value);
  if (series.length > cap) series.splice(0, series.length - cap);
}
