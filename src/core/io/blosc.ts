// Blosc 1 frames (python3-zarr's default compressor): LZ4 blocks decoded by a small WebAssembly module (lz4.wat,
// ~3x the plain JavaScript decoder below, which stays as the fallback) and byte shuffle undone in JavaScript
// straight into the output. numcodecs' Emscripten Blosc goes through embind copies and runs several times slower
// than the C library. Frames this does not handle (bitshuffle, zstd/zlib/snappy/blosclz inside Blosc) return
// undefined so the caller falls back to numcodecs.

import { LZ4_WASM_BASE64 } from './lz4Wasm';

const MEMCPYED = 0x2, DOSHUFFLE = 0x1, DOBITSHUFFLE = 0x4, DONT_SPLIT = 0x10, FUTURE = 0x08;
const LZ4_FORMAT = 1;
const MAX_SPLITS = 16, MIN_BUFFERSIZE = 128;

export class BloscError extends Error {}

interface Lz4Wasm { memory: WebAssembly.Memory; lz4(ip: number, iend: number, op: number, oend: number): number; unshuffle2(src: number, n: number, dst: number): void }
let wasm: Lz4Wasm | null | undefined;
/** Tests turn this off to check the JavaScript decoder. */
export const bloscOptions = { wasm: true };

function lz4Wasm(): Lz4Wasm | null {
  if (wasm === undefined) {
    try {
      wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(LZ4_WASM_BASE64, 'base64')), {}).exports as unknown as Lz4Wasm;
    } catch { wasm = null; }
  }
  return bloscOptions.wasm ? wasm : null;
}

/** Slack after each region: the WebAssembly decoder copies in 8-byte words and may write or read past the end. */
const SLACK = 64;

/** Decodes a Blosc 1 frame, or returns undefined when the frame uses what this decoder does not implement. */
export function bloscDecode(src: Uint8Array, out?: Uint8Array): Uint8Array | undefined {
  if (src.length < 16) throw new BloscError('Blosc frame shorter than its 16-byte header');
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const version = src[0], flags = src[2], typesize = src[3];
  const nbytes = dv.getInt32(4, true), blocksize = dv.getInt32(8, true), cbytes = dv.getInt32(12, true);
  if (version > 2 || flags & FUTURE) return undefined;
  if (cbytes > src.length || nbytes < 0) throw new BloscError(`Blosc frame says ${cbytes} bytes but holds ${src.length}`);
  const dest = out ?? new Uint8Array(nbytes);
  if (dest.length < nbytes) throw new BloscError('Blosc output buffer too small');
  if (nbytes === 0) return dest.subarray(0, 0);
  if (flags & MEMCPYED) {
    if (16 + nbytes > src.length) throw new BloscError('Blosc stored frame is truncated');
    dest.set(src.subarray(16, 16 + nbytes));
    return dest.subarray(0, nbytes);
  }
  if (flags & DOBITSHUFFLE || (flags >> 5) !== LZ4_FORMAT) return undefined;
  if (blocksize <= 0 || typesize <= 0) throw new BloscError('Blosc frame has a bad block size');
  const shuffle = (flags & DOSHUFFLE) !== 0 && typesize > 1;
  const dontSplit = (flags & DONT_SPLIT) !== 0;
  const nblocks = Math.ceil(nbytes / blocksize);
  if (16 + 4 * nblocks > cbytes) throw new BloscError('Blosc frame is truncated (block starts)');
  const frame: Frame = { dv, cbytes, nbytes, blocksize, typesize, nblocks, dontSplit };
  const w = lz4Wasm();
  if (w) return decodeWasm(w, src, dest, frame, shuffle);
  const tmp = shuffle ? new Uint8Array(blocksize) : undefined;
  for (let j = 0; j < nblocks; j++) {
    const target = shuffle ? tmp! : dest;
    const bsize = blockSplits(frame, j, shuffle ? 0 : j * blocksize, (ip, cb, op, n) => {
      if (cb === n) target.set(src.subarray(ip, ip + cb), op);
      else if (lz4Block(src, ip, ip + cb, target, op, op + n) !== n) throw new BloscError('LZ4 block decoded to the wrong size');
    });
    if (shuffle) unshuffle(tmp!, bsize, typesize, dest, j * blocksize);
  }
  return dest.subarray(0, nbytes);
}

/** What the block loop needs of a frame's header. */
interface Frame { dv: DataView; cbytes: number; nbytes: number; blocksize: number; typesize: number; nblocks: number; dontSplit: boolean }

/**
 * Walks the splits of block j (one per byte of the type when split, else one): checks each split's place in the
 * frame and calls put(ip, cb, op, n) to decode the cb bytes at ip into n bytes at op (from op0). Returns the block's
 * decoded size.
 */
function blockSplits(f: Frame, j: number, op0: number, put: (ip: number, cb: number, op: number, n: number) => void): number {
  const { dv, cbytes, nbytes, blocksize, typesize } = f;
  const leftover = j === f.nblocks - 1 && nbytes % blocksize !== 0;
  const bsize = leftover ? nbytes % blocksize : blocksize;
  const nsplits = !f.dontSplit && typesize <= MAX_SPLITS && blocksize / typesize >= MIN_BUFFERSIZE && !leftover ? typesize : 1;
  const neblock = Math.floor(bsize / nsplits);
  let op = op0;
  let ip = dv.getInt32(16 + 4 * j, true);
  for (let s = 0; s < nsplits; s++) {
    if (ip < 0 || ip + 4 > cbytes) throw new BloscError('Blosc block offset out of range');
    const cb = dv.getInt32(ip, true);
    ip += 4;
    if (cb < 0 || ip + cb > cbytes) throw new BloscError('Blosc split size out of range');
    put(ip, cb, op, neblock);
    ip += cb;
    op += neblock;
  }
  return bsize;
}

