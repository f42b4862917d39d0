// Large-sigma features on a half-resolution grid (FeatureOptions.halfScaleFrom): the cost of a sigma grows with its
// kernel radius, and sigmas 3.5 and 5 were ~70 % of the 2-D bank's time at full resolution.
//
// API
//   HALF_SCALE_PRE                                 sigma of the pre-smoothing before decimation (1 pixel)
//   halfScales(s)                                  kernel sigmas on the half grid for feature sigma s: main, DoG inner,
//                                                  structure-tensor outer
//   halfHalo(opts, bigSigmas)                      full-resolution rows of context that make the half path exact
//                                                  in strips
//   decimate(src, w, h, k, tmp, dst)               pre-smooth (half kernel k) and keep even rows and columns
//   keepEven(src, w, h, dst)                       the even rows and columns of src (after a full-size smoothing)
//   upsample(src, wh, hh, dst, w, h, c, ring, y0?, y1?)   back to w x h: even pixels copied, odd ones by the 4-tap
//                                                  midpoint cubic (-1 9 9 -1)/16, separably; every value times c; only
//                                                  rows y0..y1-1 (default all), into dst from its start
//   upsampleRows(h, hh, make, even, odd, y0?, y1?) upsample's row schedule over a ring of 4 x-upsampled half rows
//
// Why these sigmas: G_s = G_sh * G_pre with sh = sqrt(s^2 - pre^2), and sh on a grid of spacing 2 is sh / 2. The
// DoG's inner Gaussian (0.66 s) goes through the same pre-smoothing; the structure tensor's outer smoothing (0.5 s)
// acts on gradient products made on the half grid, so it is just halved. A derivative on the half grid is per 2
// pixels: order k derivatives scale by 2^-k. Only linear planes are upsampled (derivatives, smoothed tensor
// products): magnitudes and eigenvalues have kinks that interpolation would blur (5-10x the RMS error), so
// featureEngine.ts takes them at full size.
// Aliasing: a Gaussian of sigma 3 passes exp(-11) at the half grid's Nyquist frequency.

import { reflectIndex as reflect } from './filters';
import type { FeatureOptions } from './featureNames';

export const HALF_SCALE_PRE = 1;

export interface SigmaScales { main: number; inner: number; outer: number }

export function halfScales(s: number): SigmaScales {
  const p2 = HALF_SCALE_PRE * HALF_SCALE_PRE;
  return { main: Math.sqrt(s * s - p2) / 2, inner: Math.sqrt((0.66 * s) ** 2 - p2) / 2, outer: 0.25 * s };
}

const radius = (sigma: number, truncate: number) => Math.max(1, Math.floor(truncate * sigma + 0.5)); // = gaussianKernel1d's

/**
 * Context rows (full resolution) for the half path: the pre-smoothing radius, then twice the half grid's chained
 * radius (largest over main, DoG inner, gradient + outer smoothing) and the interpolation's 2 half rows, plus 2 rows of
 * slack for the even window start. Strips verify it against whole slices (features.halfScale.test.ts).
 */
export function halfHalo(opts: FeatureOptions, bigSigmas: readonly number[]): number {
  const t = opts.truncate ?? 4;
  let hs = 0;
  for (const s of bigSigmas) {
    const k = halfScales(s);
    let r = radius(k.main, t);
    if (opts.families.includes('dog')) r = Math.max(r, radius(k.inner, t));
    if (opts.families.includes('structureTensor')) r = Math.max(r, radius(k.main, t) + radius(k.outer, t));
    hs = Math.max(hs, r);
  }
  return 2 * (hs + Math.ceil(radius(HALF_SCALE_PRE, t) / 2) + 3);
}

/**
 * dst (ceil(w/2) x ceil(h/2)) = (k * src) at even rows and columns, reflect borders, sums in double. Row pass over
 * every row into tmp (h x ceil(w/2)), column pass at even rows only.
 */
