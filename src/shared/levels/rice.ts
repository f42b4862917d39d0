// Lossless coder for 16-bit integer images (uint16, int16), the level codec's transform 3 (codec.ts). Deflate on
// byte planes codes a noisy CT level at ~7.7 bits per pixel; this one at ~7 (bench/level_codec.mjs), and in a
// quarter of deflate's time, both ways, in plain JS (the webview decodes it without DecompressionStream).
//   - prediction: the mean of the left and upper neighbours, taken as left + half their difference modulo 2^16, so
//     it is the same for int16 and uint16 bit patterns (no signedness needed) while neighbours differ by < 32768;
//   - the residual (modulo 2^16, as int16) is zigzag mapped (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...) and Rice coded
//     with k from the residuals of the four causal neighbours (left, up-left, up, up-right), as LOCO-I does;
//   - where those four are all 0 (a flat region, outside a CT's field of view) a run of zero residuals to the end of
//     the row is coded as one Elias-gamma number;
//   - a quotient of ESCAPE or more is written as ESCAPE zeros and the 16 bits (edges never cost more than 41 bits).
// Stream: uint32 LE pixel count, then the bits, most significant first, zero-padded to a whole byte.

const ESCAPE = 24; // < 25, the fewest bits the reader holds after a refill
const MAX_K = 15;

/**
 * Rice-coded `px` (rows of `width`); undefined when that would be `maxBytes` or more (by default the raw size:
 * pure noise does not shrink). Infinity: always coded (at most ~6 bytes per pixel).
 * The bit writer is inlined (local variables, not closures): this loop runs once per pixel.
 */
export function riceEncode(px: Uint16Array, width: number, maxBytes = px.length * 2): Uint8Array | undefined {
  const n = px.length;
  const limit = Math.min(maxBytes, n * 6 + 16);
  const out = new Uint8Array(limit + 32);
  new DataView(out.buffer).setUint32(0, n, true);
  let o = 4;
  let acc = 0; // pending bits in the low `nb` bits (nb <= 7 between writes)
  let nb = 0;
  let prev = new Int32Array(width + 2); // zigzag residuals of the row above, padded by one on each side
  let cur = new Int32Array(width + 2);
  for (let row = 0, i = 0; i < n; row++) {
    if (o > limit) return undefined;
    const end = Math.min(n, i + width);
    for (let x = 1; i < end; x++, i++) {
      const c = cur[x - 1] + prev[x - 1] + prev[x] + prev[x + 1];
      if (c === 0) { // run mode: zero residuals to the end of the row, as an Elias-gamma number r + 1
        let r = 0;
        while (i + r < end && px[i + r] === predict(px, i + r, x + r - 1, row, width)) r++;
        const v = r + 1;
        const bits = 31 - Math.clz32(v);
        for (let zc = bits; zc > 0;) { const w = Math.min(zc, 16); acc <<= w; nb += w; zc -= w; while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; } }
        if (bits >= 16) {
          acc = (acc << (bits - 15)) | (v >>> 16); nb += bits - 15;
          while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; }
          acc = (acc << 16) | (v & 0xffff); nb += 16;
        } else {
          acc = (acc << (bits + 1)) | v; nb += bits + 1;
        }
        while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; }
        for (let j = 0; j < r; j++) cur[x + j] = 0;
        i += r;
        x += r;
        if (i >= end) break;
      }
      const d = (px[i] - predict(px, i, x - 1, row, width)) << 16 >> 16; // int16 residual
      const z = (d << 1) ^ (d >> 31);
      cur[x] = z;
      const k = kFor(c);
      const q = z >>> k;
      if (q >= ESCAPE) { // ESCAPE zeros, then the 16 bits
        acc <<= 16; nb += 16;
        while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; }
        acc = (acc << (ESCAPE - 16)) ; nb += ESCAPE - 16;
        while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; }
        acc = (acc << 16) | z; nb += 16;
      } else { // q zeros and a 1 (q + 1 <= 24 bits), then the k low bits
        acc = (acc << (q + 1)) | 1; nb += q + 1;
        while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; }
        if (k > 0) { acc = (acc << k) | (z & ((1 << k) - 1)); nb += k; }
      }
      while (nb >= 8) { nb -= 8; out[o++] = (acc >>> nb) & 0xff; }
    }
    [prev, cur] = [cur, prev];
  }
  if (nb > 0) out[o++] = (acc << (8 - nb)) & 0xff;
  return o >= limit ? undefined : out.slice(0, o);
}

