// WebAssembly SIMD (f32x4) separable convolution passes for the filter bank (engine.ts). Source: convolve.wat beside
// this file; convolveWasm.ts holds its binary, built by scripts/build-wasm.mjs (a unit test checks they agree).
//
// API
//   SimdConvolver.create(width, height, nPlanes, maxRadius): SimdConvolver | null   null without WebAssembly SIMD or
//        when width % 4 != 0 (planes are rows of width floats, read 4 at a time)
//   conv.plane(i): Float32Array                  view of plane i (width*height floats) in the module's memory
//   conv.pass('x' | 'y', src, kernels, outs)      one pass over src (a plane view): up to 2 symmetric half kernels
//        (outs[0], outs[1]) and 1 antisymmetric (outs[2]) share the loads; a null output/kernel is skipped
//   conv.magnitude / add / subtract / products / eigenvalues(...)   point-wise ops on plane views
//
// Why: V8 does not vectorise the JS loops; f32x4 sums 4 pixels per instruction. Accumulation is in float32, so values
// differ from the double-accumulating JS passes by float32 rounding (~1e-7 relative).
import { reflectIndex as reflect } from './filters';
import { WASM_BASE64 } from './convolveWasm';


interface Exports {
  memory: WebAssembly.Memory;
  h1(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, idx: number, pad: number): void;
  h3(src: number, dA: number, dB: number, dC: number, kA: number, kB: number, kC: number, r: number, w: number, h: number, S: number, idx: number, pad: number): void;
  v1(src: number, dA: number, kA: number, r: number, w: number, h: number, S: number, ridx: number): void;
  v3(src: number, dA: number, dB: number, dC: number, kA: number, kB: number, kC: number, r: number, w: number, h: number, S: number, ridx: number): void;
  mag(a: number, b: number, out: number, n: number): void;
  addsub(a: number, b: number, out: number, n: number, sub: number): void;
  products(gx: number, gy: number, xx: number, yy: number, xy: number, n: number): void;
  eig(a: number, b: number, c: number, big: number, small: number, n: number): void;
  forest2(feat: number, n: number, nodes: number, val: number, roots: number, nTrees: number,
    prob0: number, prob1: number, lab: number, inv: number, depth: number, acc: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
function moduleOrNull(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try { compiled = new WebAssembly.Module(Buffer.from(WASM_BASE64, 'base64')); } catch { compiled = null; }
  }
  return compiled;
}

export class SimdConvolver {
  private readonly views: Float32Array[] = [];
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  /** Byte addresses of the scratch regions: 3 splat kernels + a zero kernel, index table, pad row, dummy plane. */
  private readonly kAt: number[];
  private readonly zeroAt: number;
  private readonly idxAt: number;
  private readonly padAt: number;
  private readonly dummyAt: number;

  private constructor(private readonly x: Exports, readonly width: number, readonly height: number, nPlanes: number, maxRadius: number) {
    const n = width * height;
    const kBytes = (maxRadius + 1) * 16;
    let at = 0;
    this.kAt = [0, kBytes, 2 * kBytes];
    this.zeroAt = 3 * kBytes;
    at = 4 * kBytes;
    this.idxAt = at; at += (Math.max(width, height) + 2 * maxRadius) * 4;
    this.padAt = at; at += (width + 2 * maxRadius + 8) * 4;
    at = Math.ceil(at / 64) * 64;
    this.dummyAt = at; at += n * 4;
    const planesAt = at;
    const need = planesAt + nPlanes * n * 4;
    const pages = Math.ceil(need / 65536) - x.memory.buffer.byteLength / 65536;
    if (pages > 0) x.memory.grow(pages);
    this.f32 = new Float32Array(x.memory.buffer);
    this.i32 = new Int32Array(x.memory.buffer);
    for (let i = 0; i < nPlanes; i++) this.views.push(new Float32Array(x.memory.buffer, planesAt + i * n * 4, n));
  }

