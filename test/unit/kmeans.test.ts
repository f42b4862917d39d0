import { describe, expect, it } from 'vitest';
import { fitKMeans, KMeansModel } from '../../src/core/models/kmeans/kmeans';

// Three intensity populations around 0.1, 0.5, 0.9, shuffled so cluster order in the data is not sorted.
const n = 3000;
const values = Float32Array.from({ length: n }, (_, i) => [0.9, 0.1, 0.5][i % 3] + 0.02 * Math.sin(i * 12.9898));

describe('kmeans', () => {
  it('finds the centres and numbers clusters from darkest (1) to brightest', () => {
    for (const seed of [0, 1, 2]) {
      const m = fitKMeans(values, 1, { k: 3, seed });
      expect(m.centers.map((c) => c[0])).toEqual([expect.closeTo(0.1, 2), expect.closeTo(0.5, 2), expect.closeTo(0.9, 2)]);
      expect(Array.from(m.predict(Float32Array.from([0.05, 0.52, 0.99, 0.3]), 4))).toEqual([1, 2, 3, 1]);
    }
  });
  it('fits on a sample and round-trips through JSON', () => {
    const m = fitKMeans(values, 1, { k: 2, sampleSize: 500, seed: 3 });
    const j = KMeansModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(j.predict(values, n)).toEqual(m.predict(values, n));
    expect(m.centers[0][0]).toBeLessThan(m.centers[1][0]);
    expect(() => KMeansModel.fromJSON({ format: 'x' })).toThrow(/not a StackSeg k-means/);
  });
  it('works on several feature dimensions and rejects bad k', () => {
    const pts = new Float32Array(2 * 4); pts.set([0, 0, 1, 1], 0); pts.set([0, 0.1, 5, 5.1], 4);
    expect(Array.from(fitKMeans(pts, 2, { k: 2 }).predict(pts, 4))).toEqual([1, 1, 2, 2]);
    expect(() => fitKMeans(values, 1, { k: 1 })).toThrow(/k = 1/);
  });
});
