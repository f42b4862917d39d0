// Fast filter-bank engine behind bank.ts computeFeatures: one slice size, scratch buffers reused across slices.
//
// API
//   new FeatureEngine(width, height, opts)       opts already validated (see bank.ts)
//   engine.compute(slice, select, out, rows?)    writes the planes of the feature indices in `select` (indices into
//                                                featureNames(opts)) into out, in select order, feature-major; with
//                                                rows {from, to}, only those rows are exact (a strip's output rows:
//                                                the rest of each plane is left undefined)
//
// Why it is fast:
// - JS path: every separable pass is a ROW pass that writes its output transposed (dstT[x * h + y]); two of them give the 2-D
//   result back in the original orientation. A row pass keeps its sum in a register over all taps (no strided reads,
//   no read-modify-write of the output per tap), and the reflect border is padded once per row.
// - Gaussian kernels of one sigma (orders 0, 1, 2) share the radius: one pass over a row serves all of them, and
//   symmetric/antisymmetric kernels use p[m-o] + p[m+o] / p[m-o] - p[m+o] (half the multiplications). Per sigma:
//   3 row passes + 6 column passes give g, gx, gy, gxx, gyy, gxy, with the loads of each pass shared.
// - Only what the selected features need is computed (prediction computes only features the forest splits on).
// - With WebAssembly SIMD (simd.ts, widths that are a multiple of 4) the passes run 4 pixels per instruction, in the
//   original orientation; otherwise in JS as transposed row passes.
// Values equal the separate-pass filters (filters.ts) to float32 rounding (JS sums in double, SIMD in float32).
//   new FeatureEngine(width, height, opts, { simd: false })   forces the JS passes (tests)
// - opts.halfScaleFrom > 0: sigmas >= it run on a 2x-decimated grid (halfScale.ts) by a second engine, then are
//   upsampled; ~1/8 of their full-resolution cost. The other sigmas (and 'raw') stay exact.

import { gaussianKernel1d, reflectIndex as reflect } from './filters';
import { SimdConvolver } from './simd';
import { featureNames, type FeatureFamily, type FeatureOptions } from './featureNames';
import { decimate, halfScales, keepEven, HALF_SCALE_PRE, upsample, type SigmaScales } from './halfScale';

/** Scratch planes: 0-2 first-pass results (SIMD: the convolver's pass planes, padded rows), 3-8 derivatives, 9-11
 * structure-tensor work; SIMD only: 12 the slice, 13-14 point-wise results (copied out). */
const SCRATCH_PLANES = 15;
const SLICE_PLANE = 12, OUT_A = 13, OUT_B = 14, PASS_PLANES = 3;
type Kernels3 = [Float64Array | null, Float64Array | null, Float64Array | null];
type Outs3 = [Float32Array | null, Float32Array | null, Float32Array | null];

interface SigmaKernels { r: number; k0: Float64Array; k1: Float64Array; k2: Float64Array }

/** Half kernel h[o] = k[r + o], o = 0..r, in double. */
function half(k: Float32Array): Float64Array {
  const r = (k.length - 1) >> 1;
  return Float64Array.from({ length: r + 1 }, (_, o) => k[r + o]);
}

function kernelsFor(sigma: number, truncate: number): SigmaKernels {
  const k0 = gaussianKernel1d(sigma, 0, truncate);
  return { r: (k0.length - 1) >> 1, k0: half(k0), k1: half(gaussianKernel1d(sigma, 1, truncate)), k2: half(gaussianKernel1d(sigma, 2, truncate)) };
}

/**
 * Row pass with transposed output over an image of `rows` rows of `len` values: for every row y and column x,
 *   symA/symB (symmetric kernels):      dst[x * rows + y] = h[0] p[x] + sum_o h[o] (p[x-o] + p[x+o])
 *   anti (antisymmetric kernel):        dst[x * rows + y] =             sum_o h[o] (p[x-o] - p[x+o])
 * Any of the three may be null (then its destination is ignored).
 */
