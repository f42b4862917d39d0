import { describe, expect, it } from 'vitest';
import { applyWindow, buildLut, grayWord, windowGray } from '../../webview/lut';
import { autoWindow, computeHistogram, displayBins, percentile } from '../../webview/stats';
import { fitView, imagePixelAt, oneToOneView, pan, wheelSliceSteps, wheelZoomFactor, zoomAbout, MAX_SCALE } from '../../webview/zoom';
import { levelKey } from '../../src/shared/levels/levelKey';
import { clampSlice, displayPrefetchInFlight, displayPrefetchPlan, MAX_AHEAD, MAX_PREFETCH_IN_FLIGHT, MIN_AHEAD, nextPrefetch, prefetchAhead, prefetchPlan, prefetchSlots, PREFETCH_STALE_MS, SliceStore } from '../../webview/sliceStore';
import { formatInfo, formatLevel, formatPixelStatus, formatSliceStatus, formatValue, formatZoom } from '../../webview/format';

const gray = (word: number) => word & 0xff;

describe('window/level', () => {
  it('maps min to black, max to white, linear between, clamps outside', () => {
    const w = { min: 100, max: 355 };
    expect(windowGray(100, w)).toBe(0);
    expect(windowGray(355, w)).toBe(255);
    expect(windowGray(228, w)).toBe(128);
    expect(windowGray(-5, w)).toBe(0);
    expect(windowGray(10_000, w)).toBe(255);
    expect(windowGray(NaN, w)).toBe(0);
    expect(windowGray(5, { min: 5, max: 5 })).toBe(255); // degenerate window: threshold
    expect(windowGray(4, { min: 5, max: 5 })).toBe(0);
  });

  it('packs opaque gray RGBA words', () => {
    const bytes = new Uint8Array(new Uint32Array([grayWord(200)]).buffer);
    expect([...bytes]).toEqual([200, 200, 200, 255]);
  });

  it('LUT paths agree with the formula for every integer dtype', () => {
    const w = { min: -50, max: 900 };
    const cases = [
      ['uint8', new Uint8Array([0, 1, 127, 255])],
      ['int8', new Int8Array([-128, -50, 0, 127])],
      ['uint16', new Uint16Array([0, 450, 900, 65535])],
      ['int16', new Int16Array([-32768, -50, 425, 32767])],
    ] as const;
    for (const [dtype, src] of cases) {
      const lut = buildLut(dtype, w)!;
      expect(lut.length).toBe(dtype.endsWith('8') ? 256 : 65536);
      const out = new Uint32Array(src.length);
      applyWindow(src, dtype, w, out, lut);
      expect([...out].map(gray)).toEqual([...src].map((v) => windowGray(v, w)));
    }
  });

  it('float and 32-bit paths agree with the formula, NaN is black', () => {
    const w = { min: 0.25, max: 0.75 };
    const src = new Float32Array([0, 0.25, 0.5, 0.6, 0.75, 2, NaN, -Infinity, Infinity]);
    const out = new Uint32Array(src.length);
    applyWindow(src, 'float32', w, out);
    expect([...out].map(gray)).toEqual([0, 0, 128, 179, 255, 255, 0, 0, 255]);
    const ints = new Int32Array([-100000, 0, 500000, 2_000_000]);
    const out2 = new Uint32Array(4);
    applyWindow(ints, 'int32', { min: 0, max: 1_000_000 }, out2);
    expect([...out2].map(gray)).toEqual([0, 0, 128, 255]);
  });

  it('refuses an output buffer that is too small', () => {
    expect(() => applyWindow(new Uint8Array(4), 'uint8', { min: 0, max: 1 }, new Uint32Array(3))).toThrow(RangeError);
  });
});