export function decimate(src: Float32Array, w: number, h: number, k: Float64Array, tmp: Float32Array, dst: Float32Array): void {
  const r = k.length - 1, wh = (w + 1) >> 1, hh = (h + 1) >> 1, c = k[0];
  for (let y = 0; y < h; y++) {
    const row = y * w, o = y * wh;
    for (let xh = 0; xh < wh; xh++) {
      const x = 2 * xh;
      let a = c * src[row + x];
      if (x >= r && x + r < w) for (let j = 1; j <= r; j++) a += k[j] * (src[row + x - j] + src[row + x + j]);
      else for (let j = 1; j <= r; j++) a += k[j] * (src[row + reflect(x - j, w)] + src[row + reflect(x + j, w)]);
      tmp[o + xh] = a;
    }
  }
  for (let yh = 0; yh < hh; yh++) {
    const y = 2 * yh, o = yh * wh;
    for (let xh = 0; xh < wh; xh++) dst[o + xh] = c * tmp[y * wh + xh];
    for (let j = 1; j <= r; j++) {
      const a = reflect(y - j, h) * wh, b = reflect(y + j, h) * wh, kj = k[j];
      for (let xh = 0; xh < wh; xh++) dst[o + xh] += kj * (tmp[a + xh] + tmp[b + xh]);
    }
  }
}

/** dst (ceil(w/2) x ceil(h/2)) = src at even rows and columns. */
export function keepEven(src: Float32Array, w: number, h: number, dst: Float32Array): void {
  const wh = (w + 1) >> 1, hh = (h + 1) >> 1;
  for (let yh = 0; yh < hh; yh++) {
    const s = 2 * yh * w, o = yh * wh;
    for (let xh = 0; xh < wh; xh++) dst[o + xh] = src[s + 2 * xh];
  }
}

/** Row yh of src (wh wide) upsampled along x into out (w wide), times c. */
function upRow(src: Float32Array, wh: number, yh: number, w: number, c: number, out: Float32Array): void {
  const s = yh * wh, q = c * 0.0625;
  const at = (i: number) => src[s + reflect(i, wh)];
  for (let x = 0; x < w; x += 2) out[x] = c * src[s + (x >> 1)];
  for (let x = 1; x < w; x += 2) {
    const i = x >> 1;
    if (i >= 1 && i + 2 < wh) out[x] = q * (9 * (src[s + i] + src[s + i + 1]) - src[s + i - 1] - src[s + i + 2]);
    else out[x] = q * (9 * (at(i) + at(i + 1)) - at(i - 1) - at(i + 2));
  }
}

/**
 * dst (w x h) from src (ceil(w/2) x ceil(h/2)): even rows/columns are the samples, odd ones the (-1 9 9 -1)/16
 * midpoint cubic (reflect at the half grid's borders); values times c. ring: 4 rows of w floats. Rows y0..y1-1 only
 * (a strip's output rows), row y at dst[(y - y0) * w].
 */
export function upsample(src: Float32Array, wh: number, hh: number, dst: Float32Array, w: number, h: number, c: number, ring: Float32Array,
  y0 = 0, y1 = h): void {
  const slot = (k: number) => ring.subarray(k * w, (k + 1) * w);
  upsampleRows(h, hh, (q, k) => upRow(src, wh, q, w, c, slot(k)), (y, k) => dst.set(slot(k), (y - y0) * w), (y, ka, kb, kp, kd) => {
    const o = (y - y0) * w, a = slot(ka), b = slot(kb), p = slot(kp), d = slot(kd);
    for (let x = 0; x < w; x++) dst[o + x] = 0.0625 * (9 * (b[x] + p[x]) - a[x] - d[x]);
  }, y0, y1);
}

/**
 * The row schedule of upsample (here and simd.ts): half row q, upsampled along x, is made once into ring slot q & 3
 * (make); output row y = 2i is slot i's row (even), y = 2i + 1 combines half rows i-1..i+2, reflected into 0..hh-1
 * (odd, with their slots): always among the last four made. Rows y0..y1-1 only: the first half row made is
 * y0 / 2 - 1 (the first that rows from y0 read).
 */
export function upsampleRows(h: number, hh: number, make: (q: number, slot: number) => void, even: (y: number, slot: number) => void,
  odd: (y: number, a: number, b: number, p: number, d: number) => void, y0 = 0, y1 = h): void {
  let made = Math.max(-1, (y0 >> 1) - 2);
  const ring = (i: number) => {
    const q = reflect(i, hh);
    while (made < q) { made++; make(made, made & 3); }
    return q & 3;
  };
  for (let y = y0; y < y1; y++) {
    const i = y >> 1;
    if ((y & 1) === 0) { even(y, ring(i)); continue; }
    const d = ring(i + 2), p = ring(i + 1), b = ring(i), a = ring(i - 1);
    odd(y, a, b, p, d);
  }
}
