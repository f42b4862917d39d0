// WebAssembly SIMD (f32x4) separable convolution passes for the filter bank (featureEngine.ts). Source: convolve.wat
// beside this file; convolveWasm.ts holds its binary, built by scripts/build-wasm.mjs (a unit test checks they agree).
// The forest's predictor is a module of its own (models/randomForest/forest.wat).
//
// API
//   SimdConvolver.create(width, height, nPlanes, maxRadius, half?, passPlanes?): SimdConvolver | null   null without
//        WebAssembly SIMD or when width % 4 != 0 (planes are rows of width floats, read 4 at a time)
//   conv.plane(i): Float32Array                  view of plane i (width*height floats) in the module's memory; the
//        first passPlanes are pass planes: rows of conv.passStride floats (padded when width % 8 == 0, see below)
//   conv.pass('x' | 'y', src, kernels, outs)      one pass over src (a plane view, or whole rows of one): up to 2
//        symmetric half kernels (outs[0], outs[1]) and 1 antisymmetric (outs[2]) share the loads; a null output/kernel
//        is skipped. An x pass writes pass planes, a y pass reads one (a separable filter's intermediate).
//   conv.magnitude / add / subtract / products / eigenvalues(...)   point-wise ops on plane views
//   conv.upsample(src, wh, hh, dst, c, y0?, y1?)  halfScale.ts's upsample (same formula, f32 sums) of a half-grid plane
//        (any Float32Array) into a view of this memory, rows y0..y1-1 (default all) from dst's start; create(..., half =
//        true) reserves its staging (widths % 8 == 0 only)
//
// Why: V8 does not vectorise the JS loops; f32x4 sums 4 pixels per instruction. Accumulation is in float32, so values
// differ from the double-accumulating JS passes by float32 rounding (~1e-7 relative).
// Why padded pass planes: a y pass reads 2r + 1 rows per output row. At a power-of-two row length (2048 floats = 8 KB)
// those rows fall in the same L1 sets (8 ways), so from r = 4 on every load misses L1; PASS_PAD floats more per row
// spread them (2048 x 337 rows, r = 6 / 10: y pass 1.75 / 4.8 ms -> 0.9 / 1.4 ms).
import { reflectIndex as reflect } from './filters';
import { WASM_BASE64 } from './convolveWasm';
import { upsampleRows } from './halfScale';

/** Extra floats per pass-plane row (128 bytes: consecutive rows two L1 sets apart). */
const PASS_PAD = 32;


interface Exports {
  memory: WebAssembly.Memory;
  h1(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, idx: number, pad: number): void;
  h3(src: number, dA: number, dB: number, dC: number, kA: number, kB: number, kC: number, r: number, w: number, h: number, S: number, idx: number, pad: number): void;
  v1(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, ridx: number): void;
  v3(src: number, dA: number, dB: number, dC: number, kA: number, kB: number, kC: number, r: number, w: number, h: number, S: number, ridx: number): void;
  h1w(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, idx: number, pad: number, D: number): void;
  h3w(src: number, dA: number, dB: number, dC: number, kA: number, kB: number, kC: number, r: number, w: number, h: number, S: number, idx: number, pad: number,
    D: number): void;
  v1w(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, ridx: number): void;
  v1x(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, ridx: number): void;
  h1x(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, idx: number, pad: number, D: number): void;
  v2x(src: number, dA: number, dC: number, kA: number, kC: number, r: number, w: number, h: number, S: number, ridx: number): void;
  v3w(src: number, dA: number, dB: number, dC: number, kA: number, kB: number, kC: number, r: number, w: number, h: number, S: number, ridx: number): void;
  mag(a: number, b: number, out: number, n: number): void;
  addsub(a: number, b: number, out: number, n: number, sub: number): void;
  products(gx: number, gy: number, xx: number, yy: number, xy: number, n: number): void;
  eig(a: number, b: number, c: number, big: number, small: number, n: number): void;
  uprow(src: number, n: number, dst: number, c: number, dst2: number): void;
  upcol(a: number, b: number, p: number, d: number, dst: number, n: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
/** convolve.wat compiled once per thread, or null without WebAssembly SIMD. */
export function convolveModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try { compiled = new WebAssembly.Module(Buffer.from(WASM_BASE64, 'base64')); } catch { compiled = null; }
  }
  return compiled;
}

