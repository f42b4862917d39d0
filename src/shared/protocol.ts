// Messages between the extension host (src/extension) and the stack viewer webview (webview/).
// Both sides import this one file. It imports nothing from 'vscode' or the DOM so it runs in either place
// and in unit tests. The host treats everything from the webview as untrusted: every message goes through
// parseWebviewMessage before it is acted on.

import type { DType } from './types';
import { classListProblem, type DisplaySettings, type LabelClass } from './labels/classes';
import { isLevel, MAX_LEVEL } from './pyramid';
import { MAX_PIXEL_BOX } from './pixelBox';
import { PLANE_AXES, planeCount, planeDims, type PlaneAxis } from './levels/planes';

export type { PlaneAxis } from './levels/planes';

/** What the viewer needs to know about the stack (a subset of StackInfo, JSON-safe). */
export interface ViewerStackInfo {
  width: number;
  height: number;
  depth: number;
  dtype: DType;
  /** File name without directory, for the status line. */
  fileName: string;
  /**
   * Channels (C) and time points (T) besides the depth; absent means 1. The viewer asks for one plane (z, c, t)
   * at a time and shows one channel or a composite of all; labels are per z (one label volume for every channel).
   */
  channels?: number;
  frames?: number;
  /** Per-channel display colours ('#rrggbb') from the file (ImageJ LUTs, OME Channel Color); absent: defaults. */
  channelColors?: string[];
}

// ---------------------------------------------------------------- host -> webview

/**
 * A labels file, ground truth or job mask/uncertainty opened on its own: a read-only LABEL VIEW (values in class
 * colours, no annotation tools) with an action "Show over <stack>" (src/extension/labelView.ts).
 */
export interface LabelViewInit {
  kind: 'labels' | 'truth' | 'mask' | 'uncertainty';
  /** File name of the image stack the values belong to, when found. */
  stack?: string;
  /** Colours by value; values without a class get a palette colour, 0 stays black. Empty: grey (uncertainty). */
  classes: { index: number; name: string; color: string }[];
}

/** Host side of an undo/redo, for the webview's perf probe: epoch ms (performance.timeOrigin + now()). */
export interface HostEditTiming {
  /** VS Code called the edit's undo/redo. */
  startedAt: number;
  /** ms to apply it to the label volume. */
  applyMs: number;
  /** The patch was handed to webview.postMessage. */
  postedAt: number;
}

/** One undo or redo of the document's undo stack: the edit (host-assigned id) and the direction. */
export interface UndoStep {
  id: number;
  direction: 'undo' | 'redo';
}

/** One box write of a prepared undo/redo: values `rle` replacing `from` (both RLE, width*height values). */
export interface PreparedWrite {
  z: number;
  x: number;
  y: number;
  width: number;
  height: number;
  rle: ArrayBuffer;
  from: ArrayBuffer;
}

/** The writes the next undo or redo will make, for the webview to paint on the key press (optimistic undo). */
export interface PreparedStep extends UndoStep {
  writes: PreparedWrite[];
}

