// Annotation in the viewer: tools (brush, eraser, fill, lasso, pan), the label overlay, the side panel, and the
// label traffic with the host. Painting writes into this webview's copy of the slice's labels and redraws the
// dirty rectangle once per animation frame; on pointerup the changed box goes to the host as ONE `stroke`
// message (run-length encoded), which becomes one undoable edit there. Undo/redo come back as `labelPatch`es;
// the undo/redo key paints the step the host prepared at once (optimisticUndo.ts) and the host's patch confirms it.

import { nextClass, type DisplaySettings, type LabelClass } from '../src/core/labels/classes';
import { decodeRle, decodeRuns, encodeRle } from '../src/core/labels/rle';
import { parseUndoState, parseUndoStep, type HostToWebview, type SegmentationView, type ViewerStackInfo, type WebviewToHost } from '../src/protocol';
import { OverlayCanvas } from './labelLayer';
import { LabelPanel, TOOLS, type Tool } from './labelPanel';
import { LivePreviewLayer, type LivePreviewPerf } from './livePreviewLayer';
import { brushCentre, emptyRect, extractRect, fillPolygon, floodFill, isEmptyRect, stampDisc, stampLine, writeRunsTracked, type Rect } from './paintOps';
import { applyCountDelta, decodeStep, OptimisticUndo, undoRedoKey, type Changes, type CountDelta, type Rollback } from './optimisticUndo';
import { heatTable, SegmentationPanel } from './segmentationPanel';
import { UndoProbe, type UndoTrace } from './undoProbe';
import type { View } from './zoom';

export interface AnnotationPerf extends LivePreviewPerf {
  /** ms of main-thread work per painted stroke frame (stamping + redrawing the dirty rectangle). */
  strokeFrames: number[];
  /** ms to apply a host label patch (undo/redo) and redraw it. */
  patches: number[];
  /** Where the time of each undo/redo goes (see UndoProbe); set up by the Annotator. */
  undoTraces?: UndoTrace[];
}

/** What the annotator needs from the viewer (ViewerController implements it). */
export interface ViewerAccess {
  readonly stackInfo: ViewerStackInfo | undefined;
  readonly currentView: View;
  readonly shownSlice: number;
  goTo(z: number, keyTime: number | undefined): void;
}

interface Stroke {
  z: number;
  tool: Tool;
  value: number;
  buf: Uint8Array;
  /** Everything the stroke changed (sent on pointerup). */
  dirty: Rect;
  /** Not yet redrawn. */
  pending: Rect;
  last?: { cx: number; cy: number };
  lasso?: { x: number; y: number }[];
  pointerId: number;
  work: number;
}

const MAX_BRUSH = 200;
/** Segmentation mask slices held in the webview (the most recently received). */
const MASK_SLICES_KEPT = 8;

