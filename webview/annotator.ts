// Annotation in the viewer: the label overlay, the side panel, and the label traffic with the host. Painting
// (painter.ts) writes into this webview's copy of the slice's labels; on pointerup the changed box goes to the host
// as ONE `stroke` message (run-length encoded), which becomes one undoable edit there. Undo/redo come back as `labelPatch`es;
// the undo/redo key paints the step the host prepared at once (optimisticUndo.ts) and the host's patch confirms it.

import { nextClass, type DisplaySettings, type LabelClass } from '../src/shared/labels/classes';
import { decodeRle, decodeRuns, encodeRle } from '../src/shared/labels/rle';
import { parseUndoState, parseUndoStep, type HostToWebview, type ViewerStackInfo, type WebviewToHost } from '../src/shared/protocol';
import type { PixelArray } from '../src/shared/types';
import { OverlayCanvas } from './labelLayer';
import { LabelPanel, type Tool } from './labelPanel';
import { LivePreviewLayer } from './livePreviewLayer';
import type { DisplayWindow } from './lut';
import { writeRunsTracked, type Rect } from './paintOps';
import { applyCountDelta, decodeStep, OptimisticUndo, undoRedoKey, type Changes, type CountDelta, type Rollback } from './optimisticUndo';
import { Painter, type FinishedStroke } from './painter';
import { pushCapped, type AnnotationPerf } from './perf';
import { SegmentationLayer } from './segmentationLayer';
import { ToolControls } from './toolControls';
import { UndoProbe } from './undoProbe';
import type { ViewState } from './viewState';
import type { View } from './zoom';

export type { AnnotationPerf } from './perf';

/** What the annotator needs from the viewer (ViewerController implements it). */
export interface ViewerAccess {
  readonly stackInfo: ViewerStackInfo | undefined;
  readonly currentView: View;
  readonly shownSlice: number;
  goTo(z: number, keyTime: number | undefined): void;
  /** Full-resolution pixels of slice z (the fill tool reads them), asked for when only a coarser level is stored. */
  exactSlice(z: number): Promise<PixelArray | undefined>;
  readonly displayWindow: DisplayWindow;
}

export class Annotator {
  readonly panel: LabelPanel;
  private readonly labelsOverlay: OverlayCanvas;
  private readonly segmentation: SegmentationLayer;
  private readonly painter: Painter;
  private readonly tools: ToolControls;
  private readonly livePreview: LivePreviewLayer;
  private readonly labels = new Map<number, Uint8Array>();
  private classes: LabelClass[] = [];
  private display: DisplaySettings = { labelOpacity: 0.5, showLabels: true };
  private selected = 0;
  private pendingSelect: number | undefined;
  private readonly undoProbe: UndoProbe;
  private stats: { counts: [number, number][]; annotated: { z: number; labeled: number }[] } = { counts: [], annotated: [] };
  private readonly optimistic: OptimisticUndo;
  /** Count change of the painted step not yet confirmed: host statistics sent before it lack it. */
  private pendingDelta: CountDelta | undefined;
  private confirmTimer: ReturnType<typeof setTimeout> | undefined;
  /** Strokes sent per slice, and at which count a resync of that slice was asked (newer strokes: ask again). */
  private readonly strokesOn = new Map<number, number>();
  private readonly resyncAsked = new Map<number, number>();

