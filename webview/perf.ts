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

/** Times slice changes from the keydown to the frame that shows them, for the probe's `switches` and `refined`. */
export class SwitchTimer {
  /** keydown time of the slice change waiting to be painted. */
  private pendingKey: number | undefined;
  /** keydown time of the slice change waiting for its display-level frame. */
  private pendingRefine: number | undefined;

  constructor(private readonly perf: PerfProbe) {}

  /** The viewer moved to slice `next` while `shown` is on screen; `keyTime`: the keydown that caused it. */
  moved(next: number, shown: number, keyTime: number | undefined): void {
    if (keyTime !== undefined && this.pendingKey !== undefined) this.perf.superseded++;
    this.pendingKey = next === shown ? undefined : keyTime ?? this.pendingKey;
    if (keyTime !== undefined || next !== shown) this.pendingRefine = next === shown ? undefined : keyTime;
  }

  /**
   * The target slice was drawn; `refined`: at the display level or finer. `inFrame`: drawn in a requestAnimationFrame
   * callback, i.e. the frame being built shows it.
   */
  painted(refined: boolean, inFrame: boolean): void {
    // A task queued from a rAF callback runs after that frame is painted: the frame that shows this draw.
    const afterFrame = (series: number[], since: number) => {
      const record = () => setTimeout(() => pushCapped(series, performance.now() - since), 0);
      if (inFrame) record();
      else requestAnimationFrame(record);
    };
    const keyTime = this.pendingKey;
    this.pendingKey = undefined;
    if (keyTime !== undefined) afterFrame(this.perf.switches, keyTime);
    const refineKeyTime = this.pendingRefine;
    if (refineKeyTime !== undefined && refined) {
      this.pendingRefine = undefined;
      afterFrame(this.perf.refined, refineKeyTime);
    }
  }
}
