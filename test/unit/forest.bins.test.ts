// Feature quantisation of the forest (randomForestBins.ts) and the training that reads it (randomForestTrain.ts).
import { describe, expect, it } from 'vitest';
import { binValues, lowerBound } from '../../src/core/models/randomForest/randomForestBins';

describe('forest bins', () => {
  it('bins many values (the table on leading float bits) exactly as lowerBound does: clustered edges, zeros, NaN, infinities', () => {
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    const sets = [
      Float32Array.from({ length: 255 }, () => rnd() * 10 - 5), // spread
      Float32Array.from({ length: 200 }, () => 1000 + rnd() * 0.01), // all in one bucket: the binary search inside it
      Float32Array.from([-0, 0.5, 1e-30, -1e-30, 3]), // signed zero, tiny values
      Float32Array.from([]),
    ].map((e) => Float32Array.from(new Set(e)).sort());
    for (const edges of sets) {
      const values = Float32Array.from({ length: 40_000 }, (_, i) => {
        if (i % 5 === 0 && edges.length) return edges[i % edges.length]; // values equal to an edge
        if (i % 5 === 1) return 1000 + rnd() * 0.012;
        if (i % 5 === 2) return (rnd() - 0.5) * 1e-29;
        return rnd() * 12 - 6;
      });
      values.set([NaN, Infinity, -Infinity, 0, -0], 0);
      const out = new Uint8Array(values.length + 3);
      binValues(edges, values, out, 3);
      for (let i = 0; i < values.length; i++) if (out[3 + i] !== lowerBound(edges, values[i])) expect(out[3 + i], `value ${values[i]}`).toBe(lowerBound(edges, values[i]));
    }
  });
});
