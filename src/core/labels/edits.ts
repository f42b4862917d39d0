// Edit records for labels: one user action (a stroke, a fill, deleting a class) is one LabelEdit holding, per
// touched slice, the smallest box that changed with its values before and after (run-length encoded), so undo
// and redo are exact and cheap. A journal of every write since the labels file was last read or saved is what a
// hot-exit backup stores: replaying its writes in order on that file gives the current labels.

import { StackSegError } from '../errors';
import { type LabelClass, type StackSettings, classListProblem, normalizeClasses, DEFAULT_DISPLAY } from './classes';
import type { Box, LabelVolume } from './labelVolume';
import { base64ToBytes, bytesToBase64, decodeRle, encodeRle } from './rle';

/** The values of one box of one slice, run-length encoded (box.width * box.height values). */
export interface BoxWrite {
  z: number;
  box: Box;
  rle: Uint8Array;
}

export interface SlicePatch {
  z: number;
  box: Box;
  before: Uint8Array;
  after: Uint8Array;
}

export interface LabelEdit {
  /** What the user did, for the undo menu ("Paint foreground"). */
  label: string;
  patches: SlicePatch[];
  /** Set when the edit changed the class list (add/rename/recolour/delete). */
  classes?: { before: LabelClass[]; after: LabelClass[] };
}

export type Direction = 'undo' | 'redo';

/**
 * The patch that turns box `box` of slice z into `after` (raw values, row-major), cropped to the pixels that
 * actually change; undefined when nothing changes.
 */
export function diffPatch(volume: LabelVolume, z: number, box: Box, after: Uint8Array): SlicePatch | undefined {
  const before = volume.readBox(z, box);
  if (after.length !== before.length) throw new StackSegError(`label patch has ${after.length} values for a ${box.width} x ${box.height} box`);
  let x0 = box.width, y0 = box.height, x1 = -1, y1 = -1;
  for (let r = 0; r < box.height; r++) {
    const row = r * box.width;
    for (let c = 0; c < box.width; c++) {
      if (before[row + c] !== after[row + c]) {
        if (c < x0) x0 = c;
        if (c > x1) x1 = c;
        if (r < y0) y0 = r;
        y1 = r;
      }
    }
  }
  if (x1 < 0) return undefined;
  const tight: Box = { x: box.x + x0, y: box.y + y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  return { z, box: tight, before: encodeRle(crop(before, box.width, x0, y0, tight)), after: encodeRle(crop(after, box.width, x0, y0, tight)) };
}

function crop(values: Uint8Array, stride: number, x0: number, y0: number, tight: Box): Uint8Array {
  if (tight.width === stride && y0 === 0 && tight.height * stride === values.length) return values;
  const out = new Uint8Array(tight.width * tight.height);
  for (let r = 0; r < tight.height; r++) {
    const from = (y0 + r) * stride + x0;
    out.set(values.subarray(from, from + tight.width), r * tight.width);
  }
  return out;
}

/** Writes one box (RLE values) into the volume. */
export function applyWrite(volume: LabelVolume, w: BoxWrite): void {
  volume.writeBox(w.z, w.box, decodeRle(w.rle, w.box.width * w.box.height));
}

/** Applies an edit's label patches forwards (redo) or backwards (undo); returns the writes made, in order. */
export function applyEdit(volume: LabelVolume, edit: LabelEdit, direction: Direction): BoxWrite[] {
  const patches = direction === 'redo' ? edit.patches : [...edit.patches].reverse();
  const writes = patches.map((p) => ({ z: p.z, box: p.box, rle: direction === 'redo' ? p.after : p.before }));
  for (const w of writes) applyWrite(volume, w);
  return writes;
}

/** Patches that set every pixel of class k to 0 (deleting a class), one per slice holding it. */
export function clearClassPatches(volume: LabelVolume, k: number): SlicePatch[] {
  const patches: SlicePatch[] = [];
  const { width, height } = volume;
  for (const { z } of volume.annotatedSlices()) {
    const s = volume.slice(z)!;
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        if (s[row + x] === k) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          y1 = y;
        }
      }
    }
    if (x1 < 0) continue;
    const box = { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
    const after = volume.readBox(z, box);
    for (let i = 0; i < after.length; i++) if (after[i] === k) after[i] = 0;
    const patch = diffPatch(volume, z, box, after);
    if (patch) patches.push(patch);
  }
  return patches;
}

