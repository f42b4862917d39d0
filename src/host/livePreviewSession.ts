// Live preview for one open stack: after each label change (stroke, undo, redo) and each slice change, debounced,
// a forest trained on the labels of the shown slice re-predicts that slice in a worker thread (dist/previewWorker.js),
// never on the extension host thread. One run at a time; requests that arrive meanwhile are coalesced into one rerun
// with the newest labels, a slice change cancels a run for another slice (the worker is terminated), and results for
// a slice no longer shown are dropped. Imports nothing from vscode (unit-tested with the real worker). The worker is
// one src/shared/rpc.ts client.

import { Worker } from 'node:worker_threads';
import type { PreviewMethods } from '../core/models/previewWorker';
import { RpcClient, RpcRemoteError } from '../shared/rpc';
import type { PixelArray } from '../shared/types';

export interface PreviewTimings { features: number; train: number; predict: number; total: number }

export interface LivePreviewSink {
  readonly width: number;
  readonly height: number;
  readSlice(z: number): Promise<PixelArray>;
  /** Labels of slice z now (copied when sent to the worker). */
  labelsOf(z: number): Uint8Array;
  /** Stroke messages received from the webview so far: tags a result with the strokes its training saw. */
  strokes(): number;
  /** `labels`: width x height classes, each covering factor x factor image pixels (the preview's resolution). */
  result(r: { z: number; labels: Uint8Array; width: number; height: number; factor: number; strokes: number; ms: PreviewTimings }): void;
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

export class LivePreviewSession {
  private worker: { thread: Worker; rpc: RpcClient<PreviewMethods> } | undefined;
  private enabled = false;
  private z = -1;
  /** Slice whose image the current worker holds (features are cached there). */
  private workerZ = -1;
  private runningZ = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;
  private disposed = false;
  /** Finished runs that reached the webview (tests, API). */
  results = 0;
  lastTimings: PreviewTimings | undefined;

  constructor(private readonly workerPath: string, private readonly sink: LivePreviewSink, private readonly debounceMs = 150) {}

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
    let reply: PreviewMethods['predict']['result'];
    let strokes: number;
    try {
      const worker = this.ensureWorker();
      if (this.workerZ !== z) {
        const image = await this.sink.readSlice(z);
        if (z !== this.z || !this.enabled || worker !== this.worker) throw new Cancelled();
        worker.rpc.notify('image', { key: `slice-${z}`, image, width: this.sink.width, height: this.sink.height });
        this.workerZ = z;
      }
      strokes = this.sink.strokes();
      reply = await worker.rpc.call('predict', { labels: this.sink.labelsOf(z), width: this.sink.width, height: this.sink.height });
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
    } else {
      const ms = { features: reply.featureMs, train: reply.trainMs, predict: reply.predictMs, total: performance.now() - t0 };
      this.results++;
      this.lastTimings = ms;
      this.sink.result({ z, labels: reply.lowLabels, width: reply.lowWidth, height: reply.lowHeight, factor: reply.factor, strokes, ms });
      this.sink.state({ enabled: true, hint: `Slice ${z + 1} predicted in ${ms.total.toFixed(0)} ms`, clear: false });
    }
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
      this.workerZ = -1;
      worker.rpc.dispose(e);
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the preview worker exited (code ${code})`)));
    this.worker = worker;
    this.workerZ = -1;
    return worker;
  }

  /** Terminates the worker: the run in flight (if any) ends as cancelled. */
  private stopWorker(): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.workerZ = -1;
    worker.rpc.dispose(new Cancelled());
    void worker.thread.terminate();
  }
}