export type HostToWebview =
  /** Sent once after the webview said `ready`: the stack opened and the viewer can ask for slices. */
  | { type: 'init'; info: ViewerStackInfo; initialSlice: number; labelView?: LabelViewInit }
  /**
   * One decoded slice. `data` is the typed array's ArrayBuffer (row-major, width*height elements of dtype,
   * platform byte order) so VS Code transfers it as binary rather than as a JSON array of numbers.
   * `level`: 1 = full resolution (exact); f > 1 = block mean over f x f pixels (src/shared/pyramid.ts), then width and
   * height are the level's size, ceil(full / f).
   */
  | { type: 'slice'; z: number; width: number; height: number; dtype: DType; data: ArrayBuffer; level: number; c?: number; t?: number }
  /**
   * Full-resolution pixels of a box of slice z (`width` x `height` at x, y; src/shared/pixelBox.ts), answering
   * `requestPixels`: the exact readout under a resting pointer, without sending a whole slice over the link.
   */
  | { type: 'pixels'; z: number; x: number; y: number; width: number; height: number; dtype: DType; data: ArrayBuffer; c?: number; t?: number }
  /** The stack cannot be shown at all (not a TIFF, RGB, unsupported compression, ...). One clear message. */
  | { type: 'error'; message: string }
  /** Slice z could not be decoded; the rest of the stack may still be fine. */
  | { type: 'sliceError'; z: number; message: string; c?: number; t?: number }
  /**
   * The host dropped a queued request for level `level` of slice z without serving it: the user moved on (a finer
   * level of a slice left behind, a prefetch far away). The webview forgets it asked and asks again if it still needs it.
   */
  | { type: 'sliceSkipped'; z: number; level: number; c?: number; t?: number }
  /** Ask the viewer to show slice z (commands, tests). */
  | { type: 'goToSlice'; z: number }
  // ---- labels (annotation). Label values are uint8 run-length encoded (src/shared/labels/rle.ts) and sent as binary.
  /**
   * All labels of slice z, sent before the image slice the first time the host serves z to this webview (only when
   * z has labels). From then on the webview keeps its copy in sync from its own strokes and `labelPatch`es.
   * `replace`: the answer to `resyncLabels`, which overwrites the webview's copy.
   */
  | { type: 'labels'; z: number; rle: ArrayBuffer; replace?: boolean }
  /**
   * Box values written by undo/redo/class deletion: the webview copies them into its label buffer. `from` (RLE of
   * the values they replace) limits the write to the pixels where the two differ, as on the host.
   */
  | { type: 'labelPatch'; z: number; x: number; y: number; width: number; height: number; rle: ArrayBuffer; from?: ArrayBuffer; timing?: HostEditTiming; step?: UndoStep }
  /**
   * After every change of the undo stack (edit pushed, undo, redo, revert, webview ready): what the next undo and
   * redo will write (absent: unknown, a class change, or too big). `applied`: the undo/redo whose `labelPatch`es were
   * just sent (they come first). The webview paints a prepared step on the key press and checks it against `applied`.
   */
  | { type: 'undoState'; applied?: UndoStep; undo?: PreparedStep; redo?: PreparedStep }
  /** Drop every label buffer (revert); `labels` messages for the annotated slices follow. */
  | { type: 'labelsReset' }
  | { type: 'classes'; classes: LabelClass[]; display: DisplaySettings }
  /** Labeled pixels per class [index, count] and the annotated slices, after every change. */
  | { type: 'labelStats'; counts: [number, number][]; annotated: { z: number; labeled: number }[] }
  /** A segmentation mask slice (uint8 class indices, width*height) to draw under the labels; null data hides it. */
  | { type: 'segmentation'; z: number; data: ArrayBuffer | null; source: string; view?: SegmentationView; canShowUncertainty?: boolean }
  /**
   * Live preview of slice z: class per pixel (uint8, width*height; each value covers factor x factor image pixels:
   * large slices are previewed downsampled) predicted by a forest trained on the labels of that slice. `strokes`: how many `stroke` messages of this webview the training saw (the webview times stroke end
   * -> overlay painted with it). `ms`: worker times (features are 0 when cached for the slice).
   */
  | { type: 'livePreview'; z: number; data: ArrayBuffer; width: number; height: number; factor: number; strokes: number; ms: { features: number; train: number; predict: number; total: number } }
  /** Live preview on/off and one line for the panel (why nothing is shown, or the last timing); hides the overlay when `clear`. */
  | { type: 'livePreviewState'; enabled: boolean; hint: string; clear: boolean }
  /**
   * Another message whose binary `fields` travel packed (lossless, src/shared/levels/codec.ts): over Remote-SSH the
   * link is tens of Mbit/s. The webview unpacks them (webview/levelCodec.ts), in arrival order, then handles
   * `message` as if it had come alone. Only the fields of PACKED_FIELDS may be packed.
   */
  | { type: 'packed'; fields: string[]; message: HostToWebview }
  /**
   * The link to the webview as the host measures it (bytes acknowledged per second, see src/host/linkMeter.ts):
   * `slow` when under the threshold; the viewer then streams coarser first frames and says so in its status bar.
   */
  | { type: 'link'; bytesPerSecond: number; slow: boolean; ratio: number }
  // ---- orthogonal views (3 views: webview/orthoViews.ts, src/host/planeServer.ts, src/shared/levels/planes.ts)
  /**
   * Level `level` of the XZ plane at y = index (x across, z down) or the YZ plane at x = index (z across, y down):
   * `width` x `height` level pixels of dtype, cut from level-`level` XY slices (one slice per `level` in z).
   * `slices`: how many slices the host read for it.
   */
  | { type: 'plane'; axis: PlaneAxis; index: number; level: number; width: number; height: number; dtype: DType; data: ArrayBuffer; slices: number; c?: number; t?: number }
  /** The labels of a plane at full resolution (RLE), before its first image and again whenever they change. */
  | { type: 'planeLabels'; axis: PlaneAxis; index: number; rle: ArrayBuffer };