describe('histogram and auto-contrast', () => {
  it('counts 16-bit data exactly and finds exact percentiles', () => {
    const src = new Uint16Array(1000);
    for (let i = 0; i < 1000; i++) src[i] = i * 10; // 0..9990
    const h = computeHistogram(src, 'uint16');
    expect(h.min).toBe(0);
    expect(h.max).toBe(9990);
    expect(h.total).toBe(1000);
    expect(percentile(h, 50)).toBe(4990);
    expect(percentile(h, 0.5)).toBe(40);
    expect(percentile(h, 99.5)).toBe(9940);
    expect(autoWindow(h)).toEqual({ min: 40, max: 9940 });
  });

  it('ignores outliers (hot pixels) in the auto window', () => {
    const src = new Int16Array(10_000).fill(100);
    for (let i = 0; i < 10_000; i++) src[i] = 100 + (i % 100);
    src[0] = -32768;
    src[1] = 32767;
    const w = autoWindow(computeHistogram(src, 'int16'));
    expect(w.min).toBeGreaterThanOrEqual(100);
    expect(w.max).toBeLessThanOrEqual(199);
  });

  it('bins float data, skips NaN/Infinity, percentiles within one bin', () => {
    const src = new Float32Array(10_001);
    for (let i = 0; i <= 10_000; i++) src[i] = i / 10_000;
    src[5] = NaN;
    src[6] = Infinity;
    const h = computeHistogram(src, 'float32');
    expect(h.total).toBe(9999);
    expect(h.min).toBe(0);
    expect(h.max).toBe(1);
    expect(Math.abs(percentile(h, 50) - 0.5)).toBeLessThan(2 / 4096);
    const w = autoWindow(h);
    expect(w.min).toBeCloseTo(0.005, 2);
    expect(w.max).toBeCloseTo(0.995, 2);
  });

  it('gives a usable window for flat and empty slices', () => {
    expect(autoWindow(computeHistogram(new Uint8Array(64).fill(7), 'uint8'))).toEqual({ min: 7, max: 8 });
    expect(autoWindow(computeHistogram(new Float32Array([NaN, NaN]), 'float32'))).toEqual({ min: 0, max: 1 });
  });

  it('re-bins for display without losing counts inside the range', () => {
    const h = computeHistogram(new Uint8Array([0, 0, 10, 255]), 'uint8');
    const bins = displayBins(h, 0, 256, 4);
    expect([...bins]).toEqual([3, 0, 0, 1]);
  });
});

describe('zoom and pan', () => {
  it('fits and centres the image', () => {
    const v = fitView(2048, 1024, 1016, 1016, 8);
    expect(v.scale).toBeCloseTo(1000 / 2048);
    expect(v.tx).toBeCloseTo(8);
    expect(v.ty).toBeCloseTo((1016 - 1024 * v.scale) / 2);
  });

  it('zooms about the cursor: the image point under it stays put', () => {
    const v = { scale: 0.5, tx: 10, ty: 20 };
    const px = 300, py = 200;
    const before = { x: (px - v.tx) / v.scale, y: (py - v.ty) / v.scale };
    const z = zoomAbout(v, 3, px, py);
    expect(z.scale).toBeCloseTo(1.5);
    expect((px - z.tx) / z.scale).toBeCloseTo(before.x);
    expect((py - z.ty) / z.scale).toBeCloseTo(before.y);
    expect(zoomAbout(v, 1e9, px, py).scale).toBe(MAX_SCALE);
  });

  it('1:1 is one image pixel per device pixel', () => {
    expect(oneToOneView(100, 100, 300, 300, 1).scale).toBe(1);
    expect(oneToOneView(100, 100, 300, 300, 2).scale).toBe(0.5);
    expect(oneToOneView(100, 100, 300, 300, 1)).toEqual({ scale: 1, tx: 100, ty: 100 });
  });

  it('maps viewport points to image pixels and reports outside as undefined', () => {
    const v = { scale: 2, tx: 10, ty: 10 };
    expect(imagePixelAt(v, 10, 10, 5, 5)).toEqual({ x: 0, y: 0 });
    expect(imagePixelAt(v, 19.9, 11.9, 5, 5)).toEqual({ x: 4, y: 0 });
    expect(imagePixelAt(v, 20, 10, 5, 5)).toBeUndefined();
    expect(imagePixelAt(v, 9, 10, 5, 5)).toBeUndefined();
    expect(pan(v, 5, -3)).toEqual({ scale: 2, tx: 15, ty: 7 });
  });

  it('wheel: zoom direction and one slice per notch, trackpad deltas accumulate', () => {
    expect(wheelZoomFactor(-100, 0)).toBeGreaterThan(1);
    expect(wheelZoomFactor(100, 0)).toBeLessThan(1);
    expect(wheelSliceSteps(0, 100, 0)).toEqual({ steps: 1, rest: 0 });
    expect(wheelSliceSteps(0, -3, 1)).toEqual({ steps: -1, rest: 0 });
    let acc = 0, steps = 0;
    for (let i = 0; i < 10; i++) {
      const r = wheelSliceSteps(acc, 10, 0);
      steps += r.steps;
      acc = r.rest;
    }
    expect(steps).toBe(2); // 100 px of 10 px trackpad deltas at 40 px per slice
    expect(wheelSliceSteps(30, -10, 0)).toEqual({ steps: 0, rest: -10 }); // reversing drops leftovers
  });
});

