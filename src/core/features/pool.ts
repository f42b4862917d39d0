// A small pool of worker threads that compute features and forest predictions of slices in parallel.
//
// API
//   const pool = FeaturePool.create({ forest?, features, norm, size?, workerPath? })   null when no worker bundle
//        exists (e.g. running from TypeScript sources in tests): callers then use the synchronous path
//        computeFeatures + forest.predict in this thread (see predictSliceSync).
//   await pool.predict(image, width, height, { probabilities? }) -> { labels, probabilities? }   raw intensities in
//   await pool.features(image, width, height) -> Float32Array                                    normalised features
//   await pool.gatherSplit(image, w, h, nFeatures, sets) -> TrainingData[]   training samples of a big slice, its rows
//        split over the workers (features never held whole), in shared memory
//   await pool.trainForest(data, options, names) -> RandomForest   bins, then trees, split over the workers; same as one
//        thread
//   await pool.trainingAccuracy(forest, data) -> number             the same as trainingAccuracy, split over the workers
//   pool.setForest(forestJSON)                                      (re)initialise the workers with a trained forest
//   await pool.close()
//   predictSliceSync(forest, features, norm, image, width, height)   the same result in the calling thread
//
// Size defaults to threadBudget() (threads.ts: cores, SLURM_CPUS_PER_TASK, cgroup quota). Requests are queued and handed to idle workers, so a
// caller can issue all slices at once (Promise.all) or keep a few in flight to bound memory. The image buffer is
// copied when a worker takes the request (a queued request holds no copy: gatherSplit queues 4 parts per worker) and
// the copy is transferred, so the caller's array stays usable; it must not change until the promise settles. Each worker is one src/shared/rpc.ts client.
// Several channels (norm.channels): every method takes slices of C planes (channel-major) and gives what the job's
// in-thread path gives (channelBank.ts): features C * F per pixel, channel 0's first; gatherSplit / featuresSplit
// take nFeatures = C * F.
// A worker that dies (out of memory, a crash: its 'exit' or 'error' event) rejects the call it was running with a
// StackSegError naming the step (features, training, prediction) and what to do; the other workers keep serving, and
// once none is left every queued and later request rejects with that error.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { StackSegError } from '../../shared/errors';
import { RpcClient, RpcRemoteError, type Transfer } from '../../shared/rpc';
import { RandomForest, type ForestJSON } from '../models/randomForest/randomForest';
import { DEFAULT_FOREST_OPTIONS, type ForestOptions, type TrainingData } from '../models/randomForest/randomForestTrain';
import { normalizeSlice } from '../models/normalize';
import type { Normalization } from '../models/segmenter';
import type { FeatureOptions } from './bank';
import { ChannelPredictor } from './channelBank';
import { channelCount, channelPlanes, normalizeChannels } from './channels';
import { predictInStrips, StripFeatures, stripBudgetBytes, stripHalo, stripRows } from './strips';
import { MAX_THREADS, threadBudget } from './threads';
import type { FeatureMethods } from './worker';

export interface PoolOptions {
  forest?: ForestJSON;
  features: FeatureOptions;
  /** One channel, or several (norm.channels): the slices then hold C planes. */
  norm: Normalization;
  size?: number;
  /** Feature bytes of one strip window per worker (strips.ts stripBudgetBytes(size) by default; tests make it small). */
  stripBytes?: number;
  /** Defaults to featureWorker.js beside the running bundle (dist/). */
  workerPath?: string;
}

type Method = Exclude<keyof FeatureMethods, 'init'>;
/** make() builds the request's params when a worker takes it: a queued slice holds no copy of its image yet. */
interface Queued { method: Method; make(): [unknown, Transfer[]]; resolve(r: unknown): void; reject(e: unknown): void }
/** `method`: the request the worker runs now (named in the error when it dies); `dead` once it exited. */
interface PoolWorker { thread: Worker; rpc: RpcClient<FeatureMethods>; method?: Method; dead?: boolean }

/** What each request is, for the error of a worker that died running it. */
const STEPS: Record<Method, string> = {
  predict: 'predicting a slice', features: 'computing features', gather: 'computing the features of training pixels',
  bin: 'binning training samples', train: 'training trees', accuracy: 'measuring the training accuracy',
};

