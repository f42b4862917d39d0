// Host -> webview checks of the undo state. The webview acts on these without asking (it paints a prepared step on a
// key press), so it checks them as the host checks webview messages (./validate.ts): a malformed step is dropped and
// the webview waits for the host's patch instead. Part of src/shared/protocol (index.ts).

import type { UndoStep } from './hostToWebview';
import type { ParseLimits } from './webviewToHost';
import { bytesOf, extraKeys, isInt, isIntIn, isOneOf, isRecord } from './validate';

const DIRECTIONS: readonly UndoStep['direction'][] = ['undo', 'redo'];

/** An UndoStep, or undefined when `raw` is not one. */
export function parseUndoStep(raw: unknown): UndoStep | undefined {
  if (!isRecord(raw) || extraKeys(raw, ['id', 'direction']).length > 0) return undefined;
  const { id, direction } = raw;
  if (!isInt(id) || id < 1 || !isOneOf(direction, DIRECTIONS)) return undefined;
  return { id, direction };
}

const PREPARED_WRITE_KEYS = ['z', 'x', 'y', 'width', 'height', 'rle', 'from'];

/** A checked PreparedStep: boxes inside the stack, RLE as bytes (their contents are checked when decoded). */
export interface CheckedStep extends UndoStep {
  writes: { z: number; x: number; y: number; width: number; height: number; rle: Uint8Array; from: Uint8Array }[];
}

/** A PreparedStep whose boxes lie inside the depth x height x width stack, or undefined. */
export function parsePreparedStep(raw: unknown, limits: ParseLimits): CheckedStep | undefined {
  if (!isRecord(raw) || !Array.isArray(raw.writes) || extraKeys(raw, ['id', 'direction', 'writes']).length > 0) return undefined;
  const step = parseUndoStep({ id: raw.id, direction: raw.direction });
  if (!step) return undefined;
  const W = limits.width ?? 0;
  const H = limits.height ?? 0;
  const writes: CheckedStep['writes'] = [];
  for (const w of raw.writes as unknown[]) {
    if (!isRecord(w) || extraKeys(w, PREPARED_WRITE_KEYS).length > 0) return undefined;
    const { z, x, y, width, height, rle, from } = w;
    if (!isIntIn(z, 0, limits.depth) || !isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return undefined;
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
