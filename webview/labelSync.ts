// This webview's copy of the labels and its sync with the host: `labels` (a slice's values, sent once per slice, or
// as the answer to a resync), `labelPatch` (undo/redo/class deletion), `undoState`, and the optimistic undo/redo key
// that paints the step the host prepared at once (optimisticUndo.ts) and rolls it back when the host disagrees.
// webview/annotator.ts owns the overlay, the panel and the tools, and hands these messages here.

import { decodeRle, decodeRuns } from '../src/shared/labels/rle';
import { parseUndoState, parseUndoStep, type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/shared/protocol';
import type { OverlayCanvas } from './labelLayer';
import { decodeStep, OptimisticUndo, undoRedoKey, type Changes, type CountDelta, type Rollback } from './optimisticUndo';
import { writeRunsTracked, type Rect } from './paintOps';
import type { Painter } from './painter';
import { pushCapped, type AnnotationPerf } from './perf';
import { UndoProbe } from './undoProbe';

/** What the sync reads and calls in the annotator. */
export interface LabelSyncAccess {
  info(): ViewerStackInfo | undefined;
  shownSlice(): number;
  readonly overlay: OverlayCanvas;
  readonly painter: Painter;
  /** Redraws the shown slice's labels (and segmentation). */
  redrawAll(): void;
  /** The label statistics change by `delta` (a step painted ahead of the host, or its rollback). */
  shiftStats(delta: CountDelta): void;
}

export class LabelSync {
  private readonly labels = new Map<number, Uint8Array>();
  private readonly undoProbe: UndoProbe;
  private readonly optimistic: OptimisticUndo;
  /** Count change of the painted step not yet confirmed: host statistics sent before it lack it. */
  private pending: CountDelta | undefined;
  private confirmTimer: ReturnType<typeof setTimeout> | undefined;
  /** Strokes sent per slice, and at which count a resync of that slice was asked (newer strokes: ask again). */
  private readonly strokesOn = new Map<number, number>();
  private readonly resyncAsked = new Map<number, number>();

  constructor(private readonly host: { postMessage(m: WebviewToHost): void }, private readonly perf: AnnotationPerf, private readonly a: LabelSyncAccess) {
    this.undoProbe = new UndoProbe((perf.undoTraces ??= []));
    const labels = this.labels;
    this.optimistic = new OptimisticUndo({ get width() { return a.info()?.width ?? 0; }, get: (z) => labels.get(z) });
  }

  /** Count change of a step painted ahead of the host and not yet confirmed. */
  get pendingDelta(): CountDelta | undefined {
    return this.pending;
  }

  get(z: number): Uint8Array | undefined {
    return this.labels.get(z);
  }

  /** The label buffer of slice z, created empty on first use. */
  labelsOf(z: number): Uint8Array {
    let buf = this.labels.get(z);
    if (!buf) {
      const info = this.a.info();
      buf = new Uint8Array(info ? info.width * info.height : 0);
      this.labels.set(z, buf);
    }
    return buf;
  }

  /** A slice's labels from the host. */
  onLabels(msg: Extract<HostToWebview, { type: 'labels' }>): void {
    // The webview's copy is authoritative once it exists (strokes may be in flight); see src/shared/protocol.
    const info = this.a.info();
    if (!info || (this.labels.has(msg.z) && !msg.replace)) return;
    if (msg.replace) {
      this.settle(this.optimistic.hostReplacesLabels());
      if (!this.resyncAsked.has(msg.z)) return; // an older answer: a newer copy was taken already
      if (this.a.painter.strokeSlice === msg.z) this.a.painter.endStroke(true); // sent before the copy is replaced; counted below
      if ((this.strokesOn.get(msg.z) ?? 0) !== this.resyncAsked.get(msg.z)) {
        // Painted again since asking: this copy lacks those strokes; ask once more.
        this.requestResync(msg.z);
        return;
      }
      this.resyncAsked.delete(msg.z);
    }
    try {
      this.labels.set(msg.z, decodeRle(new Uint8Array(msg.rle), info.width * info.height));
    } catch {
      return;
    }
    if (msg.z === this.a.shownSlice()) this.a.redrawAll();
  }

  /** Box values written by an undo/redo/class deletion on the host (skipped when painted on the key press already). */
  onLabelPatch(msg: Extract<HostToWebview, { type: 'labelPatch' }>): void {
    const t0 = performance.now();
    const info = this.a.info();
    if (!info) return;
    const verdict = this.optimistic.hostPatch(parseUndoStep(msg.step), msg.z);
    this.settle(verdict.rollback);
    if (verdict.skip) {
      this.undoProbe.confirmed(msg, t0); // painted on the key press already
      return;
    }
    const buf = this.labelsOf(msg.z);
    let changed: Rect[];
    try {
      const n = msg.width * msg.height;
      changed = writeRunsTracked(buf, info.width, msg, decodeRuns(new Uint8Array(msg.rle), n), msg.from && decodeRuns(new Uint8Array(msg.from), n));
    } catch {
      return;
    }
    const tWritten = performance.now();
    if (msg.z === this.a.shownSlice()) for (const r of changed) this.a.overlay.drawRect(buf, r);
    const t1 = performance.now();
    pushCapped(this.perf.patches, t1 - t0, 2000);
    this.undoProbe.record(msg, t0, tWritten, t1, changed);
    bump('labelPatches');
  }

  onUndoState(msg: Extract<HostToWebview, { type: 'undoState' }>): void {
    const info = this.a.info();
    if (!info) return;
    const state = parseUndoState(msg, { depth: info.depth, width: info.width, height: info.height });
    const before = this.optimistic.pendingStep;
    this.settle(this.optimistic.hostUndoState(state.applied, decodeStep(state.undo), decodeStep(state.redo)));
    if (before && !this.optimistic.pendingStep) this.endPending();
  }

  /** Revert: every label buffer goes (`labels` messages for the annotated slices follow). */
  reset(): void {
    this.settle(this.optimistic.hostReplacesLabels());
    this.a.painter.endStroke(false);
    this.labels.clear();
    this.a.redrawAll();
  }

  /** One stroke went to the host as a `stroke` message. */
  strokeSent(z: number): void {
    this.strokesOn.set(z, (this.strokesOn.get(z) ?? 0) + 1);
    this.optimistic.strokeSent(z);
    bump('strokesSent');
  }

  /**
   * Undo/redo key in the viewer (not in a text box): paints the step the host prepared, if any. The event is left
   * alone (no preventDefault/stopPropagation): VS Code's webview forwards it to the workbench, whose undo command
   * makes the host apply the same step; its patch then only confirms what is on screen.
   */
  undoRedoKey(e: KeyboardEvent): void {
    const direction = undoRedoKey(e, /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent));
    if (!direction || this.a.painter.strokeSlice !== undefined) return;
    const t0 = performance.now();
    const painted = this.optimistic.keyPressed(direction, t0);
    if (!painted) return;
    const tWritten = performance.now();
    const rects = this.redrawChanges(painted.changes);
    const t1 = performance.now();
    pushCapped(this.perf.patches, t1 - t0, 2000);
    this.pending = painted.delta;
    this.a.shiftStats(painted.delta);
    this.undoProbe.optimistic(painted.step, t0, tWritten, t1, painted.pixels, rects);
    bump('labelPatches');
    bump('optimisticSteps');
    clearTimeout(this.confirmTimer);
    // (+1: timers and performance.now() round differently)
    this.confirmTimer = setTimeout(() => this.settle(this.optimistic.expire(performance.now() + 1)), this.optimistic.timeoutMs);
  }

  /** Redraws changed rectangles of the shown slice; returns them. */
  private redrawChanges(changes: Changes): Rect[] {
    const z = this.a.shownSlice();
    const buf = this.labels.get(z);
    const rects = changes.filter((c) => c.z === z).flatMap((c) => c.rects);
    if (buf) for (const r of rects) this.a.overlay.drawRect(buf, r);
    return rects;
  }

  /** A painted step was rolled back: redraw, undo its count change, and ask for slices painted on meanwhile. */
  private settle(rollback: Rollback | undefined): void {
    if (!rollback) return;
    this.redrawChanges(rollback.changes);
    this.endPending();
    this.a.shiftStats(rollback.delta);
    for (const z of rollback.resync) this.requestResync(z);
    this.undoProbe.rolledBack(rollback.step);
    bump('optimisticRollbacks');
  }

  private endPending(): void {
    this.pending = undefined;
    clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
  }

  private requestResync(z: number): void {
    this.resyncAsked.set(z, this.strokesOn.get(z) ?? 0);
    this.host.postMessage({ type: 'resyncLabels', z });
  }
}

/** Counters on <body data-*> that the e2e tests wait on. */
function bump(key: 'labelPatches' | 'optimisticSteps' | 'optimisticRollbacks' | 'strokesSent'): void {
  document.body.dataset[key] = String(Number(document.body.dataset[key] ?? 0) + 1);
}