export class FeaturePool {
  private readonly idle: PoolWorker[] = [];
  private readonly queue: Queued[] = [];
  private closed = false;
  /** Why the pool stopped when its last worker died: later requests get the same error. */
  private failure?: StackSegError;

  private constructor(private readonly workers: PoolWorker[], private readonly opts: PoolOptions) {
    for (const w of workers) {
      w.thread.on('message', (m) => w.rpc.receive(m));
      // A worker that throws outside a request or exits (out of memory, a crash, process.exit) fails its pending call
      // at once instead of leaving it unanswered forever.
      w.thread.on('error', (e) => this.died(w, e.message));
      w.thread.on('exit', (code) => this.died(w, `it exited with code ${code}`));
      this.idle.push(w);
    }
  }

  /**
   * A worker stopped outside close(): its call rejects with what it was doing, and it takes no more requests. When
   * none is left, queued requests reject with the same error (the pool cannot run them).
   */
  private died(w: PoolWorker, why: string): void {
    if (this.closed || w.dead) return;
    w.dead = true;
    const step = w.method ? STEPS[w.method] : 'waiting for work';
    const error = new StackSegError(`a feature worker thread stopped while ${step}: ${why}`, {
      hint: 'usually out of memory: use fewer threads (--set threads=N), free memory or use a machine with more, then run the job again',
    });
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    w.rpc.dispose(error);
    if (this.workers.every((x) => x.dead)) {
      this.closed = true;
      this.failure = error;
      for (const p of this.queue.splice(0)) p.reject(error);
    }
  }

  static defaultWorkerPath(): string { return join(__dirname, 'featureWorker.js'); }

  static create(opts: PoolOptions): FeaturePool | null {
    const path = opts.workerPath ?? FeaturePool.defaultWorkerPath();
    if (!existsSync(path)) return null;
    const size = Math.max(1, Math.min(MAX_THREADS, opts.size ?? threadBudget().threads));
    opts = { ...opts, stripBytes: opts.stripBytes ?? stripBudgetBytes(size) };
    const workers = Array.from({ length: size }, () => {
      const thread = new Worker(path);
      // Keep the process alive while work is outstanding; an idle pool does not.
      const rpc = new RpcClient<FeatureMethods>((m, transfer) => thread.postMessage(m, transfer), { busy: (b) => (b ? thread.ref() : thread.unref()) });
      rpc.notify('init', { forest: opts.forest, features: opts.features, norm: opts.norm, stripBytes: opts.stripBytes });
      thread.unref();
      return { thread, rpc };
    });
    return new FeaturePool(workers, opts);
  }

  get size(): number { return this.workers.length; }

  async predict(image: Float32Array, width: number, height: number, o: { probabilities?: boolean; signal?: AbortSignal } = {}): Promise<{ labels: Uint8Array; probabilities?: Float32Array }> {
    this.checkChannels(image, width, height);
    return this.run('predict', () => { const copy = Float32Array.from(image); return [{ image: copy, width, height, probabilities: !!o.probabilities }, [copy.buffer]]; }, o.signal);
  }

  /** Normalised features of a slice (all of them, feature-major); with rows [y0, y1), those rows only. */
  async features(image: Float32Array, width: number, height: number, signal?: AbortSignal, rows?: [number, number]): Promise<Float32Array> {
    this.checkChannels(image, width, height);
    return this.run('features', () => { const copy = Float32Array.from(image); return [{ image: copy, width, height, rows }, [copy.buffer]]; }, signal);
  }

