// Lossless packing of slice levels, label patches and masks for the trip to the webview (over Remote-SSH that is
// a link of tens of Mbit/s). A reversible transform makes the bytes compressible, then deflate (raw):
//   - integers wider than a byte: horizontal difference of each row (wrapping, on the unsigned bits), then byte
//     shuffle (all low bytes, then the next byte plane...): neighbouring pixels differ by little, so the high planes
//     become long runs of 0x00/0xff;
//   - floats: byte shuffle, then the difference of consecutive bytes within each plane (sign/exponent planes become
//     runs; the TIFF floating-point predictor does the same per row);
//   - bytes (masks, RLE labels): deflate alone (their runs compress as they are);
//   - 16-bit integers (uint16, int16: most CT): transform 3, a 2-D predictor and an adaptive Rice coder (rice.ts)
//     instead of deflate: ~10 % fewer bytes than row delta + shuffle + deflate and several times faster both ways.
//     Where it would not be smaller than the raw bytes (noise), or a deflated transform 1 is smaller (labels), that.
// The webview inflates with the browser's DecompressionStream('deflate-raw') and undoes the transform with the same
// functions (webview/levelCodec.ts), so this file is pure: deflate itself is passed in (node:zlib on the host).
//
// Payload: 12-byte header, then the deflate-raw stream of the transformed bytes (transform 3: the Rice stream).
//   0..1 'S' 'Z'   2 transform (0 none, 1 row delta + shuffle, 2 shuffle + plane delta, 3 Rice)   3 bytes per element
//   4..7 uint32 LE length of the raw bytes   8..11 uint32 LE row length in elements (the row delta restarts per row)

import { riceDecode, riceEncode } from './rice';

export const PACK_MAGIC0 = 0x53; // 'S'
export const PACK_MAGIC1 = 0x5a; // 'Z'
export const PACK_HEADER_BYTES = 12;

export type PackTransform = 0 | 1 | 2 | 3;

/** Transforms whose output is entropy coded already: not deflated. */
export const CODED_TRANSFORM = 3;
/** A Rice-coded level that shrinks more than this is also deflated (transform 1), and the smaller one is sent. */
const RICE_RECHECK_RATIO = 4;

export interface PackHeader {
  transform: PackTransform;
  elementBytes: number;
  rawBytes: number;
  rowLength: number;
}

/** Which transform suits elements of `elementBytes` bytes (float: floating point samples). */
export function transformFor(elementBytes: number, float: boolean): PackTransform {
  if (elementBytes <= 1) return 0;
  if (float) return 2;
  return elementBytes === 2 ? 3 : 1;
}

/**
 * Transformed copy of `src` (row-major rows of `rowLength` elements of `elementBytes` bytes, platform = little-endian
 * byte order). Transform 0 returns `src` itself.
 */
export function forwardTransform(src: Uint8Array, transform: PackTransform, elementBytes: number, rowLength: number): Uint8Array {
  if (transform === 0) return src;
  if (transform === 3) {
    return riceEncode(typedView(src, 2) as Uint16Array, rowLength, Infinity)!;
  }
  const n = src.length / elementBytes;
  const out = new Uint8Array(src.length);
  if (transform === 1) {
    const d = rowDelta(src, elementBytes, rowLength);
    shuffle(d, out, elementBytes, n);
  } else {
    shuffle(src, out, elementBytes, n);
    for (let p = 0; p < elementBytes; p++) {
      const base = p * n;
      for (let i = n - 1; i > 0; i--) out[base + i] = (out[base + i] - out[base + i - 1]) & 0xff;
    }
  }
  return out;
}

/** Undoes forwardTransform in place of a fresh buffer (the input is not changed). */
export function inverseTransform(src: Uint8Array, transform: PackTransform, elementBytes: number, rowLength: number): Uint8Array {
  if (transform === 0) return src;
  if (transform === 3) {
    if (src.length < 4) throw new Error('coded level has no pixel count');
    const px = new Uint16Array(new DataView(src.buffer, src.byteOffset, src.byteLength).getUint32(0, true));
    riceDecode(src, rowLength, px);
    return new Uint8Array(px.buffer);
  }
  const n = src.length / elementBytes;
  const out = new Uint8Array(src.length);
  if (transform === 1) {
    unshuffle(src, out, elementBytes, n);
    undoRowDelta(out, elementBytes, rowLength);
  } else {
    const planes = src.slice();
    for (let p = 0; p < elementBytes; p++) {
      const base = p * n;
      for (let i = 1; i < n; i++) planes[base + i] = (planes[base + i] + planes[base + i - 1]) & 0xff;
    }
    unshuffle(planes, out, elementBytes, n);
  }
  return out;
}

/**
 * Packs `src` with `deflateRaw` (node:zlib's deflateRawSync on the host); transform 3 is not deflated, and falls
 * back to transform 1 where it would not shrink the level.
 */
