// Decoders for the TIFF compressions and predictors StackSeg reads. Small and allocation-free where it matters:
// they write into a caller-given buffer of the expected chunk size.
import { promisify } from 'node:util';
import { inflate, inflateRaw, inflateSync, inflateRawSync } from 'node:zlib';

const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

/**
 * Inflates zlib (or raw deflate) data; returns the decoded bytes (may be shorter/longer than expected).
 * chunkSize = the expected size: zlib then fills one buffer instead of concatenating 16 KB pieces (a copy).
 */
export function inflateChunk(src: Uint8Array, expectedBytes = 0): Uint8Array {
  const opts = { chunkSize: Math.max(1024, expectedBytes + 64) };
  try {
    return inflateSync(src, opts);
  } catch {
    return inflateRawSync(src, opts);
  }
}

/** inflateChunk on the libuv thread pool. */
export async function inflateChunkAsync(src: Uint8Array, expectedBytes = 0): Promise<Uint8Array> {
  const opts = { chunkSize: Math.max(1024, expectedBytes + 64) };
  try {
    return await inflateAsync(src, opts);
  } catch {
    return inflateRawAsync(src, opts);
  }
}

/** TIFF LZW (MSB-first codes, "early change"). Writes at most out.length bytes; returns bytes written. */
export function lzwDecode(src: Uint8Array, out: Uint8Array): number {
  const prefix = new Uint16Array(4096);
  const suffix = new Uint8Array(4096);
  const lengths = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) { suffix[i] = i; lengths[i] = 1; }
  const srcBits = src.length * 8;
  const outLen = out.length;
  let bitPos = 0;
  let nbits = 9;
  let next = 258;
  let prev = -1;
  let op = 0;
  while (bitPos + nbits <= srcBits && op < outLen) {
    const p = bitPos >>> 3;
    const word = (src[p] << 16) | ((p + 1 < src.length ? src[p + 1] : 0) << 8) | (p + 2 < src.length ? src[p + 2] : 0);
    const code = (word >>> (24 - nbits - (bitPos & 7))) & ((1 << nbits) - 1);
    bitPos += nbits;
    if (code === 257) break;
    if (code === 256) { nbits = 9; next = 258; prev = -1; continue; }
    if (prev === -1) {
      if (code > 255) break; // corrupt stream: first code after a clear must be a literal
      out[op++] = code;
      prev = code;
      continue;
    }
    let len: number;
    let firstChar = 0;
    if (code < next) {
      len = lengths[code];
      // Walk the prefix chain backwards, writing from the end of the string.
      let c = code;
      for (let k = len - 1; k >= 0; k--) {
        if (op + k < outLen) out[op + k] = suffix[c];
        firstChar = suffix[c];
        c = prefix[c];
      }
    } else if (code === next) {
      const plen = lengths[prev];
      len = plen + 1;
      let c = prev;
      for (let k = plen - 1; k >= 0; k--) {
        if (op + k < outLen) out[op + k] = suffix[c];
        c = prefix[c];
      }
      firstChar = firstOf(prev, prefix, suffix, lengths);
      if (op + plen < outLen) out[op + plen] = firstChar;
    } else {
      break; // corrupt stream
    }
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = firstChar;
      lengths[next] = lengths[prev] + 1;
      next++;
    }
    op += len;
    prev = code;
    if (next + 1 >= 1 << nbits && nbits < 12) nbits++;
  }
  return Math.min(op, outLen);
}

function firstOf(code: number, prefix: Uint16Array, suffix: Uint8Array, lengths: Uint16Array): number {
  let c = code;
  for (let k = lengths[code] - 1; k > 0; k--) c = prefix[c];
  return suffix[c];
}

/** PackBits run-length decoding. Returns bytes written. */
export function packbitsDecode(src: Uint8Array, out: Uint8Array): number {
  let ip = 0;
  let op = 0;
  const n = src.length;
  const outLen = out.length;
  while (ip < n && op < outLen) {
    const h = src[ip++];
    if (h < 128) {
      const count = Math.min(h + 1, n - ip, outLen - op);
      out.set(src.subarray(ip, ip + count), op);
      ip += h + 1;
      op += count;
    } else if (h > 128) {
      const count = Math.min(257 - h, outLen - op);
      out.fill(src[ip++], op, op + count);
      op += count;
    } // 128: no-op
  }
  return op;
}

/** Swaps bytes of each sample in place (big-endian file to little-endian host). */
export function swapInPlace(bytes: Uint8Array, bytesPerSample: number): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % bytesPerSample));
  if (bytesPerSample === 2) buf.swap16();
  else if (bytesPerSample === 4) buf.swap32();
  else if (bytesPerSample === 8) buf.swap64();
}

/**
 * Undoes horizontal differencing (predictor 2) in place on native-order samples: rows of `rowLength` samples.
 * Integer wrap-around as libtiff does, also for float data (treated as its integer bits).
 */
export function undoHorizontalPredictor(bytes: Uint8Array, bytesPerSample: number, rowLength: number, rows: number): void {
  const n = rowLength * rows;
  if (bytesPerSample === 1) {
    const a = bytes;
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + 1; i < base + rowLength; i++) a[i] = (a[i] + a[i - 1]) & 0xff;
    }
  } else if (bytesPerSample === 2) {
    const a = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + 1; i < base + rowLength; i++) a[i] = a[i] + a[i - 1];
    }
  } else if (bytesPerSample === 4) {
    const a = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + 1; i < base + rowLength; i++) a[i] = a[i] + a[i - 1];
    }
  } else {
    const a = new BigUint64Array(bytes.buffer, bytes.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + 1; i < base + rowLength; i++) a[i] = a[i] + a[i - 1];
    }
  }
}

/**
 * Undoes the floating-point predictor (3) for `rows` rows of `rowLength` samples: byte-wise differencing over the
 * row, then bytes regrouped from most-significant-first planes. Output is little-endian samples for a
 * little-endian file; for a big-endian file the caller swaps afterwards (verified against libtiff's tiffcp -B).
 */
export function undoFloatPredictor(bytes: Uint8Array, bytesPerSample: number, rowLength: number, rows: number): void {
  const rowBytes = rowLength * bytesPerSample;
  const tmp = new Uint8Array(rowBytes);
  for (let r = 0; r < rows; r++) {
    const row = bytes.subarray(r * rowBytes, (r + 1) * rowBytes);
    for (let i = 1; i < rowBytes; i++) row[i] = (row[i] + row[i - 1]) & 0xff;
    tmp.set(row);
    for (let b = 0; b < bytesPerSample; b++) {
      const plane = b * rowLength;
      const dst = bytesPerSample - 1 - b; // plane 0 holds the most significant byte
      for (let i = 0; i < rowLength; i++) row[i * bytesPerSample + dst] = tmp[plane + i];
    }
  }
}
