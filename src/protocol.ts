// Messages between the extension host (src/extension) and the stack viewer webview (webview/).
// Both sides import this one file. It imports nothing from 'vscode' or the DOM so it runs in either place
// and in unit tests. The host treats everything from the webview as untrusted: every message goes through
// parseWebviewMessage before it is acted on.

import type { DType } from './core/types';

/** What the viewer needs to know about the stack (a subset of StackInfo, JSON-safe). */
export interface ViewerStackInfo {
  width: number;
  height: number;
  depth: number;
  dtype: DType;
  /** File name without directory, for the status line. */
  fileName: string;
}

// ---------------------------------------------------------------- host -> webview

export type HostToWebview =
  /** Sent once after the webview said `ready`: the stack opened and the viewer can ask for slices. */
  | { type: 'init'; info: ViewerStackInfo; initialSlice: number }
  /**
   * One decoded slice. `data` is the typed array's ArrayBuffer (row-major, width*height elements of dtype,
   * platform byte order) so VS Code transfers it as binary rather than as a JSON array of numbers.
   */
  | { type: 'slice'; z: number; width: number; height: number; dtype: DType; data: ArrayBuffer }
  /** The stack cannot be shown at all (not a TIFF, RGB, unsupported compression, ...). One clear message. */
  | { type: 'error'; message: string }
  /** Slice z could not be decoded; the rest of the stack may still be fine. */
  | { type: 'sliceError'; z: number; message: string }
  /** Ask the viewer to show slice z (commands, tests). */
  | { type: 'goToSlice'; z: number };

// ---------------------------------------------------------------- webview -> host

export type SlicePriority = 'show' | 'prefetch';

export type WebviewToHost =
  /** The webview's script has loaded and listens for messages. */
  | { type: 'ready' }
  /** Send slice z. `show` requests are served before queued prefetches. */
  | { type: 'requestSlice'; z: number; priority: SlicePriority }
  /** The viewer painted slice z (tracked by the host for commands and tests). */
  | { type: 'sliceShown'; z: number };

export type WebviewMessageType = WebviewToHost['type'];

export type ParseResult = { ok: true; message: WebviewToHost } | { ok: false; reason: string };

/** Limits that depend on the open stack; depth 0 (no stack open) makes every slice index out of range. */
export interface ParseLimits {
  depth: number;
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

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** Keys each message type may carry; extra keys are rejected so typos and injected fields do not pass silently. */
const ALLOWED_KEYS: Record<WebviewMessageType, readonly string[]> = {
  ready: ['type'],
  requestSlice: ['type', 'z', 'priority'],
  sliceShown: ['type', 'z'],
};

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
      return { ok: true, message: { type: 'requestSlice', z: index.z, priority } };
    }
    case 'sliceShown': {
      const index = sliceIndex(raw, limits);
      if ('reason' in index) return { ok: false, reason: index.reason };
      return { ok: true, message: { type: 'sliceShown', z: index.z } };
    }
  }
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
