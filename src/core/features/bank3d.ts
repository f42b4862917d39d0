// Anisotropic 3-D filter bank for the random forest: the same families as the 2-D bank (bank.ts), computed on the
// volume around one slice, with the z sigma scaled by the voxel spacing.
//
// API
//   featureNames3d(opts): string[]     raw, then per sigma: gaussian, gradmag, log, dog, hessian_eig1..3,
//                                      stensor_eig1..3 (eigenvalues larger first)
//   zHalo(opts, zRatio): number        slices each side of z that the features of slice z read
//   zSigma(sigma, zRatio): number      sigma / zRatio: the z sigma in slices
//   new FeatureBank3d(width, height, opts, zRatio)
//   bank.compute(slice, z, depth, select, out)   features of slice z of a volume of `depth` slices; slice(zz) returns
//        the normalised slice zz (0 <= zz < depth; the bank reflects at the volume's ends, as the 2-D bank does at a
//        slice's edges). Feature-major into out, in select order (indices into featureNames3d(opts)).
//
// Anisotropy: zRatio = z spacing / x spacing (e.g. 2 for slices twice as far apart as pixels). A scale of sigma pixels
// in x and y is sigma / zRatio slices in z, and z derivatives are taken per physical unit (d/dz divided by zRatio), so
// a volume sampled at zRatio 2 gives the features of the same object sampled at zRatio 1.
//
// Separable: per sigma, three z passes (orders 0, 1, 2: weighted sums of the neighbouring slices) then in-plane
// passes (filters.ts) give g, gx, gy, gz and the six second derivatives. The structure tensor uses the 3-D gradient,
// smoothed in-plane at 0.5 sigma (not in z: that would need the gradients of 2x more neighbouring slices; the halo,
// and so the memory of the z window, would double).

import { StackSegError } from '../../shared/errors';
import { type FeatureFamily, type FeatureOptions, FILTER_FAMILIES, validateFeatureOptions } from './bank';
import { gaussianKernel1d, reflectIndex } from './filters';

/** Half kernel h[o] = k[r + o], o = 0..r, in double. */
function half(k: Float32Array): Float64Array {
  const r = (k.length - 1) >> 1;
  return Float64Array.from({ length: r + 1 }, (_, o) => k[r + o]);
}

/**
 * Convolution along rows with TRANSPOSED output (dst[x * rows + y]), so two passes give the 2-D result in the
 * original orientation and both read memory sequentially with the sum in a register (as engine.ts's passes).
 * Slots: a, b symmetric half kernels, c antisymmetric; one pass over a row serves all given (null: skipped).
 * Reflect borders. dst = sum_o k[r + o] src[x - o], the convolution of filters.ts.
 */
function passT(src: Float32Array, len: number, rows: number, pad: Float64Array,
  a: Float64Array | null, dstA: Float32Array | null, b: Float64Array | null, dstB: Float32Array | null, c: Float64Array | null, dstC: Float32Array | null): void {
  const r = ((a ?? b ?? c)!.length) - 1;
  const single = (a ? 1 : 0) + (b ? 1 : 0) + (c ? 1 : 0) === 1;
  for (let y = 0; y < rows; y++) {
    const row = y * len;
    for (let i = 0; i < r; i++) { pad[i] = src[row + reflectIndex(i - r, len)]; pad[len + r + i] = src[row + reflectIndex(len + i, len)]; }
    for (let x = 0; x < len; x++) pad[x + r] = src[row + x];
    if (single && c) {
      for (let x = 0; x < len; x++) {
        const m = x + r;
        let d = 0;
        for (let o = 1; o <= r; o++) d += c[o] * (pad[m - o] - pad[m + o]);
        dstC![x * rows + y] = d;
      }
    } else if (single) {
      const k = (a ?? b)!, dst = (a ? dstA : dstB)!, c0 = k[0];
      for (let x = 0; x < len; x++) {
        const m = x + r;
        let s = c0 * pad[m];
        for (let o = 1; o <= r; o++) s += k[o] * (pad[m - o] + pad[m + o]);
        dst[x * rows + y] = s;
      }
    } else {
      const ka = a ?? ZERO(r), kb = b ?? ZERO(r), kc = c ?? ZERO(r);
      for (let x = 0; x < len; x++) {
        const m = x + r, pm = pad[m];
        let sa = ka[0] * pm, sb = kb[0] * pm, d = 0;
        for (let o = 1; o <= r; o++) {
          const lo = pad[m - o], hi = pad[m + o], sum = lo + hi;
          sa += ka[o] * sum; sb += kb[o] * sum; d += kc[o] * (lo - hi);
        }
        const t = x * rows + y;
        if (dstA) dstA[t] = sa;
        if (dstB) dstB[t] = sb;
        if (dstC) dstC[t] = d;
      }
    }
  }
}

