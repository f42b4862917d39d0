// The level worker (src/core/levels/worker.ts, bundled by esbuild as the extension does) against the in-thread
// path (CachedLevels) on real TIFF files written by the project's writer: same pixels, same error messages.
import * as esbuild from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackSegError } from '../../src/shared/errors';
import { WorkerLevels } from '../../src/core/levels/client';
import { CachedLevels } from '../../src/core/levels/levels';
import { openStack, writeStack } from '../../src/core/tiff';
import { SliceServer } from '../../src/host/sliceServer';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-levels-'));
const workerPath = join(dir, 'levelWorker.js');
const W = 37, H = 29, D = 4; // odd sizes: partial blocks at the right and bottom edges
const pixels = (z: number) => Uint16Array.from({ length: W * H }, (_, i) => ((i % W) * 97 + Math.floor(i / W) * 61 + z * 1009) & 0xffff);

beforeAll(async () => {
  await esbuild.build({ entryPoints: [resolve(__dirname, '../../src/core/levels/worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'warning' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error (class and message) a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<{ stackSeg: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return { stackSeg: e instanceof StackSegError, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

async function both(path: string) {
  const stack = await openStack(path);
  const inThread = new CachedLevels(stack);
  const worker = WorkerLevels.create(workerPath, stack.info)!;
  expect(worker).not.toBeNull();
  return { stack, inThread, worker, async close() { await worker.close(); await stack.close(); } };
}

describe('level worker', () => {
  it('serves every level of every slice exactly as the in-thread path does', async () => {
    const path = join(dir, 'ramp.tif');
    await writeStack(path, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: pixels }, { compression: 'deflate' });
    const s = await both(path);
    for (let z = 0; z < D; z++) {
      for (const f of [1, 2, 4, 8, 64]) {
        const got = await s.worker.readLevel(z, f);
        const want = await s.inThread.readLevel(z, f);
        expect(got.data).toBeInstanceOf(Uint16Array);
        expect([got.width, got.height]).toEqual([want.width, want.height]);
        expect(got.data).toEqual(want.data);
      }
    }
    // Asked again, from the worker's caches: still a whole, separate array each time.
    const again = await Promise.all([s.worker.readLevel(2, 4), s.worker.readLevel(2, 4), s.worker.readLevel(2, 1)]);
    expect(again[0].data).toEqual(again[1].data);
    expect(again[0].data.buffer).not.toBe(again[1].data.buffer);
    expect(again[2].data).toEqual(pixels(2));
    await s.close();
  });

  it('a corrupt page and a truncated file give the same StackSegError messages as in the thread, and other slices still come', async () => {
    const corrupt = join(dir, 'corrupt.tif');
    await writeStack(corrupt, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: pixels }, { compression: 'deflate' });
    // The writer deflates each page with zlib's defaults: find page 2's stream and damage its middle.
    const bytes = readFileSync(corrupt);
    const stream = deflateSync(Buffer.from(pixels(2).buffer));
    const at = bytes.indexOf(stream);
    expect(at).toBeGreaterThan(0);
    bytes.fill(0xff, at + 4, at + stream.length - 4);
    writeFileSync(corrupt, bytes);

    const truncated = join(dir, 'truncated.tif');
    await writeStack(truncated, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: pixels }, { compression: 'none', imagej: false });

    for (const [path, z] of [[corrupt, 2], [truncated, D - 1]] as const) {
      const s = await both(path);
      expect((await s.worker.readLevel(0, 1)).data).toEqual(pixels(0)); // both readers are open now
      // Cut short while open (a copy still in progress): the last page's pixels end early.
      if (path === truncated) truncateSync(truncated, readFileSync(truncated).length - 100);
      const want = await failure(s.inThread.readLevel(z, 2));
      const got = await failure(s.worker.readLevel(z, 2));
      expect(want.stackSeg).toBe(true);
      expect(got).toEqual(want);
      expect(got.message).toContain(`${path} (page ${z})`);
      expect((await s.worker.readLevel(1, 1)).data).toEqual(pixels(1));
      await s.close();
    }
  });

  it('a file replaced by one of another shape since it was opened is refused, not misread', async () => {
    const path = join(dir, 'replaced.tif');
    await writeStack(path, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: pixels });
    const stack = await openStack(path);
    await writeStack(path, { width: 8, height: 8, depth: 2, dtype: 'uint8', getSlice: () => new Uint8Array(64) });
    const worker = WorkerLevels.create(workerPath, stack.info)!;
    const e = await failure(worker.readLevel(0, 1));
    expect(e.message).toMatch(/the file changed since it was opened/);
    await worker.close();
    await stack.close();
  });

  it('close() terminates the worker and fails what was pending; disposing the slice server closes its worker', async () => {
    const path = join(dir, 'close.tif');
    await writeStack(path, { width: W, height: H, depth: D, dtype: 'uint16', getSlice: pixels });
    const stack = await openStack(path);
    const worker = WorkerLevels.create(workerPath, stack.info)!;
    expect(worker.running).toBe(true);
    const pending = failure(worker.readLevel(3, 1));
    await worker.close();
    expect(worker.running).toBe(false);
    expect((await pending).message).toMatch(/the stack was closed/);
    expect((await failure(worker.readLevel(0, 1))).message).toMatch(/the stack was closed/);

    const served = WorkerLevels.create(workerPath, stack.info)!;
    const sent: { z: number; data: number[]; level: number }[] = [];
    let got!: () => void;
    const arrived = new Promise<void>((r) => { got = r; });
    const server = new SliceServer(served, { slice: (z, px, _ms, shape) => { sent.push({ z, data: Array.from(px), level: shape.level }); got(); }, error: (_z, e) => { throw e; } });
    server.request(1, 'show', 2);
    await arrived;
    expect(sent).toEqual([{ z: 1, data: Array.from((await new CachedLevels(stack).readLevel(1, 2)).data), level: 2 }]);
    server.dispose();
    await new Promise((r) => setTimeout(r, 50));
    expect(served.running).toBe(false);
    await stack.close();
  });
});
