// Edit records for labels: one user action (a stroke, a fill, deleting a class) is one LabelEdit holding, per
// touched slice, the smallest box that changed with its values before and after (run-length encoded), so undo
// and redo are exact and cheap. A journal of every write since the labels file was last read or saved is what a
// hot-exit backup stores: replaying its writes in order on that file gives the current labels.

import { StackSegError } from '../../shared/errors';
import { type LabelClass, type StackSettings, classListProblem, normalizeClasses, DEFAULT_DISPLAY } from '../../shared/labels/classes';
import type { Box, LabelVolume } from './labelVolume';
import { base64ToBytes, bytesToBase64, constantRle, decodeRle, decodeRuns, encodeBoxRle, forEachPatchRun } from '../../shared/labels/rle';

/** The values of one box of one slice, run-length encoded (box.width * box.height values). */
export interface BoxWrite {
  z: number;
  box: Box;
  rle: Uint8Array;
  /**
   * The values the write replaces (undo/redo of an edit: the other side of its patch). Only pixels where `from`
   * and `rle` differ are written, so the cost follows the pixels an edit changed, not the area of its box.
   */
  from?: Uint8Array;
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
  if (after.length !== box.width * box.height) throw new StackSegError(`label patch has ${after.length} values for a ${box.width} x ${box.height} box`);
  volume.checkBox(z, box);
  const slice = volume.slice(z);
  let x0 = box.width, y0 = box.height, x1 = -1, y1 = -1;
  for (let r = 0; r < box.height; r++) {
    const row = r * box.width;
    const from = (box.y + r) * volume.width + box.x;
    for (let c = 0; c < box.width; c++) {
      if ((slice ? slice[from + c] : 0) !== after[row + c]) {
        if (c < x0) x0 = c;
        if (c > x1) x1 = c;
        if (r < y0) y0 = r;
        y1 = r;
      }
    }
  }
  return tightPatch(volume, z, box, { x0, y0, x1, y1 }, undefined, () => after);
}

/**
 * The patch of a stroke: box values as RLE (what the webview sends). Compares run by run with the slice, so a
 * first stroke on an unpainted slice reads no pixels, and reuses `rle` as the patch's `after` when no cropping is
 * needed (the usual case: the webview sends the box of what it stamped). Throws on corrupt RLE before anything.
 */
export function strokePatch(volume: LabelVolume, z: number, box: Box, rle: Uint8Array): SlicePatch | undefined {
  volume.checkBox(z, box);
  const runs = decodeRuns(rle, box.width * box.height);
  const slice = volume.slice(z);
  let x0 = box.width, y0 = box.height, x1 = -1, y1 = -1;
  forEachPatchRun(runs, undefined, (start, length, v) => {
    for (let p = start, left = length; left > 0;) {
      const r = Math.floor(p / box.width);
      const c = p - r * box.width;
      const len = Math.min(left, box.width - c);
      let first = -1, last = -1;
      if (!slice) {
        if (v !== 0) { first = c; last = c + len - 1; }
      } else {
        const at = (box.y + r) * volume.width + box.x + c;
        for (let i = 0; i < len; i++) {
          if (slice[at + i] !== v) {
            if (first < 0) first = c + i;
            last = c + i;
          }
        }
      }
      if (first >= 0) {
        if (first < x0) x0 = first;
        if (last > x1) x1 = last;
        if (r < y0) y0 = r;
        if (r > y1) y1 = r;
      }
      p += len;
      left -= len;
    }
  });
  return tightPatch(volume, z, box, { x0, y0, x1, y1 }, rle, () => decodeRle(rle, box.width * box.height));
}

