// Decoders for the TIFF compressions and predictors StackSeg reads. Small and allocation-free where it matters:
// they write into a caller-given buffer of the expected chunk size.
import { promisify } from 'node:util';
import { inflate, inflateRaw, inflateSync, inflateRawSync } from 'node:zlib';
import { ZSTDDecoder } from 'zstddec';

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
 * Undoes horizontal differencing (predictor 2) in place on native-order samples: rows of `rowLength` samples,
 * each sample adding the one `stride` samples before it (stride = samples per pixel). Integer wrap-around as
 * libtiff does, also for float data (treated as its integer bits).
 */
export function undoHorizontalPredictor(bytes: Uint8Array, bytesPerSample: number, rowLength: number, rows: number, stride = 1): void {
  // One loop per sample size: a loop over a union of array types is several times slower (polymorphic access).
  const n = rowLength * rows;
  if (bytesPerSample === 1) {
    const a = bytes;
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + stride; i < base + rowLength; i++) a[i] = (a[i] + a[i - stride]) & 0xff;
    }
  } else if (bytesPerSample === 2) {
    const a = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + stride; i < base + rowLength; i++) a[i] = a[i] + a[i - stride];
    }
  } else if (bytesPerSample === 4) {
    const a = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + stride; i < base + rowLength; i++) a[i] = a[i] + a[i - stride];
    }
  } else {
    const a = new BigUint64Array(bytes.buffer, bytes.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLength;
      for (let i = base + stride; i < base + rowLength; i++) a[i] = a[i] + a[i - stride];
    }
  }
}

/**
 * Undoes the floating-point predictor (3) for `rows` rows of `rowLength` samples: byte-wise differencing over the
 * row, then bytes regrouped from most-significant-first planes. Output is little-endian samples for a
 * little-endian file; for a big-endian file the caller swaps afterwards (verified against libtiff's tiffcp -B).
 */
export function undoFloatPredictor(bytes: Uint8Array, bytesPerSample: number, rowLength: number, rows: number, stride = 1): void {
  const rowBytes = rowLength * bytesPerSample;
  const tmp = new Uint8Array(rowBytes);
  for (let r = 0; r < rows; r++) {
    const row = bytes.subarray(r * rowBytes, (r + 1) * rowBytes);
    for (let i = stride; i < rowBytes; i++) row[i] = (row[i] + row[i - stride]) & 0xff;
    tmp.set(row);
    for (let b = 0; b < bytesPerSample; b++) {
      const plane = b * rowLength;
      const dst = bytesPerSample - 1 - b; // plane 0 holds the most significant byte
      for (let i = 0; i < rowLength; i++) row[i * bytesPerSample + dst] = tmp[plane + i];
    }
  }
}

let zstd: Promise<ZSTDDecoder> | undefined;

/**
 * Zstandard (TIFF compression 50000, and 34926 as some writers number it), by zstddec (libzstd in WebAssembly):
 * measured 39 us per 8 KB strip against 370 us for the pure-JS fzstd. Instantiated on the first ZSTD file.
 */
export async function zstdDecoder(): Promise<(src: Uint8Array, expectedBytes: number) => Uint8Array> {
  zstd ??= (async () => { const d = new ZSTDDecoder(); await d.init(); return d; })();
  const d = await zstd;
  return (src, expectedBytes) => d.decode(src, expectedBytes);
}

const REVERSED = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let r = 0;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) r |= 0x80 >> b;
  REVERSED[i] = r;
}

/** FillOrder 2: bits stored lowest first in every byte. Reversed in place, before any decompression (libtiff). */
export function reverseBits(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = REVERSED[bytes[i]];
}

const F16_EXP = new Float32Array(32);
for (let e = 0; e < 32; e++) F16_EXP[e] = 2 ** (e - 15);

/** IEEE half floats (already in host byte order) to float32: exact, including subnormals, infinities and NaN. */
export function halfToFloat(src: Uint16Array, dst: Float32Array, stride = 1, offset = 0): void {
  for (let i = 0, j = offset; i < dst.length; i++, j += stride) {
    const h = src[j];
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 31;
    const m = h & 1023;
    dst[i] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * F16_EXP[e] * (1 + m / 1024);
  }
}

/**
 * Unpacks `bits`-bit unsigned samples (1..32, MSB first, every row starting on a byte boundary) of sample `sample`
 * of `samples` interleaved ones into dst (one value per pixel, rows of `width`).
 */
export function unpackBits(src: Uint8Array, bits: number, width: number, rows: number, samples: number, sample: number, dst: Uint8Array | Uint16Array | Uint32Array): void {
  const rowBits = Math.ceil((width * samples * bits) / 8) * 8;
  for (let r = 0; r < rows; r++) {
    let pos = r * rowBits + sample * bits;
    const o = r * width;
    for (let x = 0; x < width; x++, pos += samples * bits) {
      let v = 0;
      let p = pos;
      let left = bits;
      while (left > 0) {
        const byte = src[p >>> 3];
        const avail = 8 - (p & 7);
        const take = Math.min(avail, left);
        v = v * (1 << take) + ((byte >>> (avail - take)) & ((1 << take) - 1));
        p += take;
        left -= take;
      }
      dst[o + x] = v;
    }
  }
}
