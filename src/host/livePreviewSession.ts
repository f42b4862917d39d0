// Live preview for one open stack: after each label change (stroke, undo, redo) and each slice change, debounced,
// a forest trained on the labels of the shown slice re-predicts that slice in a worker thread (dist/previewWorker.js),
// never on the extension host thread. One run at a time; requests that arrive meanwhile are coalesced into one rerun
// with the newest labels, a slice change cancels a run for another slice (the worker is terminated), and results for
// a slice no longer shown are dropped. Imports nothing from vscode (unit-tested with the real worker). The worker is
// one src/shared/rpc.ts client.
//
// 3-D: the worker applies the rf's dims rule (previewDims: resolveDims, then autoDims on the labelled slice, as a job
// decides). When it says 3-D, the session reads the z window z-h..z+h at the preview's pyramid level (never full
// resolution when a level divides the preview factor), keeps those slices while they stay within the window (moving
// to z+1 reads one slice), and sends them reflected at the stack's ends as the 3-D bank expects.

import { Worker } from 'node:worker_threads';
import type { PreviewMethods, PreviewReply } from '../core/models/previewWorker';
import { previewFactor, previewReadLevel, previewZHalo } from '../core/models/livePreviewModel';
import { reflectIndex } from '../core/features/filters';
import { resolveDims } from '../core/features/volumeChunks';
import { RpcClient, RpcRemoteError } from '../shared/rpc';
import type { PixelArray } from '../shared/types';

export interface PreviewTimings { features: number; train: number; predict: number; total: number }

export interface LivePreviewSink {
  readonly width: number;
  readonly height: number;
  readSlice(z: number): Promise<PixelArray>;
  /** Level f (a power of two) of slice z, for the 3-D window; absent: readSlice (full resolution). */
  readLevel?(z: number, f: number): Promise<PixelArray>;
  /** Slices in the stack; absent or < 8: the preview stays 2-D under dims=auto. */
  readonly depth?: number;
  /** z spacing / x spacing (zRatioOf); absent: 1. */
  readonly zRatio?: number;
  /** The rf's `dims` setting the preview follows ('2d' | '3d' | 'auto'); absent: 2-D. */
  readonly dims?: string;
  /** Labels of slice z now (copied when sent to the worker). */
  labelsOf(z: number): Uint8Array;
  /** Stroke messages received from the webview so far: tags a result with the strokes its training saw. */
  strokes(): number;
  /** `labels`: width x height classes, each covering factor x factor image pixels (the preview's resolution). */
  result(r: { z: number; labels: Uint8Array; width: number; height: number; factor: number; strokes: number; ms: PreviewTimings; dims: '2d' | '3d' }): void;
  /** `clear`: hide the overlay (off, fewer than two classes, error). */
  state(s: { enabled: boolean; hint: string; clear: boolean }): void;
}

export const NEED_TWO_CLASSES = 'Paint at least two classes on this slice to see the preview.';

/**
 * Wait after a label change before a run (slice changes wait the session's debounce, 150 ms by default, since each
 * cancels a run for another slice). A stroke is one message, and changes that arrive during a run coalesce into one
 * rerun anyway: over Remote-SSH every ms between stroke end and the painted preview counts.
 */
export const LABELS_DEBOUNCE_MS = 20;

class Cancelled extends Error {}

/**
 * Raw slices of the 3-D window, at one pyramid level, kept while they stay within the window of the shown slice:
 * at most 2h+1 slices (and never more than the stack's depth) at the preview's resolution.
 */
class WindowCache {
  private readonly slices = new Map<number, Promise<PixelArray>>();
  /** Slices read so far (tests). */
  reads = 0;

  constructor(private readonly read: (z: number) => Promise<PixelArray>) {}

  get size(): number { return this.slices.size; }

  /** Slices z-h..z+h, reflected at the stack's ends (the 3-D bank's reflectIndex); drops slices outside them. */
  async window(z: number, h: number, depth: number): Promise<PixelArray[]> {
    const indices = Array.from({ length: 2 * h + 1 }, (_, i) => reflectIndex(z - h + i, depth));
    const wanted = new Set(indices);
    for (const k of [...this.slices.keys()]) if (!wanted.has(k)) this.slices.delete(k);
    // Taken now: a later call (another slice) may drop k from the cache meanwhile.
    const reads = new Map([...wanted].map((k) => [k, this.slices.get(k) ?? this.start(k)] as const));
    const got = new Map<number, PixelArray>();
    for (const [k, p] of reads) got.set(k, await p);
    return indices.map((k) => got.get(k)!);
  }

