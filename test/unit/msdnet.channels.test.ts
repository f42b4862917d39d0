// MSDNet on several stack channels (`--set channel=all`): C channel planes per slice, each normalised on its own,
// combined with 2.5-D context as C * (2k+1) inputs; saved and reloaded the same; another channel count refused.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMsdnet, trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { channelNormalization, inputPlanes, plainSpec, rawInputPlanes } from '../../src/core/models/msdnet/inputPlanes';
import { mulberry32 } from '../../src/core/random';

const W = 24, H = 20, n = W * H;
const rand = mulberry32(21);
/** Slice z with 2 channels: channel 0 in 0..1000 (a left/right edge), channel 1 in 0..1 (a top/bottom edge). */
const slice = (z: number) => {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[i] = 1000 * (((i % W) + z > 12 ? 1 : 0) + 0.1 * rand());
    out[n + i] = (Math.floor(i / W) > 9 ? 1 : 0) + 0.1 * rand();
  }
  return out;
};
const truth = (i: number) => 1 + (((i % W) > 12 ? 1 : 0) ^ (Math.floor(i / W) > 9 ? 1 : 0));

describe('MSDNet on several channels', () => {
  it('orders inputs channel by channel, each normalised with its own percentiles', () => {
    const ctx = [slice(0), slice(1), slice(2)];
    const norm = channelNormalization(ctx, 2);
    expect(norm.channels).toHaveLength(2);
    expect(norm.channels![0].high).toBeGreaterThan(500);
    expect(norm.channels![1].high).toBeLessThan(2);
    const raw = rawInputPlanes(ctx[1], ctx, 2, plainSpec(1), W, H);
    expect(raw).toHaveLength(6);
    expect(raw[1]).toEqual(ctx[1].subarray(0, n)); // channel 0, middle slice
    expect(raw[4]).toEqual(ctx[1].subarray(n)); // channel 1, middle slice
    const planes = inputPlanes(ctx[1], ctx, 2, plainSpec(1), W, H, norm);
    expect(Math.max(...planes[4])).toBeLessThan(1.5);
    expect(() => rawInputPlanes(ctx[1].subarray(0, n), undefined, 2, plainSpec(0), W, H)).toThrow(/reads 2 channels per slice, the slice holds 1/);
  });

  it('trains on 2 channels x 3 slices, predicts, reloads the same and refuses one channel', async () => {
    const planes = [0, 1, 2].map(slice);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (i % 3 === 0) labels[i] = truth(i);
    const model = await trainMsdnet([{ image: planes[1], labels, width: W, height: H, context: planes }],
      { contextSlices: 1, epochs: 40, layers: 6, backend: 'wasm', tta: false, learningRate: 0.05 });
    expect(model.arch.inChannels).toBe(6);
    expect(model.normalization.channels).toHaveLength(2);
    const a = await model.predict(planes[1], W, H, { context: planes });
    let right = 0;
    for (let i = 0; i < n; i++) if (a.labels[i] === truth(i)) right++;
    expect(right / n).toBeGreaterThan(0.85);
    const dir = mkdtempSync(join(tmpdir(), 'msdc-'));
    await model.save(dir);
    const again = await loadMsdnet(dir, 'wasm');
    expect(again.normalization.channels).toEqual(model.normalization.channels);
    const b = await again.predict(planes[1], W, H, { context: planes });
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    await expect(model.predict(planes[1].subarray(0, n), W, H, { context: planes.map((p) => p.subarray(0, n)) })).rejects.toThrow(/MSDNet/);
    model.dispose(); again.dispose();
  });
});
