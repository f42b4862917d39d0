// Annotation in the viewer: the label overlay, the side panel, and the label traffic with the host. Painting
// (painter.ts) writes into this webview's copy of the slice's labels; on pointerup the changed box goes to the host
// as ONE `stroke` message (run-length encoded), which becomes one undoable edit there. Undo/redo come back as
// `labelPatch`es; the undo/redo key paints the step the host prepared at once. The copy and its sync with the host,
// optimistic undo included, are webview/labelSync.ts.

import { nextClass, type DisplaySettings, type LabelClass } from '../src/shared/labels/classes';
import { encodeRle } from '../src/shared/labels/rle';
import type { HostToWebview, ViewerStackInfo, WebviewToHost } from '../src/shared/protocol';
import type { PixelArray } from '../src/shared/types';
import { OverlayCanvas } from './labelLayer';
import { LabelPanel, type Tool } from './labelPanel';
import { LabelSync } from './labelSync';
import { LivePreviewLayer } from './livePreviewLayer';
import type { DisplayWindow } from './lut';
import { applyCountDelta } from './optimisticUndo';
import { Painter, type FinishedStroke } from './painter';
import { pushCapped, type AnnotationPerf } from './perf';
import { SegmentationLayer } from './segmentationLayer';
import { ToolControls } from './toolControls';
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
  /** This webview's copy of the labels, kept in sync with the host. */
  private readonly sync: LabelSync;
  private classes: LabelClass[] = [];
  private display: DisplaySettings = { labelOpacity: 0.5, showLabels: true };
  private selected = 0;
  private pendingSelect: number | undefined;
  private stats: { counts: [number, number][]; annotated: { z: number; labeled: number }[] } = { counts: [], annotated: [] };

  constructor(
    viewport: HTMLElement,
    imageCanvas: HTMLCanvasElement,
    private readonly host: { postMessage(m: WebviewToHost): void },
    private readonly viewer: ViewerAccess,
    perf: AnnotationPerf,
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
      labelsOf: (z) => this.sync.labelsOf(z),
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
    this.sync = new LabelSync(host, perf, {
      info: () => viewer.stackInfo, shownSlice: () => viewer.shownSlice, overlay: this.labelsOverlay, painter: this.painter,
      redrawAll: () => this.redrawAll(), shiftStats: (delta) => this.showStats(applyCountDelta(this.stats, delta)),
    });
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
      case 'labels':
        this.sync.onLabels(msg);
        return true;
      case 'labelPatch':
        this.sync.onLabelPatch(msg);
        return true;
      case 'undoState':
        this.sync.onUndoState(msg);
        return true;
      case 'labelsReset':
        this.sync.reset();
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
      case 'labelStats': {
        // Sent before the host applied a painted step: show them with that step's change.
        const pending = this.sync.pendingDelta;
        this.showStats(pending ? applyCountDelta(msg, pending) : { counts: msg.counts, annotated: msg.annotated });
        return true;
      }
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

  /** Undo/redo key in the viewer: paints the step the host prepared, if any (webview/labelSync.ts). */
  undoRedoKey(e: KeyboardEvent): void {
    this.sync.undoRedoKey(e);
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
    this.labelsOverlay.drawAll(this.sync.get(z));
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

  /** One stroke -> one `stroke` message -> one undoable edit on the host. */
  private strokeFinished({ z, box, values, tool }: FinishedStroke): void {
    this.host.postMessage({
      type: 'stroke', z, x: box.x0, y: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0, rle: encodeRle(values), tool,
    });
    this.sync.strokeSent(z);
    this.livePreview.strokeSent();
    this.tools.strokeSent();
  }

  get currentStats(): { counts: [number, number][]; annotated: { z: number; labeled: number }[] } {
    return this.stats;
  }
}