const zeros = new Map<number, Float64Array>();
function ZERO(r: number): Float64Array { let z = zeros.get(r); if (!z) { z = new Float64Array(r + 1); zeros.set(r, z); } return z; }

const OUTPUTS3D: Record<FeatureFamily, string[]> = {
  gaussian: ['gaussian'], gradientMagnitude: ['gradmag'], laplacian: ['log'], dog: ['dog'],
  hessian: ['hessian_eig1', 'hessian_eig2', 'hessian_eig3'], structureTensor: ['stensor_eig1', 'stensor_eig2', 'stensor_eig3'],
};

function ordered(opts: FeatureOptions): FeatureFamily[] { return FILTER_FAMILIES.filter((f) => opts.families.includes(f)); }

export function featureNames3d(opts: FeatureOptions): string[] {
  const names: string[] = opts.raw ? ['raw'] : [];
  for (const s of opts.sigmas) for (const f of ordered(opts)) for (const o of OUTPUTS3D[f]) names.push(`${o}_s${s}`);
  return names;
}

export function zSigma(sigma: number, zRatio: number): number { return sigma / zRatio; }

const radius = (sigma: number, truncate: number) => Math.max(1, Math.floor(truncate * sigma + 0.5)); // = gaussianKernel1d's

export function zHalo(opts: FeatureOptions, zRatio: number): number {
  if (opts.families.length === 0) return 0;
  const t = opts.truncate ?? 4;
  return Math.max(0, ...opts.sigmas.map((s) => radius(zSigma(s, zRatio), t)));
}

export function checkZRatio(zRatio: number): void {
  if (!(Number.isFinite(zRatio) && zRatio > 0 && zRatio <= 1000)) {
    throw new StackSegError(`voxel spacing ratio z/x ${zRatio} is not in (0, 1000]`, { hint: 'use --set spacing=Z/X, e.g. spacing=2 for slices twice as far apart as pixels' });
  }
}

