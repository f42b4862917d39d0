// Optimistic undo/redo (webview/optimisticUndo.ts) against the real host pieces: LabelVolume + edits as the host
// applies them, UndoHistory for the prepared steps. The webview's copy must always end equal to the host's.
import { describe, expect, it } from 'vitest';
import { applyEdit, strokePatch, type BoxWrite, type LabelEdit } from '../../src/core/labels/edits';
import { LabelVolume } from '../../src/core/labels/labelVolume';
import { decodeRuns, encodeRle } from '../../src/shared/labels/rle';
import { UndoHistory, type NextStep } from '../../src/host/undoHistory';
import { parseUndoState, parseWebviewMessage, type CheckedStep, type UndoStep } from '../../src/shared/protocol';
import { applyCountDelta, decodeStep, OptimisticUndo, undoRedoKey, type Rollback } from '../../webview/optimisticUndo';
import { writeRunsTracked } from '../../webview/paintOps';

const W = 64, H = 48, D = 4;

/** Host (volume + undo mirror) and one webview (its label copies + OptimisticUndo), wired like the real ones. */
function setup() {
  const volume = new LabelVolume(W, H, D);
  const history = new UndoHistory();
  const copies = new Map<number, Uint8Array>();
  const optimistic = new OptimisticUndo({ width: W, get: (z) => copies.get(z) });
  let hostPatchesApplied = 0;
  let now = 0;
  const checked = (s: NextStep | undefined): CheckedStep | undefined => s && {
    id: s.id, direction: s.direction, writes: s.writes.map((w) => ({ z: w.z, ...w.box, rle: w.rle, from: w.from! })),
  };
  const rollbacks: Rollback[] = [];
  const settle = (r: Rollback | undefined) => { if (r) rollbacks.push(r); };
  /** The host's undoState message, after `applied`'s patches. */
  const sendState = (applied?: UndoStep) => {
    const next = history.next();
    settle(optimistic.hostUndoState(applied, decodeStep(checked(next.undo)), decodeStep(checked(next.redo))));
  };
  /** The host's labelPatch messages of one undo/redo (or untagged writes). */
  const sendPatches = (writes: BoxWrite[], step?: UndoStep) => {
    for (const w of writes) {
      const verdict = optimistic.hostPatch(step, w.z);
      settle(verdict.rollback);
      if (verdict.skip) continue;
      const n = w.box.width * w.box.height;
      let buf = copies.get(w.z);
      if (!buf) copies.set(w.z, (buf = new Uint8Array(W * H)));
      writeRunsTracked(buf, W, w.box, decodeRuns(w.rle, n), w.from && decodeRuns(w.from, n));
      hostPatchesApplied++;
    }
  };
  /** A stroke painted in the webview (rectangle of value v) and sent: one edit on the host. */
  const stroke = (z: number, x: number, y: number, w: number, h: number, v: number): LabelEdit => {
    let buf = copies.get(z);
    if (!buf) copies.set(z, (buf = new Uint8Array(W * H)));
    for (let r = y; r < y + h; r++) buf.fill(v, r * W + x, r * W + x + w);
    optimistic.strokeSent(z);
    const box = { x, y, width: w, height: h };
    const vals = new Uint8Array(w * h);
    for (let r = 0; r < h; r++) vals.set(buf.subarray((y + r) * W + x, (y + r) * W + x + w), r * w);
    const edit: LabelEdit = { label: 'Paint', patches: [strokePatch(volume, z, box, encodeRle(vals))!] };
    applyEdit(volume, edit, 'redo');
    history.push(edit);
    sendState();
    return edit;
  };
  /** VS Code runs undo/redo of `edit` on the host: patches tagged with the step, then the undoState. */
  const hostRuns = (edit: LabelEdit, direction: 'undo' | 'redo') => {
    const writes = applyEdit(volume, edit, direction);
    const id = history.applied(edit, direction)!;
    sendPatches(writes, { id, direction });
    sendState({ id, direction });
  };
  const inSync = () => {
    for (let z = 0; z < D; z++) expect(copies.get(z) ?? new Uint8Array(W * H)).toEqual(volume.sliceOrZeros(z));
  };
  return {
    volume, history, copies, optimistic, stroke, hostRuns, sendPatches, sendState, inSync, rollbacks,
    key: (d: 'undo' | 'redo') => optimistic.keyPressed(d, now),
    advance: (ms: number) => { now += ms; settle(optimistic.expire(now)); },
    get hostPatchesApplied() { return hostPatchesApplied; },
  };
}

