// The slice server's side of the level worker (worker.ts, bundled to dist/levelWorker.js): one worker thread per
// open stack reads and reduces slices, so the thread that asks (the extension host) only posts and receives, over
// src/shared/rpc.ts. Errors come back as the same StackSegError messages the in-thread path (CachedLevels) gives.
// A worker that dies fails what it had pending and is replaced on the next request; close() terminates it.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { StackSegError } from '../../shared/errors';
import { RpcClient } from '../../shared/rpc';
import { DEFAULT_CACHE_BYTES } from '../tiff/reader';
import type { StackInfo } from '../../shared/types';
import { LEVEL_CACHE_BYTES, type Level, type LevelReader } from './levels';
import type { PlaneAxis, PlaneResult } from '../../shared/levels/planes';
import type { LevelMethods, LevelResult } from './worker';

export interface WorkerLevelsOptions {
  /** Decoded full slices the worker's reader keeps (bytes). */
  cacheBytes?: number;
  levelCacheBytes?: number;
}

export class WorkerLevels implements LevelReader {
  private worker: { thread: Worker; rpc: RpcClient<LevelMethods> } | undefined;
  private closed = false;

  private constructor(private readonly workerPath: string, readonly info: StackInfo, private readonly opts: WorkerLevelsOptions) {}

  /** Null when the worker bundle is missing (running from TypeScript sources): use CachedLevels then. */
  static create(workerPath: string, info: StackInfo, opts: WorkerLevelsOptions = {}): WorkerLevels | null {
    if (!existsSync(workerPath)) return null;
    const levels = new WorkerLevels(workerPath, info, opts);
    levels.ensureWorker(); // opening the stack overlaps with the webview loading
    return levels;
  }

  readLevel(z: number, f: number, c = 0, t = 0): Promise<Level> {
    return this.call('level', { z, f, ...(c || t ? { c, t } : {}) }, z) as Promise<Level>;
  }

  /** Like readLevel, and `packed`: the level packed for the webview (codec.ts), done in the worker. */
  readPacked(z: number, f: number, c = 0, t = 0): Promise<Level> {
    return this.call('level', { z, f, ...(c || t ? { c, t } : {}), pack: true }, z) as Promise<Level>;
  }

  /**
   * Level f of the XZ (index = y) or YZ (index = x) plane, cut in the worker from its level-f slices (planes.ts).
   * Undefined when a plane of the same axis at another index was asked for before this one was done.
   */
  readPlane(axis: PlaneAxis, index: number, f: number, c = 0, t = 0): Promise<PlaneResult | undefined> {
    return this.call('plane', { axis, index, f, ...(c || t ? { c, t } : {}) }) as Promise<PlaneResult | undefined>;
  }

  private async call<K extends 'level' | 'plane'>(method: K, params: LevelMethods[K]['params'], page?: number): Promise<Level | PlaneResult | undefined> {
    if (this.closed) throw new StackSegError('the stack was closed', { file: this.info.path, ...(page !== undefined ? { page } : {}) });
    const r: LevelResult | undefined = await this.ensureWorker().rpc.call(method, params);
    return r && { data: r.data, width: r.width, height: r.height, ...(r.packed ? { packed: r.packed } : {}), ...(r.slices !== undefined ? { slices: r.slices } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    worker.rpc.dispose(new StackSegError('the stack was closed', { file: this.info.path }));
    await worker.thread.terminate();
  }

  /** Whether a worker thread is running now (for tests). */
  get running(): boolean { return this.worker !== undefined; }

  private ensureWorker(): { thread: Worker; rpc: RpcClient<LevelMethods> } {
    if (this.worker) return this.worker;
    const thread = new Worker(this.workerPath);
    // In a CLI or a test, outstanding work keeps the process alive; an idle worker does not.
    const rpc = new RpcClient<LevelMethods>((m, transfer) => thread.postMessage(m, transfer), { busy: (b) => (b ? thread.ref() : thread.unref()) });
    const worker = { thread, rpc };
    this.worker = worker;
    thread.unref();
    const { path, width, height, depth, dtype } = this.info;
    rpc.notify('open', {
      path, expect: { width, height, depth, dtype },
      cacheBytes: this.opts.cacheBytes ?? DEFAULT_CACHE_BYTES, levelCacheBytes: this.opts.levelCacheBytes ?? LEVEL_CACHE_BYTES,
    });
    thread.on('message', (m) => rpc.receive(m));
    const died = (why: string) => {
      if (this.worker !== worker) return; // terminated by close(), or already replaced
      this.worker = undefined;
      rpc.dispose(new StackSegError(`the slice reader stopped (${why})`, { file: this.info.path, hint: 'try the slice again' }));
    };
    thread.on('error', (e) => died(e.message));
    thread.on('exit', (code) => died(`exit code ${code}`));
    return worker;
  }
}
