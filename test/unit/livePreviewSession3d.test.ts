// The live preview in 3-D, host side with the real worker: the rf's dims rule (auto) decides per slice; when it says
// 3-D the session sends the z window of 2h+1 slices (reflected at the stack's ends) and reuses the slices it read
// when the shown slice moves; when it says 2-D it reads and sends none. Also: the preview model reads pyramid levels.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/random';
import { blockMean } from '../../src/shared/pyramid';
import { LivePreview, PREVIEW_DEFAULTS, previewReadLevel, previewZHalo } from '../../src/core/models/livePreviewModel';
import { autoDims } from '../../src/core/features/volumeChunks';
import { fitNormalization, normalizeSlice } from '../../src/core/models/normalize';
import { LivePreviewSession, type LivePreviewSink } from '../../src/host/livePreviewSession';

const W = 48, H = 48, D = 16, n = W * H, Z_RATIO = 3.5; // halo 3 at this spacing: windows of 7 slices
let workerPath = '';

beforeAll(async () => {
  workerPath = join(mkdtempSync(join(tmpdir(), 'stackseg-preview3d-')), 'previewWorker.js');
  await esbuild.build({ entryPoints: [resolve(__dirname, '../../src/core/models/previewWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'warning' });
});

/** Thin walls along z (2 of every 6 columns), with independent noise per slice of the given amplitude. */
function harness(noise: number, dims = 'auto') {
  const rand = mulberry32(7);
  const truth = Uint8Array.from({ length: n }, (_, i) => ((i % W) % 6 < 2 ? 2 : 1));
  const stack = Array.from({ length: D }, () => Float32Array.from(truth, (t) => 1000 * ((t === 2 ? 1 : 0) + noise * (rand() - 0.5))));
  const labels = Array.from({ length: D }, () => new Uint8Array(n));
  for (const l of labels) for (let i = 0; i < n; i += 5) l[i] = truth[i];
  const reads: number[] = [], levelReads: number[] = [];
  const results: { z: number; dims: string }[] = [];
  const hints: string[] = [];
  const sink: LivePreviewSink = {
    width: W, height: H, depth: D, zRatio: Z_RATIO, dims,
    readSlice: async (z) => { reads.push(z); return stack[z].slice(); },
    readLevel: async (z, f) => { levelReads.push(z); return blockMean(stack[z], W, H, 'float32', f).data; },
    labelsOf: (z) => labels[z],
    strokes: () => 1,
    result: (r) => results.push({ z: r.z, dims: r.dims }),
    state: (st) => hints.push(st.hint),
  };
  return { sink, reads, levelReads, results, hints, labels, truth };
}

const sessions: LivePreviewSession[] = [];
afterEach(() => { for (const x of sessions.splice(0)) x.dispose(); });

function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((done, fail) => {
    const tick = () => (check() ? done() : Date.now() > end ? fail(new Error(`timed out: ${what}`)) : setTimeout(tick, 10));
    tick();
  });
}

describe('LivePreviewSession 3-D (real worker thread)', () => {
  const h = previewZHalo(W, H, Z_RATIO);

  it('sends a z window of 2h+1 slices where the dims rule says 3-D, and moving to z+1 reads one slice', async () => {
    expect(h).toBe(3);
    const x = harness(2.5); // strong noise: auto picks 3-D
    const p = new LivePreviewSession(workerPath, x.sink, 5);
    sessions.push(p);
    p.sliceShown(5);
    p.setEnabled(true);
    await until('a result for slice 5', () => x.results.some((r) => r.z === 5));
    expect(x.results.at(-1)).toEqual({ z: 5, dims: '3d' });
    expect(p.lastDims?.reason).toMatch(/^auto: in-plane noise/);
    expect(x.hints.at(-1)).toMatch(/3-D features/);
    expect(p.lastWindow).toEqual({ z: 5, halo: h, slices: 2 * h + 1 });
    // Factor 1 (48 x 48 is previewed at full resolution): the window comes through readSlice, slices 2..8.
    expect(previewReadLevel(1)).toBe(1);
    expect(p.windowReads).toEqual({ reads: 2 * h + 1, held: 2 * h + 1 });
    p.sliceShown(6);
    await until('a result for slice 6', () => x.results.some((r) => r.z === 6));
    expect(x.results.at(-1)).toEqual({ z: 6, dims: '3d' });
    expect(p.lastWindow).toEqual({ z: 6, halo: h, slices: 2 * h + 1 });
    expect(p.windowReads).toEqual({ reads: 2 * h + 2, held: 2 * h + 1 }); // slices 3..9: only 9 was read
    // At the stack's end the window reflects: slices 12..15, then 15, 14, 13 again (4 distinct ones).
    p.sliceShown(15);
    await until('a result for slice 15', () => x.results.some((r) => r.z === 15));
    expect(p.lastWindow).toEqual({ z: 15, halo: h, slices: 2 * h + 1 });
    expect(p.windowReads.held).toBe(4);
  });

  it('reads the window while only one class is painted (before the rule can decide), then sends it', async () => {
    const x = harness(2.5);
    const full = x.labels[5].slice();
    x.labels[5].set(full.map((v) => (v === 2 ? 0 : v))); // class 1 only
    const p = new LivePreviewSession(workerPath, x.sink, 5);
    sessions.push(p);
    p.sliceShown(5);
    p.setEnabled(true);
    await until('the window read ahead', () => p.windowReads.reads === 2 * h + 1);
    expect(x.results).toEqual([]);
    x.labels[5].set(full);
    p.labelsChanged();
    await until('a 3-D result', () => x.results.length > 0);
    expect(x.results.at(-1)).toEqual({ z: 5, dims: '3d' });
    expect(p.windowReads).toEqual({ reads: 2 * h + 1, held: 2 * h + 1 }); // nothing read twice
  });

  it('sends no window where the rule says 2-D (clean slices), nor with dims=2d', async () => {
    for (const [noise, dims] of [[0.02, 'auto'], [2.5, '2d']] as const) {
      const x = harness(noise, dims);
      const p = new LivePreviewSession(workerPath, x.sink, 5);
      sessions.push(p);
      p.sliceShown(5);
      p.setEnabled(true);
      await until('a result', () => x.results.length > 0);
      expect(x.results.at(-1)).toEqual({ z: 5, dims: '2d' });
      expect(p.lastWindow).toBeUndefined();
      expect(p.windowReads.reads).toBe(0);
      expect(x.reads).toEqual([5]); // the shown slice only
      expect(x.hints.at(-1)).toMatch(/2-D features/);
    }
  });

  it('dims=3d sends the window whatever the noise', async () => {
    const x = harness(0.02, '3d');
    const p = new LivePreviewSession(workerPath, x.sink, 5);
    sessions.push(p);
    p.sliceShown(0);
    p.setEnabled(true);
    await until('a result', () => x.results.length > 0);
    expect(x.results.at(-1)).toEqual({ z: 0, dims: '3d' });
    expect(p.lastWindow).toEqual({ z: 0, halo: h, slices: 2 * h + 1 });
  });
});

describe('LivePreview on pyramid levels', () => {
  it('a level-2 image and window give the predictions of the full-resolution ones', () => {
    const w = 64, hgt = 64, opts = { ...PREVIEW_DEFAULTS, maxPixels: 32 * 32 }; // factor 2: level 2
    const rand = mulberry32(3);
    const slices = Array.from({ length: 31 }, () => Float32Array.from({ length: w * hgt }, (_, i) => ((i % w) % 8 < 3 ? 1 : 0) + 0.8 * (rand() - 0.5)));
    const labels = new Uint8Array(w * hgt);
    for (let i = 0; i < labels.length; i += 7) labels[i] = (i % w) % 8 < 3 ? 2 : 1;
    const full = new LivePreview(opts), level = new LivePreview(opts);
    const k = full.zHalo(w, hgt, 2);
    const win = slices.slice(15 - k, 15 + k + 1);
    const l2 = (s: Float32Array) => blockMean(s, w, hgt, 'float32', 2).data as Float32Array;
    full.setImage('a', slices[15], w, hgt, { slices: win, zRatio: 2 });
    level.setImage('a', l2(slices[15]), w, hgt, { slices: win.map(l2), zRatio: 2 }, 2);
    const a = full.predict(labels, w, hgt, { full: false })!, b = level.predict(labels, w, hgt, { full: false })!;
    expect(a.dims).toBe('3d');
    expect(a.lowWidth).toBe(32);
    expect([...b.lowLabels]).toEqual([...a.lowLabels]);
    expect(() => level.setImage('b', l2(slices[15]), w, hgt, undefined, 4)).toThrow(/level 4 does not divide/);
  });
});

describe('LivePreview.decideDims (the rf dims rule on the shown slice)', () => {
  const w = 96, hgt = 80, rand = mulberry32(11);
  const image = Float32Array.from({ length: w * hgt }, (_, i) => 500 * (((i % w) % 10 < 4 ? 1 : 0) + 1.2 * (rand() - 0.5)));
  const strokes = (rows: number[]) => {
    const l = new Uint8Array(w * hgt);
    for (const y of rows) for (let x = 5; x < 90; x++) l[y * w + x] = (x % 10) < 4 ? 2 : 1;
    return l;
  };

  it('answers as autoDims on the whole normalised slice (the crop to the labels changes nothing)', () => {
    const labels = strokes([20, 21, 40]);
    const p = new LivePreview();
    p.setImage('s', image, w, hgt);
    const norm = normalizeSlice(image, fitNormalization(image));
    expect(p.decideDims('auto', 20, labels, w, hgt)).toEqual({ dims: '3d', reason: autoDims([{ normalised: norm, labels }], w, hgt).reason });
    expect(p.decideDims('auto', 4, labels, w, hgt).reason).toBe('auto: fewer than 8 slices');
    expect(p.decideDims('2d', 20, labels, w, hgt)).toEqual({ dims: '2d', reason: 'dims=2d' });
  });

  it('keeps its answer while the labels are alike; deferred, a doubled count comes with a refresh', () => {
    const p = new LivePreview();
    p.setImage('s', image, w, hgt);
    const a = p.decideDims('auto', 20, strokes([20]), w, hgt);
    expect(p.decideDims('auto', 20, strokes([20, 30]), w, hgt, { deferred: true })).toEqual(a); // 2x: still alike
    const more = strokes([20, 30, 40, 50, 60]);
    const b = p.decideDims('auto', 20, more, w, hgt, { deferred: true });
    expect(b.refresh).toBeTypeOf('function');
    expect(b.reason).toBe(a.reason); // the last answer, for this stroke
    b.refresh!();
    const c = p.decideDims('auto', 20, more, w, hgt, { deferred: true });
    expect(c.refresh).toBeUndefined();
    expect(c.reason).not.toBe(a.reason); // decided again on the 5 strokes
    // Another class set is decided at once, deferred or not: one class is never 3-D.
    const one = more.map((v) => (v === 2 ? 0 : v));
    expect(p.decideDims('auto', 20, one, w, hgt, { deferred: true })).toEqual({ dims: '2d', reason: 'auto: not exactly 2 labelled classes' });
  });
});