export class Annotator {
  readonly panel: LabelPanel;
  private readonly labelsOverlay: OverlayCanvas;
  private readonly segOverlay: OverlayCanvas;
  private readonly segPanel: SegmentationPanel;
  private segView: SegmentationView = 'classes';
  private readonly livePreview: LivePreviewLayer;
  private readonly cursor: HTMLElement;
  private readonly lassoSvg: SVGSVGElement;
  private readonly lassoPath: SVGPolylineElement;
  private readonly labels = new Map<number, Uint8Array>();
  private readonly masks = new Map<number, Uint8Array>();
  private classes: LabelClass[] = [];
  private display: DisplaySettings = { labelOpacity: 0.5, showLabels: true };
  private selected = 0;
  private pendingSelect: number | undefined;
  private tool: Tool = 'pan';
  private brush = 9;
  private spaceHeld = false;
  private stroke: Stroke | undefined;
  private frameScheduled = false;
  private lastPointer: { clientX: number; clientY: number } | undefined;
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
    private readonly viewport: HTMLElement,
    imageCanvas: HTMLCanvasElement,
    private readonly host: { postMessage(m: WebviewToHost): void },
    private readonly viewer: ViewerAccess,
    private readonly perf: AnnotationPerf,
  ) {
    const seg = document.createElement('canvas');
    seg.className = 'overlay segmentation';
    seg.dataset.testid = 'segmentation-canvas';
    seg.hidden = true;
    const lab = document.createElement('canvas');
    lab.className = 'overlay labels';
    lab.dataset.testid = 'labels-canvas';
    imageCanvas.after(seg, lab);
    this.segOverlay = new OverlayCanvas(seg);
    this.segPanel = new SegmentationPanel(seg, (view) => this.host.postMessage({ type: 'setSegmentationView', view }));
    this.labelsOverlay = new OverlayCanvas(lab);
    this.livePreview = new LivePreviewLayer(lab, () => this.viewer.shownSlice, perf);
    this.cursor = document.createElement('div');
    this.cursor.className = 'brush-cursor';
    this.cursor.dataset.testid = 'brush-cursor';
    this.cursor.hidden = true;
    this.lassoSvg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.lassoSvg.classList.add('lasso');
    this.lassoPath = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    this.lassoSvg.append(this.lassoPath);
    viewport.append(this.cursor, this.lassoSvg);

    this.panel = new LabelPanel({
      tool: (t) => this.setTool(t),
      brushSize: (px) => this.setBrush(px),
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
    });
    this.panel.root.append(this.segPanel.root);
    this.setTool('pan');
    this.setBrush(this.brush);
    this.applyDisplay();

    viewport.addEventListener('pointermove', (e) => this.pointerMove(e));
    viewport.addEventListener('pointerup', (e) => this.pointerUp(e));
    viewport.addEventListener('pointercancel', (e) => this.pointerUp(e));
    viewport.addEventListener('pointerleave', () => { this.cursor.hidden = true; });
    document.addEventListener('keyup', (e) => {
      if (e.key === ' ') this.setSpace(false);
    });
    window.addEventListener('blur', () => this.setSpace(false));
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
        this.segOverlay.setSize(msg.info.width, msg.info.height);
        this.livePreview.setSize(msg.info.width, msg.info.height);
        return false;
      case 'labels': {
        // The webview's copy is authoritative once it exists (strokes may be in flight); see protocol.ts.
        const info = this.viewer.stackInfo;
        if (!info || (this.labels.has(msg.z) && !msg.replace)) return true;
        if (msg.replace) {
          this.settle(this.optimistic.hostReplacesLabels());
          if (!this.resyncAsked.has(msg.z)) return true; // an older answer: a newer copy was taken already
          if (this.stroke?.z === msg.z) this.endStroke(true); // sent before the copy is replaced; counted below
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
        let buf = this.labels.get(msg.z);
        if (!buf) {
          buf = new Uint8Array(info.width * info.height);
          this.labels.set(msg.z, buf);
        }
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
        pushCapped(this.perf.patches, t1 - t0);
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
        this.endStroke(false);
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
        if (this.segView === 'classes') this.segOverlay.setColours(this.classes);
        this.segPanel.setClasses(this.classes);
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
        if (!info) return true;
        if (msg.data === null) {
          this.masks.clear();
          this.segPanel.setSource(undefined);
          return true;
        }
        if (msg.data.byteLength !== info.width * info.height) return true;
        if ((msg.view ?? 'classes') !== this.segView) {
          this.segView = msg.view ?? 'classes';
          this.masks.clear(); // other slices hold the other view
          if (this.segView === 'uncertainty') this.segOverlay.setTable(heatTable());
          else this.segOverlay.setColours(this.classes);
        }
        // Keep the few slices around the shown one (the host sends a slice again when it is shown again):
        // unbounded, stepping through a 2048 x 2048 x 2000 mask would hold 8 GB here.
        this.masks.delete(msg.z);
        this.masks.set(msg.z, new Uint8Array(msg.data));
        if (this.masks.size > MASK_SLICES_KEPT) this.masks.delete(this.masks.keys().next().value!);
        this.segPanel.setSource(msg.source, msg.view, msg.canShowUncertainty);
        this.segOverlay.canvas.title = msg.source;
        if (msg.z === this.viewer.shownSlice) this.segOverlay.drawAll(this.masks.get(msg.z));
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
    if (!direction || this.stroke) return;
    const t0 = performance.now();
    const painted = this.optimistic.keyPressed(direction, t0);
    if (!painted) return;
    const tWritten = performance.now();
    const rects = this.redrawChanges(painted.changes);
    const t1 = performance.now();
    pushCapped(this.perf.patches, t1 - t0);
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
    this.segOverlay.setView(v);
    this.livePreview.setView(v);
    this.updateCursor();
    if (this.stroke?.lasso) this.drawLasso();
  }

  onSliceShown(z: number): void {
    if (this.stroke && this.stroke.z !== z) this.endStroke(true);
    this.redrawAll();
    this.livePreview.sliceShown(z);
    this.panel.markCurrentSlice(z);
  }

  private redrawAll(): void {
    const z = this.viewer.shownSlice;
    if (z < 0) return;
    this.labelsOverlay.drawAll(this.labels.get(z));
    if (this.masks.size > 0) this.segOverlay.drawAll(this.masks.get(z));
  }

  // ------------------------------------------------------------ tools, classes, display

  setTool(t: Tool): void {
    if (this.stroke) this.endStroke(true);
    this.tool = t;
    this.panel.setTool(t);
    this.viewport.dataset.tool = t;
    this.updateCursor();
  }

  setBrush(px: number): void {
    this.brush = Math.min(MAX_BRUSH, Math.max(1, Math.round(px)));
    this.panel.setBrushSize(this.brush);
    this.updateCursor();
  }

  private select(k: number): void {
    if (!this.classes.some((c) => c.index === k)) return;
    this.selected = k;
    this.panel.setSelected(k);
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
      this.setSpace(true);
      return true;
    }
    if (/^[1-9]$/.test(e.key)) {
      const c = this.classes[Number(e.key) - 1];
      if (c) this.select(c.index);
      return c !== undefined;
    }
    const tool = TOOLS.find((t) => t.key.toLowerCase() === e.key.toLowerCase());
    if (tool) {
      this.setTool(tool.tool);
      return true;
    }
    switch (e.key) {
      case '[': this.setBrush(this.brush <= 10 ? this.brush - 1 : this.brush / 1.2); return true;
      case ']': this.setBrush(this.brush < 10 ? this.brush + 1 : this.brush * 1.2); return true;
      case 'v': case 'V': this.setDisplay({ ...this.display, showLabels: !this.display.showLabels }); return true;
      case 'Escape':
        if (this.stroke?.lasso) { this.endStroke(false); return true; }
        return false;
      default: return false;
    }
  }

  private setSpace(held: boolean): void {
    this.spaceHeld = held;
    this.viewport.classList.toggle('space-pan', held);
  }

  // ------------------------------------------------------------ painting

  private imagePoint(e: { clientX: number; clientY: number }): { x: number; y: number } {
    const r = this.viewport.getBoundingClientRect();
    const v = this.viewer.currentView;
    return { x: (e.clientX - r.left - v.tx) / v.scale, y: (e.clientY - r.top - v.ty) / v.scale };
  }

  /** Starts a stroke for a left press with a painting tool; false leaves the press to the viewer (pan). */
  pointerDown(e: PointerEvent): boolean {
    const info = this.viewer.stackInfo;
    const z = this.viewer.shownSlice;
    if (e.button !== 0 || this.spaceHeld || this.tool === 'pan' || !info || z < 0) return false;
    const value = this.tool === 'eraser' ? 0 : this.selected;
    if (this.tool !== 'eraser' && value === 0) return true; // no class to paint with
    if (this.stroke) this.endStroke(true);
    let buf = this.labels.get(z);
    if (!buf) {
      buf = new Uint8Array(info.width * info.height);
      this.labels.set(z, buf);
    }
    const p = this.imagePoint(e);
    const s: Stroke = { z, tool: this.tool, value, buf, dirty: emptyRect(), pending: emptyRect(), pointerId: e.pointerId, work: 0 };
    this.stroke = s;
    this.viewport.setPointerCapture(e.pointerId);
    const t0 = performance.now();
    if (this.tool === 'fill') {
      floodFill(buf, info.width, info.height, Math.floor(p.x), Math.floor(p.y), value, s.pending);
      s.work += performance.now() - t0;
      this.flush();
      this.endStroke(true);
      return true;
    }
    if (this.tool === 'lasso') {
      s.lasso = [p];
      this.drawLasso();
      return true;
    }
    const c = brushCentre(p.x, p.y, this.brush);
    stampDisc(buf, info.width, info.height, c.cx, c.cy, this.brush, value, s.pending);
    s.last = c;
    s.work += performance.now() - t0;
    this.scheduleFlush();
    return true;
  }

  private pointerMove(e: PointerEvent): void {
    this.lastPointer = { clientX: e.clientX, clientY: e.clientY };
    this.updateCursor();
    const s = this.stroke;
    const info = this.viewer.stackInfo;
    if (!s || !info || e.pointerId !== s.pointerId) return;
    const t0 = performance.now();
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length > 0 ? events : [e]) {
      const p = this.imagePoint(ev);
      if (s.lasso) {
        s.lasso.push(p);
        continue;
      }
      const c = brushCentre(p.x, p.y, this.brush);
      const from = s.last ?? c;
      stampLine(s.buf, info.width, info.height, from.cx, from.cy, c.cx, c.cy, this.brush, s.value, s.pending);
      s.last = c;
    }
    s.work += performance.now() - t0;
    if (s.lasso) this.drawLasso();
    else this.scheduleFlush();
  }

  private pointerUp(e: PointerEvent): void {
    const s = this.stroke;
    if (!s || e.pointerId !== s.pointerId) return;
    const info = this.viewer.stackInfo;
    if (s.lasso && info) {
      s.lasso.push(this.imagePoint(e));
      fillPolygon(s.buf, info.width, info.height, s.lasso, s.value, s.pending);
      this.flush();
    }
    this.endStroke(true);
  }

  private scheduleFlush(): void {
    if (this.frameScheduled) return;
    this.frameScheduled = true;
    requestAnimationFrame(() => {
      this.frameScheduled = false;
      this.flush();
    });
  }

  /** Redraws what the stroke changed since the last frame. */
  private flush(): void {
    const s = this.stroke;
    if (!s || isEmptyRect(s.pending)) return;
    const t0 = performance.now();
    if (s.z === this.viewer.shownSlice) this.labelsOverlay.drawRect(s.buf, s.pending);
    const p = s.pending;
    if (!isEmptyRect(p)) {
      s.dirty.x0 = Math.min(s.dirty.x0, p.x0); s.dirty.y0 = Math.min(s.dirty.y0, p.y0);
      s.dirty.x1 = Math.max(s.dirty.x1, p.x1); s.dirty.y1 = Math.max(s.dirty.y1, p.y1);
    }
    s.pending = emptyRect();
    pushCapped(this.perf.strokeFrames, s.work + performance.now() - t0);
    s.work = 0;
  }

  /** Ends the stroke: `commit` sends the changed box to the host as one edit. */
  private endStroke(commit: boolean): void {
    const s = this.stroke;
    if (!s) return;
    this.flush();
    this.stroke = undefined;
    this.lassoSvg.classList.remove('active');
    this.lassoPath.setAttribute('points', '');
    const info = this.viewer.stackInfo;
    if (!commit || !info || isEmptyRect(s.dirty)) return;
    const d = s.dirty;
    const values = extractRect(s.buf, info.width, d);
    this.host.postMessage({
      type: 'stroke', z: s.z, x: d.x0, y: d.y0, width: d.x1 - d.x0, height: d.y1 - d.y0,
      rle: encodeRle(values), tool: s.tool === 'pan' ? 'brush' : s.tool,
    });
    this.strokesOn.set(s.z, (this.strokesOn.get(s.z) ?? 0) + 1);
    this.optimistic.strokeSent(s.z);
    bump('strokesSent');
    this.livePreview.strokeSent();
  }

  private drawLasso(): void {
    const s = this.stroke;
    if (!s?.lasso) return;
    const v = this.viewer.currentView;
    this.lassoSvg.classList.add('active');
    this.lassoPath.setAttribute('points', s.lasso.map((p) => `${(p.x * v.scale + v.tx).toFixed(1)},${(p.y * v.scale + v.ty).toFixed(1)}`).join(' '));
  }

  /** Brush outline at the current zoom, centred where the stamp will land. */
  private updateCursor(): void {
    const p = this.lastPointer;
    const show = p !== undefined && (this.tool === 'brush' || this.tool === 'eraser') && !this.spaceHeld;
    this.cursor.hidden = !show;
    if (!show || !p) return;
    const v = this.viewer.currentView;
    const ip = this.imagePoint(p);
    const c = brushCentre(ip.x, ip.y, this.brush);
    const d = Math.max(2, this.brush * v.scale);
    const sx = c.cx * v.scale + v.tx;
    const sy = c.cy * v.scale + v.ty;
    this.cursor.style.width = `${d}px`;
    this.cursor.style.height = `${d}px`;
    this.cursor.style.transform = `translate(${sx - d / 2}px, ${sy - d / 2}px)`;
    this.cursor.classList.toggle('eraser', this.tool === 'eraser');
  }

  get currentStats(): { counts: [number, number][]; annotated: { z: number; labeled: number }[] } {
    return this.stats;
  }
}

/** Counters on <body data-*> that the e2e tests wait on. */
function bump(key: 'labelPatches' | 'optimisticSteps' | 'optimisticRollbacks' | 'strokesSent'): void {
  document.body.dataset[key] = String(Number(document.body.dataset[key] ?? 0) + 1);
}

function pushCapped(series: number[], value: number): void {
  series.push(value);
  if (series.length > 2000) series.splice(0, series.length - 2000);
}