function passT(src: Float32Array, len: number, rows: number, r: number, pad: Float64Array,
  symA: Float64Array | null, dstA: Float32Array | null, symB: Float64Array | null, dstB: Float32Array | null,
  anti: Float64Array | null, dstC: Float32Array | null): void {
  if (!symA && symB) { symA = symB; dstA = dstB; symB = null; dstB = null; }
  for (let y = 0; y < rows; y++) {
    const row = y * len;
    for (let i = 0; i < r; i++) { pad[i] = src[row + reflect(i - r, len)]; pad[len + r + i] = src[row + reflect(len + i, len)]; }
    for (let x = 0; x < len; x++) pad[x + r] = src[row + x];
    if (symA && !symB && !anti) {
      // Plain smoothing: the common case, kept lean.
      const c = symA[0];
      for (let x = 0; x < len; x++) {
        const m = x + r;
        let a = c * pad[m];
        for (let o = 1; o <= r; o++) a += symA[o] * (pad[m - o] + pad[m + o]);
        dstA![x * rows + y] = a;
      }
    } else if (symA && symB && anti) {
      const ca = symA[0], cb = symB[0];
      for (let x = 0; x < len; x++) {
        const m = x + r;
        const pm = pad[m];
        let a = ca * pm, b = cb * pm, d = 0;
        for (let o = 1; o <= r; o++) {
          const lo = pad[m - o], hi = pad[m + o];
          const s = lo + hi;
          a += symA[o] * s; b += symB[o] * s; d += anti[o] * (lo - hi);
        }
        const t = x * rows + y;
        dstA![t] = a; dstB![t] = b; dstC![t] = d;
      }
    } else if (symA && anti && !symB) {
      const ca = symA[0];
      for (let x = 0; x < len; x++) {
        const m = x + r;
        let a = ca * pad[m], d = 0;
        for (let o = 1; o <= r; o++) { const lo = pad[m - o], hi = pad[m + o]; a += symA[o] * (lo + hi); d += anti[o] * (lo - hi); }
        const t = x * rows + y;
        dstA![t] = a; dstC![t] = d;
      }
    } else if (symA && symB) {
      const ca = symA[0], cb = symB[0];
      for (let x = 0; x < len; x++) {
        const m = x + r;
        const pm = pad[m];
        let a = ca * pm, b = cb * pm;
        for (let o = 1; o <= r; o++) { const s = pad[m - o] + pad[m + o]; a += symA[o] * s; b += symB[o] * s; }
        const t = x * rows + y;
        dstA![t] = a; dstB![t] = b;
      }
    } else if (anti) {
      for (let x = 0; x < len; x++) {
        const m = x + r;
        let d = 0;
        for (let o = 1; o <= r; o++) d += anti[o] * (pad[m - o] - pad[m + o]);
        dstC![x * rows + y] = d;
      }
    }
  }
}

/** Kernel sigmas of feature sigma s at full resolution: as ilastik, DoG inner 0.66 s, structure-tensor outer 0.5 s. */
const exactScales = (s: number): SigmaScales => ({ main: s, inner: 0.66 * s, outer: 0.5 * s });

/** The half-grid path: its engine, the pre-smoothing kernel and buffers (see computeHalf). */
interface HalfPath { engine: FeatureEngine; pre: Float64Array; tmp: Float32Array; dec: Float32Array; ring: Float32Array }

/** What one sigma needs, derived from the selected feature families. */
interface SigmaNeeds { g: boolean; gx: boolean; gy: boolean; gxx: boolean; gyy: boolean; gxy: boolean; dog: boolean; st: boolean }

export class FeatureEngine {
  private readonly n: number;
  private readonly names: string[];
  private readonly pad: Float64Array;
  private readonly planes: Float32Array[] = [];
  private readonly kernels = new Map<number, SigmaKernels>();
  private readonly truncate: number;
  private readonly scales: (s: number) => SigmaScales;
  /** Sigmas computed here at full resolution; the rest go through `half`. */
  private readonly sigmas: number[];
  private readonly half: HalfPath | null = null;
  /** Rows of context the full-size sigmas need around wanted rows (largest chained radius: see strips.ts). */
  private readonly fullHalo: number = 0;
  /** Rows lo..hi-1: what scratch() views and the passes cover (compute's rows and their context; else all). */
  private lo = 0;
  private hi: number;

  private readonly simd: SimdConvolver | null;

