// The lossless level codec: host packing (src/shared/levels/codec.ts, the level worker's packLevel, packedPost.ts)
// and the webview's unpacking with DecompressionStream (webview/levelCodec.ts) give back the exact bytes.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { forwardTransform, inverseTransform, pack, readPackHeader, transformFor } from '../../src/shared/levels/codec';
import { packLevel } from '../../src/core/levels/worker';
import { riceEncode } from '../../src/shared/levels/rice';
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

/** A CT-like uint16 image: a smooth field plus pseudo-random noise of a few hundred (not row-periodic). */
function ctLike(w: number, h: number): Uint16Array {
  let seed = 99;
  const rnd = () => { seed = (seed * 48271) % 2147483647; return seed / 2147483647; };
  return new Uint16Array(w * h).map((_, i) => 12000 + Math.round(2000 * Math.sin((i % w) / 17) + 300 * (rnd() + rnd() + rnd())));
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

  // Exact round trips through the level worker's packing and the webview's unpacking, for every dtype and shape the
  // codec treats differently: constant (run mode), noisy (Rice k high, escapes at edges, falls back when noise),
  // odd and 1-pixel widths, a single row, a row longer than 65535 (a run length of 17+ bits).
  const kinds = {
    constant: (i: number) => 1234 + 0 * i,
    noisy: (i: number) => ((i * 2654435761) >>> 7) & 0xffff,
    edges: (i: number, w: number) => ((i % w) > w / 2 ? 60000 : 3) + ((i * 7919) % 5),
    smoothNoise: (i: number, w: number) => 20000 + Math.round(300 * Math.sin(i / w / 9) + ((i * 2654435761) >>> 26)),
  };
  const dtypes = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array];
  for (const [kind, value] of Object.entries(kinds)) {
    for (const [w, h] of [[1, 7], [3, 5], [97, 31], [257, 1], [70_000, 1]] as const) {
      it(`round trip is exact: ${kind} ${w} x ${h}, every dtype`, async () => {
        for (const Ctor of dtypes) {
          const a = new Ctor(w * h);
          for (let i = 0; i < a.length; i++) {
            const v = value(i, w);
            (a as unknown as number[])[i] = Ctor === Float32Array || Ctor === Float64Array ? v * 0.731 - 999 : Ctor === Int16Array ? v - 32768 : v;
          }
          const bytes = new Uint8Array(a.buffer);
          const back = new Uint8Array(await unpack(packLevel(a, w)));
          expect(Buffer.compare(Buffer.from(back), Buffer.from(bytes)), `${Ctor.name}`).toBe(0);
        }
      });
    }
  }

  it('16-bit levels are Rice coded (transform 3); pure noise falls back to transform 1', () => {
    const ct = ctLike(128, 128);
    const ctPacked = packLevel(ct, 128);
    expect(readPackHeader(ctPacked)).toMatchObject({ transform: 3, elementBytes: 2 });
    expect(ctPacked.length).toBeLessThan(ct.byteLength * 0.75);
    // rows that repeat (a synthetic pattern) suit deflate's matches: a sample across the middle says so
    const pattern = new Uint16Array(256 * 128).map((_, i) => 10000 + ((((i % 256) * 73856093) ^ (Math.floor(i / 256) * 19349663)) & 1023) + (i % 256));
    expect(readPackHeader(packLevel(pattern, 256))).toMatchObject({ transform: 1 });
    const noise = new Int16Array(128 * 64).map((_, i) => (i * 2654435761) >>> 16);
    expect(readPackHeader(packLevel(noise, 128))).toMatchObject({ transform: 1, elementBytes: 2 });
    // int16 values that cross zero predict as well as uint16 ones (the predictor works modulo 2^16)
    const signed = new Int16Array(128 * 64).map((_, i) => Math.round(200 * Math.sin(i / 40)));
    const unsigned = new Uint16Array(signed.length).map((_, i) => signed[i] + 30000);
    const offset = riceEncode(unsigned, 128)!.length; // differs only in the first pixel, predicted from 0
    expect(Math.abs(riceEncode(new Uint16Array(signed.buffer), 128)!.length - offset)).toBeLessThan(offset * 0.01);
  });

  it('a uint16 label image goes with deflate when that is smaller than the Rice code', async () => {
    const w = 256;
    const labels = new Uint16Array(w * w).map((_, i) => (Math.hypot((i % w) - 100, Math.floor(i / w) - 120) < 60 ? 2 : 0) + (((i % w) * 3 + Math.floor(i / w) * 5) % 97 < 8 ? 3 : 0));
    const packed = packLevel(labels, w);
    const bytes = new Uint8Array(labels.buffer);
    const rice = riceEncode(labels, w)!;
    expect(packed.length).toBeLessThan(rice.length);
    expect(readPackHeader(packed)).toMatchObject({ transform: 1 });
    expect(Buffer.compare(Buffer.from(await unpack(packed)), Buffer.from(bytes))).toBe(0);
  });

  it('refuses a truncated Rice stream', async () => {
    const packed = packLevel(ctLike(64, 64), 64);
    expect(readPackHeader(packed)).toMatchObject({ transform: 3 });
    await expect(unpack(packed.subarray(0, packed.length >> 1))).rejects.toThrow(/ends early|run/);
  });

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
