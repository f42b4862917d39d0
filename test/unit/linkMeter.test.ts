// Link throughput from acknowledgement times (src/host/linkMeter.ts) and the slice server reporting it.
import { describe, expect, it } from 'vitest';
import { LinkMeter, SLOW_BYTES_PER_SECOND } from '../../src/host/linkMeter';

describe('LinkMeter', () => {
  it('measures back-to-back messages by the spacing of their acknowledgements', () => {
    const m = new LinkMeter();
    // 2.5 MB/s with a 40 ms latency: 250 KB takes 100 ms on the wire.
    m.record(1000, 0, 40); // small: latency only
    let t = 100;
    for (let i = 0; i < 10; i++) { m.record(250_000, t, t + 40 + 100 * (i + 1)); }
    expect(m.bytesPerSecond).toBeGreaterThan(2.5e6 * 0.9);
    expect(m.bytesPerSecond).toBeLessThan(2.5e6 * 1.1);
    const state = m.change();
    expect(state?.slow).toBe(2.5e6 < SLOW_BYTES_PER_SECOND);
    expect(m.change()).toBeUndefined(); // nothing new to tell
  });

  it('takes the latency off a message sent on an idle link', () => {
    const m = new LinkMeter();
    m.record(100, 0, 40);
    m.record(500_000, 1000, 1000 + 40 + 50); // 10 MB/s
    expect(m.bytesPerSecond).toBeGreaterThan(9e6);
    expect(m.bytesPerSecond).toBeLessThan(11e6);
    expect(m.change()).toMatchObject({ slow: false });
  });

  it('reports the packing ratio and ignores messages too small to tell throughput', () => {
    const m = new LinkMeter();
    m.record(2000, 0, 5, 8000);
    expect(m.bytesPerSecond).toBeUndefined();
    m.record(100_000, 10, 60, 200_000);
    expect(m.change()?.ratio).toBeGreaterThan(1.5);
  });
});