export class SimdConvolver {
  private views: Float32Array[] = [];
  private f32: Float32Array;
  private i32: Int32Array;
  private readonly planesAt: number;
  private readonly nPlanes: number;
  /** Planes 0..passPlanes-1 have rows of passStride floats (the others width). */
  private readonly passPlanes: number;
  readonly passStride: number;
  /** End of the memory handed out (planes, then reserve()). */
  private top: number;
  /** Byte addresses of the scratch regions: 3 splat kernels + a zero kernel, index table, pad row, dummy plane. */
  private readonly kAt: number[];
  private readonly zeroAt: number;
  private readonly idxAt: number;
  private readonly padAt: number;
  private readonly dummyAt: number;
  /** upsample's staging: the half plane with padded rows (stride wh + 8, data at +4), then 4 ring rows; -1: none. */
  private readonly stageAt: number = -1;
  private readonly ringAt: number = -1;

  private constructor(private readonly x: Exports, readonly width: number, readonly height: number, nPlanes: number, maxRadius: number,
    half: boolean, passPlanes: number) {
    this.passPlanes = Math.min(passPlanes, nPlanes);
    this.passStride = width % 8 === 0 && this.passPlanes > 0 ? width + PASS_PAD : width;
    const kBytes = (maxRadius + 1) * 16;
    let at = 0;
    this.kAt = [0, kBytes, 2 * kBytes];
    this.zeroAt = 3 * kBytes;
    at = 4 * kBytes;
    this.idxAt = at; at += (Math.max(width, height) + 2 * maxRadius) * 4;
    this.padAt = at; at += (width + 2 * maxRadius + 8) * 4;
    at = Math.ceil(at / 64) * 64;
    this.dummyAt = at; at += this.passStride * height * 4;
    if (half) {
      this.stageAt = at; at += ((height + 1) >> 1) * ((width >> 1) + 8) * 4 + 64;
      this.ringAt = at; at += 4 * width * 4;
    }
    this.planesAt = at;
    this.nPlanes = nPlanes;
    this.top = this.planeAt(nPlanes);
    this.grow();
    this.f32 = new Float32Array(x.memory.buffer);
    this.i32 = new Int32Array(x.memory.buffer);
    this.refresh();
  }

  /** Grows the memory to `top` (only here: views are made again then, so no per-call check). */
  private grow(): void {
    const pages = Math.ceil(this.top / 65536) - this.x.memory.buffer.byteLength / 65536;
    if (pages > 0) { this.x.memory.grow(pages); if (this.views.length) this.refresh(); }
  }

  /** Growing the memory detaches every view of the old buffer: make them again. */
  private refresh(): void {
    const buf = this.x.memory.buffer, n = this.width * this.height;
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
    this.views = Array.from({ length: this.nPlanes }, (_, i) => new Float32Array(buf, this.planeAt(i), i < this.passPlanes ? this.passStride * this.height : n));
  }

  /** Byte address of plane i (pass planes first). */
  private planeAt(i: number): number {
    const p = Math.min(i, this.passPlanes);
    return this.planesAt + 4 * this.height * (p * this.passStride + (i - p) * this.width);
  }

  /** True when view a lies in the pass planes (rows of passStride floats). */
  private inPassPlanes(a: Float32Array): boolean {
    return this.owns(a) && a.byteOffset >= this.planesAt && a.byteOffset + a.byteLength <= this.planeAt(this.passPlanes);
  }

  /**
   * `bytes` more of this module's memory (64-byte aligned), e.g. feature planes the point-wise ops write straight
   * into (no copies): its byte address. Views taken before may be detached: take them again
   * (view(), plane()).
   */
  reserve(bytes: number): number {
    const at = Math.ceil(this.top / 64) * 64;
    this.top = at + bytes;
    this.grow();
    return at;
  }

  /** A view of n floats at byte address `at` of this module's memory. */
  view(at: number, n: number): Float32Array { return new Float32Array(this.f32.buffer, at, n); }

