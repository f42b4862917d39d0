// Messages from the stack viewer webview to the extension host, and their parser. The host treats everything from
// the webview as untrusted: every message goes through parseWebviewMessage (built from ./validate.ts) before it is
// acted on. Part of src/shared/protocol (index.ts); no vscode, no DOM.

import { classListProblem, type DisplaySettings, type LabelClass } from '../labels/classes';
import { PLANE_AXES, planeCount, planeDims, type PlaneAxis } from '../levels/planes';
import { MAX_PIXEL_BOX } from '../pixelBox';
import { isLevel, MAX_LEVEL } from '../pyramid';
import type { SegmentationView } from './hostToWebview';
import { bytesOf, describe, extraKeys, fail, isInt, isIntIn, isOneOf, isRecord, openEnvelope, type Parsed } from './validate';

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

export type PaintTool = 'brush' | 'eraser' | 'fill' | 'lasso';
const PAINT_TOOLS: readonly PaintTool[] = ['brush', 'eraser', 'fill', 'lasso'];

export type WebviewMessageType = WebviewToHost['type'];

export type ParseResult = Parsed<WebviewToHost>;

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

/** Keys each message type may carry; openEnvelope refuses any other, so typos and injected fields do not pass. */
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

const SLICE_PRIORITIES: readonly SlicePriority[] = ['show', 'prefetch'];
const SEGMENTATION_VIEWS: readonly SegmentationView[] = ['classes', 'uncertainty'];

type Checked<T> = T | { reason: string };

function sliceIndex(raw: Record<string, unknown>, limits: ParseLimits): Checked<{ z: number }> {
  const z = raw.z;
  if (!isInt(z)) return { reason: `slice index must be an integer, got ${describe(z)}` };
  if (z < 0 || z >= limits.depth) return { reason: `slice index ${z} is outside 0..${limits.depth - 1}` };
  return { z };
}

/** The optional channel and time point of a message: absent is 0; otherwise an integer inside the stack. */
function planeOf(raw: Record<string, unknown>, limits: ParseLimits): Checked<{ c: number; t: number }> {
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

/** The axis and index of a plane message, checked against the stack. */
function planeOfMessage(raw: Record<string, unknown>, limits: ParseLimits): Checked<{ axis: PlaneAxis; index: number }> {
  const { axis, index } = raw;
  if (!isOneOf(axis, PLANE_AXES)) return { reason: `plane axis must be "xz" or "yz", got ${describe(axis)}` };
  const n = planeCount({ width: limits.width ?? 0, height: limits.height ?? 0, depth: limits.depth }, axis);
  if (!isIntIn(index, 0, n)) return { reason: `${axis} plane index must be an integer 0..${n - 1}, got ${describe(index)}` };
  return { axis, index };
}

/** Box, tool and values of a stroke inside a W x H image; `what` ("stroke") and `where` ("slice") word the reasons. */
function strokeBody(raw: Record<string, unknown>, W: number, H: number, what: string, where: string):
  Checked<{ x: number; y: number; width: number; height: number; rle: Uint8Array; tool: PaintTool }> {
  const { x, y, width, height, tool } = raw;
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return { reason: `${what} box must be integers x, y, width, height` };
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > W || y + height > H) return { reason: `${what} box ${x},${y} ${width}x${height} is not inside the ${W} x ${H} ${where}` };
  if (!isOneOf(tool, PAINT_TOOLS)) return { reason: `unknown tool ${describe(tool)}` };
  const rle = bytesOf(raw.rle);
  // Each run takes at least 2 bytes and covers at least 1 pixel: more bytes than 6 per pixel cannot be valid.
  if (!rle || rle.length < 2 || rle.length > width * height * 6) return { reason: `${what} rle must be a non-empty binary buffer of plausible size` };
  return { x, y, width, height, rle, tool };
}

function parseStroke(raw: Record<string, unknown>, limits: ParseLimits): ParseResult {
  const index = sliceIndex(raw, limits);
  if ('reason' in index) return fail(index.reason);
  const W = limits.width ?? 0;
  const H = limits.height ?? 0;
  const body = strokeBody(raw, W, H, 'stroke', 'slice');
  if ('reason' in body) return fail(body.reason);
  return { ok: true, message: { type: 'stroke', z: index.z, ...body } };
}

function parsePlaneStroke(raw: Record<string, unknown>, limits: ParseLimits): ParseResult {
  const plane = planeOfMessage(raw, limits);
  if ('reason' in plane) return fail(plane.reason);
  const p = planeDims({ width: limits.width ?? 0, height: limits.height ?? 0, depth: limits.depth }, plane.axis);
  const body = strokeBody(raw, p.width, p.height, 'plane stroke', `${plane.axis} plane`);
  if ('reason' in body) return fail(body.reason);
  return { ok: true, message: { type: 'planeStroke', ...plane, ...body } };
}