  /** engineOpts.scales: kernel sigmas per feature sigma (the half-grid engine's, from halfScale.ts). */
  constructor(readonly width: number, readonly height: number, readonly opts: FeatureOptions,
    engineOpts: { simd?: boolean; scales?: (s: number) => SigmaScales } = {}) {
    this.n = width * height;
    this.hi = height;
    this.names = featureNames(opts);
    this.truncate = opts.truncate ?? 4;
    this.scales = engineOpts.scales ?? exactScales;
    const cut = opts.halfScaleFrom ?? 0;
    this.sigmas = opts.sigmas.filter((s) => !(cut > 0 && s >= cut));
    if (this.sigmas.length < opts.sigmas.length) {
      const wh = (width + 1) >> 1, hh = (height + 1) >> 1;
      const big = { ...opts, raw: false, sigmas: opts.sigmas.filter((s) => s >= cut), halfScaleFrom: 0 };
      const engine = new FeatureEngine(wh, hh, big, { simd: engineOpts.simd, scales: halfScales });
      this.half = {
        engine, pre: this.kernelsOf(HALF_SCALE_PRE).k0,
        tmp: new Float32Array(height * wh), dec: new Float32Array(wh * hh), ring: new Float32Array(4 * width),
      };
    }
    let maxR = this.half ? this.kernelsOf(HALF_SCALE_PRE).r : 1;
    for (const s of this.sigmas) for (const t of Object.values(this.scales(s))) maxR = Math.max(maxR, this.kernelsOf(t).r);
    for (const s of this.sigmas) {
      const sc = this.scales(s), rm = this.kernelsOf(sc.main).r;
      this.fullHalo = Math.max(this.fullHalo, rm, this.kernelsOf(sc.inner).r, rm + this.kernelsOf(sc.outer).r);
    }
    this.pad = new Float64Array(Math.max(width, height) + 2 * maxR);
    this.simd = (engineOpts.simd ?? true) ? SimdConvolver.create(width, height, SCRATCH_PLANES, maxR, this.half !== null, PASS_PLANES) : null;
  }

  /** True when the passes run in WebAssembly SIMD (else in JS). */
  get usesSimd(): boolean { return this.simd !== null; }

  private kernelsOf(sigma: number): SigmaKernels {
    let k = this.kernels.get(sigma);
    if (!k) { k = kernelsFor(sigma, this.truncate); this.kernels.set(sigma, k); }
    return k;
  }

  /** Scratch plane i, rows lo..hi-1 (allocated on first use, then reused for every slice; in WebAssembly memory with SIMD). */
  private scratch(i: number): Float32Array {
    const p = this.whole(i), stride = this.simd && i < PASS_PLANES ? this.simd.passStride : this.width;
    return this.lo === 0 && this.hi === this.height ? p : p.subarray(this.lo * stride, this.hi * stride);
  }

  /** Scratch plane i, every row. */
  private whole(i: number): Float32Array {
    if (this.simd) return this.simd.plane(i);
    while (this.planes.length <= i) this.planes.push(new Float32Array(this.n));
    return this.planes[i];
  }

  /** First (x) pass: kernels [symmetric, symmetric, antisymmetric] share loads; null outputs are skipped. */
  private rows(src: Float32Array, k: Kernels3, outs: Outs3, r: number): void {
    if (this.simd) { this.simd.pass('x', src, k, outs, r); return; }
    passT(src, this.width, src.length / this.width, r, this.pad, outs[0] && k[0], outs[0], outs[1] && k[1], outs[1], outs[2] && k[2], outs[2]);
  }

  /** Second (y) pass on the result of rows(), giving planes in the original orientation. */
  private cols(src: Float32Array, k: Kernels3, outs: Outs3, r: number): void {
    if (this.simd) { this.simd.pass('y', src, k, outs, r); return; }
    passT(src, src.length / this.width, this.width, r, this.pad, outs[0] && k[0], outs[0], outs[1] && k[1], outs[1], outs[2] && k[2], outs[2]);
  }

  /** Gaussian smoothing at sigma of src into dst (two passes through tmp). */
  private smooth(src: Float32Array, sigma: number, tmp: Float32Array, dst: Float32Array): void {
    const { r, k0 } = this.kernelsOf(sigma);
    this.rows(src, [k0, null, null], [tmp, null, null], r);
    this.cols(tmp, [k0, null, null], [dst, null, null], r);
  }

