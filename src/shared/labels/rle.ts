// Run-length encoding of uint8 label data. Labels are sparse (long runs of 0 with a few painted runs), so a
// stroke on a 2048x2048 slice shrinks from megabytes to a few hundred bytes. Format: repeated
// [value: u8][run length: unsigned LEB128 varint, >= 1]. Pure (no DOM, no node), shared by host, webview and tests.

import { StackSegError } from '../errors';

/** Growable output of [value][LEB128 length] runs: the one place the format is written. */
class RunWriter {
  private out = new Uint8Array(64);
  private o = 0;

  put(v: number, length: number): void {
    // A run takes at most 6 bytes (value + 5 varint bytes for a 32-bit length).
    if (this.o + 6 > this.out.length) {
      const bigger = new Uint8Array(this.out.length * 2);
      bigger.set(this.out);
      this.out = bigger;
    }
    this.out[this.o++] = v;
    let len = length;
    while (len >= 0x80) {
      this.out[this.o++] = (len & 0x7f) | 0x80;
      len = Math.floor(len / 128);
    }
    this.out[this.o++] = len;
  }

  bytes(): Uint8Array {
    return this.out.slice(0, this.o);
  }
}

/** Encodes `data` (any length, 0 allowed) into runs. */
export function encodeRle(data: Uint8Array): Uint8Array {
  return encodeBoxRle(data, data.length, { x: 0, y: 0, width: data.length, height: 1 });
}

/** The runs of an RLE buffer, validated: run k is lengths[k] copies of values[k] (count runs in all). */
export interface RleRuns {
  values: Uint8Array;
  lengths: Uint32Array;
  count: number;
}

/**
 * Parses runs without expanding them (O(runs), so a patch of a big box is applied with fills), checking that they
 * hold exactly n values; throws on corrupt data before the caller writes anything.
 */
export function decodeRuns(rle: Uint8Array, n: number): RleRuns {
  // Each run takes at least 2 bytes.
  const values = new Uint8Array(rle.length >> 1);
  const lengths = new Uint32Array(rle.length >> 1);
  let count = 0;
  let o = 0;
  let i = 0;
  while (i < rle.length) {
    const v = rle[i++];
    let len = 0;
    let shift = 0;
    for (;;) {
      if (i >= rle.length) throw rleError('ends inside a run length');
      const b = rle[i++];
      len += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw rleError('has a run length longer than 5 bytes');
    }
    if (len === 0) throw rleError('has a run of length 0');
    if (o + len > n) throw rleError(`holds more than the ${n} values expected`);
    values[count] = v;
    lengths[count++] = len;
    o += len;
  }
  if (o !== n) throw rleError(`holds ${o} values, expected ${n}`);
  return { values, lengths, count };
}

/** n copies of value v (n >= 1), encoded. */
export function constantRle(v: number, n: number): Uint8Array {
  const w = new RunWriter();
  w.put(v, n);
  return w.bytes();
}

/** Sum of the run lengths (the number of values). */
export function runsTotal(runs: RleRuns): number {
  let n = 0;
  for (let k = 0; k < runs.count; k++) n += runs.lengths[k];
  return n;
}

/**
 * The stretches a patch writes, as visit(start, length, value) with start counted in values from the beginning:
 * every run of `to`; or, given `from` (the values the patch replaces, same total), only where from and to differ.
 * O(runs of both), never per value, so undoing a stroke costs what it changed, not the area of its box.
 */
export function forEachPatchRun(to: RleRuns, from: RleRuns | undefined, visit: (start: number, length: number, value: number) => void): void {
  if (!from) {
    for (let k = 0, p = 0; k < to.count; p += to.lengths[k++]) visit(p, to.lengths[k], to.values[k]);
    return;
  }
  let a = 0, b = 0; // run indices in from, to
  let leftA = from.lengths[0] ?? 0, leftB = to.lengths[0] ?? 0;
  let p = 0;
  let pending = -1, pendingLen = 0, pendingValue = 0; // merges neighbouring stretches of one value
  while (a < from.count && b < to.count) {
    const len = Math.min(leftA, leftB);
    const v = to.values[b];
    if (from.values[a] !== v) {
      if (pending >= 0 && pending + pendingLen === p && pendingValue === v) pendingLen += len;
      else {
        if (pending >= 0) visit(pending, pendingLen, pendingValue);
        pending = p;
        pendingLen = len;
        pendingValue = v;
      }
    }
    p += len;
    leftA -= len;
    leftB -= len;
    if (leftA === 0) leftA = from.lengths[++a] ?? 0;
    if (leftB === 0) leftB = to.lengths[++b] ?? 0;
  }
  if (pending >= 0) visit(pending, pendingLen, pendingValue);
}

/** Decodes runs into `out` (exactly out.length values, or throws). */
export function decodeRleInto(rle: Uint8Array, out: Uint8Array): void {
  const { values, lengths, count } = decodeRuns(rle, out.length);
  for (let k = 0, o = 0; k < count; o += lengths[k++]) out.fill(values[k], o, o + lengths[k]);
}

/**
 * Encodes the values of a box (columns x..x+width-1, rows y..y+height-1) of a row-major image `src` of row
 * length `stride`, without copying the box out: the same bytes as encodeRle of the cropped box.
 */
export function encodeBoxRle(src: Uint8Array, stride: number, box: { x: number; y: number; width: number; height: number }): Uint8Array {
  const w = new RunWriter();
  let v = -1;
  let len = 0;
  // Runs continue across row ends: the box is encoded as if it were cropped out first.
  for (let r = 0; r < box.height; r++) {
    const start = (box.y + r) * stride + box.x;
    const end = start + box.width;
    let i = start;
    while (i < end) {
      const u = src[i];
      let j = i + 1;
      while (j < end && src[j] === u) j++;
      if (u === v) len += j - i;
      else {
        if (len > 0) w.put(v, len);
        v = u;
        len = j - i;
      }
      i = j;
    }
  }
  if (len > 0) w.put(v, len);
  return w.bytes();
}

export function decodeRle(rle: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  decodeRleInto(rle, out);
  return out;
}

function rleError(what: string): StackSegError {
  return new StackSegError(`run-length encoded labels ${what}`, { hint: 'the edit or backup is corrupt; it was not applied' });
}

/** Standard base64 without depending on Buffer (webview) or btoa limits on large inputs. */
export function bytesToBase64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=') + '=';
  }
  return s;
}

export function base64ToBytes(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new StackSegError('invalid base64 in saved labels', { hint: 'the backup is corrupt; it was not applied' });
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lookup = new Uint8Array(128);
  for (let k = 0; k < 64; k++) lookup[alphabet.charCodeAt(k)] = k;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n = (lookup[s.charCodeAt(i)] << 18) | (lookup[s.charCodeAt(i + 1)] << 12) | (lookup[s.charCodeAt(i + 2)] << 6) | lookup[s.charCodeAt(i + 3)];
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
