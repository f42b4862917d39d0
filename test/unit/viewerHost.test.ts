// Host-side pure parts of the viewer: the slice request queue and the webview HTML/CSP.
import { describe, expect, it } from 'vitest';
import type { PixelArray, SliceSource, StackInfo } from '../../src/shared/types';
import { StackSegError } from '../../src/shared/errors';
import { CachedLevels } from '../../src/core/levels/levels';
import { exactBuffer, MAX_QUEUED_PREFETCH, SliceServer } from '../../src/host/sliceServer';
import { contentSecurityPolicy, makeNonce, renderWebviewHtml } from '../../src/host/webviewHtml';

function fakeSource(depth: number, failOn = -1) {
  const reads: number[] = [];
  let release: (() => void) | undefined;
  const info = { path: '/x.tif', width: 2, height: 2, depth, dtype: 'uint8' } as StackInfo;
  const source: SliceSource = {
    info,
    async readSlice(z) {
      reads.push(z);
      await new Promise<void>((r) => { release = r; });
      if (z === failOn) throw new StackSegError('bad strip', { file: '/x.tif', page: z });
      return new Uint8Array(4).fill(z);
    },
    async close() {},
  };
  const step = async () => { await Promise.resolve(); release?.(); await new Promise((r) => setTimeout(r, 0)); };
  return { source, reads, step };
}

describe('SliceServer', () => {
  it('serves the focus (newest show) first, then the rest nearest first in the direction of travel, one read at a time', async () => {
    const { source, reads, step } = fakeSource(100);
    const sent: number[] = [];
    const server = new SliceServer(new CachedLevels(source), { slice: (z) => { sent.push(z); }, error: () => undefined });
    server.request(10, 'show'); // starts reading at once
    server.request(11, 'prefetch');
    server.request(12, 'prefetch');
    server.request(20, 'show');
    server.request(30, 'show'); // focus 30, moving up: everything queued is behind it, nearest first
    expect(reads).toEqual([10]);
    expect(server.pending()).toEqual([30, 20, 12, 11]);
    for (let i = 0; i < 6; i++) await step();
    expect(reads).toEqual([10, 30, 20, 12, 11]);
    expect(sent).toEqual([10, 30, 20, 12, 11]);
  });

  it('serves resolution levels: the same slice at two levels is two requests, a level is the block mean', async () => {
    const { source, step } = fakeSource(10);
    const sent: { z: number; px: number[]; level: number; width: number; height: number }[] = [];
    const server = new SliceServer(new CachedLevels(source), { slice: (z, px, _ms, shape) => { sent.push({ z, px: Array.from(px), ...shape }); }, error: () => undefined });
    server.request(0, 'show'); // being read: the next ones queue
    server.request(3, 'show', 2);
    server.request(3, 'prefetch', 1);
    server.request(3, 'prefetch', 2); // already queued at level 2: ignored
    expect(server.pending()).toEqual([3, 3]);
    for (let i = 0; i < 5; i++) await step();
    expect(sent.slice(1)).toEqual([
      { z: 3, c: 0, t: 0, px: [3], level: 2, width: 1, height: 1 },
      { z: 3, c: 0, t: 0, px: [3, 3, 3, 3], level: 1, width: 2, height: 2 },
    ]);
  });

  it('upgrades a queued prefetch to show and drops the oldest prefetches beyond the cap', () => {
    const { source } = fakeSource(100);
    const server = new SliceServer(new CachedLevels(source), { slice: () => undefined, error: () => undefined });
    server.request(0, 'show');
    for (let z = 1; z <= MAX_QUEUED_PREFETCH + 3; z++) server.request(z, 'prefetch');
    server.request(5, 'show');
    const pending = server.pending();
    expect(pending[0]).toBe(5);
    expect(pending).not.toContain(1);
    expect(pending).not.toContain(3);
    expect(pending.length).toBe(MAX_QUEUED_PREFETCH);
  });

  it('reports a failing slice and goes on with the next', async () => {
    const { source, step } = fakeSource(10, 2);
    const sent: number[] = [];
    const errors: string[] = [];
    const server = new SliceServer(new CachedLevels(source), { slice: (z) => { sent.push(z); }, error: (z, e) => errors.push(`${z}:${(e as Error).message}`) });
    server.request(2, 'show');
    server.request(3, 'prefetch');
    for (let i = 0; i < 4; i++) await step();
    expect(errors).toEqual(['2:/x.tif (page 2): bad strip']);
    expect(sent).toEqual([3]);
  });

  it('sends exactly the typed array bytes', () => {
    const whole = new Uint16Array([1, 2, 3]);
    expect(exactBuffer(whole)).toBe(whole.buffer);
    const view = new Uint16Array(whole.buffer, 2, 1) as PixelArray;
    const b = exactBuffer(view);
    expect(b.byteLength).toBe(2);
    expect(new Uint16Array(b)[0]).toBe(2);
  });
});

describe('webview HTML', () => {
  it('has a strict CSP: nonce-only scripts, no inline styles, no remote sources', () => {
    const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'N0NCE');
    expect(csp).toContain(`default-src 'none'`);
    expect(csp).toContain(`script-src 'nonce-N0NCE'`);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain('img-src https://x.vscode-cdn.net data: blob:');
  });

  it('loads only the bundle, with the nonce, and escapes the title', () => {
    const html = renderWebviewHtml({ cspSource: 'https://c', scriptUri: 'https://c/dist/webview.js', styleUri: 'https://c/media/viewer.css', nonce: 'abc', title: '<img src=x onerror=alert(1)>.tif' });
    expect(html.match(/<script/g)?.length).toBe(1);
    expect(html).toContain('<script nonce="abc" src="https://c/dist/webview.js"></script>');
    expect(html).not.toContain('<img');
    expect(makeNonce()).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(makeNonce()).not.toBe(makeNonce());
  });
});
