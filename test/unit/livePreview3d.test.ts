// LivePreview with a z window (3-D features, as rf dims=3d): the halo it asks for, the window it needs, and that on a
// noisy volume the 3-D preview beats the 2-D one (averaging over slices removes noise that blurring in-plane cannot).
import { describe, expect, it } from 'vitest';
import { LivePreview, PREVIEW_DEFAULTS } from '../../src/core/models/livePreviewModel';
import { mulberry32 } from '../../src/core/random';

describe('LivePreview 3-D', () => {
  const W = 64, H = 64, n = W * H;
  // Thin walls (2 of every 6 columns): in-plane smoothing that removes the noise also blurs them away.
  const truth = Uint8Array.from({ length: n }, (_, i) => ((i % W) % 6 < 2 ? 2 : 1));
  const rand = mulberry32(4);
  const p = new LivePreview();
  const h = p.zHalo(W, H, 1);
  // Walls along z in strong independent noise per slice.
  const slices = Array.from({ length: 2 * h + 1 }, () => Float32Array.from(truth, (t) => (t === 2 ? 1 : 0) + 2.5 * (rand() - 0.5)));
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i += 5) labels[i] = truth[i];

  it('asks for the z radius of its bank, scaled by spacing and downsampling', () => {
    expect(h).toBe(Math.floor(3 * 3.5 + 0.5)); // truncate 3, largest sigma 3.5
    expect(p.zHalo(W, H, 3.5)).toBe(3);
    // Downsampled 2x in-plane: a preview pixel is 2 pixels, so the z sigma in slices doubles.
    expect(new LivePreview({ ...PREVIEW_DEFAULTS, maxPixels: 32 * 32 }).zHalo(W, H, 1)).toBe(Math.floor(3 * 7 + 0.5));
    expect(() => new LivePreview().setImage('x', slices[h], W, H, { slices: slices.slice(0, 3) })).toThrow(/needs 23 slices/);
  });

  it('is more accurate than the 2-D preview on a noisy volume', () => {
    const accuracy = (r: { labels: Uint8Array }) => r.labels.reduce((a, v, i) => a + (v === truth[i] ? 1 : 0), 0) / n;
    const p2 = new LivePreview(), p3 = new LivePreview();
    p2.setImage('2d', slices[h], W, H);
    p3.setImage('3d', slices[h], W, H, { slices });
    const a2 = accuracy(p2.predict(labels, W, H)!), a3 = accuracy(p3.predict(labels, W, H)!);
    expect(a3).toBeGreaterThan(a2 + 0.02);
    expect(a3).toBeGreaterThan(0.9);
  });
});