/** Eigenvalues of the symmetric 3x3 [[a, d, e], [d, b, f], [e, f, c]], larger first (closed form, Smith 1961). */
export function symmetricEigenvalues3(a: number, b: number, c: number, d: number, e: number, f: number, out: Float64Array): void {
  const p1 = d * d + e * e + f * f;
  const q = (a + b + c) / 3;
  const p2 = (a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2 * p1;
  if (p2 <= 1e-30 * (q * q + 1e-30)) { out[0] = out[1] = out[2] = q; return; }
  const p = Math.sqrt(p2 / 6);
  const ba = (a - q) / p, bb = (b - q) / p, bc = (c - q) / p, bd = d / p, be = e / p, bf = f / p;
  const det = ba * (bb * bc - bf * bf) - bd * (bd * bc - bf * be) + be * (bd * bf - bb * be);
  const r = Math.max(-1, Math.min(1, det / 2));
  const phi = Math.acos(r) / 3;
  const e1 = q + 2 * p * Math.cos(phi);
  const e3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
  out[0] = e1; out[1] = 3 * q - e1 - e3; out[2] = e3;
}

interface ZKernels { k0: Float32Array; k1: Float32Array; k2: Float32Array; r: number }
interface SigmaHalves { h0: Float64Array; h1: Float64Array; h2: Float64Array }

export class FeatureBank3d {
  readonly names: string[];
  readonly halo: number;
  private readonly n: number;
  private readonly planes: Float32Array<ArrayBuffer>[] = [];
  private readonly eig = new Float64Array(3);

  constructor(readonly width: number, readonly height: number, readonly opts: FeatureOptions, readonly zRatio: number) {
    validateFeatureOptions(opts);
    checkZRatio(zRatio);
    this.names = featureNames3d(opts);
    this.halo = zHalo(opts, zRatio);
    this.n = width * height;
  }

  private readonly halfCache = new Map<number, SigmaHalves>();
  private get maxR(): number { return Math.max(1, ...this.opts.sigmas.map((s) => radius(s, this.opts.truncate ?? 4))); }

  /** In-plane half kernels of orders 0, 1, 2 at sigma. */
  private halves(sigma: number): SigmaHalves {
    let h = this.halfCache.get(sigma);
    if (!h) {
      const t = this.opts.truncate ?? 4;
      h = { h0: half(gaussianKernel1d(sigma, 0, t)), h1: half(gaussianKernel1d(sigma, 1, t)), h2: half(gaussianKernel1d(sigma, 2, t)) };
      this.halfCache.set(sigma, h);
    }
    return h;
  }

  private scratch(i: number): Float32Array<ArrayBuffer> {
    while (this.planes.length <= i) this.planes.push(new Float32Array(this.n));
    return this.planes[i];
  }

  private kernels(sigma: number): { xy: ZKernels; z: ZKernels } {
    const t = this.opts.truncate ?? 4;
    const mk = (s: number): ZKernels => {
      const k0 = gaussianKernel1d(s, 0, t);
      return { k0, k1: gaussianKernel1d(s, 1, t), k2: gaussianKernel1d(s, 2, t), r: (k0.length - 1) >> 1 };
    };
    return { xy: mk(sigma), z: mk(zSigma(sigma, this.zRatio)) };
  }

  private acc: Float64Array | undefined;

  /**
   * dst = sum_o k[r + o] * slice(z - o) (convolution along z, reflect borders), in double. Kernels are symmetric
   * (orders 0, 2) or antisymmetric (order 1): slices z - o and z + o are summed (or subtracted) first.
   */
  private zPass(slice: (zz: number) => Float32Array, z: number, depth: number, k: Float32Array, dst: Float32Array): void {
    const r = (k.length - 1) >> 1, n = this.n;
    const acc = (this.acc ??= new Float64Array(n));
    const at = (o: number) => {
      const s = slice(reflectIndex(z - o, depth));
      if (s.length !== n) throw new StackSegError(`slice ${reflectIndex(z - o, depth)} has ${s.length} pixels, expected ${this.width}x${this.height}`);
      return s;
    };
    const c = k[r], mid = at(0);
    for (let i = 0; i < n; i++) acc[i] = c * mid[i];
    const anti = k[r + 1] === -k[r - 1];
    for (let o = 1; o <= r; o++) {
      const w = k[r + o], lo = at(o), hi = at(-o); // k[r + o] weighs slice z - o; k[r - o] = +-k[r + o] weighs z + o
      if (anti) for (let i = 0; i < n; i++) acc[i] += w * (lo[i] - hi[i]);
      else for (let i = 0; i < n; i++) acc[i] += w * (lo[i] + hi[i]);
    }
    for (let i = 0; i < n; i++) dst[i] = acc[i];
  }

  private pad: Float64Array | undefined;

  /** x pass (transposed out): symmetric a, b and antisymmetric c kernels share the loads. */
  private rowsT(src: Float32Array, k: SigmaHalves, outs: [Float32Array | null, Float32Array | null, Float32Array | null]): void {
    const pad = (this.pad ??= new Float64Array(Math.max(this.width, this.height) + 2 * this.maxR + 2));
    passT(src, this.width, this.height, pad, outs[0] && k.h0, outs[0], outs[1] && k.h2, outs[1], outs[2] && k.h1, outs[2]);
  }

  /** y pass on a rowsT result: back in the original orientation. Slots as rowsT: k0, k2, k1. */
  private colsT(src: Float32Array, k: SigmaHalves, outs: [Float32Array | null, Float32Array | null, Float32Array | null]): void {
    const pad = (this.pad ??= new Float64Array(Math.max(this.width, this.height) + 2 * this.maxR + 2));
    passT(src, this.height, this.width, pad, outs[0] && k.h0, outs[0], outs[1] && k.h2, outs[1], outs[2] && k.h1, outs[2]);
  }

  /** In-plane Gaussian smoothing (k0 both ways). */
  private xy(src: Float32Array, k: SigmaHalves, tmp: Float32Array, dst: Float32Array): void {
    this.rowsT(src, k, [tmp, null, null]);
    this.colsT(tmp, k, [dst, null, null]);
  }

  compute(slice: (zz: number) => Float32Array, z: number, depth: number, select: readonly number[], out: Float32Array): void {
    const n = this.n;
    if (!(Number.isInteger(z) && z >= 0 && z < depth)) throw new StackSegError(`slice ${z} is outside the volume of ${depth} slices`);
    if (out.length < select.length * n) throw new StackSegError(`feature buffer holds ${out.length} values, needs ${select.length * n}`);
    const where = new Map<string, number>();
    select.forEach((f, i) => {
      if (!(Number.isInteger(f) && f >= 0 && f < this.names.length)) throw new StackSegError(`feature index ${f} is not in 0..${this.names.length - 1}`);
      where.set(this.names[f], i);
    });
    const plane = (name: string) => { const i = where.get(name); return i === undefined ? null : out.subarray(i * n, (i + 1) * n); };
    const raw = plane('raw');
    if (raw) raw.set(slice(z));
    const has = (fam: FeatureFamily, s: number) => OUTPUTS3D[fam].some((o) => where.has(`${o}_s${s}`));
    const zr = this.zRatio;
    for (const s of this.opts.sigmas) {
      const hes = has('hessian', s), st = has('structureTensor', s), dogF = has('dog', s);
      const needG = has('gaussian', s) || dogF;
      const needGrad = has('gradientMagnitude', s) || st;
      const needSecond = has('laplacian', s) || hes;
      if (!needG && !needGrad && !needSecond) continue;
      const { z: KZ } = this.kernels(s);
      const Z = this.scratch(0), tmp = this.scratch(1);
      const [g, gx, gy, gz, gxx, gyy, gzz, gxy, gxz, gyz] = Array.from({ length: 10 }, (_, i) => this.scratch(2 + i));
      // z order 0: g, gx, gy, gxx, gyy, gxy: one x pass (k0, k2, k1 sharing loads), then y passes of each result.
      const H = this.halves(s), R0 = this.scratch(13), R1 = this.scratch(14), R2 = this.scratch(15);
      this.zPass(slice, z, depth, KZ.k0, Z);
      const useR0 = needG || needGrad || needSecond, useR1 = needGrad || hes;
      this.rowsT(Z, H, [useR0 ? R0 : null, needSecond ? R2 : null, useR1 ? R1 : null]);
      if (useR0) this.colsT(R0, H, [needG ? g : null, needSecond ? gyy : null, needGrad ? gy : null]);
      if (useR1) this.colsT(R1, H, [needGrad ? gx : null, null, hes ? gxy : null]);
      if (needSecond) this.colsT(R2, H, [gxx, null, null]);
      // z order 1: gz, gxz, gyz (per physical unit: / zRatio).
      if (needGrad || hes) {
        this.zPass(slice, z, depth, KZ.k1, Z);
        for (let i = 0; i < n; i++) Z[i] /= zr;
        this.rowsT(Z, H, [R0, null, hes ? R1 : null]);
        this.colsT(R0, H, [needGrad ? gz : null, null, hes ? gyz : null]);
        if (hes) this.colsT(R1, H, [gxz, null, null]);
      }
      // z order 2: gzz (/ zRatio^2).
      if (needSecond) {
        this.zPass(slice, z, depth, KZ.k2, Z);
        for (let i = 0; i < n; i++) Z[i] /= zr * zr;
        this.xy(Z, H, tmp, gzz);
      }
      const gau = plane(`gaussian_s${s}`);
      if (gau) gau.set(g);
      const gm = plane(`gradmag_s${s}`);
      if (gm) for (let i = 0; i < n; i++) gm[i] = Math.sqrt(gx[i] * gx[i] + gy[i] * gy[i] + gz[i] * gz[i]);
      const log = plane(`log_s${s}`);
      if (log) for (let i = 0; i < n; i++) log[i] = gxx[i] + gyy[i] + gzz[i];
      const dog = plane(`dog_s${s}`);
      if (dog) {
        const inner = this.scratch(12), ki = this.kernels(0.66 * s);
        this.zPass(slice, z, depth, ki.z.k0, Z);
        this.xy(Z, this.halves(0.66 * s), tmp, inner);
        for (let i = 0; i < n; i++) dog[i] = g[i] - inner[i];
      }
      if (hes) this.eigen(gxx, gyy, gzz, gxy, gxz, gyz, ['hessian_eig1', 'hessian_eig2', 'hessian_eig3'].map((o) => plane(`${o}_s${s}`)));
      if (st) {
        // Products of the 3-D gradient, smoothed in-plane at 0.5 sigma (into the second-derivative planes, free now).
        const ko = this.halves(0.5 * s);
        const prod = this.scratch(12);
        const pairs: [Float32Array, Float32Array, Float32Array<ArrayBuffer>][] = [[gx, gx, gxx], [gy, gy, gyy], [gz, gz, gzz], [gx, gy, gxy], [gx, gz, gxz], [gy, gz, gyz]];
        for (const [u, v, dst] of pairs) {
          for (let i = 0; i < n; i++) prod[i] = u[i] * v[i];
          this.xy(prod, ko, tmp, dst);
        }
        this.eigen(gxx, gyy, gzz, gxy, gxz, gyz, ['stensor_eig1', 'stensor_eig2', 'stensor_eig3'].map((o) => plane(`${o}_s${s}`)));
      }
    }
  }

  private eigen(a: Float32Array, b: Float32Array, c: Float32Array, d: Float32Array, e: Float32Array, f: Float32Array, outs: (Float32Array | null)[]): void {
    const ev = this.eig;
    const [o1, o2, o3] = outs;
    for (let i = 0; i < this.n; i++) {
      symmetricEigenvalues3(a[i], b[i], c[i], d[i], e[i], f[i], ev);
      if (o1) o1[i] = ev[0];
      if (o2) o2[i] = ev[1];
      if (o3) o3[i] = ev[2];
    }
  }
}