export function pack(src: Uint8Array, transform: PackTransform, elementBytes: number, rowLength: number, deflateRaw: (b: Uint8Array) => Uint8Array): Uint8Array {
  let body: Uint8Array | undefined;
  if (transform === CODED_TRANSFORM && deflateWinsSample(src, rowLength, deflateRaw)) transform = 1;
  if (transform === CODED_TRANSFORM) {
    body = riceEncode(typedView(src, 2) as Uint16Array, rowLength);
    // Noise does not shrink; labels and flat synthetic images (over 4x) may shrink more with deflate's matches,
    // and deflate is fast on them: the smaller wins. A CT level (~2.3x) is coded once.
    if (!body || body.length * RICE_RECHECK_RATIO < src.length) {
      const deflated = deflateRaw(forwardTransform(src, 1, elementBytes, rowLength));
      if (!body || deflated.length < body.length) {
        body = deflated;
        transform = 1;
      }
    }
  }
  body ??= deflateRaw(forwardTransform(src, transform, elementBytes, rowLength));
  const out = new Uint8Array(PACK_HEADER_BYTES + body.length);
  out[0] = PACK_MAGIC0;
  out[1] = PACK_MAGIC1;
  out[2] = transform;
  out[3] = elementBytes;
  new DataView(out.buffer).setUint32(4, src.length, true);
  new DataView(out.buffer).setUint32(8, rowLength, true);
  out.set(body, PACK_HEADER_BYTES);
  return out;
}

/**
 * Whether a band of rows across the middle of a 16-bit level (1/16 of it) shrinks clearly more with transform 1 and
 * deflate than Rice coded: images whose rows repeat (synthetic patterns) suit deflate's matches, a CT does not.
 */
function deflateWinsSample(src: Uint8Array, rowLength: number, deflateRaw: (b: Uint8Array) => Uint8Array): boolean {
  const rows = Math.floor(src.length / 2 / rowLength);
  if (rows < 64) return false; // small: pack() compares the whole level where it matters
  const band = Math.ceil(rows / 16);
  const start = (Math.floor(rows / 2) - (band >> 1)) * rowLength * 2;
  const sample = src.slice(start, start + band * rowLength * 2);
  const rice = riceEncode(new Uint16Array(sample.buffer), rowLength);
  return !rice || deflateRaw(forwardTransform(sample, 1, 2, rowLength)).length < rice.length * 0.9;
}

/** The header of a packed payload, or a reason it is not one. */
export function readPackHeader(payload: Uint8Array): PackHeader | { reason: string } {
  if (payload.length < PACK_HEADER_BYTES || payload[0] !== PACK_MAGIC0 || payload[1] !== PACK_MAGIC1) return { reason: 'not a packed payload (no SZ header)' };
  const transform = payload[2];
  const elementBytes = payload[3];
  if (transform > 3) return { reason: `unknown transform ${transform}` };
  if (![1, 2, 4, 8].includes(elementBytes)) return { reason: `bad element size ${elementBytes}` };
  if (transform === 3 && elementBytes !== 2) return { reason: `transform 3 codes 2-byte elements, not ${elementBytes}` };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const rawBytes = view.getUint32(4, true);
  const rowLength = view.getUint32(8, true);
  if (rawBytes % elementBytes !== 0) return { reason: `raw length ${rawBytes} is not a whole number of elements` };
  if (rowLength < 1) return { reason: 'row length 0' };
  return { transform: transform as PackTransform, elementBytes, rawBytes, rowLength };
}

/** Row-wise difference of integer elements (wrapping), as a fresh little-endian byte array. */
function rowDelta(src: Uint8Array, elementBytes: number, rowLength: number): Uint8Array {
  const out = new Uint8Array(src.length);
  const buf = out.buffer;
  const n = src.length / elementBytes;
  const a = typedView(src, elementBytes);
  const d = typedView(new Uint8Array(buf), elementBytes);
  for (let row = 0; row < n; row += rowLength) {
    const end = Math.min(n, row + rowLength);
    d[row] = a[row];
    for (let i = row + 1; i < end; i++) d[i] = a[i] - a[i - 1]; // the typed array wraps
  }
  return out;
}

function undoRowDelta(bytes: Uint8Array, elementBytes: number, rowLength: number): void {
  const a = typedView(bytes, elementBytes);
  const n = a.length;
  for (let row = 0; row < n; row += rowLength) {
    const end = Math.min(n, row + rowLength);
    for (let i = row + 1; i < end; i++) a[i] = a[i] + a[i - 1];
  }
}

/** Unsigned view of whole elements (aligned copy when `b` is not aligned). */
function typedView(b: Uint8Array, elementBytes: number): Uint8Array | Uint16Array | Uint32Array {
  if (elementBytes === 2) return b.byteOffset % 2 === 0 ? new Uint16Array(b.buffer, b.byteOffset, b.length / 2) : new Uint16Array(b.slice().buffer);
  if (elementBytes === 4) return b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length / 4) : new Uint32Array(b.slice().buffer);
  if (elementBytes === 8) throw new Error('8-byte integers are packed with the float transform');
  return b;
}

function shuffle(src: Uint8Array, out: Uint8Array, k: number, n: number): void {
  for (let p = 0; p < k; p++) {
    const base = p * n;
    for (let i = 0, j = p; i < n; i++, j += k) out[base + i] = src[j];
  }
}

function unshuffle(src: Uint8Array, out: Uint8Array, k: number, n: number): void {
  for (let p = 0; p < k; p++) {
    const base = p * n;
    for (let i = 0, j = p; i < n; i++, j += k) out[j] = src[base + i];
  }
}