function parseRequestPixels(raw: Record<string, unknown>, limits: ParseLimits): ParseResult {
  const index = sliceIndex(raw, limits);
  if ('reason' in index) return fail(index.reason);
  const { x, y, width, height } = raw;
  const W = limits.width ?? 0, H = limits.height ?? 0;
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return fail('pixel box must be integers x, y, width, height');
  if (width < 1 || height < 1 || width > MAX_PIXEL_BOX || height > MAX_PIXEL_BOX) return fail(`pixel box ${width}x${height} must be 1..${MAX_PIXEL_BOX} on a side`);
  if (x < 0 || y < 0 || x + width > W || y + height > H) return fail(`pixel box ${x},${y} ${width}x${height} is not inside the ${W} x ${H} slice`);
  const plane = planeOf(raw, limits);
  if ('reason' in plane) return fail(plane.reason);
  return { ok: true, message: { type: 'requestPixels', z: index.z, x, y, width, height, ...planeFields(plane) } };
}

function parseDisplay(raw: unknown): DisplaySettings | undefined {
  if (!isRecord(raw)) return undefined;
  const { labelOpacity, showLabels } = raw;
  if (typeof labelOpacity !== 'number' || !(labelOpacity >= 0 && labelOpacity <= 1) || typeof showLabels !== 'boolean') return undefined;
  if (extraKeys(raw, ['labelOpacity', 'showLabels']).length > 0) return undefined;
  return { labelOpacity, showLabels };
}

/** Validates one message from the webview. Never throws. */
export function parseWebviewMessage(raw: unknown, limits: ParseLimits): ParseResult {
  const envelope = openEnvelope(raw, ALLOWED_KEYS);
  if ('reason' in envelope) return fail(envelope.reason);
  const m = envelope.fields;
  switch (envelope.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'requestSlice': {
      const index = sliceIndex(m, limits);
      if ('reason' in index) return fail(index.reason);
      const priority = m.priority;
      if (!isOneOf(priority, SLICE_PRIORITIES)) return fail(`priority must be "show" or "prefetch", got ${describe(priority)}`);
      const plane = planeOf(m, limits);
      if ('reason' in plane) return fail(plane.reason);
      const level = m.level;
      if (level === undefined) return { ok: true, message: { type: 'requestSlice', z: index.z, priority, ...planeFields(plane) } };
      if (!isLevel(level)) return fail(`level must be a power of two 1..${MAX_LEVEL}, got ${describe(level)}`);
      return { ok: true, message: { type: 'requestSlice', z: index.z, priority, level, ...planeFields(plane) } };
    }
    case 'requestPixels':
      return parseRequestPixels(m, limits);
    case 'sliceShown': {
      const index = sliceIndex(m, limits);
      if ('reason' in index) return fail(index.reason);
      const plane = planeOf(m, limits);
      if ('reason' in plane) return fail(plane.reason);
      return { ok: true, message: { type: 'sliceShown', z: index.z, ...planeFields(plane) } };
    }
    case 'stroke':
      return parseStroke(m, limits);
    case 'setClasses': {
      const problem = classListProblem(m.classes);
      if (problem) return fail(problem);
      const classes = (m.classes as LabelClass[]).map(({ index, name, color }) => ({ index, name, color }));
      return { ok: true, message: { type: 'setClasses', classes } };
    }
    case 'deleteClass': {
      const k = m.index;
      if (!isIntIn(k, 1, 256)) return fail(`class index must be an integer 1..255, got ${describe(k)}`);
      return { ok: true, message: { type: 'deleteClass', index: k } };
    }
    case 'setDisplay': {
      const display = parseDisplay(m.display);
      if (!display) return fail('display must be {labelOpacity: 0..1, showLabels: boolean}');
      return { ok: true, message: { type: 'setDisplay', display } };
    }
    case 'setLivePreview': {
      if (typeof m.enabled !== 'boolean') return fail(`enabled must be a boolean, got ${describe(m.enabled)}`);
      return { ok: true, message: { type: 'setLivePreview', enabled: m.enabled } };
    }
    case 'setSegmentationView': {
      if (!isOneOf(m.view, SEGMENTATION_VIEWS)) return fail(`view must be "classes" or "uncertainty", got ${describe(m.view)}`);
      return { ok: true, message: { type: 'setSegmentationView', view: m.view } };
    }
    case 'resyncLabels': {
      const index = sliceIndex(m, limits);
      if ('reason' in index) return fail(index.reason);
      return { ok: true, message: { type: 'resyncLabels', z: index.z } };
    }
    case 'showOverStack':
      return { ok: true, message: { type: 'showOverStack' } };
    case 'openModelPanel':
      return { ok: true, message: { type: 'openModelPanel' } };
    case 'requestPlane': {
      const plane = planeOfMessage(m, limits);
      if ('reason' in plane) return fail(plane.reason);
      if (!isLevel(m.level)) return fail(`level must be a power of two 1..${MAX_LEVEL}, got ${describe(m.level)}`);
      const p = planeOf(m, limits);
      if ('reason' in p) return fail(p.reason);
      return { ok: true, message: { type: 'requestPlane', ...plane, level: m.level, ...planeFields(p) } };
    }
    case 'planeStroke':
      return parsePlaneStroke(m, limits);
    case 'closePlanes':
      return { ok: true, message: { type: 'closePlanes' } };
  }
}