/** Binary fields a `packed` message may carry packed, by inner message type. */
export const PACKED_FIELDS = {
  slice: ['data'],
  labels: ['rle'],
  labelPatch: ['rle', 'from'],
  segmentation: ['data'],
  livePreview: ['data'],
} as const satisfies Partial<Record<HostToWebview['type'], readonly string[]>>;

/**
 * Checks a `packed` message before it is unpacked: an object wrapping a known message type whose named fields are
 * packable and binary. Returns a reason when it is not one.
 */
export function packedProblem(raw: unknown): string | undefined {
  if (!isRecord(raw) || raw.type !== 'packed') return 'not a packed message';
  const { fields, message } = raw;
  if (!isRecord(message) || typeof message.type !== 'string') return 'packed message without an inner message';
  const allowed = (PACKED_FIELDS as Record<string, readonly string[]>)[message.type];
  if (!allowed) return `a ${describe(message.type)} message cannot be packed`;
  if (!Array.isArray(fields) || fields.length === 0) return 'packed fields must be a non-empty list';
  for (const f of fields) {
    if (typeof f !== 'string' || !allowed.includes(f)) return `field ${describe(f)} of ${message.type} cannot be packed`;
    if (!bytesOf(message[f])) return `packed field ${f} is not binary`;
  }
  return undefined;
}

// ---------------------------------------------------------------- webview -> host

export type SlicePriority = 'show' | 'prefetch';

export type WebviewToHost =
  /** The webview's script has loaded and listens for messages. */
  | { type: 'ready' }
  /**
   * Send slice z. `show` requests are served before queued prefetches and make z the host's focus (see
   * src/host/sliceQueue.ts for the order). `level`: resolution level (1, 2, 4, ... 64,
   * see src/shared/pyramid.ts); absent means 1, full resolution. `c`, `t`: channel and time point (absent: 0).
   */
  | { type: 'requestSlice'; z: number; priority: SlicePriority; level?: number; c?: number; t?: number }
  /** Full-resolution pixels of a box of slice z, at most MAX_PIXEL_BOX on a side (the exact readout); answered by `pixels`. */
  | { type: 'requestPixels'; z: number; x: number; y: number; width: number; height: number; c?: number; t?: number }
  /**
   * The viewer painted slice z (tracked by the host for commands and tests). `c`, `t`: the channel the live
   * preview reads (the one shown; channel 0 in the composite) and the time point shown.
   */
  | { type: 'sliceShown'; z: number; c?: number; t?: number }
  /**
   * One finished stroke / fill / lasso: the new label values of a box of slice z (RLE). The webview has already
   * drawn it; the host turns it into one undoable edit.
   */
  | { type: 'stroke'; z: number; x: number; y: number; width: number; height: number; rle: Uint8Array; tool: PaintTool }
  /** New class list (add, rename, recolour): one undoable edit. */
  | { type: 'setClasses'; classes: LabelClass[] }
  /** Delete a class; the host asks first when pixels use it. */
  | { type: 'deleteClass'; index: number }
  | { type: 'setDisplay'; display: DisplaySettings }
  /** The "Live preview" toggle of the label panel. */
  | { type: 'setLivePreview'; enabled: boolean }
  /** The Segmentation section's view: the job's classes, or (rf) its uncertainty map as a heat overlay. */
  | { type: 'setSegmentationView'; view: SegmentationView }
  /** Send labels of slice z again, replacing the webview's copy (after an optimistic undo it could not roll back exactly). */
  | { type: 'resyncLabels'; z: number }
  /** Label view: the "Show over <stack>" button (opens the image stack with these values over it). */
  | { type: 'showOverStack' }
  /** The next-step hint's link (after the first stroke): reveal the StackSeg sidebar, where the Model panel trains. */
  | { type: 'openModelPanel' }
  /**
   * 3 views: level `level` of the XZ (index = y) or YZ (index = x) plane. The newest request of an axis replaces
   * the older ones; the host sends the plane's labels first and keeps them in sync until `closePlanes`.
   */
  | { type: 'requestPlane'; axis: PlaneAxis; index: number; level: number; c?: number; t?: number }
  /** One finished stroke in a plane: a box in plane coordinates and its values (RLE). One undoable edit on the host. */
  | { type: 'planeStroke'; axis: PlaneAxis; index: number; x: number; y: number; width: number; height: number; rle: Uint8Array; tool: PaintTool }
  /** 3 views turned off: the host stops keeping plane labels in sync. */
  | { type: 'closePlanes' };