  /**
   * count feature planes of this engine's size in its SIMD memory (null without SIMD): compute() writes an `out` there
   * with no copies (2048^2 foam, 41 planes: ~0.2 CPU s per slice less). view() gives the current view (a later
   * reserve() in the same memory detaches the old one).
   */
  directOutput(count: number): { view: () => Float32Array } | null {
    const simd = this.simd;
    if (!simd) return null;
    const at = simd.reserve(count * this.n * 4), len = count * this.n;
    return { view: () => simd.view(at, len) };
  }

  /** Eigenvalues of [[a, c], [c, b]] into big/small (either may be null). */
  private eigen(a: Float32Array, b: Float32Array, c: Float32Array, big: Float32Array | null, small: Float32Array | null): void {
    const simd = this.simd;
    if (!simd) { eigen2(a, b, c, big, small); return; }
    // Straight into output planes in the module's memory; others through scratch and a copy.
    const ba = big && simd.owns(big) ? big : this.scratch(OUT_A), sm = small && simd.owns(small) ? small : this.scratch(OUT_B);
    simd.eigenvalues(a, b, c, ba, sm);
    if (big && big !== ba) big.set(ba);
    if (small && small !== sm) small.set(sm);
  }

  /** A point-wise SIMD op into o: directly when o is in the module's memory, else through scratch and a copy. */
  private pointwise(o: Float32Array, op: (dst: Float32Array) => void): void {
    if (this.simd!.owns(o)) { op(o); return; }
    const t = this.scratch(OUT_A);
    op(t);
    o.set(t);
  }

  compute(input: Float32Array, select: readonly number[], out: Float32Array, rows?: { from: number; to: number }): void {
    try { this.computeRows(input, select, out, rows); } finally { this.lo = 0; this.hi = this.height; }
  }

