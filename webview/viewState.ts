// The viewer's view state, kept with the webview's setState/getState: VS Code hands it back when a hidden tab is
// shown again (the webview is rebuilt: retainContextWhenHidden would keep every hidden stack's slices in memory
// instead) and after a window reload. Slice, display window, zoom/pan, tool, class, brush, fill tolerance, overlay
// opacities and the next-step hint. Nothing here is saved with the document. parseViewState is pure (unit-tested):
// a state written by an older version, or a damaged one, gives back only the fields that are valid.

import type { DisplayWindow } from './lut';

export const TOOL_NAMES = ['pan', 'brush', 'eraser', 'fill', 'lasso'] as const;

export interface SavedView {
  scale: number;
  /** Image point at the centre of the viewport (the view is rebuilt around it whatever the new viewport size). */
  cx: number;
  cy: number;
}

export interface ViewStateData {
  z?: number;
  window?: DisplayWindow;
  /** Absent: fitted (a fitted view stays fitted when the editor is resized). */
  view?: SavedView;
  tool?: (typeof TOOL_NAMES)[number];
  /** The selected class (a stroke after a tab switch must not silently go to another class). */
  classIndex?: number;
  brush?: number;
  /** Fill tolerance, fraction of the display window (0..1). */
  fillTolerance?: number;
  segmentationOpacity?: number;
  livePreviewOpacity?: number;
  /** The next-step hint: shown after the first stroke, until dismissed. */
  hint?: 'shown' | 'dismissed';
  /** Multi-channel stacks: the channel shown (0-based) or the composite, and the time point (webview/channelPanel.ts). */
  channel?: number | 'composite';
  time?: number;
  /** 3 views on (webview/orthoViews.ts), and the crosshair: the XZ view shows row y, the YZ view column x. */
  ortho?: boolean;
  cross?: { x: number; y: number };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const fraction = (v: unknown): v is number => finite(v) && v >= 0 && v <= 1;

/** The valid fields of a saved state (anything else is dropped). */
export function parseViewState(raw: unknown): ViewStateData {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const out: ViewStateData = {};
  if (Number.isInteger(r.z) && (r.z as number) >= 0) out.z = r.z as number;
  const w = r.window as Record<string, unknown> | undefined;
  if (w && finite(w.min) && finite(w.max)) out.window = { min: w.min, max: w.max };
  const v = r.view as Record<string, unknown> | undefined;
  if (v && finite(v.scale) && v.scale > 0 && finite(v.cx) && finite(v.cy)) out.view = { scale: v.scale, cx: v.cx, cy: v.cy };
  if (typeof r.tool === 'string' && (TOOL_NAMES as readonly string[]).includes(r.tool)) out.tool = r.tool as ViewStateData['tool'];
  if (finite(r.brush) && r.brush >= 1) out.brush = r.brush;
  if (Number.isInteger(r.classIndex) && (r.classIndex as number) >= 1 && (r.classIndex as number) <= 255) out.classIndex = r.classIndex as number;
  if (fraction(r.fillTolerance)) out.fillTolerance = r.fillTolerance;
  if (fraction(r.segmentationOpacity)) out.segmentationOpacity = r.segmentationOpacity;
  if (fraction(r.livePreviewOpacity)) out.livePreviewOpacity = r.livePreviewOpacity;
  if (r.hint === 'shown' || r.hint === 'dismissed') out.hint = r.hint;
  if (r.channel === 'composite' || (Number.isInteger(r.channel) && (r.channel as number) >= 0)) out.channel = r.channel as number | 'composite';
  if (Number.isInteger(r.time) && (r.time as number) >= 0) out.time = r.time as number;
  if (r.ortho === true) out.ortho = true;
  const c = r.cross as Record<string, unknown> | undefined;
  if (c && Number.isInteger(c.x) && Number.isInteger(c.y) && (c.x as number) >= 0 && (c.y as number) >= 0) out.cross = { x: c.x as number, y: c.y as number };
  return out;
}

/** One store for every part of the webview: each writes its own fields, setState gets them all. */
export class ViewState {
  private data: ViewStateData;
  /** What the webview had before it was hidden or reloaded. */
  readonly restored: Readonly<ViewStateData>;

  constructor(private readonly host: { getState(): unknown; setState(state: unknown): void }) {
    this.data = parseViewState(host.getState());
    this.restored = { ...this.data };
  }

  get current(): Readonly<ViewStateData> {
    return this.data;
  }

  patch(p: Partial<ViewStateData>): void {
    this.data = { ...this.data, ...p };
    for (const k of Object.keys(p) as (keyof ViewStateData)[]) if (p[k] === undefined) delete this.data[k];
    this.host.setState(this.data);
  }
}