describe('slice store and prefetch', () => {
  it('evicts least recently used slices beyond the byte budget, never the one on screen', () => {
    const s = new SliceStore(3 * 400);
    for (let z = 0; z < 3; z++) s.put(z, new Uint16Array(200));
    s.get(0); // 0 is now most recent
    s.put(3, new Uint16Array(200), 1); // evicts the oldest other than the shown slice 1: that is 2
    expect(s.has(0)).toBe(true);
    expect(s.has(1)).toBe(true);
    expect(s.has(2)).toBe(false);
    expect(s.has(3)).toBe(true);
    expect(s.byteSize).toBe(1200);
  });

  it('plans neighbours ahead in the direction of travel, inside the stack', () => {
    expect(prefetchPlan(5, 1, 32)).toEqual([6, 7, 4, 8]);
    expect(prefetchPlan(5, -1, 32)).toEqual([4, 3, 6, 2]);
    expect(prefetchPlan(10, 10, 32)).toEqual([20, 30, 11, 12, 9, 13]);
    // Far ahead in the direction of travel, the nearest slice behind early, the others behind last.
    expect(prefetchPlan(10, -1, 32, 6, 2)).toEqual([9, 8, 11, 7, 6, 5, 4, 12]);
    expect(prefetchPlan(2, -1, 32, 6, 2)).toEqual([1, 0, 3, 4]);
    expect(prefetchPlan(31, 1, 32)).toEqual([30]);
    expect(prefetchPlan(0, 0, 1)).toEqual([]);
    expect(clampSlice(40, 32)).toBe(31);
    expect(clampSlice(-2, 32)).toBe(0);
  });
});

describe('prefetch budget', () => {
  it('sizes the lookahead and the in-flight budget by the bytes of a level', () => {
    expect(prefetchAhead(512 * 1024)).toBe(MAX_AHEAD); // 512 x 512 uint16 previews: 32 ahead = 16 MB
    expect(prefetchAhead(2 * 1024 * 1024)).toBe(12);
    expect(prefetchAhead(64 * 1024 * 1024)).toBe(MIN_AHEAD);
    expect(prefetchSlots(512 * 1024)).toBe(3);
    expect(prefetchSlots(8 * 1024 * 1024)).toBe(1); // always one, however large
    expect(prefetchSlots(1024)).toBe(MAX_PREFETCH_IN_FLIGHT);
    const s = new SliceStore(1 << 20);
    for (const z of [1, 2]) s.inflight.set(z, { priority: 'prefetch', since: 0 });
    expect(nextPrefetch([1, 2, 3, 4], s, 0, undefined, undefined, 3)).toBe(3);
    s.inflight.set(3, { priority: 'prefetch', since: 0 });
    expect(nextPrefetch([1, 2, 3, 4], s, 0, undefined, undefined, 3)).toBeUndefined();
  });

  it('keeps at most 2 prefetches in flight by default, skips stored/requested slices, forgets stale ones', () => {
    const s = new SliceStore(1 << 20);
    s.put(6, new Uint8Array(4));
    expect(nextPrefetch([6, 7, 8, 9], s, 0)).toBe(7);
    s.inflight.set(7, { priority: 'prefetch', since: 0 });
    s.inflight.set(8, { priority: 'prefetch', since: 0 });
    expect(nextPrefetch([6, 7, 8, 9], s, 100)).toBeUndefined(); // budget used
    s.inflight.set(7, { priority: 'show', since: 0 }); // upgraded to show: no longer a prefetch
    expect(nextPrefetch([6, 7, 8, 9], s, 100)).toBe(9);
    s.inflight.set(9, { priority: 'prefetch', since: 0 });
    expect(nextPrefetch([6, 7, 8, 9, 10], s, PREFETCH_STALE_MS + 1)).toBe(10);
  });

  it('nextPrefetch by resolution level: keys per level, a slice covered by a finer level is skipped', () => {
    const s = new SliceStore(1 << 20);
    s.put(levelKey(6, 1), new Uint8Array(4)); // full resolution of 6 at hand
    s.put(levelKey(7, 8), new Uint8Array(4)); // only a coarser level of 7
    const key = (z: number) => levelKey(z, 4);
    const covered = (z: number) => [1, 2, 4].some((f) => s.has(levelKey(z, f)));
    expect(nextPrefetch([6, 7, 8], s, 0, key, covered)).toBe(7);
    s.inflight.set(levelKey(7, 4), { priority: 'prefetch', since: 0 });
    expect(nextPrefetch([6, 7, 8], s, 0, key, covered)).toBe(8);
    expect(levelKey(7, 4)).not.toBe(levelKey(7, 8));
    expect(levelKey(7, 64)).toBeLessThan(levelKey(8, 1));
  });
});

