// LivePreview (core): a slice over maxPixels is previewed downsampled; the low-resolution prediction the viewer draws
// and the full-resolution one agree pixel for pixel.
import { describe, expect, it } from 'vitest';
import { LivePreview, PREVIEW_DEFAULTS } from '../../src/core/models/livePreviewModel';

describe('LivePreview resolution', () => {
  it('previews a 601 x 401 slice at factor 2 (301 x 201) and upsamples by nearest neighbour', () => {
    const W = 601, H = 401;
    const image = new Float32Array(W * H), labels = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const inside = (x - 300) ** 2 + (y - 200) ** 2 < 120 ** 2;
      image[y * W + x] = inside ? 1 : 0.1;
      if (y % 9 === 0 && x % 5 === 0) labels[y * W + x] = inside ? 2 : 1;
    }
    const p = new LivePreview({ ...PREVIEW_DEFAULTS, maxPixels: 250 * 250 });
    p.setImage('s', image, W, H);
    const r = p.predict(labels, W, H)!;
    expect([r.factor, r.lowWidth, r.lowHeight]).toEqual([2, 301, 201]);
    expect(r.lowLabels.length).toBe(301 * 201);
    for (const [x, y] of [[0, 0], [300, 200], [600, 400], [431, 77], [299, 333]]) {
      expect(r.labels[y * W + x]).toBe(r.lowLabels[Math.floor(y / 2) * 301 + Math.floor(x / 2)]);
    }
    expect(r.labels[200 * W + 300]).toBe(2);
    expect(r.labels[5 * W + 5]).toBe(1);
  });
});
