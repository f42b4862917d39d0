// A mirror of VS Code's undo stack of one custom document, so the host can tell the webview which edit the next
// undo and redo will apply (the webview paints them at once on the key press: optimistic undo/redo).
// VS Code (mainThreadCustomEditors) keeps the pushed edits in a list with a current index: undo applies the edit
// at the index and steps back, redo steps forward, a push drops the redo tail, revert goes back to the save point.
// This mirror only predicts; the webview checks each prediction against the undo/redo VS Code really runs.
// Imports nothing from vscode (unit-tested).

import { editWrites, type BoxWrite, type Direction, type LabelEdit } from '../core/labels/edits';

/** The next undo or redo: which edit (id), which way, and its writes. */
export interface NextStep {
  id: number;
  direction: Direction;
  writes: BoxWrite[];
}

/** Edits whose writes exceed this many RLE bytes are not offered (the webview waits for the host, as before). */
export const MAX_PREPARED_BYTES = 1 << 20;

export class UndoHistory {
  /** References only: VS Code's extension host holds the same edits for its own undo stack. */
  private edits: { id: number; edit: LabelEdit }[] = [];
  /** Index of the last applied edit (-1: none). */
  private index = -1;
  /** `index` at the last save; undefined when that state can no longer be reached by undo/redo. */
  private savePoint: number | undefined = -1;
  private nextId = 1;

  /** A new edit (stroke, class change): drops the redo tail, like VS Code. Returns its id. */
  push(edit: LabelEdit): number {
    this.edits.splice(this.index + 1);
    if (this.savePoint !== undefined && this.savePoint > this.index) this.savePoint = undefined;
    const id = this.nextId++;
    this.edits.push({ id, edit });
    this.index = this.edits.length - 1;
    return id;
  }

  /** VS Code ran undo or redo of `edit`; returns its id, or undefined (and forgets everything) when unknown. */
  applied(edit: LabelEdit, direction: Direction): number | undefined {
    const k = this.edits.findIndex((e) => e.edit === edit);
    if (k < 0) {
      this.clear();
      return undefined;
    }
    this.index = direction === 'undo' ? k - 1 : k;
    return this.edits[k].id;
  }

  saved(): void {
    this.savePoint = this.index;
  }

  /** Revert: VS Code goes back to the save point and drops the edits after it. */
  reverted(): void {
    if (this.savePoint === undefined) return this.clear();
    this.index = this.savePoint;
    this.edits.splice(this.index + 1);
  }

  clear(): void {
    this.edits = [];
    this.index = -1;
    this.savePoint = undefined;
  }

  /** What the next undo and redo will apply; only label-only edits of bounded size (class changes: undefined). */
  next(): { undo?: NextStep; redo?: NextStep } {
    return { undo: step(this.edits[this.index], 'undo'), redo: step(this.edits[this.index + 1], 'redo') };
  }
}

function step(entry: { id: number; edit: LabelEdit } | undefined, direction: Direction): NextStep | undefined {
  if (!entry || entry.edit.classes || entry.edit.patches.length === 0) return undefined;
  const writes = editWrites(entry.edit, direction);
  const bytes = writes.reduce((n, w) => n + w.rle.length + (w.from?.length ?? 0), 0);
  return bytes <= MAX_PREPARED_BYTES ? { id: entry.id, direction, writes } : undefined;
}