export type SegmentationView = 'classes' | 'uncertainty';

export type PaintTool = 'brush' | 'eraser' | 'fill' | 'lasso';
const PAINT_TOOLS: readonly PaintTool[] = ['brush', 'eraser', 'fill', 'lasso'];

export type WebviewMessageType = WebviewToHost['type'];

export type ParseResult = { ok: true; message: WebviewToHost } | { ok: false; reason: string };

/** Limits that depend on the open stack; depth 0 (no stack open) makes every slice index out of range. */
export interface ParseLimits {
  depth: number;
  /** Slice size, for label boxes (0 or absent: no label message is valid). */
  width?: number;
  height?: number;
  /** Channels and time points (absent: 1): a channel or time point outside them is refused. */
  channels?: number;
  frames?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sliceIndex(raw: Record<string, unknown>, limits: ParseLimits): { z: number } | { reason: string } {
  const z = raw.z;
  if (typeof z !== 'number' || !Number.isInteger(z)) return { reason: `slice index must be an integer, got ${describe(z)}` };
  if (z < 0 || z >= limits.depth) return { reason: `slice index ${z} is outside 0..${limits.depth - 1}` };
  return { z };
}

/** The optional channel and time point of a message: absent is 0; otherwise an integer inside the stack. */
function planeOf(raw: Record<string, unknown>, limits: ParseLimits): { c: number; t: number } | { reason: string } {
  const out = { c: 0, t: 0 };
  for (const [key, name, count] of [['c', 'channel', limits.channels ?? 1], ['t', 'time point', limits.frames ?? 1]] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (!isInt(v)) return { reason: `${name} must be an integer, got ${describe(v)}` };
    if (v < 0 || v >= count) return { reason: `${name} ${v} is outside 0..${count - 1}` };
    out[key] = v;
  }
  return out;
}

/** `{c, t}` for a message, without the zeros (single-channel messages stay as they were). */
function planeFields(p: { c: number; t: number }): { c?: number; t?: number } {
  return p.c || p.t ? { c: p.c, t: p.t } : {};
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** Keys each message type may carry; extra keys are rejected so typos and injected fields do not pass silently. */
const ALLOWED_KEYS: Record<WebviewMessageType, readonly string[]> = {
  ready: ['type'],
  requestSlice: ['type', 'z', 'priority', 'level', 'c', 't'],
  requestPixels: ['type', 'z', 'x', 'y', 'width', 'height', 'c', 't'],
  sliceShown: ['type', 'z', 'c', 't'],
  stroke: ['type', 'z', 'x', 'y', 'width', 'height', 'rle', 'tool'],
  setClasses: ['type', 'classes'],
  deleteClass: ['type', 'index'],
  setDisplay: ['type', 'display'],
  setLivePreview: ['type', 'enabled'],
  setSegmentationView: ['type', 'view'],
  resyncLabels: ['type', 'z'],
  showOverStack: ['type'],
  openModelPanel: ['type'],
  requestPlane: ['type', 'axis', 'index', 'level', 'c', 't'],
  planeStroke: ['type', 'axis', 'index', 'x', 'y', 'width', 'height', 'rle', 'tool'],
  closePlanes: ['type'],
};

/** The axis and index of a plane message, checked against the stack. */
function planeOfMessage(raw: Record<string, unknown>, limits: ParseLimits): { axis: PlaneAxis; index: number } | { reason: string } {
  const { axis, index } = raw;
  if (typeof axis !== 'string' || !(PLANE_AXES as readonly string[]).includes(axis)) return { reason: `plane axis must be "xz" or "yz", got ${describe(axis)}` };
  const dims = { width: limits.width ?? 0, height: limits.height ?? 0, depth: limits.depth };
  const n = planeCount(dims, axis as PlaneAxis);
  if (!isInt(index) || index < 0 || index >= n) return { reason: `${axis} plane index must be an integer 0..${n - 1}, got ${describe(index)}` };
  return { axis: axis as PlaneAxis, index };
}

function parsePlaneStroke(raw: Record<string, unknown>, limits: ParseLimits): ParseResult {
  const plane = planeOfMessage(raw, limits);
  if ('reason' in plane) return { ok: false, reason: plane.reason };
  const { x, y, width, height, tool } = raw;
  const p = planeDims({ width: limits.width ?? 0, height: limits.height ?? 0, depth: limits.depth }, plane.axis);
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return { ok: false, reason: 'plane stroke box must be integers x, y, width, height' };
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > p.width || y + height > p.height) return { ok: false, reason: `plane stroke box ${x},${y} ${width}x${height} is not inside the ${p.width} x ${p.height} ${plane.axis} plane` };
  if (typeof tool !== 'string' || !(PAINT_TOOLS as readonly string[]).includes(tool)) return { ok: false, reason: `unknown tool ${describe(tool)}` };
  const rle = bytesOf(raw.rle);
  if (!rle || rle.length < 2 || rle.length > width * height * 6) return { ok: false, reason: 'plane stroke rle must be a non-empty binary buffer of plausible size' };
  return { ok: true, message: { type: 'planeStroke', ...plane, x, y, width, height, rle, tool: tool as PaintTool } };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Binary payloads arrive as ArrayBuffer or as a typed array depending on the VS Code version. */
function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

function parseStroke(raw: Record<string, unknown>, limits: ParseLimits): ParseResult {
  const index = sliceIndex(raw, limits);
  if ('reason' in index) return { ok: false, reason: index.reason };
  const { x, y, width, height, tool } = raw;
  const W = limits.width ?? 0;
  const H = limits.height ?? 0;
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return { ok: false, reason: 'stroke box must be integers x, y, width, height' };
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > W || y + height > H) return { ok: false, reason: `stroke box ${x},${y} ${width}x${height} is not inside the ${W} x ${H} slice` };
  if (typeof tool !== 'string' || !(PAINT_TOOLS as readonly string[]).includes(tool)) return { ok: false, reason: `unknown tool ${describe(tool)}` };
  const rle = bytesOf(raw.rle);
  // Each run takes at least 2 bytes and covers at least 1 pixel: more bytes than 6 per pixel cannot be valid.
  if (!rle || rle.length < 2 || rle.length > width * height * 6) return { ok: false, reason: 'stroke rle must be a non-empty binary buffer of plausible size' };
  return { ok: true, message: { type: 'stroke', z: index.z, x, y, width, height, rle, tool: tool as PaintTool } };
}

function parseDisplay(raw: unknown): DisplaySettings | undefined {
  if (!isRecord(raw)) return undefined;
  const { labelOpacity, showLabels } = raw;
  if (typeof labelOpacity !== 'number' || !(labelOpacity >= 0 && labelOpacity <= 1) || typeof showLabels !== 'boolean') return undefined;
  if (Object.keys(raw).some((k) => k !== 'labelOpacity' && k !== 'showLabels')) return undefined;
  return { labelOpacity, showLabels };
}

/** Validates one message from the webview. Never throws. */
export function parseWebviewMessage(raw: unknown, limits: ParseLimits): ParseResult {
  if (!isRecord(raw)) return { ok: false, reason: `message must be an object, got ${Array.isArray(raw) ? 'array' : describe(raw)}` };
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(ALLOWED_KEYS, type)) {
    return { ok: false, reason: `unknown message type ${describe(type)}` };
  }
  const allowed = ALLOWED_KEYS[type as WebviewMessageType];
  const extra = Object.keys(raw).filter((k) => !allowed.includes(k));
  if (extra.length > 0) return { ok: false, reason: `unexpected field(s) ${extra.join(', ')} in ${type}` };