/** Decodes riceEncode's stream into `px` (rows of `width`); throws when the stream is short or malformed. */
export function riceDecode(coded: Uint8Array, width: number, px: Uint16Array): void {
  if (coded.length < 4) throw new Error('coded level has no pixel count');
  const n = new DataView(coded.buffer, coded.byteOffset, coded.byteLength).getUint32(0, true);
  if (n !== px.length) throw new Error(`coded level has ${n} pixels, expected ${px.length}`);
  const len = coded.length;
  const src = new Uint8Array(len + 16); // zero padded: the reader refills ahead without bounds tests
  src.set(coded);
  let p = 4;
  let acc = 0; // unread bits in the low `nb` bits; 25..32 after a refill
  let nb = 0;
  let prev = new Int32Array(width + 2);
  let cur = new Int32Array(width + 2);
  for (let row = 0, i = 0; i < n; row++) {
    if (p > len + 8) throw new Error('coded level ends early');
    const end = Math.min(n, i + width);
    for (let x = 1; i < end; x++, i++) {
      const c = cur[x - 1] + prev[x - 1] + prev[x] + prev[x + 1];
      if (c === 0) {
        let bits = 0;
        for (;;) {
          while (nb <= 24) { acc = (acc << 8) | src[p++]; nb += 8; }
          const lz = Math.clz32(acc << (32 - nb));
          if (lz < nb) { bits += lz; nb -= lz; break; }
          bits += nb;
          nb = 0;
          if (bits > 30 || p > len + 8) throw new Error('coded level has a bad run length');
        }
        if (bits > 30) throw new Error('coded level has a bad run length');
        while (nb <= 24) { acc = (acc << 8) | src[p++]; nb += 8; }
        let v: number;
        if (bits >= 16) {
          nb -= bits - 15;
          v = ((acc >>> nb) & ((1 << (bits - 15)) - 1)) * 65536;
          while (nb <= 24) { acc = (acc << 8) | src[p++]; nb += 8; }
          nb -= 16;
          v += (acc >>> nb) & 0xffff;
        } else {
          nb -= bits + 1;
          v = (acc >>> nb) & ((1 << (bits + 1)) - 1);
        }
        const r = v - 1;
        if (r < 0 || i + r > end) throw new Error('coded level has a run past the end of a row');
        for (let j = 0; j < r; j++, i++, x++) { px[i] = predict(px, i, x - 1, row, width); cur[x] = 0; }
        if (i >= end) break;
      }
      const k = kFor(c);
      while (nb <= 24) { acc = (acc << 8) | src[p++]; nb += 8; }
      const lz = Math.clz32(acc << (32 - nb)); // nb >= 25 > ESCAPE: an escape shows as lz >= ESCAPE
      let z: number;
      if (lz >= ESCAPE) {
        nb -= ESCAPE;
        while (nb <= 24) { acc = (acc << 8) | src[p++]; nb += 8; }
        nb -= 16;
        z = (acc >>> nb) & 0xffff;
      } else {
        nb -= lz + 1; // the quotient and the 1 that ends it
        if (k > 0) {
          while (nb <= 24) { acc = (acc << 8) | src[p++]; nb += 8; }
          nb -= k;
          z = (lz << k) | ((acc >>> nb) & ((1 << k) - 1));
        } else z = lz;
      }
      cur[x] = z;
      const d = (z >>> 1) ^ -(z & 1);
      px[i] = (predict(px, i, x - 1, row, width) + d) & 0xffff;
    }
    [prev, cur] = [cur, prev];
  }
  if (p * 8 - nb > len * 8) throw new Error('coded level ends early');
}

/** Mean of the left and upper neighbour of pixel i (column x of `row`), modulo 2^16; the first row/column use what they have. */
function predict(px: Uint16Array, i: number, x: number, row: number, width: number): number {
  if (row === 0) return x === 0 ? 0 : px[i - 1];
  const u = px[i - width];
  if (x === 0) return u;
  const l = px[i - 1];
  return (l + (((u - l) << 16 >> 16) >> 1)) & 0xffff;
}

/**
 * Rice parameter from the sum of four neighbouring zigzag residuals (about 8 x their mean |residual|): about
 * log2(mean |residual|) + 1.25, the best on CT-like and foam levels (k one too large costs a bit, one too small
 * doubles the unary part).
 */
function kFor(c: number): number {
  const v = (c * 304) >>> 10; // c / 8 * 2^1.25
  return v === 0 ? 0 : Math.min(MAX_K, 31 - Math.clz32(v));
}
