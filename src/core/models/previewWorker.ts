// Worker-thread entry (dist/previewWorker.js) for the live preview, so painting never waits on the extension host.
// Messages: {type:'image', key, image, width, height, context?} (context: 3-D, see LivePreview.setImage) then {type:'predict', id, labels, width, height}
// -> {id, labels, uncertainty, featureMs, trainMs, predictMs} | {id, none: true} | {id, error}.

import { parentPort } from 'node:worker_threads';
import type { PixelArray } from '../../shared/types';
import { LivePreview } from './livePreviewModel';

export type PreviewRequest =
  /** Any numeric typed array: the conversion to float32 happens here, off the sender's thread. */
  | { type: 'image'; key: string; image: PixelArray; width: number; height: number; context?: { slices: PixelArray[]; zRatio?: number } }
  | { type: 'predict'; id: number; labels: Uint8Array; width: number; height: number };

export type PreviewReply =
  | { id: number; labels: Uint8Array; uncertainty: Uint8Array; lowLabels: Uint8Array; lowWidth: number; lowHeight: number; factor: number; featureMs: number; trainMs: number; predictMs: number }
  | { id: number; none: true }
  | { id: number; error: string };

const preview = new LivePreview();
let pending: { key: string; image: PixelArray; width: number; height: number; context?: { slices: PixelArray[]; zRatio?: number } } | undefined;

parentPort?.on('message', (m: PreviewRequest) => {
  if (m.type === 'image') { pending = m; return; } // features are computed lazily, on the next predict
  try {
    if (pending) {
      const f32 = (a: PixelArray) => (a instanceof Float32Array ? a : Float32Array.from(a));
      const context = pending.context && { slices: pending.context.slices.map(f32), zRatio: pending.context.zRatio };
      preview.setImage(pending.key, f32(pending.image), pending.width, pending.height, context);
      pending = undefined;
    }
    const r = preview.predict(m.labels, m.width, m.height);
    const reply: PreviewReply = r ? { id: m.id, ...r } : { id: m.id, none: true };
    // lowLabels is the same buffer as labels when the slice was not downsampled: list each buffer once.
    const transfer = r ? [...new Set([r.labels.buffer, r.uncertainty.buffer, r.lowLabels.buffer])] as ArrayBuffer[] : [];
    parentPort!.postMessage(reply, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message } satisfies PreviewReply);
  }
});
