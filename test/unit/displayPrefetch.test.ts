// How far ahead the viewer brings display levels (webview/sliceStore.ts): a lead of several slices for the usual
// 2048² uint16 slice at level 2, fewer for big levels, the one behind early in the plan.
import { describe, expect, it } from 'vitest';
import { displayAhead, displayPrefetchPlan, MAX_DISPLAY_AHEAD, MIN_DISPLAY_AHEAD } from '../../webview/sliceStore';

describe('display-level prefetch depth', () => {
  it('scales with the level size within bounds', () => {
    expect(displayAhead(1024 * 1024 * 2)).toBe(6); // 2048² uint16 at level 2
    expect(displayAhead(2048 * 2048 * 2)).toBe(MIN_DISPLAY_AHEAD); // level 1: 8 MB each
    expect(displayAhead(512 * 512 * 2)).toBe(MAX_DISPLAY_AHEAD);
    expect(displayAhead(0)).toBe(MAX_DISPLAY_AHEAD);
  });

  it('plans the slices ahead, the one behind after the first two', () => {
    expect(displayPrefetchPlan(10, 1, 20, 6)).toEqual([11, 12, 9, 13, 14, 15, 16]);
    expect(displayPrefetchPlan(10, -1, 20, 6)).toEqual([9, 8, 11, 7, 6, 5, 4]);
    expect(displayPrefetchPlan(17, 1, 20, 6)).toEqual([18, 19, 16]);
    expect(displayPrefetchPlan(10, 0, 20, 6)).toEqual([]);
  });
});
