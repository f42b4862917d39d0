import { describe, expect, it } from 'vitest';
import { RandomForest } from '../../src/core/models/randomForest/randomForest';
import { concatTrainingData, gatherLabeledPixels, type TrainingData } from '../../src/core/models/randomForest/randomForestTrain';
import { binValues, lowerBound } from '../../src/core/models/randomForest/randomForestBins';
import { forestWalk, SETTLE_MIN_TREES } from '../../src/core/models/randomForest/randomForestPredict';

/** Deterministic two-feature data set: class 2 where f0 + 0.5 f1 > 1, with values in [0, 2). */
function makeData(n: number, seed = 1, labelValues: [number, number] = [1, 2]): TrainingData {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const x = new Float32Array(2 * n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * rnd(), b = 2 * rnd();
    x[i] = a; x[n + i] = b;
    y[i] = a + 0.5 * b > 1.5 ? labelValues[1] : labelValues[0];
  }
  return { x, y, nFeatures: 2, nSamples: n };
}

describe('RandomForest', () => {
  it('learns a separable rule and returns original label values', () => {
    const train = makeData(3000, 1, [3, 7]);
    const forest = RandomForest.train(train, { seed: 4 });
    expect(forest.classes).toEqual([3, 7]);
    const test = makeData(2000, 99, [3, 7]);
    const { labels, probabilities } = forest.predict(test.x, test.nSamples);
    let ok = 0; for (let i = 0; i < test.nSamples; i++) if (labels[i] === test.y[i]) ok++;
    expect(ok / test.nSamples).toBeGreaterThan(0.95);
    expect(new Set(labels)).toEqual(new Set([3, 7]));
    for (let i = 0; i < test.nSamples; i += 37) expect(probabilities[i] + probabilities[test.nSamples + i]).toBeCloseTo(1, 5);
  });

  it('puts a single-feature threshold in the middle of the gap between classes', () => {
    // Class 1 at values 0..1, class 2 at 3..4: sklearn-like split at 2, whatever the bin edges.
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => (i < 900 ? i / 900 : 3 + (i - 900) / 100));
    const y = Uint8Array.from({ length: n }, (_, i) => (i < 900 ? 1 : 2));
    const forest = RandomForest.train({ x, y, nFeatures: 1, nSamples: n }, { nTrees: 5, bootstrap: false });
    const probe = Float32Array.from([1.9, 1.99, 2.01, 2.1]);
    expect(Array.from(forest.predict(probe, 4).labels)).toEqual([1, 1, 2, 2]);
  });

  it('averages probabilities over all trees', () => {
    const forest = RandomForest.train(makeData(500, 3), { nTrees: 7, seed: 1 });
    const json = forest.toJSON();
    const p = Float32Array.from([0.9, 1.1]);
    const expected = [0, 0];
    for (let t = 0; t < json.treeRoots.length; t++) {
      let node = json.treeRoots[t];
      while (json.feature[node] >= 0) node = p[json.feature[node]] <= json.threshold[node] ? json.left[node] : json.left[node] + 1;
      expected[0] += json.value[2 * node] / 7; expected[1] += json.value[2 * node + 1] / 7;
    }
    const got = forest.predict(p, 1).probabilities;
    expect(got[0]).toBeCloseTo(expected[0], 5); expect(got[1]).toBeCloseTo(expected[1], 5);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const d = makeData(800, 5);
    const a = JSON.stringify(RandomForest.train(d, { seed: 11, nTrees: 4 }).toJSON());
    expect(JSON.stringify(RandomForest.train(d, { seed: 11, nTrees: 4 }).toJSON())).toBe(a);
    expect(JSON.stringify(RandomForest.train(d, { seed: 12, nTrees: 4 }).toJSON())).not.toBe(a);
  });

  it('round-trips through JSON with identical predictions', () => {
    const d = makeData(1000, 6);
    const f = RandomForest.train(d, { nTrees: 6, maxDepth: 5, classWeight: 'balanced' });
    const g = RandomForest.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
    const t = makeData(300, 8);
    expect(g.predict(t.x, 300).probabilities).toEqual(f.predict(t.x, 300).probabilities);
    expect(() => RandomForest.fromJSON({ format: 'stackseg-forest', version: 9 })).toThrow(/version 9/);
    expect(() => RandomForest.fromJSON({ foo: 1 }, 'm.json')).toThrow(/m.json: not a StackSeg forest/);
  });

  it('predicts identically from only the features its splits use', () => {
    const d = makeData(1000, 6);
    const f = RandomForest.train(d, { nTrees: 4, maxDepth: 2, maxFeatures: 'all' });
    const used = f.usedFeatures();
    expect(used.length).toBeGreaterThan(0);
    expect(used.length).toBeLessThanOrEqual(6);
    const t = makeData(300, 8);
    const compact = new Float32Array(used.length * 300);
    used.forEach((u, j) => compact.set(t.x.subarray(u * 300, (u + 1) * 300), j * 300));
    expect(f.selectFeatures(used).predict(compact, 300).probabilities).toEqual(f.predict(t.x, 300).probabilities);
    if (used.length > 1) expect(() => f.selectFeatures(used.slice(1))).toThrow(/not in the selected/);
  });

  it('merges forests into one whose probabilities average theirs, weighted by tree count', () => {
    const d = makeData(800, 3);
    const a = RandomForest.train(d, { nTrees: 2, maxDepth: 3, seed: 1 });
    const b = RandomForest.train(d, { nTrees: 4, maxDepth: 4, seed: 2 });
    const m = RandomForest.merge([a, b]);
    expect(m.nTrees).toBe(6);
    const t = makeData(200, 9);
    const pa = a.predict(t.x, 200).probabilities, pb = b.predict(t.x, 200).probabilities, pm = m.predict(t.x, 200).probabilities;
    for (let i = 0; i < pm.length; i += 7) expect(pm[i]).toBeCloseTo((2 * pa[i] + 4 * pb[i]) / 6, 5);
    expect(RandomForest.fromJSON(m.toJSON()).predict(t.x, 200).probabilities).toEqual(pm);
    const other = RandomForest.train(makeData(100, 4, [1, 3]), { nTrees: 1 });
    expect(() => RandomForest.merge([a, other])).toThrow(/same classes/);
  });

  it('predicts the same numbers in WebAssembly (two classes) as in the JS loop', () => {
    const d = makeData(1500, 5);
    const f = RandomForest.train(d, { nTrees: 7, maxDepth: 6 });
    const t = makeData(333, 6);
    t.x[5] = NaN; // NaN goes right in both
    const wasm = f.predict(t.x, 333);
    RandomForest.wasmPrediction = false;
    try {
      const js = f.predict(t.x, 333);
      expect(wasm.probabilities).toEqual(js.probabilities);
      expect(wasm.labels).toEqual(js.labels);
    } finally { RandomForest.wasmPrediction = true; }
  });

  it('gives the same labels when it stops walking trees early (labels only), on certain and uncertain pixels', () => {
    // 20 % of the labels flipped: many pixels near the boundary stay uncertain until the last trees.
    const d = makeData(4000, 7);
    let s = 3;
    for (let i = 0; i < d.nSamples; i++) if (((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) < 0.2) d.y[i] = 3 - d.y[i];
    for (const nTrees of [30, 8, 1]) {
      const f = RandomForest.train(d, { nTrees, maxDepth: 8 });
      const t = makeData(5000, 11);
      const full = f.predict(t.x, 5000).labels;
      expect(f.predictLabelsRange(t.x, 5000, 0, 5000)).toEqual(full);
      expect(f.predictLabelsRange(t.x, 5000, 1234, 4321)).toEqual(full.subarray(1234, 4321));
      RandomForest.wasmPrediction = false;
      try { expect(f.predictLabelsRange(t.x, 5000, 0, 5000)).toEqual(full); } finally { RandomForest.wasmPrediction = true; }
    }
  });

  it('with settle > 0 walks fewer trees and changes only pixels whose vote is close; settle travels in JSON', () => {
    const d = makeData(4000, 7);
    let s = 3;
    for (let i = 0; i < d.nSamples; i++) if (((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) < 0.05) d.y[i] = 3 - d.y[i];
    const f = RandomForest.train(d, { nTrees: 30, maxDepth: 8 });
    const t = makeData(20000, 11);
    const full = f.predict(t.x, 20000);
    const walk = () => { const before = { ...forestWalk }; return () => (forestWalk.treePixels - before.treePixels) / (forestWalk.pixels - before.pixels); };
    let mean = walk();
    expect(f.predictLabelsRange(t.x, 20000, 0, 20000)).toEqual(full.labels);
    const exactTrees = mean();
    f.settle = 2.5;
    mean = walk();
    const settled = f.predictLabelsRange(t.x, 20000, 0, 20000);
    const settledTrees = mean();
    // A pixel's label depends on its own votes only, not on where the range (a strip) starts.
    expect(f.predictLabelsRange(t.x, 20000, 1237, 15001)).toEqual(settled.subarray(1237, 15001));
    expect(settledTrees).toBeLessThan(exactTrees - 2);
    expect(settledTrees).toBeGreaterThanOrEqual(SETTLE_MIN_TREES);
    // A changed pixel is one the full forest itself barely decides (well within the c sqrt(R) band).
    let changed = 0;
    for (let p = 0; p < 20000; p++) {
      if (settled[p] === full.labels[p]) continue;
      changed++;
      expect(Math.abs(full.probabilities[20000 + p] - full.probabilities[p])).toBeLessThan(0.3);
    }
    expect(changed).toBeLessThan(200);
    // With probabilities the same decisions; a decided pixel's probabilities are the mean of the trees it walked.
    const withProbs = f.predictRange(t.x, 20000, 0, 20000);
    expect(withProbs.labels).toEqual(settled);
    let moved = 0;
    for (let p = 0; p < 20000; p++) {
      const p0 = withProbs.probabilities[p], p1 = withProbs.probabilities[20000 + p];
      expect(Math.abs(p0 + p1 - 1)).toBeLessThan(1e-5);
      expect(p1 > p0).toBe(settled[p] === f.classes[1]);
      moved += Math.abs(p1 - full.probabilities[20000 + p]);
    }
    expect(moved / 20000).toBeLessThan(0.03);
    const back = RandomForest.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
    expect(back.settle).toBe(2.5);
    expect(back.selectFeatures(back.usedFeatures()).settle).toBe(2.5);
    expect(RandomForest.merge([back, back]).settle).toBe(2.5);
    f.settle = 0;
    expect(f.predictLabelsRange(t.x, 20000, 0, 20000)).toEqual(full.labels);
    expect('settle' in f.toJSON()).toBe(false);
    for (const bad of [-1, 11, '2', null]) expect(() => RandomForest.fromJSON({ ...f.toJSON(), settle: bad }, 'model.json')).toThrow(/settle/);
  });

  it('respects max depth, min samples per leaf and class weights', () => {
    const d = makeData(2000, 7);
    const stump = RandomForest.train(d, { nTrees: 3, maxDepth: 1 });
    expect(stump.nNodes).toBe(9);
    const j = RandomForest.train(d, { nTrees: 2, maxDepth: 12, minSamplesLeaf: 400, bootstrap: false }).toJSON();
    expect(j.feature.filter((f) => f >= 0).length).toBeLessThanOrEqual(2 * 4);
    // Heavily weighting class 2 moves predictions towards 2.
    const t = makeData(2000, 17);
    const count2 = (f: RandomForest) => f.predict(t.x, t.nSamples).labels.filter((v) => v === 2).length;
    const plain = RandomForest.train(d, { nTrees: 5, maxDepth: 2 });
    const heavy = RandomForest.train(d, { nTrees: 5, maxDepth: 2, classWeight: { '2': 20 } });
    expect(count2(heavy)).toBeGreaterThan(count2(plain));
  });

  it('gathers labelled pixels and refuses one-class labels', () => {
    const features = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]); // 2 features x 4 pixels
    const g = gatherLabeledPixels(features, 2, Uint8Array.from([0, 2, 0, 1]));
    expect(Array.from(g.x)).toEqual([2, 4, 20, 40]);
    expect(Array.from(g.y)).toEqual([2, 1]);
    const both = concatTrainingData([g, g]);
    expect(Array.from(both.x)).toEqual([2, 4, 2, 4, 20, 40, 20, 40]);
    expect(() => RandomForest.train(gatherLabeledPixels(features, 2, Uint8Array.from([1, 1, 0, 0])))).toThrow(/at least 2/);
    expect(() => RandomForest.train(g, { nTrees: 0 })).toThrow(/nTrees/);
  });

  it('bins values with the branch-free search exactly as lowerBound does', () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    for (const len of [0, 1, 2, 7, 128, 200, 255]) {
      const edges = Float32Array.from({ length: len }, () => rnd() * 10 - 5).sort();
      const values = Float32Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 && len ? edges[i % len] : rnd() * 12 - 6));
      values.set([NaN, Infinity, -Infinity], 0);
      const out = new Uint8Array(values.length + 5);
      binValues(edges, values, out, 5);
      for (let i = 0; i < values.length; i++) expect(out[5 + i], `len ${len} value ${values[i]}`).toBe(lowerBound(edges, values[i]));
    }
  });

  it('draws at most maxSamples per tree: no change when the cap is above the sample count, faster fits below it', () => {
    const d = makeData(3000, 8);
    const trees = (o: object) => { const j = RandomForest.train(d, { nTrees: 4, ...o }).toJSON(); return { ...j, options: undefined }; };
    const all = trees({ maxSamples: 0 });
    expect(trees({ maxSamples: 3000 })).toEqual(all);
    expect(trees({})).toEqual(all); // the default cap (100 k) is above 3000
    const t = makeData(2000, 18);
    for (const bootstrap of [true, false]) {
      const capped = RandomForest.train(d, { nTrees: 9, maxSamples: 600, bootstrap });
      expect(capped.toJSON().feature).not.toEqual(all.feature);
      const { labels } = capped.predict(t.x, t.nSamples);
      let ok = 0; for (let i = 0; i < t.nSamples; i++) if (labels[i] === t.y[i]) ok++;
      expect(ok / t.nSamples).toBeGreaterThan(0.93);
    }
    expect(() => RandomForest.train(d, { maxSamples: -1 })).toThrow(/maxSamples/);
  });

  it('maps winners to class values 4 bytes at a time, at any offset and length', () => {
    for (const classes of [[1, 2], [0, 255], [7, 3], [2, 2]]) {
      const f = Object.create(RandomForest.prototype) as { classes: number[]; winnerLabels(w: Uint8Array): Uint8Array };
      f.classes = classes;
      for (const n of [0, 1, 5, 1003]) {
        const w = new Uint8Array(n + 3).subarray(n % 2, n % 2 + n); // odd n: an unaligned view
        for (let i = 0; i < n; i++) w[i] = (i * 7919) % 3 === 0 ? 1 : 0;
        expect(Array.from(f.winnerLabels(w))).toEqual(Array.from(w, (v) => (v ? classes[1] : classes[0])));
      }
    }
  });
});