describe('display-level prefetch (a slow link: refined frames while the user rests)', () => {
  it('plans two slices ahead in the direction of travel, then the one behind, inside the stack', () => {
    expect(displayPrefetchPlan(10, -1, 20)).toEqual([9, 8, 11]);
    expect(displayPrefetchPlan(10, 1, 20)).toEqual([11, 12, 9]);
    expect(displayPrefetchPlan(10, 0, 20)).toEqual([]); // not moved yet: no direction, nothing speculative
    expect(displayPrefetchPlan(10, -10, 20)).toEqual([9, 8, 11]); // PageUp: still the neighbours
    expect(displayPrefetchPlan(0, -1, 20)).toEqual([1]);
    expect(displayPrefetchPlan(19, 1, 20)).toEqual([18]);
  });

  it('goes one at a time: a finer-than-coarse prefetch in flight blocks the next; previews and shows do not', () => {
    const s = new SliceStore(1 << 20);
    s.inflight.set(levelKey(3, 8), { priority: 'prefetch', since: 0 }); // a preview (coarse level 8)
    s.inflight.set(levelKey(4, 2), { priority: 'show', since: 0 }); // the shown slice's refine
    expect(displayPrefetchInFlight(s.inflight, 8, 100)).toBe(false);
    s.inflight.set(levelKey(5, 2), { priority: 'prefetch', since: 0 });
    expect(displayPrefetchInFlight(s.inflight, 8, 100)).toBe(true);
    expect(displayPrefetchInFlight(s.inflight, 8, PREFETCH_STALE_MS + 1)).toBe(false); // lost reply: no longer counted
  });
});

describe('status text', () => {
  it('uses the formats the e2e tests match', () => {
    expect(formatSliceStatus(2, 32)).toBe('Slice 3 / 32');
    expect(formatPixelStatus(12, 40, 0.53214, 'float32')).toBe('x 12, y 40: 0.5321');
    expect(formatPixelStatus(1, 2, 4095, 'uint16')).toBe('x 1, y 2: 4095');
    // from a coarse resolution level the value is a block mean, and says so
    expect(formatPixelStatus(1, 2, 4095, 'uint16', 4)).toBe('x 1, y 2: ≈4095 (4×4 mean)');
    expect(formatInfo({ width: 256, height: 256, depth: 32, dtype: 'float32' })).toBe('256 × 256 × 32 float32');
    expect(formatValue(1.5e-7, 'float64')).toBe('1.500e-7');
    expect(formatZoom(0.5, 2)).toBe('100%');
    expect(formatLevel(-0.133849, 'float32')).toBe('-0.1338');
    expect(formatLevel(1234.6, 'uint16')).toBe('1235');
  });
});