  constructor(
    viewport: HTMLElement,
    imageCanvas: HTMLCanvasElement,
    private readonly host: { postMessage(m: WebviewToHost): void },
    private readonly viewer: ViewerAccess,
    private readonly perf: AnnotationPerf,
    state: ViewState,
  ) {
    const lab = document.createElement('canvas');
    lab.className = 'overlay labels';
    lab.dataset.testid = 'labels-canvas';
    imageCanvas.after(lab);
    this.segmentation = new SegmentationLayer(imageCanvas, host); // between the image and the labels
    this.labelsOverlay = new OverlayCanvas(lab);
    this.livePreview = new LivePreviewLayer(lab, () => this.viewer.shownSlice, perf);
    this.painter = new Painter(viewport, {
      get width() { return viewer.stackInfo?.width ?? 0; },
      get height() { return viewer.stackInfo?.height ?? 0; },
      get shownSlice() { return viewer.shownSlice; },
      get view() { return viewer.currentView; },
      selectedClass: () => this.selected,
      classColour: () => this.classes.find((c) => c.index === this.selected)?.color,
      fillImage: (z) => this.tools.fillImage(viewer, z),
      labelsOf: (z) => this.labelsOf(z),
      overlay: this.labelsOverlay,
      frameTime: (ms) => pushCapped(perf.strokeFrames, ms, 2000),
      finished: (stroke) => this.strokeFinished(stroke),
    });

    this.panel = new LabelPanel({
      tool: (t) => this.setTool(t),
      brushSize: (px) => this.tools.setBrush(px),
      selectClass: (k) => this.select(k),
      renameClass: (k, name) => this.sendClasses(this.classes.map((c) => (c.index === k ? { ...c, name } : c))),
      recolourClass: (k, color) => this.sendClasses(this.classes.map((c) => (c.index === k ? { ...c, color } : c))),
      addClass: () => {
        const c = nextClass(this.classes);
        if (!c) return;
        this.pendingSelect = c.index;
        this.sendClasses([...this.classes, c]);
      },
      deleteClass: (k) => this.host.postMessage({ type: 'deleteClass', index: k }),
      showLabels: (show) => this.setDisplay({ ...this.display, showLabels: show }),
      opacity: (o) => this.setDisplay({ ...this.display, labelOpacity: o }),
      goToSlice: (z) => this.viewer.goTo(z, undefined),
      livePreview: (enabled) => this.host.postMessage({ type: 'setLivePreview', enabled }),
      fillTolerance: (f) => this.tools.setFillTolerance(f),
      livePreviewOpacity: (o) => this.tools.setLivePreviewOpacity(o),
      openModelPanel: () => this.tools.openModelPanel(),
      dismissHint: () => this.tools.dismissHint(),
    });
    this.panel.root.append(this.segmentation.panel.root);
    this.pendingSelect = state.restored.classIndex; // selected when the host's class list comes
    this.tools = new ToolControls(this.painter, this.panel, this.segmentation.panel, this.livePreview, state, host);
    this.applyDisplay();
    this.undoProbe = new UndoProbe((perf.undoTraces ??= []));
    const labels = this.labels;
    this.optimistic = new OptimisticUndo({ get width() { return viewer.stackInfo?.width ?? 0; }, get: (z) => labels.get(z) });
  }

  // ------------------------------------------------------------ host messages

  /** Handles label messages; returns false for the viewer's own messages (it also peeks at `init`). */
  handleMessage(msg: HostToWebview): boolean {
    switch (msg.type) {
      case 'init':
        this.labelsOverlay.setSize(msg.info.width, msg.info.height);
        this.segmentation.setSize(msg.info.width, msg.info.height);
        this.livePreview.setSize(msg.info.width, msg.info.height);
        return false;
      case 'labels': {
        // The webview's copy is authoritative once it exists (strokes may be in flight); see protocol.ts.
        const info = this.viewer.stackInfo;
        if (!info || (this.labels.has(msg.z) && !msg.replace)) return true;
        if (msg.replace) {
          this.settle(this.optimistic.hostReplacesLabels());
          if (!this.resyncAsked.has(msg.z)) return true; // an older answer: a newer copy was taken already
          if (this.painter.strokeSlice === msg.z) this.painter.endStroke(true); // sent before the copy is replaced; counted below
          if ((this.strokesOn.get(msg.z) ?? 0) !== this.resyncAsked.get(msg.z)) {
            // Painted again since asking: this copy lacks those strokes; ask once more.
            this.requestResync(msg.z);
            return true;
          }
          this.resyncAsked.delete(msg.z);
        }
        try {
          this.labels.set(msg.z, decodeRle(new Uint8Array(msg.rle), info.width * info.height));
        } catch {
          return true;
        }
        if (msg.z === this.viewer.shownSlice) this.redrawAll();
        return true;
      }
      case 'labelPatch': {
        const t0 = performance.now();
        const info = this.viewer.stackInfo;
        if (!info) return true;
        const verdict = this.optimistic.hostPatch(parseUndoStep(msg.step), msg.z);
        this.settle(verdict.rollback);
        if (verdict.skip) {
          this.undoProbe.confirmed(msg, t0); // painted on the key press already
          return true;
        }
        const buf = this.labelsOf(msg.z);
        let changed: Rect[];
        try {
          const n = msg.width * msg.height;
          changed = writeRunsTracked(buf, info.width, msg, decodeRuns(new Uint8Array(msg.rle), n), msg.from && decodeRuns(new Uint8Array(msg.from), n));
        } catch {
          return true;
        }
        const tWritten = performance.now();
        if (msg.z === this.viewer.shownSlice) for (const r of changed) this.labelsOverlay.drawRect(buf, r);
        const t1 = performance.now();
        pushCapped(this.perf.patches, t1 - t0, 2000);
        this.undoProbe.record(msg, t0, tWritten, t1, changed);
        bump('labelPatches');
        return true;
      }
      case 'undoState': {
        const info = this.viewer.stackInfo;
        if (!info) return true;
        const state = parseUndoState(msg, { depth: info.depth, width: info.width, height: info.height });
        const before = this.optimistic.pendingStep;
        this.settle(this.optimistic.hostUndoState(state.applied, decodeStep(state.undo), decodeStep(state.redo)));
        if (before && !this.optimistic.pendingStep) this.endPending();
        return true;
      }
      case 'labelsReset':
        this.settle(this.optimistic.hostReplacesLabels());
        this.painter.endStroke(false);
        this.labels.clear();
        this.redrawAll();
        return true;
      case 'classes':
        this.classes = msg.classes;
        this.display = msg.display;
        if (this.pendingSelect !== undefined && this.classes.some((c) => c.index === this.pendingSelect)) this.selected = this.pendingSelect;
        this.pendingSelect = undefined;
        if (!this.classes.some((c) => c.index === this.selected)) this.selected = this.classes[0]?.index ?? 0;
        this.labelsOverlay.setColours(this.classes);
        this.segmentation.setClasses(this.classes);
        this.livePreview.setColours(this.classes);
        this.panel.setClasses(this.classes, this.selected);
        this.applyDisplay();
        this.redrawAll();
        return true;
      case 'labelStats':
        // Sent before the host applied a painted step: show them with that step's change.
        this.showStats(this.pendingDelta ? applyCountDelta(msg, this.pendingDelta) : { counts: msg.counts, annotated: msg.annotated });
        return true;
      case 'segmentation': {
        const info = this.viewer.stackInfo;
        if (info) this.segmentation.receive(msg, info.width * info.height, this.viewer.shownSlice);
        return true;
      }
      case 'livePreview':
        this.livePreview.show(msg, this.viewer.currentView);
        return true;
      case 'livePreviewState':
        if (msg.clear) this.livePreview.clear();
        this.panel.setLivePreview(msg.enabled, msg.hint);
        return true;
      default:
        return false;
    }
  }

