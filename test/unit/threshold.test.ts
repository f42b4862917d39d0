import { describe, expect, it } from 'vitest';
import { fitThreshold, otsuThreshold, ThresholdModel } from '../../src/core/models/threshold/threshold';

describe('threshold', () => {
  it('Otsu splits a bimodal histogram between the modes', () => {
    const v = Float32Array.from({ length: 2000 }, (_, i) => (i < 1500 ? 10 + (i % 7) : 100 + (i % 11)));
    const t = otsuThreshold(v);
    expect(t).toBeGreaterThan(16); expect(t).toBeLessThanOrEqual(100);
    const m = fitThreshold(v);
    const pred = m.predict(v);
    expect(pred.filter((c) => c === 2).length).toBe(500);
  });
  it('matches skimage on a small hand case (two values)', () => {
    // skimage.filters.threshold_otsu([0,0,0,1,1]) splits 0 | 1; our ">= t" gives the same partition.
    const m = fitThreshold([0, 0, 0, 1, 1]);
    expect(Array.from(m.predict([0, 1, 0, 1]))).toEqual([1, 2, 1, 2]);
    expect(m.value).toBeGreaterThan(0); expect(m.value).toBeLessThan(0.01); // skimage: 0.00195 (bin centre)
  });
  it('fixed values, JSON round trip and errors', () => {
    const m = fitThreshold([], { method: 'fixed', value: 0.44 });
    expect(Array.from(m.predict([0.43, 0.44, 0.45]))).toEqual([1, 2, 2]);
    expect(ThresholdModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).value).toBe(0.44);
    expect(() => fitThreshold([1], { method: 'fixed' })).toThrow(/finite value/);
    expect(() => otsuThreshold([NaN])).toThrow(/no finite/);
  });
});