/** The patch for the changed part (x0..x1, y0..y1 inside `box`; x1 < 0: nothing changed) of a box write. */
function tightPatch(volume: LabelVolume, z: number, box: Box, changed: { x0: number; y0: number; x1: number; y1: number }, afterRle: Uint8Array | undefined, after: () => Uint8Array): SlicePatch | undefined {
  const { x0, y0, x1, y1 } = changed;
  if (x1 < 0) return undefined;
  const tight: Box = { x: box.x + x0, y: box.y + y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  const slice = volume.slice(z);
  const before = slice ? encodeBoxRle(slice, volume.width, tight) : constantRle(0, tight.width * tight.height);
  const whole = tight.width === box.width && tight.height === box.height;
  const afterRuns = whole && afterRle ? afterRle : encodeBoxRle(after(), box.width, { x: x0, y: y0, width: tight.width, height: tight.height });
  return { z, box: tight, before, after: afterRuns };
}

/** Writes one box (RLE values) into the volume; throws before writing anything when the RLE is corrupt. */
export function applyWrite(volume: LabelVolume, w: BoxWrite): void {
  const n = w.box.width * w.box.height;
  volume.writeRuns(w.z, w.box, decodeRuns(w.rle, n), w.from && decodeRuns(w.from, n));
}

/** The writes that apply an edit forwards (redo) or backwards (undo), in order. */
export function editWrites(edit: LabelEdit, direction: Direction): BoxWrite[] {
  const patches = direction === 'redo' ? edit.patches : [...edit.patches].reverse();
  return patches.map((p): BoxWrite => (direction === 'redo' ? { z: p.z, box: p.box, rle: p.after, from: p.before } : { z: p.z, box: p.box, rle: p.before, from: p.after }));
}

/** Applies an edit's label patches forwards (redo) or backwards (undo); returns the writes made, in order. */
export function applyEdit(volume: LabelVolume, edit: LabelEdit, direction: Direction): BoxWrite[] {
  const writes = editWrites(edit, direction);
  for (const w of writes) applyWrite(volume, w);
  return writes;
}

/** Patches that set every pixel of class k to 0 (deleting a class), one per slice holding it. */
export function clearClassPatches(volume: LabelVolume, k: number): SlicePatch[] {
  const patches: SlicePatch[] = [];
  const { width, height } = volume;
  for (const { z } of volume.annotatedSlices()) {
    if (!volume.mayHoldClass(z, k)) continue; // the file's counts say so: not decoded
    const s = volume.slice(z);
    if (!s) continue;
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
      this.bytes += w.rle.length + (w.from?.length ?? 0);
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
    writes: b.writes.map((w) => ({ z: w.z, box: [w.box.x, w.box.y, w.box.width, w.box.height], rle: bytesToBase64(w.rle), ...(w.from ? { from: bytesToBase64(w.from) } : {}) })),
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
    const e = w as { z?: unknown; box?: unknown; rle?: unknown; from?: unknown };
    const box = Array.isArray(e.box) ? e.box : [];
    if (typeof e.z !== 'number' || box.length !== 4 || typeof e.rle !== 'string' || (e.from !== undefined && typeof e.from !== 'string')) throw fail(`backup write ${i} is malformed`);
    const [x, y, width, height] = box as number[];
    // Checked here so that a corrupt backup is refused whole, never half applied.
    if (!Number.isInteger(e.z) || e.z < 0 || e.z >= dims.depth || ![x, y, width, height].every(Number.isInteger)
      || x < 0 || y < 0 || width < 1 || height < 1 || x + width > dims.width || y + height > dims.height) throw fail(`backup write ${i} is outside the stack`);
    const rle = base64ToBytes(e.rle);
    const from = typeof e.from === 'string' ? base64ToBytes(e.from) : undefined;
    try {
      decodeRuns(rle, width * height);
      if (from) decodeRuns(from, width * height);
    } catch (err) {
      throw fail(`backup write ${i}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { z: e.z, box: { x, y, width, height }, rle, ...(from ? { from } : {}) };
  });
  return { width: dims.width, height: dims.height, depth: dims.depth, settings: { classes: normalizeClasses(raw.classes as LabelClass[]), display }, writes };
}