  /**
   * Training samples of one slice for each label set (pixels with label != 0, optional weights), its rows split over
   * the workers: each computes its rows' features from one shared normalised copy of the slice and sends back only the
   * samples. The same samples in the same order as gatherLabeledPixels on the whole feature bank, which is never held
   * (688 MB at 2048^2); the result lies in shared memory, ready for trainForest.
   */
  async gatherSplit(image: Float32Array, width: number, height: number, nFeatures: number, sets: { labels: Uint8Array; weights?: Float32Array }[],
    signal?: AbortSignal): Promise<TrainingData[]> {
    this.checkChannels(image, width, height);
    const n = width * height, C = channelCount(this.opts.norm);
    // Normalised once here (not in each part's worker, from a 16 MB copy per part).
    const x = new Float32Array(new SharedArrayBuffer(4 * image.length));
    if (C === 1) normalizeSlice(image, this.opts.norm, x as unknown as Float32Array<ArrayBuffer>); else x.set(normalizeChannels(image, this.opts.norm, n));
    const parts = Math.min(4 * this.size, Math.max(1, Math.floor(height / 64)));
    const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * height) / parts));
    // Each set's samples per part, counted here: the parts write straight into one shared set at their offsets.
    const offsets = sets.map((s) => {
      const at = [0];
      for (let k = 0; k < parts; k++) {
        let m = 0;
        for (let p = bounds[k] * width, end = bounds[k + 1] * width; p < end; p++) if (s.labels[p] !== 0) m++;
        at.push(at[k] + m);
      }
      return at;
    });
    const out = sets.map((s, i): TrainingData => {
      const N = offsets[i][parts];
      return {
        x: new Float32Array(new SharedArrayBuffer(4 * nFeatures * N)), y: new Uint8Array(new SharedArrayBuffer(N)), nFeatures, nSamples: N,
        w: s.weights && new Float32Array(new SharedArrayBuffer(4 * N)),
      };
    });
    await Promise.all(bounds.slice(0, -1).map((y0, k) => {
      const y1 = bounds[k + 1], a = y0 * width, b = y1 * width;
      return this.run('gather', () => {
        const part = sets.map((s, i) => ({ labels: s.labels.slice(a, b), weights: s.weights?.slice(a, b), into: out[i], offset: offsets[i][k] }));
        return [{ image: x, width, height, rows: [y0, y1], nFeatures, sets: part }, part.flatMap((p) => [p.labels.buffer, ...(p.weights ? [p.weights.buffer] : [])])];
      }, signal);
    }));
    return out;
  }

  /**
   * Share of samples the forest labels as data.y (the training accuracy), the samples split over the workers (the
   * same count as trainingAccuracy in one thread: ~0.4 s for 650 k samples there).
   */
  async trainingAccuracy(forest: RandomForest, data: TrainingData, signal?: AbortSignal): Promise<number> {
    const n = data.nSamples;
    if (n === 0) return 0;
    data = { x: shared(data.x), y: shared(data.y), nFeatures: data.nFeatures, nSamples: n };
    const json = forest.toJSON(), parts = Math.min(2 * this.size, Math.ceil(n / 4096));
    const counts = await Promise.all(Array.from({ length: parts }, (_, k) => {
      const s0 = Math.floor((k * n) / parts), s1 = Math.floor(((k + 1) * n) / parts);
      return this.run('accuracy', () => [{ forest: json, data, s0, s1 }, []], signal);
    }));
    return counts.reduce((a, c) => a + c, 0) / n;
  }

  /** All features of one slice, its rows split over the workers (a big training slice). Same values as features(). */
  async featuresSplit(image: Float32Array, width: number, height: number, nFeatures: number, signal?: AbortSignal): Promise<Float32Array> {
    // 4 parts per worker, each copied into place as it arrives: only a few parts exist besides the result.
    const parts = Math.min(4 * this.size, Math.max(1, Math.floor(height / 64)));
    if (parts < 2) return this.features(image, width, height, signal);
    const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * height) / parts));
    const n = width * height, out = new Float32Array(nFeatures * n);
    await Promise.all(bounds.slice(0, -1).map(async (y0, k) => {
      const f = await this.features(image, width, height, signal, [y0, bounds[k + 1]]);
      const m = (bounds[k + 1] - y0) * width;
      for (let i = 0; i < nFeatures; i++) out.set(f.subarray(i * m, (i + 1) * m), i * n + y0 * width);
    }));
    return out;
  }

  /**
   * Trees of one forest split over the workers (same result as RandomForest.train in one thread). The workers read one
   * copy of the samples in shared memory (not a structured clone each: ~150 MB per worker for 900 k samples x 41
   * features, a 2048^2 slice with the fill), first each quantise a share of the features into one shared binned
   * array, then each grows its trees from it (binning in every worker cost each ~1 s of the same work).
   */
  async trainForest(data: TrainingData, options: Partial<ForestOptions> & { nTrees: number }, names?: string[], signal?: AbortSignal): Promise<RandomForest> {
    const parts = Math.max(1, Math.min(this.size, options.nTrees));
    const { nFeatures: F, nSamples: n } = data;
    data = { x: shared(data.x), y: shared(data.y), w: data.w && shared(data.w), nFeatures: F, nSamples: n };
    const binned = new Uint8Array(new SharedArrayBuffer(F * n));
    const maxBins = options.maxBins ?? DEFAULT_FOREST_OPTIONS.maxBins;
    const shares = Math.max(1, Math.min(this.size, F));
    const edges = await Promise.all(Array.from({ length: shares }, (_, k) => {
      const f0 = Math.floor((k * F) / shares), f1 = Math.floor(((k + 1) * F) / shares);
      return this.run('bin', () => [{ data, maxBins, f0, f1, binned }, []], signal);
    }));
    const bins = { edges: edges.flat(), binned };
    const replies = await Promise.all(Array.from({ length: parts }, (_, k) => {
      const first = Math.floor((k * options.nTrees) / parts), end = Math.floor(((k + 1) * options.nTrees) / parts);
      return this.run('train', () => [{ data: { ...data, bins }, options: { ...options, nTrees: end - first }, names, firstTree: first }, []], signal);
    }));
    const forests = replies.map((r) => RandomForest.fromJSON(r));
    return RandomForest.merge(forests); // predictions equal one-thread training; importances are averaged per part
  }

  /** Gives every worker the forest to predict with (a pool created before training gets it here). */
  setForest(forest: ForestJSON): void {
    for (const w of this.workers) w.rpc.notify('init', { forest, features: this.opts.features, norm: this.opts.norm, stripBytes: this.opts.stripBytes });
  }

  /** Terminates the workers; queued and running requests reject (with `reason` when given, e.g. an abort). */
  async close(reason?: unknown): Promise<void> {
    this.closed = true;
    const error = reason ?? new StackSegError('feature pool closed');
    for (const p of this.queue.splice(0)) p.reject(error);
    for (const w of this.workers) w.rpc.dispose(error);
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
  }

  /** A slice of another channel count fails here, with channels.ts's message and hint, not inside a worker. */
  private checkChannels(image: Float32Array, width: number, height: number): void { channelPlanes(image, width * height, channelCount(this.opts.norm)); }

  /**
   * A request; when `signal` aborts, the whole pool is closed at once: terminate() stops a worker even inside a
   * long synchronous loop (training 1000 deep trees), so a cancelled job does not wait for it.
   */
  private run<K extends Method>(method: K, make: () => [FeatureMethods[K]['params'], Transfer[]], signal?: AbortSignal): Promise<FeatureMethods[K]['result']> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(this.failure ?? new StackSegError('feature pool is closed'));
    const onAbort = () => { void this.close(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<FeatureMethods[K]['result']>((resolve, reject) => {
      this.queue.push({ method, make, resolve: resolve as (r: unknown) => void, reject });
      this.pump();
    }).finally(() => signal?.removeEventListener('abort', onAbort)).catch((e: unknown) => {
      if (e instanceof RpcRemoteError) throw new StackSegError(`feature worker failed: ${e.message}`);
      throw e;
    });
  }

  /** Hands queued requests to idle workers, one each; a worker is idle again when its reply (or failure) is in. */
  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      let call: Promise<unknown>;
      w.method = p.method;
      try { const [params, transfer] = p.make(); call = w.rpc.call(p.method, params as never, { transfer }); } catch (e) { call = Promise.reject(e); }
      call.then(p.resolve, p.reject).finally(() => {
        w.method = undefined;
        if (!this.closed && !w.dead) this.idle.push(w);
        this.pump();
      });
    }
  }
}

/** `a` in a SharedArrayBuffer (posted to workers without a copy each): itself when it already is. */
function shared<T extends Float32Array | Uint8Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/**
 * The workers' prediction in this thread: features of the forest's split features, in strips (bounded memory); with
 * several channels, channelBank.ts's ChannelPredictor.
 */
export function predictSliceSync(forest: RandomForest, features: FeatureOptions, norm: Normalization, image: Float32Array, width: number, height: number,
  probabilities = true): { labels: Uint8Array; probabilities?: Float32Array } {
  const C = channelCount(norm), n = width * height;
  if (C > 1) return new ChannelPredictor(forest, features, width, height).predict(channelPlanes(normalizeChannels(image, norm, n), n, C), probabilities);
  const used = forest.usedFeatures();
  const strips = new StripFeatures(width, height, features, used, stripRows(width, height, used.length, stripHalo(features)));
  return predictInStrips(forest.selectFeatures(used), strips, normalizeSlice(image, norm), probabilities);
}