  /** True when a lives in this module's memory (point-wise ops can write it directly). */
  owns(a: Float32Array): boolean { return a.buffer === this.f32.buffer; }

  /**
   * half: also reserve upsample's staging for a (width/2) x ceil(height/2) grid (used only when width % 8 == 0).
   * passPlanes: how many planes (from 0) are pass planes, the intermediates between x and y passes.
   */
  static create(width: number, height: number, nPlanes: number, maxRadius: number, half = false, passPlanes = 0): SimdConvolver | null {
    if (width % 4 !== 0 || width < 4) return null;
    const mod = convolveModule();
    if (!mod) return null;
    const inst = new WebAssembly.Instance(mod, {});
    return new SimdConvolver(inst.exports as unknown as Exports, width, height, nPlanes, maxRadius, half && width % 8 === 0, passPlanes);
  }

  /** True when upsample() can serve this engine (see create). */
  get upsamples(): boolean { return this.stageAt >= 0; }

  /**
   * dst (a plane view, width x height) from the half-grid plane src (wh = width / 2, hh = ceil(height / 2)): even
   * rows/columns are the samples, odd ones the (-1 9 9 -1)/16 midpoint cubic with reflect borders; times c. Rows
   * y0..y1-1 only, row y at dst row y - y0.
   */
  upsample(src: Float32Array, wh: number, hh: number, dst: Float32Array, c: number, y0 = 0, y1 = this.height): void {
    const { width: w, height: h, x, f32 } = this, stride = wh + 8;
    if (hh * stride * 4 > (this.ringAt - this.stageAt)) throw new Error(`upsample: half grid ${wh}x${hh} does not fit the staging`);
    const rowAt = (q: number) => this.stageAt + (q * stride + 4) * 4; // byte address of half row q
    // Only the half rows that rows y0..y1-1 read (upsampleRows: i - 1 .. i + 2 of i = y >> 1).
    for (let q = Math.max(0, (y0 >> 1) - 1); q < Math.min(hh, ((y1 - 1) >> 1) + 3); q++) {
      const o = rowAt(q) >> 2, row = src.subarray(q * wh, (q + 1) * wh);
      f32.set(row, o);
      f32[o - 1] = row[reflect(-1, wh)]; f32[o + wh] = row[reflect(wh, wh)]; f32[o + wh + 1] = row[reflect(wh + 1, wh)];
    }
    const slot = (k: number) => this.ringAt + k * w * 4, out = (y: number) => dst.byteOffset + (y - y0) * w * 4;
    // Half row q (made once, unreflected) is output row 2q: uprow writes it there too, so even rows need no copy.
    upsampleRows(h, hh, (q, k) => x.uprow(rowAt(q), wh, slot(k), c, 2 * q >= y0 && 2 * q < y1 ? out(2 * q) : 0), () => {},
      (y, a, b, p, d) => x.upcol(slot(a), slot(b), slot(p), slot(d), out(y), w), y0, y1);
  }

  plane(i: number): Float32Array { return this.views[i]; }

  // Point-wise ops on plane views (in float32, 4 pixels at a time): no JS loop to warm up in a fresh worker.
  magnitude(a: Float32Array, b: Float32Array, out: Float32Array): void { this.x.mag(a.byteOffset, b.byteOffset, out.byteOffset, a.length); }
  add(a: Float32Array, b: Float32Array, out: Float32Array): void { this.x.addsub(a.byteOffset, b.byteOffset, out.byteOffset, a.length, 0); }
  subtract(a: Float32Array, b: Float32Array, out: Float32Array): void { this.x.addsub(a.byteOffset, b.byteOffset, out.byteOffset, a.length, 1); }
  products(gx: Float32Array, gy: Float32Array, xx: Float32Array, yy: Float32Array, xy: Float32Array): void {
    this.x.products(gx.byteOffset, gy.byteOffset, xx.byteOffset, yy.byteOffset, xy.byteOffset, gx.length);
  }
  eigenvalues(a: Float32Array, b: Float32Array, c: Float32Array, big: Float32Array, small: Float32Array): void {
    this.x.eig(a.byteOffset, b.byteOffset, c.byteOffset, big.byteOffset, small.byteOffset, a.length);
  }

