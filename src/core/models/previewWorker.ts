// Worker-thread entry (dist/previewWorker.js) for the live preview, so painting never waits on the extension host.
// Methods (PreviewMethods, over src/shared/rpc.ts):
//   `image` {key, image, width, height, level?} (a notification): the shown slice (full resolution, or pyramid level
//        `level`), its features computed lazily on the next predict;
//   `context` {key, slices, zRatio, level?} (a notification): its raw z window for 3-D features (LivePreview.setContext),
//        computed only when a predict with two classes needs them;
//   `predict` {labels, width, height, dims?, depth?} -> a PreviewResult at the preview's resolution | null (fewer than
//        two classes labelled) | {needContext, reason} (the dims rule says 3-D and no window arrived for this key yet:
//        send `context` and ask again). The rule (previewDims) runs here, off the host thread.

import { parentPort } from 'node:worker_threads';
import { RpcServer } from '../../shared/rpc';
import type { PixelArray } from '../../shared/types';
import { LivePreview, type PreviewResult } from './livePreviewModel';

/** Any numeric typed array: the conversion to float32 happens here, off the sender's thread. */
export type PreviewImage = { key: string; image: PixelArray; width: number; height: number; level?: number; context?: { slices: PixelArray[]; zRatio?: number } };
export type PreviewContext = { key: string; slices: PixelArray[]; zRatio: number; level?: number };
export type PreviewReply = (PreviewResult & { dimsReason: string }) | { needContext: true; reason: string } | null;

export interface PreviewMethods {
  image: { params: PreviewImage; result: void };
  context: { params: PreviewContext; result: void };
  /** dims: the rf's dims setting ('2d' | '3d' | 'auto'); absent: 2-D. depth: slices in the stack. */
  predict: { params: { labels: Uint8Array; width: number; height: number; dims?: string; depth?: number }; result: PreviewReply };
}

const preview = new LivePreview();
let pending: PreviewImage | undefined;
let pendingContext: PreviewContext | undefined;
let key: string | undefined;

const f32 = (a: PixelArray) => (a instanceof Float32Array ? a : Float32Array.from(a));

/** Float32 copies of a window, each distinct slice converted once (the reflected ends repeat slices). */
function f32Window(slices: PixelArray[]): Float32Array[] {
  const done = new Map<PixelArray, Float32Array>();
  return slices.map((s) => { let f = done.get(s); if (!f) { f = f32(s); done.set(s, f); } return f; });
}

const server = new RpcServer<PreviewMethods>({
  image: (m) => { pending = m; pendingContext = undefined; }, // features are computed lazily, on the next predict
  context: (m) => { pendingContext = m; },
  predict: (m, ctx) => {
    if (pending) {
      const context = pending.context && { slices: f32Window(pending.context.slices), zRatio: pending.context.zRatio };
      preview.setImage(pending.key, f32(pending.image), pending.width, pending.height, context, pending.level ?? 1);
      key = pending.key;
      pending = undefined;
    }
    if (pendingContext && pendingContext.key !== key) pendingContext = undefined;
    // Nothing to train (and no features computed: a window sent ahead costs nothing on slices never painted).
    if (preview.labelledClasses(m.labels, m.width, m.height) < 2) return null;
    const given = preview.has3d || pendingContext ? '3d' as const : '2d' as const; // no rule asked: what was sent
    const { dims, reason, refresh } = m.dims ? preview.decideDims(m.dims, m.depth ?? 1, m.labels, m.width, m.height, { deferred: true }) : { dims: given, reason: `dims=${given}` };
    if (refresh) setImmediate(refresh); // after this reply is posted
    if (dims === '3d' && pendingContext) {
      preview.setContext(pendingContext.key, f32Window(pendingContext.slices), pendingContext.zRatio, pendingContext.level ?? 1);
      pendingContext = undefined;
    }
    if (dims === '3d' && !preview.has3d) return { needContext: true, reason };
    const r = preview.predict(m.labels, m.width, m.height, { dims, full: false });
    if (r) ctx.transfer(r.lowLabels.buffer as ArrayBuffer, r.uncertainty.buffer as ArrayBuffer);
    return r ? { ...r, dimsReason: reason } : null;
  },
}, (msg, transfer) => parentPort!.postMessage(msg, transfer));
parentPort?.on('message', (m) => server.receive(m));