  /**
   * Reads the slices window() would, nearest first and one at a time, while `wanted()` holds: a read ahead that may
   * turn out useless must not queue dozens of reads in front of the viewer's own in the level worker.
   */
  async readAhead(z: number, h: number, depth: number, wanted: () => boolean): Promise<void> {
    const order = [...new Set(Array.from({ length: 2 * h + 1 }, (_, i) => reflectIndex(z + (i % 2 ? 1 : -1) * Math.ceil(i / 2), depth)))];
    for (const k of order) {
      if (!wanted()) return;
      if (this.slices.has(k)) continue;
      try { await this.start(k); } catch { return; }
    }
  }

  /** Reads slice k into the cache; a failed read leaves the cache (retried next time). */
  private start(k: number): Promise<PixelArray> {
    this.reads++;
    const read = this.read(k);
    read.catch(() => { if (this.slices.get(k) === read) this.slices.delete(k); });
    this.slices.set(k, read);
    return read;
  }

  clear(): void { this.slices.clear(); }
}

export class LivePreviewSession {
  private worker: { thread: Worker; rpc: RpcClient<PreviewMethods> } | undefined;
  private enabled = false;
  private z = -1;
  /** Slice whose image the current worker holds (features are cached there). */
  private workerZ = -1;
  /** Slice whose z window the current worker got. */
  private contextZ = -1;
  private runningZ = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;
  private disposed = false;
  /** Finished runs that reached the webview (tests, API). */
  results = 0;
  lastTimings: PreviewTimings | undefined;
  /** The last z window sent to the worker (tests): its slice, halo and length (2h+1). */
  lastWindow: { z: number; halo: number; slices: number } | undefined;
  /** The bank of the last result and why (the dims rule's reason). */
  lastDims: { dims: '2d' | '3d'; reason: string } | undefined;
  private readonly windows: WindowCache;

  /** Pyramid level the z window is read at (1: full resolution, when the sink has no levels). */
  private readonly windowLevel: number;

  constructor(private readonly workerPath: string, private readonly sink: LivePreviewSink, private readonly debounceMs = 150) {
    const level = sink.readLevel ? previewReadLevel(previewFactor(sink.width, sink.height)) : 1;
    this.windowLevel = level;
    this.windows = new WindowCache((z) => (level > 1 ? sink.readLevel!(z, level) : sink.readSlice(z)));
  }

  /** Slices of the 3-D window read so far and held now (tests: moving to z+1 reads one slice). */
  get windowReads(): { reads: number; held: number } { return { reads: this.windows.reads, held: this.windows.size }; }

  get isEnabled(): boolean {
    return this.enabled;
  }

  setEnabled(on: boolean): void {
    if (this.disposed || on === this.enabled) return;
    this.enabled = on;
    if (on) {
      this.sink.state({ enabled: true, hint: 'Training on the labels of this slice…', clear: false });
      this.schedule(0);
    } else {
      clearTimeout(this.timer);
      this.stopWorker();
      this.windows.clear();
      this.sink.state({ enabled: false, hint: '', clear: true });
    }
  }

  /** The webview painted slice z. */
  sliceShown(z: number): void {
    if (z === this.z) return;
    this.z = z;
    if (!this.enabled) return;
    if (this.running && this.runningZ !== z) this.stopWorker(); // a run for another slice is cancelled
    this.schedule();
  }

  /** The image of the shown slice changed (another channel or time point): read it again and predict. */
  imageChanged(): void {
    this.stopWorker(); // its features (cached per slice) are of the other image
    this.windows.clear();
    if (this.enabled) this.schedule();
  }

  labelsChanged(): void {
    if (this.enabled) this.schedule(Math.min(this.debounceMs, LABELS_DEBOUNCE_MS));
  }

  /** The webview was reloaded: it shows nothing, so tell it the state and predict again. */
  resend(): void {
    this.sink.state({ enabled: this.enabled, hint: this.enabled ? 'Training on the labels of this slice…' : '', clear: true });
    if (this.enabled) this.schedule(0);
  }

  dispose(): void {
    this.disposed = true;
    this.enabled = false;
    clearTimeout(this.timer);
    this.stopWorker();
    this.windows.clear();
  }

