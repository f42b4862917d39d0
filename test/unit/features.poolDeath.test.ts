// A feature worker that dies mid-call (out of memory, a crash; here terminate()) must reject its pending call with one
// clear error, not leave it hanging; the pool's other workers keep serving.
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureOptions } from '../../src/core/features/bank';
import { FeaturePool } from '../../src/core/features/pool';
import { fitNormalization } from '../../src/core/models/normalize';
import { StackSegError } from '../../src/shared/errors';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-pool-death-'));
const workerPath = join(dir, 'featureWorker.js');
beforeAll(async () => {
  await esbuild.build({ entryPoints: ['src/core/features/worker.ts'], outfile: workerPath, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const w = 128, h = 96;
const img = Float32Array.from({ length: w * h }, (_, i) => 1000 + 800 * Math.sin((i % w) * 0.4) * Math.cos(Math.floor(i / w) * 0.07));
const fo: FeatureOptions = { raw: true, families: ['gaussian'], sigmas: [1, 2] };
const norm = fitNormalization(img);
const threads = (pool: FeaturePool) => (pool as unknown as { workers: { thread: Worker }[] }).workers.map((x) => x.thread);

describe('feature pool: a worker that dies', () => {
  it('rejects the call it was running with which step failed, what happened and what to do', async () => {
    const pool = FeaturePool.create({ features: fo, norm, size: 1, workerPath })!;
    const call = pool.features(img, w, h).catch((e: unknown) => e);
    const queued = pool.features(img, w, h).catch((e: unknown) => e); // waits for the only worker: rejected too
    void threads(pool)[0].terminate();
    const err = await call;
    expect(err).toBeInstanceOf(StackSegError);
    expect((err as Error).message).toMatch(/feature worker thread stopped while computing features: it exited with code \d+/);
    expect((err as StackSegError).hint).toMatch(/fewer threads/);
    expect(await queued).toBe(err);
    // A later request fails at once with the same error (no worker is left to run it).
    expect(await pool.features(img, w, h).catch((e: unknown) => e)).toBe(err);
    await pool.close();
  });

  it('leaves the other workers serving: their calls and later ones resolve', async () => {
    const pool = FeaturePool.create({ features: fo, norm, size: 2, workerPath })!;
    const [a, b] = [pool.features(img, w, h), pool.features(img, w, h)];
    void threads(pool)[1].terminate(); // idle.pop() handed the first request to the last worker
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe('rejected');
    expect(String((ra as PromiseRejectedResult).reason)).toMatch(/stopped while computing features/);
    expect(rb.status).toBe('fulfilled');
    const again = await Promise.all([pool.features(img, w, h), pool.features(img, w, h)]);
    expect(again[0]).toEqual((rb as PromiseFulfilledResult<Float32Array>).value);
    expect(again[1]).toEqual(again[0]);
    await pool.close();
  });
});
