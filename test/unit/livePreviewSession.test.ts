// The host side of the live preview with the real worker (src/core/models/previewWorker.ts bundled by esbuild):
// debounced runs, the two-class hint, results tagged with the strokes they saw, stale slices dropped.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSample } from '../../src/core/sample';
import { LivePreviewSession, NEED_TWO_CLASSES, type LivePreviewSink } from '../../src/host/livePreviewSession';

const W = 96, H = 96, D = 3;
let workerPath = '';

beforeAll(async () => {
  workerPath = join(mkdtempSync(join(tmpdir(), 'stackseg-preview-')), 'previewWorker.js');
  await esbuild.build({ entryPoints: [resolve(__dirname, '../../src/core/models/previewWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'warning' });
});

function harness() {
  const s = makeSample({ width: W, height: H, depth: D, seed: 3 });
  const n = W * H;
  const labels = Array.from({ length: D }, () => new Uint8Array(n));
  const events: { kind: 'result' | 'state'; z?: number; strokes?: number; hint?: string; clear?: boolean; pred?: Uint8Array; factor?: number }[] = [];
  let strokes = 0;
  const reads: number[] = [];
  const sink: LivePreviewSink = {
    width: W, height: H,
    readSlice: async (z) => { reads.push(z); return s.image.slice(z * n, (z + 1) * n); },
    labelsOf: (z) => labels[z],
    strokes: () => strokes,
    result: (r) => events.push({ kind: 'result', z: r.z, strokes: r.strokes, pred: r.labels, factor: r.factor }),
    state: (st) => events.push({ kind: 'state', hint: st.hint, clear: st.clear }),
  };
  /** Sparse labels from the truth of slice z (1 = background, 2 = material), every 11th pixel: one "stroke". */
  const truthLabel = (z: number, i: number) => (i % 11 === 0 ? s.truth[z * n + i] + 1 : 0);
  const paint = (z: number, only?: number) => {
    for (let i = 0; i < n; i++) { const v = truthLabel(z, i); if (v && (only === undefined || v === only)) labels[z][i] = v; }
    strokes++;
  };
  return { s, n, sink, events, paint, reads, truthLabel };
}

const sessions: LivePreviewSession[] = [];
afterEach(() => { for (const x of sessions.splice(0)) x.dispose(); });

function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((done, fail) => {
    const tick = () => (check() ? done() : Date.now() > end ? fail(new Error(`timed out: ${what}`)) : setTimeout(tick, 10));
    tick();
  });
}

describe('LivePreviewSession (real worker thread)', () => {
  it('asks for two classes, then predicts the shown slice and tags the result with the strokes it saw', async () => {
    const h = harness();
    const p = new LivePreviewSession(workerPath, h.sink, 20);
    sessions.push(p);
    p.sliceShown(1);
    h.paint(1, 2); // one class only
    p.setEnabled(true);
    await until('the two-class hint', () => h.events.some((e) => e.hint === NEED_TWO_CLASSES));
    h.paint(1);
    p.labelsChanged();
    await until('a result', () => h.events.some((e) => e.kind === 'result'));
    const r = h.events.find((e) => e.kind === 'result')!;
    expect(r.z).toBe(1);
    expect(r.strokes).toBe(2);
    expect(r.factor).toBe(1); // 96 x 96 is predicted at full resolution
    expect(r.pred!.length).toBe(h.n);
    // The forest reproduces the painted labels it was trained on almost everywhere.
    let agree = 0, total = 0;
    for (let i = 0; i < h.n; i++) { const v = h.truthLabel(1, i); if (v) { total++; if (r.pred![i] === v) agree++; } }
    expect(agree / total).toBeGreaterThan(0.9);
    expect(new Set(r.pred)).toEqual(new Set([1, 2]));
  });

  it('a stroke starts a run at once (LABELS_DEBOUNCE_MS); a slice change waits the debounce', async () => {
    const h = harness();
    const p = new LivePreviewSession(workerPath, h.sink, 1500);
    sessions.push(p);
    p.sliceShown(0);
    h.paint(0);
    p.setEnabled(true);
    await until('the first result', () => h.events.some((e) => e.kind === 'result'));
    h.paint(0);
    const t0 = Date.now();
    p.labelsChanged();
    await until('the result of the stroke', () => h.events.some((e) => e.kind === 'result' && e.strokes === 2));
    expect(Date.now() - t0).toBeLessThan(1500); // not held back by the slice debounce
    h.paint(1);
    const t1 = Date.now();
    p.sliceShown(1);
    await until('the result of slice 1', () => h.events.some((e) => e.kind === 'result' && e.z === 1), 20_000);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(1400);
  });

  it('coalesces a burst of changes into few runs, and the last result saw the last stroke', async () => {
    const h = harness();
    const p = new LivePreviewSession(workerPath, h.sink, 20);
    sessions.push(p);
    p.sliceShown(0);
    h.paint(0);
    p.setEnabled(true);
    for (let i = 0; i < 10; i++) { h.paint(0); p.labelsChanged(); }
    await until('the result of the last stroke', () => h.events.some((e) => e.kind === 'result' && e.strokes === 11));
    await new Promise((r) => setTimeout(r, 200));
    const results = h.events.filter((e) => e.kind === 'result');
    expect(results.length).toBeLessThanOrEqual(2);
    expect(results.at(-1)!.strokes).toBe(11);
    expect(h.reads).toEqual([0]); // the image went to the worker once; its features are reused
  });

  it('drops a result for a slice no longer shown and predicts the new one; off clears and stops', async () => {
    const h = harness();
    const p = new LivePreviewSession(workerPath, h.sink, 20);
    sessions.push(p);
    h.paint(0);
    h.paint(2);
    p.sliceShown(0);
    p.setEnabled(true);
    await new Promise((r) => setTimeout(r, 30)); // the run for slice 0 has started
    p.sliceShown(2);
    await until('a result for slice 2', () => h.events.some((e) => e.kind === 'result' && e.z === 2));
    expect(h.events.filter((e) => e.kind === 'result').every((e) => e.z === 2)).toBe(true);
    const before = h.events.length;
    p.setEnabled(false);
    expect(h.events.at(-1)).toMatchObject({ kind: 'state', clear: true });
    p.labelsChanged();
    await new Promise((r) => setTimeout(r, 100));
    expect(h.events.length).toBe(before + 1);
  });
});

describe('LivePreviewSession: another channel shown', () => {
  it('imageChanged reads the shown slice again (its features were of the other channel) and predicts again', async () => {
    const h = harness();
    const p = new LivePreviewSession(workerPath, h.sink, 20);
    sessions.push(p);
    p.sliceShown(0);
    h.paint(0);
    p.setEnabled(true);
    await until('a first result', () => h.events.some((e) => e.kind === 'result'));
    expect(h.reads).toEqual([0]);
    const results = h.events.filter((e) => e.kind === 'result').length;
    p.imageChanged();
    await until('a result from the re-read image', () => h.events.filter((e) => e.kind === 'result').length > results);
    expect(h.reads).toEqual([0, 0]);
  });
});