  private showStats(stats: { counts: [number, number][]; annotated: { z: number; labeled: number }[] }): void {
    this.stats = stats;
    this.tools.setClassesPainted(stats.counts.filter(([, n]) => n > 0).length);
    this.panel.setStats(stats.counts, stats.annotated, this.viewer.shownSlice);
    document.body.dataset.annotatedSlices = stats.annotated.map((a) => a.z).join(',');
  }

  // ------------------------------------------------------------ optimistic undo/redo

  /**
   * Undo/redo key in the viewer (not in a text box): paints the step the host prepared, if any. The event is left
   * alone (no preventDefault/stopPropagation): VS Code's webview forwards it to the workbench, whose undo command
   * makes the host apply the same step; its patch then only confirms what is on screen.
   */
  undoRedoKey(e: KeyboardEvent): void {
    const direction = undoRedoKey(e, /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent));
    if (!direction || this.painter.strokeSlice !== undefined) return;
    const t0 = performance.now();
    const painted = this.optimistic.keyPressed(direction, t0);
    if (!painted) return;
    const tWritten = performance.now();
    const rects = this.redrawChanges(painted.changes);
    const t1 = performance.now();
    pushCapped(this.perf.patches, t1 - t0, 2000);
    this.pendingDelta = painted.delta;
    this.showStats(applyCountDelta(this.stats, painted.delta));
    this.undoProbe.optimistic(painted.step, t0, tWritten, t1, painted.pixels, rects);
    bump('labelPatches');
    bump('optimisticSteps');
    clearTimeout(this.confirmTimer);
    // (+1: timers and performance.now() round differently)
    this.confirmTimer = setTimeout(() => this.settle(this.optimistic.expire(performance.now() + 1)), this.optimistic.timeoutMs);
  }

  /** Redraws changed rectangles of the shown slice; returns them. */
  private redrawChanges(changes: Changes): Rect[] {
    const z = this.viewer.shownSlice;
    const buf = this.labels.get(z);
    const rects = changes.filter((c) => c.z === z).flatMap((c) => c.rects);
    if (buf) for (const r of rects) this.labelsOverlay.drawRect(buf, r);
    return rects;
  }

  /** A painted step was rolled back: redraw, undo its count change, and ask for slices painted on meanwhile. */
  private settle(rollback: Rollback | undefined): void {
    if (!rollback) return;
    this.redrawChanges(rollback.changes);
    this.endPending();
    this.showStats(applyCountDelta(this.stats, rollback.delta));
    for (const z of rollback.resync) this.requestResync(z);
    this.undoProbe.rolledBack(rollback.step);
    bump('optimisticRollbacks');
  }

  private endPending(): void {
    this.pendingDelta = undefined;
    clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
  }

  private requestResync(z: number): void {
    this.resyncAsked.set(z, this.strokesOn.get(z) ?? 0);
    this.host.postMessage({ type: 'resyncLabels', z });
  }

  // ------------------------------------------------------------ viewer events

  onViewChanged(v: View): void {
    this.labelsOverlay.setView(v);
    this.segmentation.setView(v);
    this.livePreview.setView(v);
    this.painter.viewChanged();
  }

  onSliceShown(z: number): void {
    const strokeSlice = this.painter.strokeSlice;
    if (strokeSlice !== undefined && strokeSlice !== z) this.painter.endStroke(true);
    this.redrawAll();
    this.livePreview.sliceShown(z);
    this.panel.markCurrentSlice(z);
  }

  private redrawAll(): void {
    const z = this.viewer.shownSlice;
    if (z < 0) return;
    this.labelsOverlay.drawAll(this.labels.get(z));
    this.segmentation.draw(z);
  }

  // ------------------------------------------------------------ tools, classes, display

  setTool(t: Tool): void {
    this.tools.setTool(t);
  }

  private select(k: number): void {
    if (!this.classes.some((c) => c.index === k)) return;
    this.selected = k;
    this.panel.setSelected(k);
    this.tools.classSelected(k);
  }

  private sendClasses(classes: LabelClass[]): void {
    this.host.postMessage({ type: 'setClasses', classes });
  }

  private setDisplay(d: DisplaySettings): void {
    this.display = d;
    this.applyDisplay();
    this.host.postMessage({ type: 'setDisplay', display: d });
  }

  private applyDisplay(): void {
    this.labelsOverlay.canvas.style.opacity = String(this.display.labelOpacity);
    this.labelsOverlay.canvas.hidden = !this.display.showLabels;
    this.panel.setDisplay(this.display.showLabels, this.display.labelOpacity);
  }

  /** Keys of the annotation tools; returns true when the key was used. */
  keyDown(e: KeyboardEvent): boolean {
    if (e.key === ' ') {
      this.painter.setSpace(true);
      return true;
    }
    if (/^[1-9]$/.test(e.key)) {
      const c = this.classes[Number(e.key) - 1];
      if (c) this.select(c.index);
      return c !== undefined;
    }
    if (this.tools.keyDown(e)) return true;
    switch (e.key) {
      case 'v': case 'V': this.setDisplay({ ...this.display, showLabels: !this.display.showLabels }); return true;
      case 'Escape':
        if (this.painter.lassoActive) { this.painter.endStroke(false); return true; }
        return false;
      default: return false;
    }
  }

  // ------------------------------------------------------------ painting

  /** Starts a stroke for a left press with a painting tool; false leaves the press to the viewer (pan). */
  pointerDown(e: PointerEvent): boolean {
    return this.painter.pointerDown(e);
  }

  private labelsOf(z: number): Uint8Array {
    let buf = this.labels.get(z);
    if (!buf) {
      const info = this.viewer.stackInfo;
      buf = new Uint8Array(info ? info.width * info.height : 0);
      this.labels.set(z, buf);
    }
    return buf;
  }

  /** One stroke -> one `stroke` message -> one undoable edit on the host. */
  private strokeFinished({ z, box, values, tool }: FinishedStroke): void {
    this.host.postMessage({
      type: 'stroke', z, x: box.x0, y: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0, rle: encodeRle(values), tool,
    });
    this.strokesOn.set(z, (this.strokesOn.get(z) ?? 0) + 1);
    this.optimistic.strokeSent(z);
    bump('strokesSent');
    this.livePreview.strokeSent();
    this.tools.strokeSent();
  }

  get currentStats(): { counts: [number, number][]; annotated: { z: number; labeled: number }[] } {
    return this.stats;
  }
}

/** Counters on <body data-*> that the e2e tests wait on. */
function bump(key: 'labelPatches' | 'optimisticSteps' | 'optimisticRollbacks' | 'strokesSent'): void {
  document.body.dataset[key] = String(Number(document.body.dataset[key] ?? 0) + 1);
}
