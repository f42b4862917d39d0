// Fixed Gaussian-smoothed MSDNet inputs (`--set inputSigmas=1,2 inputSmoothing=2d|3d|3d-only`): the planes, their
// record in model.json, and that inference rebuilds exactly the planes training saw.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gaussianSmooth } from '../../src/core/features/filters';
import { inputPlanes, inputSpec, planesPerChannel, rawInputPlanes, recordedSpec, zWeights } from '../../src/core/models/msdnet/inputPlanes';
import { loadMsdnet, trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { resolveParams } from '../../src/shared/models/registry';
import { mulberry32 } from '../../src/core/random';

const rand = mulberry32(23);
const W = 21, H = 17, n = W * H;
const noise = () => Float32Array.from({ length: n }, (_, i) => ((i % W) > 10 ? 100 : 20) + 30 * rand());
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let d = 0; for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i])); return d; };

describe('MSDNet smoothed input planes', () => {
  it('reads the params: the registry default [-1] (auto, unresolved) and 0 are none, sigmas and smoothing validated', () => {
    expect(inputSpec({ ...resolveParams('msdnet', {}), contextSlices: 0 })).toEqual({ contextSlices: 0, sigmas: [], smoothing: '3d' });
    expect(inputSpec({ contextSlices: 0, inputSigmas: '0' })).toEqual({ contextSlices: 0, sigmas: [], smoothing: '2d' });
    const spec = inputSpec(resolveParams('msdnet', { contextSlices: '1', inputSigmas: '1,2', inputSmoothing: '3d-only' }));
    expect(spec).toEqual({ contextSlices: 1, sigmas: [1, 2], smoothing: '3d-only' });
    expect(planesPerChannel(spec)).toBe(3);
    expect(planesPerChannel({ ...spec, smoothing: '3d' })).toBe(5);
    expect(() => inputSpec({ inputSigmas: [0.1] })).toThrow(/inputSigmas 0.1/);
    expect(() => inputSpec({ inputSigmas: [1], inputSmoothing: '4d' })).toThrow(/inputSmoothing "4d"/);
  });

  it('builds raw slices, then one smoothed plane per sigma (2d: the slice; 3d: the z window weighted)', () => {
    const ctx = [noise(), noise(), noise()];
    const flat = rawInputPlanes(ctx[1], undefined, 1, { contextSlices: 0, sigmas: [1, 2], smoothing: '2d' }, W, H);
    expect(flat).toHaveLength(3);
    expect(flat[0]).toEqual(ctx[1]);
    expect(maxDiff(flat[2], gaussianSmooth(ctx[1], W, H, 2))).toBe(0);
    const three = rawInputPlanes(ctx[1], ctx, 1, { contextSlices: 1, sigmas: [1], smoothing: '3d' }, W, H);
    expect(three).toHaveLength(4);
    const w = zWeights(1, 1);
    expect(w[0]).toBeCloseTo(w[2], 12);
    expect(w[0] + w[1] + w[2]).toBeCloseTo(1, 12);
    const mixed = Float32Array.from(ctx[0], (v, i) => w[0] * v + w[1] * ctx[1][i] + w[2] * ctx[2][i]);
    expect(maxDiff(three[3], gaussianSmooth(mixed, W, H, 1))).toBeLessThan(1e-4);
    const only = rawInputPlanes(ctx[1], ctx, 1, { contextSlices: 1, sigmas: [1], smoothing: '3d-only' }, W, H);
    expect(only).toHaveLength(2);
    expect(only[0]).toEqual(ctx[1]);
    expect(maxDiff(only[1], three[3])).toBe(0);
    // Two stack channels: each channel's block, normalised with that channel's percentiles (smoothing commutes).
    const two = (a: Float32Array, b: Float32Array) => { const s = new Float32Array(2 * n); s.set(a); s.set(b.map((v) => v / 100), n); return s; };
    const norm = { low: 20, high: 130, channels: [{ low: 20, high: 130 }, { low: 0.2, high: 1.3 }] };
    const planes = inputPlanes(two(ctx[1], ctx[1]), undefined, 2, { contextSlices: 0, sigmas: [1], smoothing: '2d' }, W, H, norm);
    expect(planes).toHaveLength(4);
    expect(maxDiff(planes[1], planes[3])).toBeLessThan(1e-5);
  });

  it('trains with contextSlices=1 and 3d smoothing, records the inputs, and the reloaded model predicts the same', async () => {
    const planes = [noise(), noise(), noise()];
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i += 3) labels[i] = (i % W) > 10 ? 2 : 1;
    const model = await trainMsdnet([{ image: planes[1], labels, width: W, height: H, context: planes }],
      { contextSlices: 1, inputSigmas: [1, 2], inputSmoothing: '3d', epochs: 4, layers: 3, backend: 'wasm', tta: false });
    expect(model.arch.inChannels).toBe(5);
    expect(model.inputs).toEqual({ contextSlices: 1, sigmas: [1, 2], smoothing: '3d' });
    const a = await model.predict(planes[1], W, H, { context: planes });
    const dir = mkdtempSync(join(tmpdir(), 'msdin-'));
    await model.save(dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.modelTopology.inputs).toEqual({ contextSlices: 1, sigmas: [1, 2], smoothing: '3d' });
    const again = await loadMsdnet(dir, 'wasm');
    expect(again.inputs).toEqual(model.inputs);
    const b = await again.predict(planes[1], W, H, { context: planes });
    expect(maxDiff(b.probs, a.probs)).toBeLessThan(1e-6);
    again.dispose();
    // A record this version cannot rebuild is refused with one message.
    json.modelTopology.inputs = { contextSlices: 1, sigmas: [1], smoothing: '3d' };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadMsdnet(dir, 'wasm')).rejects.toThrow(/5 input planes cannot be rebuilt/);
    json.modelTopology.inputs = { contextSlices: 1, sigmas: [1, 2], smoothing: 'median' };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadMsdnet(dir, 'wasm')).rejects.toThrow(/cannot be rebuilt/);
    model.dispose();
  });

  it('reads a model from before the record as plain 2.5-D', () => {
    expect(recordedSpec(undefined, 3, 1)).toEqual({ contextSlices: 1, sigmas: [], smoothing: '2d' });
    expect(recordedSpec(undefined, 2, 2)).toEqual({ contextSlices: 0, sigmas: [], smoothing: '2d' });
    expect(() => recordedSpec(undefined, 4, 1)).toThrow(/cannot be rebuilt/);
  });
});