  private computeRows(input: Float32Array, select: readonly number[], out: Float32Array, rows?: { from: number; to: number }): void {
    const n = this.n, w = this.width;
    let slice = input;
    const where = new Map<string, number>(); // feature name -> output plane index
    select.forEach((f, i) => where.set(this.names[f], i));
    // The full-size passes and every point-wise step cover rows lo..hi-1 only: the wanted rows and the full-size
    // kernels' context (a strip window's halo is the half grid's, ~2x theirs: 16 % of the full-size work).
    const lo = rows ? Math.max(0, rows.from - this.fullHalo) : 0, hi = rows ? Math.min(this.height, rows.to + this.fullHalo) : this.height;
    const views = new Map<number, Float32Array>();
    const plane = (name: string) => {
      const i = where.get(name);
      if (i === undefined) return null;
      let v = views.get(i);
      if (!v) { v = out.subarray(i * n + lo * w, i * n + hi * w); views.set(i, v); }
      return v;
    };
    // direct: out is in the SIMD module's memory, so passes and point-wise ops write its planes with no copies.
    const direct = this.simd !== null && this.simd.owns(out);
    const gaussianOut = (s: number) => (direct ? plane(`gaussian_s${s}`) : null) ?? this.scratch(3);
    const rawAt = where.get('raw'), raw = rawAt === undefined ? null : out.subarray(rawAt * n, (rawAt + 1) * n);
    if (raw) raw.set(slice);
    if (this.simd) {
      if (direct && raw) slice = raw;
      else { this.scratch(SLICE_PLANE).set(slice); slice = this.scratch(SLICE_PLANE); }
    }
    const has = (fam: FeatureFamily, s: number) => FAMILY_PLANES[fam].some((o) => where.has(`${o}_s${s}`));
    const half = this.half;
    const big = half ? half.engine.sigmas.map((s) => [s, needsOf(has, s)] as const).filter(([, need]) => need) : [];
    // Large sigmas: derivatives on the half grid, upsampled (linear quantities only, so the point-wise non-linear steps,
    // magnitude and eigenvalues, run at full resolution as below). A derivative of order k scales by 2^-k. The half
    // grid comes from the whole window (its context is the window's halo).
    if (half && big.length) {
      // SIMD: the pre-smoothing by the engine's own passes over the whole window, then its even pixels (3x faster than
      // the JS decimate, which smooths only what it keeps).
      if (this.simd) { const sm = this.scratch(9); this.smooth(slice, HALF_SCALE_PRE, this.scratch(0), sm); keepEven(sm, this.width, this.height, half.dec); }
      else decimate(input, this.width, this.height, half.pre, half.tmp, half.dec);
    }
    this.lo = lo; this.hi = hi;
    const part = slice.subarray(lo * w, hi * w);
    for (const s of this.sigmas) {
      const need = needsOf(has, s);
      if (!need) continue;
      const sc = this.scales(s), g = gaussianOut(s);
      this.derivatives(part, sc.main, need, g);
      this.finish(s, need, plane, g, () => { this.smooth(part, sc.inner, this.scratch(0), this.scratch(9)); }, () => this.tensor(sc.outer));
    }
    if (!half || big.length === 0) return;
    const { engine: e, dec } = half;
    const src = e.simd ? e.scratch(SLICE_PLANE) : dec;
    if (e.simd) src.set(dec);
    const simd = this.simd?.upsamples ? this.simd : null;
    // Upsampled rows lo..hi-1 into `to` (a view of those rows).
    const up = (from: number, to: Float32Array, c: number) => (simd ? simd.upsample(e.scratch(from), e.width, e.height, to, c, lo, hi)
      : upsample(e.scratch(from), e.width, e.height, to, this.width, this.height, c, half.ring, lo, hi));
    for (const [s, need] of big) {
      const sc = e.scales(s), g = gaussianOut(s);
      e.derivatives(src, sc.main, need!, e.scratch(3));
      ([['g', 3, 1], ['gx', 4, 0.5], ['gy', 5, 0.5], ['gxx', 6, 0.25], ['gyy', 7, 0.25], ['gxy', 8, 0.25]] as const).forEach(([k, i, c]) => {
        if (need![k] && (k !== 'gx' && k !== 'gy' || has('gradientMagnitude', s))) up(i, k === 'g' ? g : this.scratch(i), c);
      });
      this.finish(s, need!, plane, g, () => { e.smooth(src, sc.inner, e.scratch(0), e.scratch(9)); up(9, this.scratch(9), 1); },
        () => { e.tensor(sc.outer); up(6, this.scratch(6), 0.25); up(7, this.scratch(7), 0.25); up(3, this.scratch(3), 0.25); });
    }
  }

  /** Gaussian derivatives of `what` (need) at sigma: g into g (scratch 3 or an output plane), gx..gxy into scratch 4-8. */
  private derivatives(slice: Float32Array, sigma: number, need: SigmaNeeds, g: Float32Array): void {
    const { r, k0, k1, k2 } = this.kernelsOf(sigma);
    // Scratch: 0-2 transposed row results, 3-8 derivatives, 9-11 structure-tensor work.
    const [r0, r1, r2] = [this.scratch(0), this.scratch(1), this.scratch(2)];
    const gx = this.scratch(4), gy = this.scratch(5), gxx = this.scratch(6), gyy = this.scratch(7), gxy = this.scratch(8);
    const useR0 = need.g || need.gy || need.gyy, useR1 = need.gx || need.gxy, useR2 = need.gxx;
    // Row passes (x direction) on the slice: r0 = k0 *x f, r1 = k1 *x f, r2 = k2 *x f, all transposed.
    this.rows(slice, [k0, k2, k1], [useR0 ? r0 : null, useR2 ? r2 : null, useR1 ? r1 : null], r);
    // Column passes (y direction), back to the original orientation.
    if (useR0) this.cols(r0, [k0, k2, k1], [need.g ? g : null, need.gyy ? gyy : null, need.gy ? gy : null], r);
    if (useR1) this.cols(r1, [k0, null, k1], [need.gx ? gx : null, null, need.gxy ? gxy : null], r);
    if (useR2) this.cols(r2, [k0, null, null], [gxx, null, null], r);
  }

