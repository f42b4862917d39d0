// Optimistic undo/redo: VS Code's undo path (webview key -> workbench -> extension host -> patch back through the
// websocket) takes 50-700 ms, so on the Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y key press the webview paints the step the
// host prepared (undoState) at once, and lets the key go on to VS Code, which still runs the real undo on the host.
// The host stays the authority: when its patches of that step arrive they are skipped (already painted); when a
// different change arrives first, or nothing within CONFIRM_TIMEOUT_MS (VS Code undid something else, or nothing),
// the painted step is rolled back before the host's change is applied, so the labels always end as the host's.
// Pure (no DOM, no vscode): the annotator feeds it messages and keys and redraws the rectangles it returns.

import { decodeRuns, type RleRuns } from '../src/shared/labels/rle';
import type { CheckedStep, UndoStep } from '../src/shared/protocol';
import { writeRunsTracked, type Rect } from './paintOps';

export const CONFIRM_TIMEOUT_MS = 2000;

export type Direction = 'undo' | 'redo';

interface Box { x: number; y: number; width: number; height: number }

/** One write of a prepared step, decoded: `to` replaces `from` where the two differ. */
interface StepWrite {
  z: number;
  box: Box;
  to: RleRuns;
  from: RleRuns;
}

interface Prepared extends UndoStep {
  writes: StepWrite[];
}

/** The label slices the webview holds (width: the slice's row length). */
export interface LabelSlices {
  readonly width: number;
  get(z: number): Uint8Array | undefined;
}

/** Slices changed by a paint or a rollback, with the rectangles to redraw. */
export type Changes = { z: number; rects: Rect[] }[];

/** Labeled pixels gained per class and per slice (negative: lost). */
export interface CountDelta {
  classes: Map<number, number>;
  slices: Map<number, number>;
}

export interface Rollback {
  step: UndoStep;
  changes: Changes;
  /** Slices painted by the user while the step was pending: the rollback cannot restore them exactly; ask the host. */
  resync: number[];
  /** Undoes the step's effect on the labeled-pixel counts. */
  delta: CountDelta;
}

interface Pending {
  step: UndoStep;
  /** The writes painted (slices the webview did not hold are left to the host's patches). */
  writes: StepWrite[];
  since: number;
  stroked: Set<number>;
}

/** The undo/redo a key press asks for (Mac: Cmd+Z, Cmd+Shift+Z; elsewhere also Ctrl+Y), as VS Code binds them. */
export function undoRedoKey(e: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }, mac: boolean): Direction | undefined {
  const mod = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (!mod || e.altKey) return undefined;
  const k = e.key.toLowerCase();
  if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (k === 'y' && !mac && !e.shiftKey) return 'redo';
  return undefined;
}

/** Decodes a checked step; undefined when an RLE buffer is corrupt (then the key waits for the host). */
export function decodeStep(step: CheckedStep | undefined): Prepared | undefined {
  if (!step) return undefined;
  try {
    const writes = step.writes.map((w): StepWrite => {
      const n = w.width * w.height;
      return { z: w.z, box: { x: w.x, y: w.y, width: w.width, height: w.height }, to: decodeRuns(w.rle, n), from: decodeRuns(w.from, n) };
    });
    return { id: step.id, direction: step.direction, writes };
  } catch {
    return undefined;
  }
}

/** What writing `to` over `from` does to the labeled-pixel counts. */
export function countDelta(writes: readonly { z: number; to: RleRuns; from: RleRuns }[], sign = 1): CountDelta {
  const classes = new Map<number, number>();
  const slices = new Map<number, number>();
  const add = (m: Map<number, number>, k: number, d: number) => m.set(k, (m.get(k) ?? 0) + d);
  for (const w of writes) {
    const { to, from } = w;
    let a = 0, b = 0;
    let leftA = from.lengths[0] ?? 0, leftB = to.lengths[0] ?? 0;
    while (a < from.count && b < to.count) {
      const len = Math.min(leftA, leftB);
      const was = from.values[a], now = to.values[b];
      if (was !== now) {
        if (was !== 0) add(classes, was, -len * sign);
        if (now !== 0) add(classes, now, len * sign);
        add(slices, w.z, ((now !== 0 ? 1 : 0) - (was !== 0 ? 1 : 0)) * len * sign);
      }
      leftA -= len;
      leftB -= len;
      if (leftA === 0) leftA = from.lengths[++a] ?? 0;
      if (leftB === 0) leftB = to.lengths[++b] ?? 0;
    }
  }
  return { classes, slices };
}

