// The lossless level codec: host packing (src/shared/levels/codec.ts, the level worker's packLevel, packedPost.ts)
// and the webview's unpacking with DecompressionStream (webview/levelCodec.ts) give back the exact bytes.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { forwardTransform, inverseTransform, pack, readPackHeader, transformFor } from '../../src/shared/levels/codec';
import { packLevel } from '../../src/core/levels/worker';
import { orderedPoster, packBytes, packedSlice } from '../../src/host/packedPost';
import type { HostToWebview } from '../../src/shared/protocol';
import { unpack, unpackMessage } from '../../webview/levelCodec';

function noisyRamp<T extends Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array>(a: T, w: number): T {
  let seed = 7;
  for (let i = 0; i < a.length; i++) {
    seed = (seed * 1103515 + 12345) % 2147483647;
    (a as unknown as number[])[i] = ((i % w) * 13 + Math.floor(i / w) * 7 + (seed % 61)) * (a instanceof Float32Array || a instanceof Float64Array ? 0.37 : 1) - (a instanceof Int8Array || a instanceof Int16Array || a instanceof Int32Array ? 40 : 0);
  }
  return a;
}

describe('level codec', () => {
  const w = 97, h = 31; // odd sizes: rows restart the delta
  const arrays = [new Uint8Array(w * h), new Int8Array(w * h), new Uint16Array(w * h), new Int16Array(w * h), new Uint32Array(w * h), new Int32Array(w * h), new Float32Array(w * h), new Float64Array(w * h)];
  for (const a of arrays) {
    it(`${a.constructor.name}: transform is reversible and pack/unpack gives the exact bytes`, async () => {
      noisyRamp(a, w);
      const bytes = new Uint8Array(a.buffer);
      const float = a instanceof Float32Array || a instanceof Float64Array;
      const t = transformFor(a.BYTES_PER_ELEMENT, float);
      expect([...inverseTransform(forwardTransform(bytes, t, a.BYTES_PER_ELEMENT, w), t, a.BYTES_PER_ELEMENT, w)]).toEqual([...bytes]);
      const packed = packLevel(a, w);
      expect(readPackHeader(packed)).toEqual({ transform: t, elementBytes: a.BYTES_PER_ELEMENT, rawBytes: bytes.length, rowLength: w });
      const back = new Uint8Array(await unpack(packed));
      expect(back.length).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(bytes))).toBe(0);
    });
  }

  it('packs a smooth uint16 slice to well under half its bytes', () => {
    const a = new Uint16Array(256 * 256);
    for (let i = 0; i < a.length; i++) a[i] = 10000 + (i % 256) * 20 + (i >> 8) * 3 + ((i * 2654435761) >>> 28);
    expect(packLevel(a, 256).length).toBeLessThan(a.byteLength / 2);
  });

  it('refuses a payload that is not packed, or inflates to another length', async () => {
    await expect(unpack(new Uint8Array([1, 2, 3]))).rejects.toThrow(/SZ header/);
    const good = pack(new Uint8Array(100), 0, 1, 100, (b) => deflateRawSync(b));
    new DataView(good.buffer).setUint32(4, 99, true);
    await expect(unpack(good)).rejects.toThrow(/inflates to 100 bytes/);
  });

  it('packs label RLE and masks in a packed message the webview unwraps; small payloads go as they are', async () => {
    const mask = new Uint8Array(64 * 64).map((_, i) => (i % 64 < 20 ? 1 : 2));
    const msg = { type: 'segmentation', z: 3, data: mask.buffer as ArrayBuffer, source: 'job' } as const;
    const packed = await packBytes(msg, ['data']);
    expect(packed.type).toBe('packed');
    if (packed.type !== 'packed') return;
    expect((packed.message as { data: ArrayBuffer }).data.byteLength).toBeLessThan(mask.length / 20);
    const inner = await unpackMessage(packed);
    expect(inner?.type).toBe('segmentation');
    expect([...new Uint8Array((inner as typeof msg).data)]).toEqual([...mask]);
    const small = { type: 'labels', z: 0, rle: new Uint8Array(10).buffer as ArrayBuffer } as const;
    expect(await packBytes(small, ['rle'])).toBe(small);
  });

  it('unwraps a packed slice from the worker; drops a packed message naming a field that may not be packed', async () => {
    const px = noisyRamp(new Uint16Array(40 * 30), 40);
    const msg = { type: 'slice', z: 1, width: 40, height: 30, dtype: 'uint16', data: new ArrayBuffer(0), level: 2 } as const;
    const wrapped = packedSlice(msg, packLevel(px, 40));
    const inner = await unpackMessage(wrapped as Extract<HostToWebview, { type: 'packed' }>);
    expect([...new Uint16Array((inner as typeof msg).data)]).toEqual([...px]);
    const bad = { type: 'packed', fields: ['source'], message: { type: 'segmentation', z: 0, data: null, source: 'x' } } as unknown as Extract<HostToWebview, { type: 'packed' }>;
    expect(await unpackMessage(bad)).toBeUndefined();
  });

  it('orderedPoster hands messages on in posting order although an earlier one is still being packed', async () => {
    const order: string[] = [];
    const post = orderedPoster((m) => { order.push(m.type); return Promise.resolve(); }, () => undefined);
    let release!: (m: HostToWebview) => void;
    const slow = new Promise<HostToWebview>((r) => { release = r; });
    const a = post(slow);
    const b = post({ type: 'labelsReset' });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    release({ type: 'labelStats', counts: [], annotated: [] });
    await Promise.all([a, b]);
    expect(order).toEqual(['labelStats', 'labelsReset']);
  });
});
