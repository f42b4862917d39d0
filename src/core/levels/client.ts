// The slice server's side of the level worker (worker.ts, bundled to dist/levelWorker.js): one worker thread per
// open stack reads and reduces slices, so the thread that asks (the extension host) only posts and receives.
// Errors come back as the same StackSegError messages the in-thread path (CachedLevels) gives. A worker that dies
// fails what it had pending and is replaced on the next request; close() terminates it.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { StackSegError } from '../../shared/errors';
import { DEFAULT_CACHE_BYTES } from '../tiff/reader';
import type { StackInfo } from '../../shared/types';
import { LEVEL_CACHE_BYTES, type Level, type LevelReader } from './levels';
import type { PlaneAxis, PlaneResult } from '../../shared/levels/planes';
import type { LevelReply, LevelRequest, WorkerError } from './worker';

export interface WorkerLevelsOptions {
  /** Decoded full slices the worker's reader keeps (bytes). */
  cacheBytes?: number;
  levelCacheBytes?: number;
}

// Resolves with a level, a plane, or undefined (a plane made stale by a newer one).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
interface Pending { resolve(l: any): void; reject(e: Error): void }

export class WorkerLevels implements LevelReader {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
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
    if (this.closed) return Promise.reject(new StackSegError('the stack was closed', { file: this.info.path, page: z }));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<Level>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // in a CLI or a test, outstanding work keeps the process alive; an idle worker does not
      worker.postMessage({ type: 'level', id, z, f, ...(c || t ? { c, t } : {}) } satisfies LevelRequest);
    });
  }

  /** Like readLevel, and `packed`: the level packed for the webview (codec.ts), done in the worker. */
  readPacked(z: number, f: number, c = 0, t = 0): Promise<Level> {
    if (this.closed) return Promise.reject(new StackSegError('the stack was closed', { file: this.info.path, page: z }));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<Level>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ type: 'level', id, z, f, ...(c || t ? { c, t } : {}), pack: true } satisfies LevelRequest);
    });
  }

  /**
   * Level f of the XZ (index = y) or YZ (index = x) plane, cut in the worker from its level-f slices (planes.ts).
   * Undefined when a plane of the same axis at another index was asked for before this one was done.
   */
  readPlane(axis: PlaneAxis, index: number, f: number, c = 0, t = 0): Promise<PlaneResult | undefined> {
    if (this.closed) return Promise.reject(new StackSegError('the stack was closed', { file: this.info.path }));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<PlaneResult | undefined>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ type: 'plane', id, axis, index, f, ...(c || t ? { c, t } : {}) } satisfies LevelRequest);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new StackSegError('the stack was closed', { file: this.info.path }));
    if (worker) await worker.terminate();
  }

  /** Whether a worker thread is running now (for tests). */
  get running(): boolean { return this.worker !== undefined; }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    this.worker = worker;
    worker.unref();
    const { path, width, height, depth, dtype } = this.info;
    worker.postMessage({
      type: 'open', path, expect: { width, height, depth, dtype },
      cacheBytes: this.opts.cacheBytes ?? DEFAULT_CACHE_BYTES, levelCacheBytes: this.opts.levelCacheBytes ?? LEVEL_CACHE_BYTES,
    } satisfies LevelRequest);
    worker.on('message', (r: LevelReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in r) p.reject(rebuild(r.error));
      else if ('stale' in r) p.resolve(undefined);
      else p.resolve({ data: r.data, width: r.width, height: r.height, ...(r.packed ? { packed: r.packed } : {}), ...(r.slices !== undefined ? { slices: r.slices } : {}) });
    });
    const died = (why: string) => {
      if (this.worker !== worker) return; // terminated by close(), or already replaced
      this.worker = undefined;
      this.failAll(new StackSegError(`the slice reader stopped (${why})`, { file: this.info.path, hint: 'try the slice again' }));
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    return worker;
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}

/** The error the worker reported, as the same class and message the in-thread path throws. */
function rebuild(e: WorkerError): Error {
  if ('what' in e) {
    const { what, ...options } = e;
    return new StackSegError(what, options);
  }
  return new Error(e.message);
}