/** Applies a delta to the panel's statistics (host format: [class, count] ascending, annotated slices ascending). */
export function applyCountDelta(stats: { counts: [number, number][]; annotated: { z: number; labeled: number }[] }, d: CountDelta): { counts: [number, number][]; annotated: { z: number; labeled: number }[] } {
  const counts = new Map(stats.counts);
  for (const [k, n] of d.classes) counts.set(k, (counts.get(k) ?? 0) + n);
  const slices = new Map(stats.annotated.map((a) => [a.z, a.labeled] as [number, number]));
  for (const [z, n] of d.slices) slices.set(z, (slices.get(z) ?? 0) + n);
  return {
    counts: [...counts].filter(([, n]) => n > 0).sort((p, q) => p[0] - q[0]),
    annotated: [...slices].filter(([, n]) => n > 0).map(([z, labeled]) => ({ z, labeled })).sort((p, q) => p.z - q.z),
  };
}

const same = (a: UndoStep | undefined, b: UndoStep | undefined) => a !== undefined && b !== undefined && a.id === b.id && a.direction === b.direction;

export class OptimisticUndo {
  private prepared: { undo?: Prepared; redo?: Prepared } = {};
  private pending: Pending | undefined;

  constructor(private readonly slices: LabelSlices, readonly timeoutMs = CONFIRM_TIMEOUT_MS) {}

  get pendingStep(): UndoStep | undefined {
    return this.pending?.step;
  }

  /** The host's undoState: first settles the pending step against `applied`, then keeps the next steps. */
  hostUndoState(applied: UndoStep | undefined, undo: Prepared | undefined, redo: Prepared | undefined): Rollback | undefined {
    let rollback: Rollback | undefined;
    if (this.pending && applied) {
      if (same(applied, this.pending.step)) this.pending = undefined; // confirmed: the host did what was painted
      else rollback = this.rollback();
    }
    this.prepared = { undo, redo };
    return rollback;
  }

  /**
   * The undo/redo key: paints the prepared step and returns what changed, or undefined (nothing prepared, or the
   * previous step is not confirmed yet: then the key only goes to VS Code, as before).
   */
  keyPressed(direction: Direction, now: number): { step: UndoStep; changes: Changes; delta: CountDelta; pixels: number } | undefined {
    const step = this.prepared[direction];
    if (!step || this.pending) return undefined;
    // The next step after this one is only known once the host has applied it.
    this.prepared = {};
    const writes = step.writes.filter((w) => this.slices.get(w.z) !== undefined);
    const changes = writes.map((w) => ({ z: w.z, rects: writeRunsTracked(this.slices.get(w.z)!, this.slices.width, w.box, w.to, w.from) }));
    this.pending = { step: { id: step.id, direction: step.direction }, writes, since: now, stroked: new Set() };
    const pixels = writes.reduce((n, w) => n + w.box.width * w.box.height, 0);
    return { step: this.pending.step, changes, delta: countDelta(writes), pixels };
  }

  /**
   * A host labelPatch (tagged with its undo/redo step, if any): `skip` when it belongs to the pending step and was
   * painted already. Any other patch first rolls the pending step back (the host never applied it before this).
   */
  hostPatch(step: UndoStep | undefined, z: number): { skip: boolean; rollback?: Rollback } {
    const p = this.pending;
    if (!p) return { skip: false };
    if (same(step, p.step)) return { skip: p.writes.some((w) => w.z === z) };
    return { skip: false, rollback: this.rollback() };
  }

  /** Host messages that replace labels (labels, labelsReset): the pending step is rolled back first. */
  hostReplacesLabels(): Rollback | undefined {
    return this.pending ? this.rollback() : undefined;
  }

  /** No confirmation in time: VS Code did not run this undo/redo (or ran another that will arrive later). */
  expire(now: number): Rollback | undefined {
    return this.pending && now - this.pending.since >= this.timeoutMs ? this.rollback() : undefined;
  }

  /** The user sent a stroke on slice z: it becomes the next undo, so the prepared steps are stale. */
  strokeSent(z: number): void {
    this.prepared = {};
    this.pending?.stroked.add(z);
  }

  private rollback(): Rollback | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    const changes: Changes = [];
    for (const w of [...p.writes].reverse()) {
      const buf = this.slices.get(w.z);
      if (buf) changes.push({ z: w.z, rects: writeRunsTracked(buf, this.slices.width, w.box, w.from, w.to) });
    }
    // Prepared steps assumed the pending one happened.
    this.prepared = {};
    return { step: p.step, changes, resync: [...p.stroked].filter((z) => p.writes.some((w) => w.z === z)), delta: countDelta(p.writes, -1) };
  }
}
