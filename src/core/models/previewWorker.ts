// Worker-thread entry (dist/previewWorker.js) for the live preview, so painting never waits on the extension host.
// Methods (PreviewMethods, over src/shared/rpc.ts): `image` {key, image, width, height, context?} (a notification;
// context: 3-D, see LivePreview.setImage), then `predict` {labels, width, height}
// -> {labels, uncertainty, lowLabels, ..., featureMs, trainMs, predictMs} | null (fewer than two classes labelled).

import { parentPort } from 'node:worker_threads';
import { RpcServer } from '../../shared/rpc';
import type { PixelArray } from '../../shared/types';
import { LivePreview, type PreviewResult } from './livePreviewModel';

/** Any numeric typed array: the conversion to float32 happens here, off the sender's thread. */
export type PreviewImage = { key: string; image: PixelArray; width: number; height: number; context?: { slices: PixelArray[]; zRatio?: number } };

export interface PreviewMethods {
  image: { params: PreviewImage; result: void };
  predict: { params: { labels: Uint8Array; width: number; height: number }; result: PreviewResult | null };
}

const preview = new LivePreview();
let pending: PreviewImage | undefined;

const server = new RpcServer<PreviewMethods>({
  image: (m) => { pending = m; }, // features are computed lazily, on the next predict
  predict: (m, ctx) => {
    if (pending) {
      const f32 = (a: PixelArray) => (a instanceof Float32Array ? a : Float32Array.from(a));
      const context = pending.context && { slices: pending.context.slices.map(f32), zRatio: pending.context.zRatio };
      preview.setImage(pending.key, f32(pending.image), pending.width, pending.height, context);
      pending = undefined;
    }
    const r = preview.predict(m.labels, m.width, m.height);
    // lowLabels is the same buffer as labels when the slice was not downsampled: the context lists each buffer once.
    if (r) ctx.transfer(r.labels.buffer as ArrayBuffer, r.uncertainty.buffer as ArrayBuffer, r.lowLabels.buffer as ArrayBuffer);
    return r ?? null;
  },
}, (msg, transfer) => parentPort!.postMessage(msg, transfer));
parentPort?.on('message', (m) => server.receive(m));