  switch (type as WebviewMessageType) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'requestSlice': {
      const index = sliceIndex(raw, limits);
      if ('reason' in index) return { ok: false, reason: index.reason };
      const priority = raw.priority;
      if (priority !== 'show' && priority !== 'prefetch') return { ok: false, reason: `priority must be "show" or "prefetch", got ${describe(priority)}` };
      const plane = planeOf(raw, limits);
      if ('reason' in plane) return { ok: false, reason: plane.reason };
      const level = raw.level;
      if (level === undefined) return { ok: true, message: { type: 'requestSlice', z: index.z, priority, ...planeFields(plane) } };
      if (!isLevel(level)) return { ok: false, reason: `level must be a power of two 1..${MAX_LEVEL}, got ${describe(level)}` };
      return { ok: true, message: { type: 'requestSlice', z: index.z, priority, level, ...planeFields(plane) } };
    }
    case 'requestPixels': {
      const index = sliceIndex(raw, limits);
      if ('reason' in index) return { ok: false, reason: index.reason };
      const { x, y, width, height } = raw;
      const W = limits.width ?? 0, H = limits.height ?? 0;
      if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return { ok: false, reason: 'pixel box must be integers x, y, width, height' };
      if (width < 1 || height < 1 || width > MAX_PIXEL_BOX || height > MAX_PIXEL_BOX) return { ok: false, reason: `pixel box ${width}x${height} must be 1..${MAX_PIXEL_BOX} on a side` };
      if (x < 0 || y < 0 || x + width > W || y + height > H) return { ok: false, reason: `pixel box ${x},${y} ${width}x${height} is not inside the ${W} x ${H} slice` };
      const plane = planeOf(raw, limits);
      if ('reason' in plane) return { ok: false, reason: plane.reason };
      return { ok: true, message: { type: 'requestPixels', z: index.z, x, y, width, height, ...planeFields(plane) } };
    }
    case 'sliceShown': {
      const index = sliceIndex(raw, limits);
      if ('reason' in index) return { ok: false, reason: index.reason };
      const plane = planeOf(raw, limits);
      if ('reason' in plane) return { ok: false, reason: plane.reason };
      return { ok: true, message: { type: 'sliceShown', z: index.z, ...planeFields(plane) } };
    }
    case 'stroke':
      return parseStroke(raw, limits);
    case 'setClasses': {
      const problem = classListProblem(raw.classes);
      if (problem) return { ok: false, reason: problem };
      const classes = (raw.classes as LabelClass[]).map(({ index, name, color }) => ({ index, name, color }));
      return { ok: true, message: { type: 'setClasses', classes } };
    }
    case 'deleteClass': {
      const k = raw.index;
      if (!isInt(k) || k < 1 || k > 255) return { ok: false, reason: `class index must be an integer 1..255, got ${describe(k)}` };
      return { ok: true, message: { type: 'deleteClass', index: k } };
    }
    case 'setDisplay': {
      const display = parseDisplay(raw.display);
      if (!display) return { ok: false, reason: 'display must be {labelOpacity: 0..1, showLabels: boolean}' };
      return { ok: true, message: { type: 'setDisplay', display } };
    }
    case 'setLivePreview': {
      if (typeof raw.enabled !== 'boolean') return { ok: false, reason: `enabled must be a boolean, got ${describe(raw.enabled)}` };
      return { ok: true, message: { type: 'setLivePreview', enabled: raw.enabled } };
    }
    case 'setSegmentationView': {
      if (raw.view !== 'classes' && raw.view !== 'uncertainty') return { ok: false, reason: `view must be "classes" or "uncertainty", got ${describe(raw.view)}` };
      return { ok: true, message: { type: 'setSegmentationView', view: raw.view } };
    }
    case 'resyncLabels': {
      const index = sliceIndex(raw, limits);
      if ('reason' in index) return { ok: false, reason: index.reason };
      return { ok: true, message: { type: 'resyncLabels', z: index.z } };
    }
    case 'showOverStack':
      return { ok: true, message: { type: 'showOverStack' } };
    case 'openModelPanel':
      return { ok: true, message: { type: 'openModelPanel' } };
    case 'requestPlane': {
      const plane = planeOfMessage(raw, limits);
      if ('reason' in plane) return { ok: false, reason: plane.reason };
      if (!isLevel(raw.level)) return { ok: false, reason: `level must be a power of two 1..${MAX_LEVEL}, got ${describe(raw.level)}` };
      const p = planeOf(raw, limits);
      if ('reason' in p) return { ok: false, reason: p.reason };
      return { ok: true, message: { type: 'requestPlane', ...plane, level: raw.level, ...planeFields(p) } };
    }
    case 'planeStroke':
      return parsePlaneStroke(raw, limits);
    case 'closePlanes':
      return { ok: true, message: { type: 'closePlanes' } };
  }
}

