// The one byte-bounded LRU (src/shared/lru.ts) in its two uses: the host's caches refuse a value over the budget,
// the webview's slice store keeps it (it is about to be shown) and never evicts the pinned slice.
import { describe, expect, it } from 'vitest';
import { SliceCache } from '../../src/shared/lru';

describe('SliceCache', () => {
  it('evicts least recently used entries, never the new one nor `keep`', () => {
    const c = new SliceCache(300);
    for (let z = 0; z < 3; z++) c.set(z, new Uint8Array(100));
    c.get(0); // 1 is now the oldest
    c.set(3, new Uint8Array(100), 1); // 1 is pinned: 2 goes
    expect([0, 1, 2, 3].map((z) => c.has(z))).toEqual([true, true, false, true]);
    expect(c.bytes).toBe(300);
    c.set(0, new Uint8Array(50)); // replacing counts the new size only
    expect(c.bytes).toBe(250);
  });

  it('refuses a value over the budget by default, keeps it with keepOversize', () => {
    const host = new SliceCache(100);
    host.set(0, new Uint8Array(60));
    host.set(1, new Uint8Array(200));
    expect([host.has(0), host.has(1), host.bytes]).toEqual([true, false, 60]);
    const webview = new SliceCache(100, { keepOversize: true });
    webview.set(0, new Uint8Array(60));
    webview.set(2, new Uint8Array(60));
    webview.set(1, new Uint8Array(200), 2); // stored; 0 evicted, the pinned 2 stays
    expect([webview.has(0), webview.has(1), webview.has(2), webview.bytes]).toEqual([false, true, true, 260]);
    webview.clear();
    expect([webview.size, webview.bytes]).toEqual([0, 0]);
  });
});
