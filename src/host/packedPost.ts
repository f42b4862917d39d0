// Posting to the viewer webview with fewer bytes (over Remote-SSH the link is tens of Mbit/s): binary fields are
// wrapped in a `packed` message (src/shared/protocol; codec in src/shared/levels/codec.ts). Image levels are packed in the
// level worker (they need a byte transform); byte payloads (label RLE, masks, live preview classes) are deflated
// here with node:zlib's asynchronous deflate, which runs on libuv's thread pool, never on the extension host thread.
// Messages still reach the webview in the order they were posted (orderedPoster). Imports nothing from vscode.

import { deflateRaw } from 'node:zlib';
import { pack } from '../shared/levels/codec';
import type { HostToWebview } from '../shared/protocol';

/** Payloads smaller than this go as they are (packing them saves less than it costs). */
export const MIN_PACK_BYTES = 4096;

type Packable = Extract<HostToWebview, { type: 'slice' | 'labels' | 'labelPatch' | 'segmentation' | 'livePreview' }>;

/** A slice message whose data is the level packed by the worker. */
export function packedSlice(msg: Extract<HostToWebview, { type: 'slice' }>, packed: Uint8Array): HostToWebview {
  return { type: 'packed', fields: ['data'], message: { ...msg, data: exactBytes(packed) } };
}

/** `msg` with its byte `fields` (uint8 payloads: RLE, class per pixel) deflated; unchanged when all are small. */
export async function packBytes<M extends Packable>(msg: M, fields: (keyof M & string)[]): Promise<HostToWebview> {
  const out: Record<string, unknown> = { ...msg };
  const packedFields: string[] = [];
  for (const f of fields) {
    const v = msg[f] as unknown;
    if (!(v instanceof ArrayBuffer) || v.byteLength < MIN_PACK_BYTES) continue;
    const src = new Uint8Array(v);
    const body = await new Promise<Uint8Array>((resolve, reject) => deflateRaw(src, { level: 6 }, (e, b) => (e ? reject(e) : resolve(b))));
    out[f] = exactBytes(pack(src, 0, 1, src.length, () => body));
    packedFields.push(f);
  }
  return packedFields.length === 0 ? msg : { type: 'packed', fields: packedFields, message: out as unknown as HostToWebview };
}

/**
 * A post function that keeps posting order although some messages are still being packed: each message is handed to
 * `postMessage` after the ones posted before it. The returned promise is postMessage's own (it settles when VS Code
 * handed the message on: the slice server measures the link by it).
 */
export function orderedPoster(postMessage: (m: HostToWebview) => Thenable<unknown>, onError: (e: unknown) => void): (m: HostToWebview | Promise<HostToWebview>) => Promise<unknown> {
  let order: Promise<unknown> = Promise.resolve();
  return (m) => {
    const handed = order.then(() => m).then((msg) => ({ sent: postMessage(msg) }));
    order = handed.then(() => undefined, () => undefined);
    return handed.then(({ sent }) => sent).then(undefined, onError);
  };
}

function exactBytes(b: Uint8Array): ArrayBuffer {
  const buf = b.buffer as ArrayBuffer;
  return b.byteOffset === 0 && b.byteLength === buf.byteLength ? buf : buf.slice(b.byteOffset, b.byteOffset + b.byteLength);
}