  private schedule(delay = this.debounceMs): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  private async run(): Promise<void> {
    if (!this.enabled || this.z < 0) return;
    if (this.running) {
      this.again = true; // the newest labels are read when the current run ends
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.runOnce();
      } while (this.again && this.enabled);
    } finally {
      this.running = false;
      this.runningZ = -1;
    }
  }

  private async runOnce(): Promise<void> {
    const z = this.z;
    this.runningZ = z;
    const t0 = performance.now();
    let reply: PreviewReply;
    let strokes: number;
    const { width, height } = this.sink;
    try {
      const worker = this.ensureWorker();
      if (this.workerZ !== z) {
        // Full resolution: the dims rule measures noise at the resolution a job sees (once per slice, not per stroke).
        const image = await this.sink.readSlice(z);
        if (z !== this.z || !this.enabled || worker !== this.worker) throw new Cancelled();
        worker.rpc.notify('image', { key: `slice-${z}`, image, width, height });
        this.workerZ = z;
        this.contextZ = -1;
      }
      // The last slice's rule said 3-D (a stack's noise is much the same from slice to slice): its window goes with
      // the image, so the first stroke here does not wait for the window's reads.
      if (this.lastDims?.dims === '3d' && this.contextZ !== z) await this.sendWindow(worker, z);
      strokes = this.sink.strokes();
      const ask = () => worker.rpc.call('predict', { labels: this.sink.labelsOf(z), width, height, dims: this.sink.dims, depth: this.sink.depth ?? 1 });
      reply = await ask();
      if (reply && 'needContext' in reply) {
        await this.sendWindow(worker, z);
        strokes = this.sink.strokes();
        reply = await ask();
        if (reply && 'needContext' in reply) throw new Error('the preview worker did not take the z window');
      }
    } catch (e) {
      if (e instanceof Cancelled || !this.enabled) {
        if (this.enabled) this.again = true;
        return;
      }
      if (e instanceof RpcRemoteError && z !== this.z) return; // the worker's failure is stale too: the user moved on
      this.sink.state({ enabled: true, hint: `Live preview failed: ${e instanceof Error ? e.message : String(e)}`, clear: true });
      return;
    }
    if (!this.enabled || z !== this.z) return; // stale: the user moved on
    if (!reply) {
      this.sink.state({ enabled: true, hint: NEED_TWO_CLASSES, clear: true });
      // Until the rule has decided once on this stack, a stack that may be 3-D gets its window read while the user
      // paints the second class (reads only, in the level worker): the first 3-D result then waits for features only.
      if (!this.lastDims && resolveDims({ dims: this.sink.dims ?? '2d' }, this.sink.depth ?? 1) !== '2d') {
        const halo = previewZHalo(this.sink.width, this.sink.height, this.sink.zRatio ?? 1);
        void this.windows.readAhead(z, halo, this.sink.depth ?? 1, () => this.enabled && this.z === z && !this.lastDims);
      }
    } else {
      const ms = { features: reply.featureMs, train: reply.trainMs, predict: reply.predictMs, total: performance.now() - t0 };
      this.results++;
      this.lastTimings = ms;
      this.lastDims = { dims: reply.dims, reason: reply.dimsReason };
      if (reply.dims === '2d') this.windows.clear(); // e.g. read ahead before the rule said 2-D
      this.sink.result({ z, labels: reply.lowLabels, width: reply.lowWidth, height: reply.lowHeight, factor: reply.factor, strokes, ms, dims: reply.dims });
      const bank = reply.dims === '3d' ? '3-D' : '2-D';
      this.sink.state({ enabled: true, hint: `Slice ${z + 1} predicted in ${ms.total.toFixed(0)} ms (${bank} features, ${reply.dimsReason})`, clear: false });
    }
  }

  /** Reads the z window of slice z (cached) and sends it to the worker for 3-D features. */
  private async sendWindow(worker: { rpc: RpcClient<PreviewMethods> }, z: number): Promise<void> {
    const { width, height } = this.sink;
    const depth = this.sink.depth ?? 1, zRatio = this.sink.zRatio ?? 1;
    const halo = previewZHalo(width, height, zRatio);
    const slices = await this.windows.window(z, halo, depth);
    if (z !== this.z || !this.enabled || worker !== this.worker) throw new Cancelled();
    worker.rpc.notify('context', { key: `slice-${z}`, slices, zRatio, level: this.windowLevel });
    this.contextZ = z;
    this.lastWindow = { z, halo, slices: slices.length };
  }

  private ensureWorker(): { thread: Worker; rpc: RpcClient<PreviewMethods> } {
    if (this.worker) return this.worker;
    const thread = new Worker(this.workerPath);
    thread.unref(); // an idle preview worker must not keep a process alive
    const worker = { thread, rpc: new RpcClient<PreviewMethods>((m, transfer) => thread.postMessage(m, transfer)) };
    thread.on('message', (m) => worker.rpc.receive(m));
    const fail = (e: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.workerZ = this.contextZ = -1;
      worker.rpc.dispose(e);
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the preview worker exited (code ${code})`)));
    this.worker = worker;
    this.workerZ = this.contextZ = -1;
    return worker;
  }

  /** Terminates the worker: the run in flight (if any) ends as cancelled. */
  private stopWorker(): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.workerZ = this.contextZ = -1;
    worker.rpc.dispose(new Cancelled());
    void worker.thread.terminate();
  }
}
