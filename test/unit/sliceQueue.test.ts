// Order in which the host serves slice requests (src/host/sliceQueue.ts) and the server built on it.
import { describe, expect, it } from 'vitest';
import type { SliceSource, StackInfo } from '../../src/shared/types';
import { MAX_PREFETCH_DISTANCE, moveFocus, pickNext, staleRequests, type SliceRequest } from '../../src/host/sliceQueue';
import { CachedLevels } from '../../src/core/levels/levels';
import { SliceServer } from '../../src/host/sliceServer';

let seq = 0;
const req = (z: number, level: number, priority: 'show' | 'prefetch' = 'prefetch'): SliceRequest => ({ z, level, priority, seq: ++seq });
const order = (queue: SliceRequest[], focus: { z: number; dir: number }, preview = 4) => {
  const copy = [...queue];
  const out: string[] = [];
  for (let i = pickNext(copy, focus, preview); i >= 0; i = pickNext(copy, focus, preview)) {
    const r = copy.splice(i, 1)[0];
    out.push(`${r.z}@${r.level}`);
  }
  return out;
};

describe('slice request order', () => {
  it('focus preview, then the next previews, then the focus display level, then further previews, then the rest', () => {
    const q = [req(10, 2, 'show'), req(3, 1, 'show'), req(12, 4), req(8, 4), req(9, 4), req(11, 4), req(10, 4, 'show'), req(14, 4), req(6, 4)];
    // Moving down onto 10: 9 (1 ahead), then 11 (1 behind counts 2) and 8 (2 ahead) tie: the newer first;
    // the display level of 10; then 12 (2 behind: 4) and 6 (4 ahead) tie: the newer first; 14 (8).
    expect(order(q, { z: 10, dir: -1 })).toEqual(['10@4', '9@4', '11@4', '8@4', '10@2', '6@4', '12@4', '14@4', '3@1']);
    // Moving up: 11 first.
    expect(order(q, { z: 10, dir: 1 }).slice(0, 3)).toEqual(['10@4', '11@4', '9@4']);
  });

  it('a coarser level than the preview counts as a preview; a show goes before a prefetch of the same rank', () => {
    const q = [req(5, 8), req(5, 4, 'show'), req(6, 4), req(6, 4, 'show')];
    expect(order(q, { z: 5, dir: 1 })).toEqual(['5@4', '5@8', '6@4', '6@4']);
  });

  it('drops finer levels of slices the user left and prefetches far away, never the focus', () => {
    const far = 10 + MAX_PREFETCH_DISTANCE + 1;
    const q = [req(10, 2, 'show'), req(10, 1, 'show'), req(11, 4), req(12, 1), req(far, 4), req(30, 4, 'show')];
    const names = (rs: SliceRequest[]) => rs.map((r) => `${r.z}@${r.level}`);
    expect(names(staleRequests(q, { z: 11, dir: 1 }, 4))).toEqual(['10@2', '10@1', '12@1']);
    expect(names(staleRequests(q, { z: 10, dir: -1 }, 4))).toEqual(['12@1', `${far}@4`]);
    expect(staleRequests(q, { z: -1, dir: 0 }, 4)).toEqual([]);
  });

  it('moveFocus tracks the direction of travel', () => {
    const a = moveFocus({ z: -1, dir: 0 }, 5);
    expect(a).toEqual({ z: 5, dir: 0 });
    expect(moveFocus(a, 3)).toEqual({ z: 3, dir: -1 });
    expect(moveFocus({ z: 3, dir: -1 }, 9)).toEqual({ z: 9, dir: 1 });
    const same = { z: 9, dir: 1 };
    expect(moveFocus(same, 9)).toBe(same);
  });
});

/** A 16 x 16 uint16 source (preview level 1: everything is a preview) whose reads finish when `step` is awaited. */
function source(depth: number, width = 16) {
  const reads: number[] = [];
  const waiting: (() => void)[] = [];
  const info = { path: '/x.tif', width, height: width, depth, dtype: 'uint16' } as StackInfo;
  const src: SliceSource = {
    info,
    async readSlice(z) {
      reads.push(z);
      await new Promise<void>((r) => waiting.push(r));
      return new Uint16Array(width * width).fill(z);
    },
    async close() {},
  };
  const step = async () => { await Promise.resolve(); waiting.shift()?.(); await new Promise((r) => setTimeout(r, 0)); };
  return { src, reads, step };
}

describe('SliceServer scheduling', () => {
  it('tells the webview which queued requests it dropped when the focus moved', async () => {
    const { src, step } = source(100, 1024); // preview level 2
    const skipped: string[] = [];
    const server = new SliceServer(new CachedLevels(src), { slice: () => undefined, error: () => undefined, skipped: (z, f) => skipped.push(`${z}@${f}`) });
    server.request(10, 'show', 2); // being read
    server.request(10, 'show', 1); // exact readout of 10, queued
    server.request(11, 'prefetch', 2);
    server.focus(11); // the user stepped on: 10 at level 1 is stale, the preview of 10 is not
    expect(skipped).toEqual(['10@1']);
    expect(server.pending()).toEqual([11]);
    await step();
    await step();
  });

  it('does not serve twice what is being read or posted and not yet acknowledged', async () => {
    const { src, reads, step } = source(10);
    let ack: (() => void) | undefined;
    const sent: number[] = [];
    const server = new SliceServer(new CachedLevels(src), { slice: (z) => { sent.push(z); return new Promise<void>((r) => { ack = r; }); }, error: () => undefined });
    server.request(3, 'prefetch');
    server.request(3, 'show'); // reading: the answer is coming
    await step();
    expect(sent).toEqual([3]);
    server.request(3, 'show'); // posted, not acknowledged: still coming
    await step();
    expect(reads).toEqual([3]);
    ack!();
    await step();
    server.request(3, 'show'); // acknowledged: a new request is served again
    await step();
    expect(sent).toEqual([3, 3]);
  });

  it('bounds the bytes posted and not acknowledged; the focus chosen after the wait goes first', async () => {
    const { src, step } = source(10); // 512-byte slices
    const acks: (() => void)[] = [];
    const sent: number[] = [];
    const server = new SliceServer(new CachedLevels(src), { slice: (z) => { sent.push(z); return new Promise<void>((r) => acks.push(r)); }, error: () => undefined }, 1000);
    server.request(1, 'show');
    server.request(2, 'prefetch');
    server.request(3, 'prefetch');
    for (let i = 0; i < 4; i++) await step();
    expect(sent).toEqual([1, 2]); // 1024 bytes out: over the bound, 3 waits
    server.request(7, 'show'); // arrives while waiting: served before 3
    acks.shift()!();
    for (let i = 0; i < 4; i++) await step();
    expect(sent).toEqual([1, 2, 7]);
    acks.shift()!();
    for (let i = 0; i < 4; i++) await step();
    expect(sent).toEqual([1, 2, 7, 3]);
  });

  it('keeps reduced levels: a second request for a level reads nothing', async () => {
    const { src, reads, step } = source(10, 1024);
    const got: number[] = [];
    const server = new SliceServer(new CachedLevels(src), { slice: (_z, px) => { got.push(px.length); }, error: () => undefined });
    server.request(4, 'show', 4);
    await step();
    server.request(4, 'show', 4);
    await step();
    expect(reads).toEqual([4]);
    expect(got).toEqual([256 * 256, 256 * 256]);
  });
});