// ---------------------------------------------------------------- host -> webview checks (undo state)
// The webview acts on these without asking (it paints them on a key press), so it checks them like the host
// checks webview messages: a malformed step is dropped and the webview waits for the host's patch instead.

/** An UndoStep, or undefined when `raw` is not one. */
export function parseUndoStep(raw: unknown): UndoStep | undefined {
  if (!isRecord(raw) || Object.keys(raw).some((k) => k !== 'id' && k !== 'direction')) return undefined;
  const { id, direction } = raw;
  if (!isInt(id) || id < 1 || (direction !== 'undo' && direction !== 'redo')) return undefined;
  return { id, direction };
}

const PREPARED_WRITE_KEYS = ['z', 'x', 'y', 'width', 'height', 'rle', 'from'];

/** A checked PreparedStep: boxes inside the stack, RLE as bytes (their contents are checked when decoded). */
export interface CheckedStep extends UndoStep {
  writes: { z: number; x: number; y: number; width: number; height: number; rle: Uint8Array; from: Uint8Array }[];
}

/** A PreparedStep whose boxes lie inside the depth x height x width stack, or undefined. */
export function parsePreparedStep(raw: unknown, limits: ParseLimits): CheckedStep | undefined {
  if (!isRecord(raw) || !Array.isArray(raw.writes) || Object.keys(raw).some((k) => k !== 'id' && k !== 'direction' && k !== 'writes')) return undefined;
  const step = parseUndoStep({ id: raw.id, direction: raw.direction });
  if (!step) return undefined;
  const W = limits.width ?? 0;
  const H = limits.height ?? 0;
  const writes: CheckedStep['writes'] = [];
  for (const w of raw.writes as unknown[]) {
    if (!isRecord(w) || Object.keys(w).some((k) => !PREPARED_WRITE_KEYS.includes(k))) return undefined;
    const { z, x, y, width, height, rle, from } = w;
    if (!isInt(z) || z < 0 || z >= limits.depth || !isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return undefined;
    if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > W || y + height > H) return undefined;
    const rleBytes = bytesOf(rle);
    const fromBytes = bytesOf(from);
    if (!rleBytes || !fromBytes) return undefined;
    writes.push({ z, x, y, width, height, rle: rleBytes, from: fromBytes });
  }
  return { ...step, writes };
}

/** Checks an `undoState` message; undefined parts (bad or absent) mean "not known". */
export function parseUndoState(raw: unknown, limits: ParseLimits): { applied?: UndoStep; undo?: CheckedStep; redo?: CheckedStep } {
  if (!isRecord(raw)) return {};
  const undo = parsePreparedStep(raw.undo, limits);
  const redo = parsePreparedStep(raw.redo, limits);
  return {
    applied: parseUndoStep(raw.applied),
    undo: undo?.direction === 'undo' ? undo : undefined,
    redo: redo?.direction === 'redo' ? redo : undefined,
  };
}

/** Typed-array constructor for a dtype; both sides rebuild views on transferred ArrayBuffers with it. */
export const DTYPE_ARRAYS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_ARRAYS, value);
}