describe('optimistic undo/redo', () => {
  it('paints the prepared step on the key press; the matching host patch is skipped (applied once)', () => {
    const t = setup();
    t.stroke(1, 5, 5, 20, 10, 2);
    const second = t.stroke(1, 10, 8, 30, 4, 3); // overlaps the first
    const painted = t.key('undo');
    expect(painted?.step.direction).toBe('undo');
    expect(painted!.changes[0].rects.length).toBeGreaterThan(0);
    // Before the host did anything, the webview already shows the undone state.
    const expected = new LabelVolume(W, H, D);
    applyEdit(expected, { label: '', patches: [strokePatch(expected, 1, { x: 5, y: 5, width: 20, height: 10 }, encodeRle(new Uint8Array(200).fill(2)))!] }, 'redo');
    expect(t.copies.get(1)).toEqual(expected.sliceOrZeros(1));
    t.hostRuns(second, 'undo');
    expect(t.hostPatchesApplied).toBe(0);
    expect(t.rollbacks).toEqual([]);
    expect(t.optimistic.pendingStep).toBeUndefined();
    t.inSync();
    // The redo is prepared by the host's undoState: paint, confirm, still in sync.
    expect(t.key('redo')?.step).toEqual({ id: painted!.step.id, direction: 'redo' });
    t.hostRuns(second, 'redo');
    expect(t.hostPatchesApplied).toBe(0);
    t.inSync();
    t.advance(5000); // a confirmed step never times out
    expect(t.rollbacks).toEqual([]);
  });

  it('a different host step: rolls the painted one back, then applies the host patch', () => {
    const t = setup();
    const first = t.stroke(2, 0, 0, 30, 30, 2);
    t.stroke(2, 20, 20, 30, 20, 4);
    expect(t.key('undo')).toBeDefined(); // paints the undo of the second stroke
    // VS Code undoes something else (here: the first edit, as a stale mirror would mispredict).
    t.hostRuns(first, 'undo');
    expect(t.rollbacks.length).toBe(1);
    expect(t.hostPatchesApplied).toBe(1);
    t.inSync();
  });

  it('an untagged host change (class deletion) rolls the painted step back first', () => {
    const t = setup();
    t.stroke(0, 0, 0, 10, 10, 2);
    t.key('undo');
    const clear = applyEdit(t.volume, { label: 'Delete', patches: [strokePatch(t.volume, 0, { x: 0, y: 0, width: 10, height: 10 }, encodeRle(new Uint8Array(100)))!] }, 'redo');
    t.sendPatches(clear);
    expect(t.rollbacks.length).toBe(1);
    t.inSync();
  });

  it('no confirmation within the timeout: rolls back to the host state', () => {
    const t = setup();
    t.stroke(3, 4, 4, 8, 8, 5);
    t.key('undo');
    expect(t.copies.get(3)!.every((v) => v === 0)).toBe(true);
    t.advance(t.optimistic.timeoutMs - 1);
    expect(t.rollbacks).toEqual([]);
    t.advance(1);
    expect(t.rollbacks.length).toBe(1);
    expect(t.rollbacks[0].resync).toEqual([]);
    t.inSync();
    // The host's late patch (VS Code did undo after all) is then applied as usual.
    expect(t.optimistic.pendingStep).toBeUndefined();
  });

  it('a late host patch after a timeout is applied, ending in sync', () => {
    const t = setup();
    const e = t.stroke(3, 4, 4, 8, 8, 5);
    t.key('undo');
    t.advance(t.optimistic.timeoutMs);
    t.hostRuns(e, 'undo');
    expect(t.hostPatchesApplied).toBe(1);
    t.inSync();
  });

  it('one step at a time: a second key while one is pending, or right after a stroke, waits for the host', () => {
    const t = setup();
    t.stroke(1, 0, 0, 4, 4, 2);
    const b = t.stroke(1, 8, 0, 4, 4, 2);
    expect(t.key('undo')).toBeDefined();
    expect(t.key('undo')).toBeUndefined();
    t.hostRuns(b, 'undo');
    t.optimistic.strokeSent(1); // the user painted: the prepared steps are stale
    expect(t.key('undo')).toBeUndefined();
  });

  it('strokes on the slice while a rolled-back step was pending ask for a resync of that slice', () => {
    const t = setup();
    t.stroke(1, 0, 0, 10, 10, 2);
    t.key('undo');
    t.optimistic.strokeSent(1);
    t.advance(t.optimistic.timeoutMs);
    expect(t.rollbacks[0].resync).toEqual([1]);
  });

  it('the statistics follow the painted step and its rollback', () => {
    const t = setup();
    t.stroke(0, 0, 0, 10, 10, 2);
    t.stroke(1, 0, 0, 5, 4, 3);
    const stats = { counts: t.volume.classCounts(), annotated: t.volume.annotatedSlices() };
    const painted = t.key('undo')!;
    const after = applyCountDelta(stats, painted.delta);
    expect(after).toEqual({ counts: [[2, 100]], annotated: [{ z: 0, labeled: 100 }] });
    t.advance(t.optimistic.timeoutMs);
    expect(applyCountDelta(after, t.rollbacks[0].delta)).toEqual(stats);
  });
});

