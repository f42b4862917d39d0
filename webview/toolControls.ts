// The annotation tools' settings and the next-step hint: tool, brush size, fill tolerance and the opacities of the
// live preview and segmentation overlays (kept in the view state, so they survive a tab switch or a reload), the tool keys, and
// "what next" after the first stroke.

import type { PixelArray } from '../src/shared/types';
import type { WebviewToHost } from '../src/shared/protocol';
import { stepBrush } from './brushScale';
import { TOOLS, type LabelPanel, type Tool } from './labelPanel';
import type { LivePreviewLayer } from './livePreviewLayer';
import type { DisplayWindow } from './lut';
import { MAX_BRUSH, type FillSource, type Painter } from './painter';
import type { SegmentationPanel } from './segmentationPanel';
import type { ViewState } from './viewState';

/** Fill tolerance (fraction of the display window) until the user sets one: on the foam benchmark slices it fills
 * most of a pore (hq 0.82, rings 0.84 mean Jaccard over 24 pores) and rarely leaks. */
export const DEFAULT_FILL_TOLERANCE = 0.15;

export class ToolControls {
  private tolerance: number;
  private hint: 'shown' | 'dismissed' | undefined;
  private classesPainted = 0;

  constructor(
    private readonly painter: Painter,
    private readonly panel: LabelPanel,
    segmentation: SegmentationPanel,
    private readonly livePreview: LivePreviewLayer,
    private readonly state: ViewState,
    private readonly host: { postMessage(m: WebviewToHost): void },
  ) {
    const saved = state.restored;
    this.tolerance = saved.fillTolerance ?? DEFAULT_FILL_TOLERANCE;
    this.hint = saved.hint;
    this.setTool(saved.tool ?? 'pan');
    this.setBrush(saved.brush ?? this.painter.brush);
    this.setFillTolerance(this.tolerance);
    if (saved.segmentationOpacity !== undefined) segmentation.setOpacity(saved.segmentationOpacity);
    segmentation.onOpacityChange = (o) => state.patch({ segmentationOpacity: o });
    if (saved.livePreviewOpacity !== undefined) this.setLivePreviewOpacity(saved.livePreviewOpacity);
  }

  setLivePreviewOpacity(opacity: number): void {
    this.livePreview.setOpacity(opacity);
    this.panel.setLivePreviewOpacity(opacity);
    this.state.patch({ livePreviewOpacity: opacity });
  }

  setTool(t: Tool): void {
    this.painter.setTool(t);
    this.panel.setTool(t);
    this.state.patch({ tool: t });
  }

  setBrush(px: number): void {
    const b = this.painter.setBrush(Math.min(MAX_BRUSH, px));
    this.panel.setBrushSize(b);
    this.state.patch({ brush: b });
  }

  setFillTolerance(fraction: number): void {
    this.tolerance = Math.min(1, Math.max(0, fraction));
    this.panel.setFillTolerance(this.tolerance);
    this.state.patch({ fillTolerance: this.tolerance });
  }

  /** The selected class, kept so a stroke after a tab switch does not silently go to another class. */
  classSelected(index: number): void {
    this.state.patch({ classIndex: index });
  }

  /** What a fill on slice z reads: the exact pixels, and the tolerance in image units (of the window on screen). */
  fillImage(viewer: { readonly displayWindow: DisplayWindow; exactSlice(z: number): Promise<PixelArray | undefined> }, z: number): Promise<FillSource | undefined> {
    const w = viewer.displayWindow;
    const tolerance = this.tolerance * Math.abs(w.max - w.min);
    return viewer.exactSlice(z).then((pixels) => pixels && { pixels, tolerance });
  }

  /** Tool letters and [ ] (brush size); true when the key was used. */
  keyDown(e: KeyboardEvent): boolean {
    const tool = TOOLS.find((t) => t.key.toLowerCase() === e.key.toLowerCase());
    if (tool) {
      this.setTool(tool.tool);
      return true;
    }
    if (e.key === '[' || e.key === ']') {
      this.setBrush(stepBrush(this.painter.brush, e.key === ']'));
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------ next step

  /** A stroke was sent: from now on the hint says what to do next (until dismissed). */
  strokeSent(): void {
    if (this.hint === undefined) {
      this.hint = 'shown';
      this.state.patch({ hint: 'shown' });
    }
    this.showHint();
  }

  /** Classes with labelled pixels in the stack (the hint's wording depends on it). */
  setClassesPainted(n: number): void {
    this.classesPainted = n;
    this.showHint();
  }

  dismissHint(): void {
    this.hint = 'dismissed';
    this.state.patch({ hint: 'dismissed' });
    this.showHint();
  }

  openModelPanel(): void {
    this.host.postMessage({ type: 'openModelPanel' });
  }

  private showHint(): void {
    if (this.hint !== 'shown') {
      this.panel.setHint(undefined);
      return;
    }
    this.panel.setHint(this.classesPainted >= 2
      ? 'Next: train a model on these labels in the StackSeg Model panel (Train and Segment).'
      : 'Next: paint a second class (keys 1–9 pick it), then open the StackSeg Model panel to train.');
  }
}
