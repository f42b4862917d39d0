// The exact pixel readout over a slow link: a resting pointer over a slice shown at a coarse level asks for a small
// box of full-resolution pixels (src/shared/pixelBox.ts, protocol `requestPixels` / `pixels`), never the whole slice.
import { describe, expect, it, vi } from 'vitest';
import { boxAround, cropBox, inBox, MAX_PIXEL_BOX } from '../../src/shared/pixelBox';
import { parseWebviewMessage } from '../../src/shared/protocol';
import { PixelReadout } from '../../webview/pixelReadout';

describe('pixel box', () => {
  it('is centred on the pointer and moved inside the slice', () => {
    expect(boxAround(1000, 500, 2048, 2048)).toEqual({ x: 968, y: 468, width: 64, height: 64 });
    expect(boxAround(3, 2040, 2048, 2048)).toEqual({ x: 0, y: 1984, width: 64, height: 64 });
    expect(boxAround(10, 10, 40, 30)).toEqual({ x: 0, y: 0, width: 40, height: 30 }); // a slice smaller than a box
    expect(inBox({ x: 968, y: 468, width: 64, height: 64 }, 1031, 531)).toBe(true);
    expect(inBox({ x: 968, y: 468, width: 64, height: 64 }, 1032, 500)).toBe(false);
  });

  it('crops the same values, same type', () => {
    const w = 100, h = 80;
    const px = new Uint16Array(w * h).map((_, i) => (i * 7) & 0xffff);
    const box = { x: 90, y: 70, width: 10, height: 10 };
    const out = cropBox(px, w, box);
    expect(out).toBeInstanceOf(Uint16Array);
    expect(out.length).toBe(100);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(out[y * 10 + x]).toBe(px[(70 + y) * w + 90 + x]);
    expect(() => cropBox(px, w, { x: 95, y: 0, width: 10, height: 1 })).toThrow(/not inside the 100 x 80 slice/);
  });

  it('the host accepts a box inside the slice of at most MAX_PIXEL_BOX on a side, and nothing else', () => {
    const limits = { depth: 4, width: 2048, height: 2048 };
    expect(parseWebviewMessage({ type: 'requestPixels', z: 3, x: 1984, y: 0, width: 64, height: 64 }, limits))
      .toEqual({ ok: true, message: { type: 'requestPixels', z: 3, x: 1984, y: 0, width: 64, height: 64 } });
    const reason = (raw: object) => { const r = parseWebviewMessage({ type: 'requestPixels', z: 0, x: 0, y: 0, width: 8, height: 8, ...raw }, limits); return r.ok ? '' : r.reason; };
    expect(reason({ width: MAX_PIXEL_BOX + 1 })).toMatch(/1\.\.64 on a side/); // never a whole slice
    expect(reason({ x: 2044 })).toMatch(/not inside the 2048 x 2048 slice/);
    expect(reason({ z: 4 })).toMatch(/outside 0\.\.3/);
    expect(reason({ x: 1.5 })).toMatch(/integers/);
    expect(reason({ extra: 1 })).not.toBe('');
  });
});

describe('exact readout from a box', () => {
  const info = { width: 2048, height: 2048, depth: 4, dtype: 'uint16' } as never;
  const view = { scale: 0.25, tx: 0, ty: 0 };
  const level4 = new Uint16Array(512 * 512).fill(1000);

  function setup(exact: Map<string, number>) {
    const out = { textContent: '' } as HTMLElement;
    const fetchExact = vi.fn();
    const readout = new PixelReadout(out, {
      info, view,
      shown: () => ({ z: 2, level: 4, pixels: level4 }),
      fetchExact,
      exactAt: (z, x, y) => exact.get(`${z},${x},${y}`),
    });
    return { out, fetchExact, readout };
  }

  it('a resting pointer over a coarse level asks for the pixels around it (not the slice), then reads them exactly', () => {
    vi.useFakeTimers();
    try {
      const exact = new Map<string, number>();
      const { out, fetchExact, readout } = setup(exact);
      readout.pointerAt(100, 50); // image pixel (400, 200)
      expect(out.textContent).toBe('x 400, y 200: ≈1000 (4×4 mean)');
      vi.advanceTimersByTime(250);
      expect(fetchExact).toHaveBeenCalledTimes(1);
      expect(fetchExact).toHaveBeenCalledWith(2, 400, 200);
      exact.set('2,400,200', 1234); // the box arrived
      readout.refresh();
      expect(out.textContent).toBe('x 400, y 200: 1234');
      readout.pointerAt(100.1, 50.1); // same pixel, already exact: nothing more to ask
      vi.advanceTimersByTime(250);
      expect(fetchExact).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