/** Every write since the labels file was read or saved, in order (for backups). */
export class EditJournal {
  private writes: BoxWrite[] = [];
  private bytes = 0;

  record(writes: readonly BoxWrite[]): void {
    for (const w of writes) {
      this.writes.push(w);
      this.bytes += w.rle.length;
    }
  }

  /** After a save or revert the file on disk is the new base. */
  reset(): void {
    this.writes = [];
    this.bytes = 0;
  }

  get entries(): readonly BoxWrite[] {
    return this.writes;
  }

  get encodedBytes(): number {
    return this.bytes;
  }
}

// ---------------------------------------------------------------- backup file

export const BACKUP_FORMAT = 'stackseg-labels-backup';

export interface LabelBackup {
  width: number;
  height: number;
  depth: number;
  settings: StackSettings;
  writes: BoxWrite[];
}

/** JSON text of a backup: dimensions, the settings now, and the journal (RLE base64), never image pixels. */
export function serializeBackup(b: LabelBackup): string {
  return JSON.stringify({
    format: BACKUP_FORMAT,
    version: 1,
    width: b.width,
    height: b.height,
    depth: b.depth,
    classes: b.settings.classes,
    display: b.settings.display,
    writes: b.writes.map((w) => ({ z: w.z, box: [w.box.x, w.box.y, w.box.width, w.box.height], rle: bytesToBase64(w.rle) })),
  });
}

/** Parses a backup; throws StackSegError (naming `file`) when it is corrupt or for a stack of another size. */
export function parseBackup(text: string, file: string, dims: { width: number; height: number; depth: number }): LabelBackup {
  const fail = (what: string) => new StackSegError(what, { file, hint: 'the unsaved labels in this backup cannot be restored' });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw fail('backup is not valid JSON');
  }
  if (raw?.format !== BACKUP_FORMAT || raw.version !== 1) throw fail('is not a StackSeg labels backup (version 1)');
  if (raw.width !== dims.width || raw.height !== dims.height || raw.depth !== dims.depth) {
    throw fail(`backup is for a ${String(raw.width)} x ${String(raw.height)} x ${String(raw.depth)} stack, the image is ${dims.width} x ${dims.height} x ${dims.depth}`);
  }
  const problem = classListProblem(raw.classes);
  if (problem) throw fail(`backup has bad classes: ${problem}`);
  const d = (raw.display ?? {}) as Partial<StackSettings['display']>;
  const display = {
    labelOpacity: typeof d.labelOpacity === 'number' ? Math.min(1, Math.max(0, d.labelOpacity)) : DEFAULT_DISPLAY.labelOpacity,
    showLabels: typeof d.showLabels === 'boolean' ? d.showLabels : DEFAULT_DISPLAY.showLabels,
  };
  if (!Array.isArray(raw.writes)) throw fail('backup has no writes list');
  const writes = (raw.writes as unknown[]).map((w, i): BoxWrite => {
    const e = w as { z?: unknown; box?: unknown; rle?: unknown };
    const box = Array.isArray(e.box) ? e.box : [];
    if (typeof e.z !== 'number' || box.length !== 4 || typeof e.rle !== 'string') throw fail(`backup write ${i} is malformed`);
    const [x, y, width, height] = box as number[];
    return { z: e.z, box: { x, y, width, height }, rle: base64ToBytes(e.rle) };
  });
  return { width: dims.width, height: dims.height, depth: dims.depth, settings: { classes: normalizeClasses(raw.classes as LabelClass[]), display }, writes };
}