  /** Structure tensor of scratch gx, gy (4, 5) smoothed at `outer`: xx, yy, xy into scratch 6, 7, 3 (gxx, gyy, g). */
  private tensor(outer: number): void {
    const gx = this.scratch(4), gy = this.scratch(5), xx = this.scratch(9), yy = this.scratch(10), xy = this.scratch(11);
    if (this.simd) this.simd.products(gx, gy, xx, yy, xy);
    else for (let i = 0; i < gx.length; i++) { const a = gx[i], b = gy[i]; xx[i] = a * a; yy[i] = b * b; xy[i] = a * b; }
    const r0 = this.scratch(0);
    this.smooth(xx, outer, r0, this.scratch(6));
    this.smooth(yy, outer, r0, this.scratch(7));
    this.smooth(xy, outer, r0, this.scratch(3));
  }

  /**
   * The features of sigma s from g (scratch 3 or the gaussian output plane) and scratch 4-8 (gx, gy, gxx, gyy, gxy):
   * inner() puts DoG's inner Gaussian in scratch 9; tensor() the smoothed structure tensor in 6, 7, 3 (after everything
   * else here has read them).
   */
  private finish(s: number, need: SigmaNeeds, plane: (name: string) => Float32Array | null, g: Float32Array, inner: () => void, tensor: () => void): void {
    const simd = this.simd;
    const gx = this.scratch(4), gy = this.scratch(5), gxx = this.scratch(6), gyy = this.scratch(7), gxy = this.scratch(8);
    const n = gx.length;
    const gau = plane(`gaussian_s${s}`);
    if (gau && gau !== g) gau.set(g);
    const gm = plane(`gradmag_s${s}`);
    if (gm && simd) this.pointwise(gm, (o) => simd.magnitude(gx, gy, o));
    else if (gm) for (let i = 0; i < n; i++) gm[i] = Math.sqrt(gx[i] * gx[i] + gy[i] * gy[i]);
    const log = plane(`log_s${s}`);
    if (log && simd) this.pointwise(log, (o) => simd.add(gxx, gyy, o));
    else if (log) for (let i = 0; i < n; i++) log[i] = gxx[i] + gyy[i];
    const dog = plane(`dog_s${s}`);
    if (dog) {
      inner();
      const a = this.scratch(9);
      if (simd) this.pointwise(dog, (o) => simd.subtract(g, a, o));
      else for (let i = 0; i < n; i++) dog[i] = g[i] - a[i];
    }
    if (need.gxy) this.eigen(gxx, gyy, gxy, plane(`hessian_eig1_s${s}`), plane(`hessian_eig2_s${s}`));
    if (need.st) {
      tensor();
      this.eigen(gxx, gyy, this.scratch(3), plane(`stensor_eig1_s${s}`), plane(`stensor_eig2_s${s}`));
    }
  }
}

/** Derivatives sigma s needs for the selected features (has: is a plane of this family at s selected), null if none. */
function needsOf(has: (fam: FeatureFamily, s: number) => boolean, s: number): SigmaNeeds | null {
  const need: SigmaNeeds = { g: false, gx: false, gy: false, gxx: false, gyy: false, gxy: false, dog: has('dog', s), st: has('structureTensor', s) };
  if (has('gaussian', s) || need.dog) need.g = true;
  if (has('gradientMagnitude', s) || need.st) need.gx = need.gy = true;
  if (has('laplacian', s) || has('hessian', s)) need.gxx = need.gyy = true;
  if (has('hessian', s)) need.gxy = true;
  return Object.values(need).some(Boolean) ? need : null;
}

const FAMILY_PLANES: Record<FeatureFamily, string[]> = {
  gaussian: ['gaussian'], gradientMagnitude: ['gradmag'], laplacian: ['log'], dog: ['dog'],
  hessian: ['hessian_eig1', 'hessian_eig2'], structureTensor: ['stensor_eig1', 'stensor_eig2'],
};

/** Eigenvalues of [[a, c], [c, b]] per pixel, larger into big, smaller into small (either may be null). */
function eigen2(a: Float32Array, b: Float32Array, c: Float32Array, big: Float32Array | null, small: Float32Array | null): void {
  for (let i = 0; i < a.length; i++) {
    const hm = 0.5 * (a[i] + b[i]);
    const d = 0.5 * (a[i] - b[i]);
    const root = Math.sqrt(d * d + c[i] * c[i]);
    if (big) big[i] = hm + root;
    if (small) small[i] = hm - root;
  }
}
