import { describe, expect, it } from 'vitest';
import { displayLevel, downsampleMean, isLevel, levelSize, previewLevel } from '../../src/shared/pyramid';

describe('downsampleMean', () => {
  it('averages 2 x 2 blocks of a uint16 slice, rounding to nearest', () => {
    // 4 x 2: blocks [1,2,5,6] -> 3.5 -> 4 and [3,4,7,9] -> 5.75 -> 6
    const px = new Uint16Array([1, 2, 3, 4, 5, 6, 7, 9]);
    const r = downsampleMean(px, 4, 2, 'uint16', 2);
    expect(r.width).toBe(2);
    expect(r.height).toBe(1);
    expect(r.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(r.data)).toEqual([4, 6]);
  });

  it('averages only the pixels that exist in partial blocks at odd right and bottom edges', () => {
    // 5 x 3 float32, values v = y * 10 + x
    const w = 5, h = 3;
    const px = new Float32Array(w * h).map((_, i) => Math.floor(i / w) * 10 + (i % w));
    const r = downsampleMean(px, w, h, 'float32', 2);
    expect([r.width, r.height]).toEqual([3, 2]);
    const mean = (vals: number[]) => vals.reduce((a, b) => a + b, 0) / vals.length;
    expect(Array.from(r.data)).toEqual([
      mean([0, 1, 10, 11]), mean([2, 3, 12, 13]), mean([4, 14]),
      mean([20, 21]), mean([22, 23]), mean([24]),
    ]);
  });

  it('reduces a 2048-like size by 4 and keeps signed and float values', () => {
    const w = 7, h = 6;
    const px = new Int16Array(w * h).fill(-300);
    px[0] = -316; // block (0,0): 15 x -300 + -316 -> -301
    const r = downsampleMean(px, w, h, 'int16', 4);
    expect([r.width, r.height]).toEqual([2, 2]);
    expect(Array.from(r.data)).toEqual([-301, -300, -300, -300]);
    const nan = new Float64Array([1, Number.NaN, 3, 4]);
    expect(Number.isNaN(downsampleMean(nan, 2, 2, 'float64', 2).data[0])).toBe(true);
  });

  it('returns level 1 unchanged and rejects levels that are not powers of two or sizes that do not match', () => {
    const px = new Uint8Array([1, 2, 3, 4]);
    expect(downsampleMean(px, 2, 2, 'uint8', 1).data).toBe(px);
    expect(() => downsampleMean(px, 2, 2, 'uint8', 3)).toThrow(/power of two/);
    expect(() => downsampleMean(px, 3, 2, 'uint8', 2)).toThrow(/expected 3 x 2/);
    // a level coarser than the slice gives one pixel: the mean of all
    expect(Array.from(downsampleMean(px, 2, 2, 'uint8', 8).data)).toEqual([3]);
  });
});

describe('level choice', () => {
  it('isLevel accepts powers of two up to 64', () => {
    expect([1, 2, 4, 64].every(isLevel)).toBe(true);
    expect([0, 3, 128, 1.5, -2, '2', NaN].some(isLevel)).toBe(false);
  });
  it('levelSize rounds partial blocks up', () => {
    expect(levelSize(2048, 2048, 4)).toEqual({ width: 512, height: 512 });
    expect(levelSize(2047, 5, 4)).toEqual({ width: 512, height: 2 });
  });
  it('previewLevel keeps the longer side <= 512', () => {
    expect(previewLevel(2048, 2048)).toBe(4);
    expect(previewLevel(256, 256)).toBe(1);
    expect(previewLevel(513, 10)).toBe(2);
  });
  it('displayLevel: a 2048 slice fit into ~800 px needs level 2; 1:1 or closer needs level 1', () => {
    expect(displayLevel(800 / 2048)).toBe(2);
    expect(displayLevel(0.5)).toBe(2);
    expect(displayLevel(0.49)).toBe(2);
    expect(displayLevel(0.25)).toBe(4);
    expect(displayLevel(1)).toBe(1);
    expect(displayLevel(3)).toBe(1);
    expect(displayLevel(0.51)).toBe(1);
  });
});