/** The block loop with the frame copied into WebAssembly memory, each block decoded there, then moved out. */
function decodeWasm(w: Lz4Wasm, src: Uint8Array, dest: Uint8Array, f: Frame, shuffle: boolean): Uint8Array {
  const { cbytes, nbytes, blocksize, typesize } = f;
  const A = (cbytes + SLACK + 15) & ~15; // the block's decoded bytes go here, after the frame
  const B = (A + blocksize + SLACK + 15) & ~15; // and unshuffled (2-byte types, SIMD) here
  const need = B + blocksize + SLACK;
  if (w.memory.buffer.byteLength < need) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / 65536));
  const mem = new Uint8Array(w.memory.buffer);
  mem.set(src.subarray(0, cbytes), 0);
  for (let j = 0; j < f.nblocks; j++) {
    const bsize = blockSplits(f, j, A, (ip, cb, op, n) => {
      if (cb === n) mem.copyWithin(op, ip, ip + cb);
      else if (w.lz4(ip, ip + cb, op, op + n) !== n) throw new BloscError('LZ4 block decoded to the wrong size');
    });
    if (shuffle && typesize === 2 && bsize % 32 === 0) {
      w.unshuffle2(A, bsize / 2, B);
      dest.set(mem.subarray(B, B + bsize), j * blocksize);
    } else if (shuffle) unshuffle(mem.subarray(A, A + bsize), bsize, typesize, dest, j * blocksize);
    else dest.set(mem.subarray(A, A + bsize), j * blocksize);
  }
  return dest.subarray(0, nbytes);
}

/** Decodes one raw LZ4 block src[ip, iend) into dst[op, oend); returns the bytes written. */
export function lz4Block(src: Uint8Array, ip: number, iend: number, dst: Uint8Array, op: number, oend: number): number {
  const o0 = op;
  while (ip < iend) {
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b;
      do { b = src[ip++]; lit += b; } while (b === 255 && ip < iend);
    }
    if (lit > 0) {
      if (ip + lit > iend || op + lit > oend) throw new BloscError('LZ4 literals run past the block');
      if (lit > 16) dst.set(src.subarray(ip, ip + lit), op);
      else for (let k = 0; k < lit; k++) dst[op + k] = src[ip + k];
      ip += lit;
      op += lit;
    }
    if (ip >= iend) break; // the last sequence has literals only
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b;
      do { b = src[ip++]; len += b; } while (b === 255 && ip < iend);
    }
    let m = op - offset;
    if (offset === 0 || m < o0 || op + len > oend) throw new BloscError('LZ4 match out of range');
    if (offset >= len && len > 32) {
      dst.copyWithin(op, m, m + len);
      op += len;
    } else {
      // Overlapping (run-length) matches copy forward byte by byte.
      const end = op + len;
      while (op < end) dst[op++] = dst[m++];
    }
  }
  return op - o0;
}

/** Byte unshuffle of one block: stream k holds byte k of every element. */
function unshuffle(tmp: Uint8Array, bsize: number, typesize: number, dest: Uint8Array, at: number): void {
  const n = Math.floor(bsize / typesize);
  if (typesize === 2 && n % 2 === 0 && (dest.byteOffset + at) % 4 === 0 && tmp.byteOffset % 2 === 0) {
    // Two elements per step: a 16-bit read from each stream, one 32-bit write (little-endian host).
    const lo = new Uint16Array(tmp.buffer, tmp.byteOffset, n / 2), hi = new Uint16Array(tmp.buffer, tmp.byteOffset + n, n / 2);
    const d32 = new Uint32Array(dest.buffer, dest.byteOffset + at, n / 2);
    for (let k = 0; k < n / 2; k++) {
      const l = lo[k], h = hi[k];
      d32[k] = ((l & 0xff) | ((h & 0xff) << 8) | ((l >> 8) << 16) | ((h >> 8) << 24)) >>> 0;
    }
  } else if (typesize === 2 && (dest.byteOffset + at) % 2 === 0) {
    const d16 = new Uint16Array(dest.buffer, dest.byteOffset + at, n);
    // Little-endian host (every platform VS Code runs on): byte 0 is the low byte.
    for (let i = 0; i < n; i++) d16[i] = tmp[i] | (tmp[n + i] << 8);
  } else if (typesize === 4 && (dest.byteOffset + at) % 4 === 0) {
    const d32 = new Uint32Array(dest.buffer, dest.byteOffset + at, n);
    const n2 = 2 * n, n3 = 3 * n;
    for (let i = 0; i < n; i++) d32[i] = (tmp[i] | (tmp[n + i] << 8) | (tmp[n2 + i] << 16) | (tmp[n3 + i] << 24)) >>> 0;
  } else {
    for (let k = 0; k < typesize; k++) {
      const s = k * n;
      for (let i = 0; i < n; i++) dest[at + i * typesize + k] = tmp[s + i];
    }
  }
  // Bytes past the last whole element are stored unshuffled.
  for (let i = n * typesize; i < bsize; i++) dest[at + i] = tmp[i];
}