describe('undoRedoKey', () => {
  const k = (key: string, m: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }>) => ({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...m });
  it('Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y on Linux/Windows; Cmd+Z, Cmd+Shift+Z on a Mac', () => {
    expect(undoRedoKey(k('z', { ctrlKey: true }), false)).toBe('undo');
    expect(undoRedoKey(k('Z', { ctrlKey: true, shiftKey: true }), false)).toBe('redo');
    expect(undoRedoKey(k('y', { ctrlKey: true }), false)).toBe('redo');
    expect(undoRedoKey(k('z', { metaKey: true }), false)).toBeUndefined();
    expect(undoRedoKey(k('z', { ctrlKey: true, altKey: true }), false)).toBeUndefined();
    expect(undoRedoKey(k('z', {}), false)).toBeUndefined();
    expect(undoRedoKey(k('z', { metaKey: true }), true)).toBe('undo');
    expect(undoRedoKey(k('z', { metaKey: true, shiftKey: true }), true)).toBe('redo');
    expect(undoRedoKey(k('y', { metaKey: true }), true)).toBeUndefined();
    expect(undoRedoKey(k('z', { ctrlKey: true }), true)).toBeUndefined();
  });
});

describe('UndoHistory (mirror of VS Code\'s undo stack)', () => {
  const edit = (): LabelEdit => ({ label: 'e', patches: [{ z: 0, box: { x: 0, y: 0, width: 1, height: 1 }, before: encodeRle(new Uint8Array(1)), after: encodeRle(new Uint8Array([2])) }] });
  it('predicts the next undo and redo through push, undo, redo, save and revert', () => {
    const h = new UndoHistory();
    expect(h.next()).toEqual({ undo: undefined, redo: undefined });
    const a = edit(), b = edit(), c = edit();
    const ia = h.push(a), ib = h.push(b);
    expect(h.next().undo?.id).toBe(ib);
    expect(h.applied(b, 'undo')).toBe(ib);
    expect([h.next().undo?.id, h.next().redo?.id]).toEqual([ia, ib]);
    expect(h.next().redo?.writes[0].rle).toEqual(b.patches[0].after);
    h.saved(); // save point: after a
    h.push(c); // drops b
    expect(h.next().redo).toBeUndefined();
    h.reverted();
    expect([h.next().undo?.id, h.next().redo]).toEqual([ia, undefined]);
    expect(h.applied(b, 'redo')).toBeUndefined(); // unknown edit: forget, predict nothing
    expect(h.next()).toEqual({ undo: undefined, redo: undefined });
  });

  it('does not offer class changes', () => {
    const h = new UndoHistory();
    h.push({ label: 'Add class', patches: [], classes: { before: [], after: [] } });
    expect(h.next().undo).toBeUndefined();
  });
});

describe('parseUndoState', () => {
  const limits = { depth: 4, width: W, height: H };
  const write = { z: 1, x: 0, y: 0, width: 2, height: 2, rle: new Uint8Array([0, 4]).buffer, from: new Uint8Array([2, 4]).buffer };
  it('accepts a well-formed state and drops malformed parts', () => {
    const ok = parseUndoState({ type: 'undoState', applied: { id: 3, direction: 'redo' }, undo: { id: 4, direction: 'undo', writes: [write] } }, limits);
    expect(ok.applied).toEqual({ id: 3, direction: 'redo' });
    expect(ok.undo?.writes[0].rle).toEqual(new Uint8Array([0, 4]));
    for (const bad of [{ ...write, z: 4 }, { ...write, x: W - 1 }, { ...write, width: 0 }, { ...write, rle: 'AA==' }, { ...write, extra: 1 }]) {
      expect(parseUndoState({ undo: { id: 4, direction: 'undo', writes: [bad] } }, limits).undo).toBeUndefined();
    }
    expect(parseUndoState({ undo: { id: 4, direction: 'redo', writes: [write] } }, limits).undo).toBeUndefined();
    expect(parseUndoState({ applied: { id: 0, direction: 'undo' } }, limits).applied).toBeUndefined();
    expect(parseUndoState(null, limits)).toEqual({});
  });
});

describe('resyncLabels (webview -> host)', () => {
  it('takes a slice index inside the stack and nothing else', () => {
    expect(parseWebviewMessage({ type: 'resyncLabels', z: 3 }, { depth: 4 })).toEqual({ ok: true, message: { type: 'resyncLabels', z: 3 } });
    expect(parseWebviewMessage({ type: 'resyncLabels', z: 4 }, { depth: 4 }).ok).toBe(false);
    expect(parseWebviewMessage({ type: 'resyncLabels', z: 1, replace: true }, { depth: 4 }).ok).toBe(false);
  });
});
