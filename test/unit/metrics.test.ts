import { describe, expect, it } from 'vitest';
import { parseClassMapping, SegmentationEvaluator } from '../../src/core/metrics';

describe('metrics', () => {
  it('computes a hand-checked 3-class confusion matrix', () => {
    // truth: 1 1 1 1 2 2 2 3 3 3 ; pred: 1 1 2 3 2 2 1 3 3 2
    const truth = Uint8Array.from([1, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    const pred = Uint8Array.from([1, 1, 2, 3, 2, 2, 1, 3, 3, 2]);
    const ev = new SegmentationEvaluator();
    ev.add(pred, truth);
    const r = ev.result();
    const c1 = r.overall.find((c) => c.pred === 1)!;
    // class 1: TP 2, FP 1 (pixel 6), FN 2
    expect([c1.tp, c1.fp, c1.fn]).toEqual([2, 1, 2]);
    expect(c1.precision).toBeCloseTo(2 / 3); expect(c1.recall).toBeCloseTo(0.5);
    expect(c1.f1).toBeCloseTo(4 / 7); expect(c1.iou).toBeCloseTo(2 / 5);
    const c2 = r.overall.find((c) => c.pred === 2)!;
    expect([c2.tp, c2.fp, c2.fn]).toEqual([2, 2, 1]);
    const c3 = r.overall.find((c) => c.pred === 3)!;
    expect([c3.tp, c3.fp, c3.fn]).toEqual([2, 1, 1]);
    expect(r.macro.f1).toBeCloseTo((4 / 7 + 4 / 7 + 4 / 6) / 3);
  });

  it('maps classes (pred 2 = truth 1), streams slices, and uses null for absent classes', () => {
    const ev = new SegmentationEvaluator({ classes: [parseClassMapping('2=1')] });
    ev.add(Uint8Array.from([1, 2, 2, 1]), Uint8Array.from([0, 1, 0, 1])); // TP 1, FP 1, FN 1
    ev.add(Uint8Array.from([1, 1]), Uint8Array.from([0, 0])); // class absent in both
    const r = ev.result();
    expect(r.perSlice[0].classes[0].f1).toBeCloseTo(0.5);
    expect(r.perSlice[1].classes[0].f1).toBeNull();
    expect(r.perSlice[1].classes[0].precision).toBeNull();
    expect(r.meanOverSlices[0].f1).toBeCloseTo(0.5); // the null slice is left out, not averaged as 0 or NaN
    expect(r.overall[0].iou).toBeCloseTo(1 / 3);
    expect(JSON.stringify(r)).not.toContain('NaN');
  });

  it('ignores truth values when asked (sparse labels)', () => {
    const ev = new SegmentationEvaluator({ ignoreTruth: [0] });
    ev.add(Uint8Array.from([1, 2, 2, 2]), Uint8Array.from([1, 2, 0, 0]));
    const r = ev.result();
    expect(r.classes.map((c) => c.pred)).toEqual([1, 2]);
    expect(r.overall.every((c) => c.f1 === 1)).toBe(true);
  });

  it('rejects bad mappings and mismatched sizes', () => {
    expect(parseClassMapping('3')).toEqual({ pred: 3, truth: 3 });
    expect(() => parseClassMapping('2=x')).toThrow(/--class 2=1/);
    expect(() => parseClassMapping('300=1')).toThrow();
    expect(() => new SegmentationEvaluator().add(new Uint8Array(3), new Uint8Array(4))).toThrow(/3 pixels/);
  });
});