  static create(width: number, height: number, nPlanes: number, maxRadius: number): SimdConvolver | null {
    if (width % 4 !== 0 || width < 4) return null;
    const mod = moduleOrNull();
    if (!mod) return null;
    const inst = new WebAssembly.Instance(mod, {});
    return new SimdConvolver(inst.exports as unknown as Exports, width, height, nPlanes, maxRadius);
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

  /** One pass along x or y; kernels [symA, symB, anti] are half kernels (index o = 0..r) of one radius r. */
  pass(dir: 'x' | 'y', src: Float32Array, kernels: [Float64Array | null, Float64Array | null, Float64Array | null],
    outs: [Float32Array | null, Float32Array | null, Float32Array | null], r: number): void {
    const { width: w, height: h, x } = this;
    const len = dir === 'x' ? w : h;
    const idx = this.idxAt >> 2;
    for (let j = 0; j < len + 2 * r; j++) { const s = reflect(j - r, len); this.i32[idx + j] = dir === 'x' ? s : s * w * 4; }
    this.f32.fill(0, this.zeroAt >> 2, (this.zeroAt >> 2) + 4 * (r + 1));
    const [ka, kb, kc] = kernels;
    const [oa, ob, oc] = outs;
    const single = (ka && oa && !(kb && ob) && !(kc && oc)) ? [ka, oa] as const : (!(ka && oa) && kb && ob && !(kc && oc)) ? [kb, ob] as const : null;
    if (single) {
      const k = this.writeKernel(0, single[0]);
      if (dir === 'x') x.h1(src.byteOffset, single[1].byteOffset, k, r, w, h, w, this.idxAt, this.padAt);
      else x.v1(src.byteOffset, single[1].byteOffset, k, r, w, h, w, this.idxAt);
      return;
    }
    const a = oa && ka ? oa.byteOffset : this.dummyAt, b = ob && kb ? ob.byteOffset : this.dummyAt, c = oc && kc ? oc.byteOffset : this.dummyAt;
    const pa = this.writeKernel(0, oa ? ka : null), pb = this.writeKernel(1, ob ? kb : null), pc = this.writeKernel(2, oc ? kc : null);
    if (dir === 'x') x.h3(src.byteOffset, a, b, c, pa, pb, pc, r, w, h, w, this.idxAt, this.padAt);
    else x.v3(src.byteOffset, a, b, c, pa, pb, pc, r, w, h, w, this.idxAt);
  }
}

let forestModule: Exports | null | undefined;

/** Pixels per WebAssembly prediction chunk: its packed features (nFeatures planes) stay a few MB. */
const CHUNK = 1 << 16;
/** Pixels that walk a tree side by side in forest2 (chunks are padded to a multiple). */
const LANES = 8;

/** Depth of the deepest leaf over all trees (steps a pixel takes per tree). */
function forestDepth(left: Int32Array, feature: Int32Array, roots: Int32Array): number {
  let deepest = 0;
  const stack: number[] = [];
  for (const r of roots) {
    stack.push(r, 0);
    while (stack.length) {
      const d = stack.pop()!, node = stack.pop()!;
      if (feature[node] < 0) { deepest = Math.max(deepest, d); continue; }
      stack.push(left[node], d + 1, left[node] + 1, d + 1);
    }
  }
  return deepest;
}

/**
 * Two-class forest prediction in WebAssembly (forest.ts tables) of pixels p0..p0+nPixels-1 of feature-major planes of
 * planeSize pixels. Returns the class-major probabilities (2 x nPixels) and per pixel 1 where class index 1 wins, or
 * null without WebAssembly. Same numbers as the JS loop (f64 sums over trees in order). Runs in chunks of CHUNK pixels,
 * each packed (its pixels of every plane, plus a plane of zeros that leaves read) into the module's memory.
 */
export function predictTwoClasses(features: Float32Array, planeSize: number, p0: number, nPixels: number, nFeatures: number,
  feature: Int32Array, threshold: Float32Array, left: Int32Array, value: Float32Array, roots: Int32Array): { probabilities: Float32Array; winner: Uint8Array } | null {
  if (forestModule === undefined) {
    const mod = moduleOrNull();
    forestModule = mod ? (new WebAssembly.Instance(mod, {}).exports as unknown as Exports) : null;
  }
  const x = forestModule;
  if (!x) return null;
  const nNodes = feature.length;
  const chunk = Math.min(CHUNK, Math.ceil(nPixels / LANES) * LANES);
  const planeBytes = chunk * 4;
  const sizes = [(nFeatures + 1) * planeBytes, nNodes * 16, nNodes * 8, roots.length * 4, 2 * planeBytes, chunk, 4096];
  const at: number[] = [];
  let total = 0;
  for (const b of sizes) { at.push(total); total += Math.ceil(b / 16) * 16; }
  const pages = Math.ceil(total / 65536) - x.memory.buffer.byteLength / 65536;
  if (pages > 0) x.memory.grow(pages);
  const buf = x.memory.buffer;
  // Node records [plane byte offset, threshold, left, unused]. Leaves loop to themselves: they read the zero plane
  // (index nFeatures), 0 <= +inf, and go "left" to themselves.
  const ri = new Int32Array(buf, at[1], 4 * nNodes), rf = new Float32Array(buf, at[1], 4 * nNodes);
  for (let i = 0; i < nNodes; i++) {
    const leaf = feature[i] < 0;
    ri[4 * i] = (leaf ? nFeatures : feature[i]) * planeBytes; rf[4 * i + 1] = leaf ? Infinity : threshold[i]; ri[4 * i + 2] = leaf ? i : left[i];
  }
  new Float32Array(buf, at[2], 2 * nNodes).set(value);
  new Int32Array(buf, at[3], roots.length).set(roots);
  const depth = forestDepth(left, feature, roots);
  const packed = new Float32Array(buf, at[0], (nFeatures + 1) * chunk);
  const probabilities = new Float32Array(2 * nPixels), winner = new Uint8Array(nPixels);
  for (let c0 = 0; c0 < nPixels; c0 += chunk) {
    const m = Math.min(chunk, nPixels - c0), m4 = Math.ceil(m / LANES) * LANES;
    for (let f = 0; f < nFeatures; f++) {
      const from = f * planeSize + p0 + c0;
      packed.set(features.subarray(from, from + m), f * chunk);
      if (m4 > m) packed.fill(0, f * chunk + m, f * chunk + m4);
    }
    packed.fill(0, nFeatures * chunk, nFeatures * chunk + m4);
    x.forest2(at[0], m4, at[1], at[2], at[3], roots.length, at[4], at[4] + planeBytes, at[5], 1 / roots.length, depth, at[6]);
    probabilities.set(new Float32Array(buf, at[4], m), c0);
    probabilities.set(new Float32Array(buf, at[4] + planeBytes, m), nPixels + c0);
    winner.set(new Uint8Array(buf, at[5], m), c0);
  }
  return { probabilities, winner };
}
