// Unpacks what the host packed (src/shared/levels/codec.ts): inflate with the browser's DecompressionStream
// ('deflate-raw'; a JS API, not a fetch, so the webview's CSP does not govern it), then undo the byte transform;
// 16-bit levels are Rice coded instead (transform 3, src/shared/levels/rice.ts) and decoded here in JS.
// `packed` host messages wrap another message whose named binary fields are packed; they are unpacked here, in
// arrival order, before the viewer sees them (webview/main.ts).

import { CODED_TRANSFORM, inverseTransform, PACK_HEADER_BYTES, readPackHeader } from '../src/shared/levels/codec';
import { packedProblem, type HostToWebview } from '../src/shared/protocol';

/** The raw bytes of a packed payload; throws with a reason when it is not a valid one. */
export async function unpack(payload: ArrayBuffer | Uint8Array): Promise<ArrayBuffer> {
  const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const head = readPackHeader(bytes);
  if ('reason' in head) throw new Error(head.reason);
  const body = bytes.subarray(PACK_HEADER_BYTES);
  let raw: Uint8Array;
  if (head.transform === CODED_TRANSFORM) { // entropy coded already (16-bit levels): decoded in JS, no inflate
    raw = inverseTransform(body, head.transform, head.elementBytes, head.rowLength);
    if (raw.length !== head.rawBytes) throw new Error(`packed payload decodes to ${raw.length} bytes, header says ${head.rawBytes}`);
  } else {
    const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    const inflated = new Uint8Array(await new Response(stream).arrayBuffer());
    if (inflated.length !== head.rawBytes) throw new Error(`packed payload inflates to ${inflated.length} bytes, header says ${head.rawBytes}`);
    raw = inverseTransform(inflated, head.transform, head.elementBytes, head.rowLength);
  }
  return raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw.buffer as ArrayBuffer : raw.slice().buffer as ArrayBuffer;
}

/** The inner message of a `packed` one with its packed fields unpacked, or undefined (logged) when malformed. */
export async function unpackMessage(msg: Extract<HostToWebview, { type: 'packed' }>): Promise<HostToWebview | undefined> {
  const problem = packedProblem(msg);
  if (problem) {
    console.warn(`StackSeg: dropped a packed message: ${problem}`);
    return undefined;
  }
  const inner = msg.message as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...inner };
  try {
    for (const f of msg.fields) {
      const v = inner[f];
      out[f] = await unpack(v instanceof ArrayBuffer ? v : new Uint8Array((v as ArrayBufferView).buffer, (v as ArrayBufferView).byteOffset, (v as ArrayBufferView).byteLength));
    }
  } catch (e) {
    console.warn(`StackSeg: cannot unpack a ${String(inner.type)} message: ${(e as Error).message}`);
    return undefined;
  }
  return out as unknown as HostToWebview;
}