  private writeKernel(slot: number, k: Float64Array | null): number {
    if (!k) return this.zeroAt;
    const at = this.kAt[slot] >> 2;
    for (let o = 0; o < k.length; o++) this.f32.fill(k[o], at + 4 * o, at + 4 * o + 4);
    return this.kAt[slot];
  }

  /**
   * One pass along x or y; kernels [symA, symB, anti] are half kernels (index o = 0..r) of one radius r. src and outs
   * are views of whole rows (a plane, or rows of one: src.length / width rows, reflected at their own ends).
   */
  pass(dir: 'x' | 'y', src: Float32Array, kernels: [Float64Array | null, Float64Array | null, Float64Array | null],
    outs: [Float32Array | null, Float32Array | null, Float32Array | null], r: number): void {
    const { width: w, x } = this, P = this.passStride;
    // x: rows of w floats in, pass-plane rows out; y: pass-plane rows in (through ridx), rows of w out.
    const h = src.length / (dir === 'x' ? w : P);
    if (P !== w && !(dir === 'x' ? outs.every((o, i) => !o || !kernels[i] || this.inPassPlanes(o)) : this.inPassPlanes(src))) {
      throw new Error(`SimdConvolver.pass: a ${dir} pass must ${dir === 'x' ? 'write' : 'read'} pass planes (padded rows)`);
    }
    const len = dir === 'x' ? w : h;
    const idx = this.idxAt >> 2, i32 = this.i32;
    for (let j = 0; j < len + 2 * r; j++) { const s = reflect(j - r, len); i32[idx + j] = dir === 'x' ? s : s * P * 4; }
    this.f32.fill(0, this.zeroAt >> 2, (this.zeroAt >> 2) + 4 * (r + 1));
    const [ka, kb, kc] = kernels;
    const [oa, ob, oc] = outs;
    const single = (ka && oa && !(kb && ob) && !(kc && oc)) ? [ka, oa] as const : (!(ka && oa) && kb && ob && !(kc && oc)) ? [kb, ob] as const : null;
    if (single) {
      const k = this.writeKernel(0, single[0]);
      // 16 pixels per step where the width allows (faster), else 8, else 4.
      if (dir === 'x' && w % 8 === 0) (w % 16 === 0 ? x.h1x : x.h1w)(src.byteOffset, single[1].byteOffset, k, r, w, h, w, this.idxAt, this.padAt, P);
      else if (dir === 'x') x.h1(src.byteOffset, single[1].byteOffset, k, r, w, h, w, this.idxAt, this.padAt);
      else (w % 16 === 0 ? x.v1x : w % 8 === 0 ? x.v1w : x.v1)(src.byteOffset, single[1].byteOffset, k, r, w, h, w, this.idxAt);
      return;
    }
    if (dir === 'y' && w % 8 === 0 && ka && oa && kc && oc && !(kb && ob)) {
      // Symmetric + antisymmetric only (gx, gxy): v2x, no dummy third output.
      x.v2x(src.byteOffset, oa.byteOffset, oc.byteOffset, this.writeKernel(0, ka), this.writeKernel(2, kc), r, w, h, w, this.idxAt);
      return;
    }
    const a = oa && ka ? oa.byteOffset : this.dummyAt, b = ob && kb ? ob.byteOffset : this.dummyAt, c = oc && kc ? oc.byteOffset : this.dummyAt;
    const pa = this.writeKernel(0, oa ? ka : null), pb = this.writeKernel(1, ob ? kb : null), pc = this.writeKernel(2, oc ? kc : null);
    if (dir === 'x' && w % 8 === 0) x.h3w(src.byteOffset, a, b, c, pa, pb, pc, r, w, h, w, this.idxAt, this.padAt, P);
    else if (dir === 'x') x.h3(src.byteOffset, a, b, c, pa, pb, pc, r, w, h, w, this.idxAt, this.padAt);
    else (w % 8 === 0 ? x.v3w : x.v3)(src.byteOffset, a, b, c, pa, pb, pc, r, w, h, w, this.idxAt);
  }
}
