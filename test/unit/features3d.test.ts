import { describe, expect, it } from 'vitest';
import { type FeatureOptions } from '../../src/core/features/bank';
import { FeatureBank3d, featureNames3d, symmetricEigenvalues3, zHalo } from '../../src/core/features/bank3d';
import { gaussianKernel1d } from '../../src/core/features/filters';
import { autoDims, contextWindow, resolveDims, SliceRing, zRatioOf } from '../../src/core/features/volumeChunks';
import { omePixelSize } from '../../src/core/tiff/reader';

const W = 24, H = 22;
const ALL: FeatureOptions = { raw: true, families: ['gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessian', 'structureTensor'], sigmas: [1, 1.6], truncate: 4 };

function volume(D: number, f: (x: number, y: number, z: number) => number): Float32Array[] {
  return Array.from({ length: D }, (_, z) => Float32Array.from({ length: W * H }, (_, i) => f(i % W, Math.floor(i / W), z)));
}

function features(vol: Float32Array[], z: number, opts: FeatureOptions, zRatio: number): Map<string, Float32Array> {
  const bank = new FeatureBank3d(W, H, opts, zRatio);
  const sel = bank.names.map((_, i) => i);
  const out = new Float32Array(sel.length * W * H);
  bank.compute((zz) => vol[zz], z, vol.length, sel, out);
  return new Map(bank.names.map((nm, i) => [nm, out.subarray(i * W * H, (i + 1) * W * H)]));
}

const at = (p: Float32Array, x: number, y: number) => p[y * W + x];

describe('3-D filter bank', () => {
  it('names: 3 Hessian and 3 structure-tensor eigenvalues per sigma', () => {
    const names = featureNames3d(ALL);
    expect(names.length).toBe(1 + 2 * 10);
    expect(names).toContain('hessian_eig3_s1.6');
    expect(names).toContain('stensor_eig3_s1');
  });

  it('Gaussian of a point is the product of 1-D kernels; spacing 2 halves the z sigma', () => {
    const D = 17, s = 1.6;
    const vol = volume(D, (x, y, z) => (x === 12 && y === 11 && z === 8 ? 1 : 0));
    for (const ratio of [1, 2]) {
      const kxy = gaussianKernel1d(s, 0), kz = gaussianKernel1d(s / ratio, 0);
      const rx = (kxy.length - 1) / 2, rz = (kz.length - 1) / 2;
      for (const dz of [0, 1, 2]) {
        const g = features(vol, 8 + dz, { raw: false, families: ['gaussian'], sigmas: [s] }, ratio).get(`gaussian_s${s}`)!;
        const want = (dx: number, dy: number) => (Math.abs(dz) <= rz ? kxy[rx + dx] * kxy[rx + dy] * kz[rz + dz] : 0);
        expect(at(g, 12, 11)).toBeCloseTo(want(0, 0), 6);
        expect(at(g, 14, 8)).toBeCloseTo(want(2, -3), 6);
      }
    }
    // The z kernel at ratio 2 is the sigma/2 kernel, not the sigma kernel.
    const g2 = features(vol, 9, { raw: false, families: ['gaussian'], sigmas: [s] }, 2).get(`gaussian_s${s}`)!;
    const g1 = features(vol, 9, { raw: false, families: ['gaussian'], sigmas: [s] }, 1).get(`gaussian_s${s}`)!;
    expect(at(g2, 12, 11) / at(g1, 12, 11)).toBeCloseTo(gaussianKernel1d(s / 2, 0)[Math.floor(4 * s / 2 + 0.5) + 1] / gaussianKernel1d(s, 0)[Math.floor(4 * s + 0.5) + 1], 5);
  });

  it('Gaussian of a plane z = 5 is the z kernel everywhere in the slice', () => {
    const vol = volume(12, (_x, _y, z) => (z === 5 ? 1 : 0));
    const k = gaussianKernel1d(1, 0), r = (k.length - 1) / 2;
    const g = features(vol, 6, { raw: false, families: ['gaussian'], sigmas: [1] }, 1).get('gaussian_s1')!;
    for (const i of [0, 100, W * H - 1]) expect(g[i]).toBeCloseTo(k[r + 1], 6);
  });

  it('gradient and Hessian of polynomials are exact, z derivatives per physical unit', () => {
    for (const ratio of [1, 2.5]) {
      // f = 0.5 x - y + 3 zp with zp = ratio * z: gradient (0.5, -1, 3).
      const lin = features(volume(15, (x, y, z) => 0.5 * x - y + 3 * ratio * z), 7, ALL, ratio);
      expect(at(lin.get('gradmag_s1')!, 12, 11)).toBeCloseTo(Math.hypot(0.5, 1, 3), 3);
      // f = x^2 + 2 y^2 + 3 zp^2: Hessian diag(2, 4, 6); Laplacian 12.
      const q = features(volume(15, (x, y, z) => (x - 12) ** 2 + 2 * (y - 11) ** 2 + 3 * (ratio * (z - 7)) ** 2), 7, ALL, ratio);
      expect(at(q.get('hessian_eig1_s1')!, 12, 11)).toBeCloseTo(6, 2);
      expect(at(q.get('hessian_eig2_s1')!, 12, 11)).toBeCloseTo(4, 2);
      expect(at(q.get('hessian_eig3_s1')!, 12, 11)).toBeCloseTo(2, 2);
      expect(at(q.get('log_s1.6')!, 12, 11)).toBeCloseTo(12, 2);
    }
  });

  it('a volume sampled at spacing 2 gives the features of the same object at spacing 1', () => {
    const f = (x: number, y: number, zp: number) => Math.sin(0.3 * x) + Math.cos(0.25 * y + 0.2 * zp) + 0.01 * zp * zp;
    const fine = volume(41, (x, y, z) => f(x, y, z));
    const coarse = volume(21, (x, y, z) => f(x, y, 2 * z));
    const opts: FeatureOptions = { raw: false, families: ['gradientMagnitude', 'laplacian', 'hessian'], sigmas: [2], truncate: 4 };
    const a = features(fine, 20, opts, 1), b = features(coarse, 10, opts, 2);
    for (const nm of a.keys()) for (const [x, y] of [[12, 11], [10, 9]]) expect(Math.abs(at(a.get(nm)!, x, y) - at(b.get(nm)!, x, y))).toBeLessThan(0.02);
  });

  it('3x3 eigenvalues of a rotated diagonal matrix, larger first', () => {
    const out = new Float64Array(3);
    symmetricEigenvalues3(2, 2, 3, 1, 0, 0, out); // [[2,1,0],[1,2,0],[0,0,3]] -> 3, 3, 1
    expect([...out].map((v) => +v.toFixed(6))).toEqual([3, 3, 1]);
    symmetricEigenvalues3(1, 1, 1, 0, 0, 0, out);
    expect([...out]).toEqual([1, 1, 1]);
  });

  it('z-chunked (ring buffer) features equal whole-volume features on every slice, memory bounded', async () => {
    const D = 13, ratio = 1.5;
    const vol = volume(D, (x, y, z) => Math.sin(x * 0.7 + z) * Math.cos(y * 0.4 - 0.3 * z) + ((x * 7 + y * 3 + z * 11) % 5) * 0.1);
    const halo = zHalo(ALL, ratio);
    expect(halo).toBe(Math.floor(4 * 1.6 / ratio + 0.5));
    let reads = 0;
    const ring = new SliceRing(D, halo, async (z) => { reads++; return vol[z].slice(); });
    const bank = new FeatureBank3d(W, H, ALL, ratio);
    const sel = bank.names.map((_, i) => i);
    for (let z = 0; z < D; z++) {
      const get = await ring.centre(z);
      expect(ring.held).toBeLessThanOrEqual(2 * halo + 1);
      const chunked = new Float32Array(sel.length * W * H), whole = new Float32Array(sel.length * W * H);
      bank.compute(get, z, D, sel, chunked);
      bank.compute((zz) => vol[zz], z, D, sel, whole);
      expect(chunked).toEqual(whole);
    }
    expect(reads).toBe(D); // every slice read once while streaming
  });

  it('contextWindow mirrors at the ends; spacing and dims resolve', async () => {
    const vol = volume(4, (_x, _y, z) => z);
    const ring = new SliceRing(4, 2, async (z) => vol[z]);
    const get = await ring.centre(0);
    expect(contextWindow(get, 0, 4, 2).map((s) => s[0])).toEqual([2, 1, 0, 1, 2]); // mirrored: slice 0 not repeated
    expect(contextWindow(await ring.centre(3), 3, 4, 2).map((s) => s[0])).toEqual([1, 2, 3, 2, 1]);
    expect(zRatioOf({ imagej: { spacing: 2.5 } }, {})).toBe(2.5);
    expect(zRatioOf({ imagej: { spacing: 2.5 } }, { spacing: 4 })).toBe(4);
    expect(zRatioOf({ imagej: {}, pixelSize: { x: 0.5, z: 2 } }, {})).toBe(4);
    expect(zRatioOf(undefined, {})).toBe(1);
    const ome = '<?xml version="1.0"?><OME><Image><Pixels DimensionOrder="XYZCT" PhysicalSizeX="0.65" PhysicalSizeY="0.65" PhysicalSizeZ="2.6" SizeZ="5"></Pixels></Image></OME>';
    expect(omePixelSize(ome)).toEqual({ x: 0.65, z: 2.6 });
    expect(zRatioOf({ pixelSize: omePixelSize(ome) }, {})).toBeCloseTo(4, 10);
    expect(omePixelSize('<OME><Pixels SizeZ="5"></Pixels></OME>')).toBeUndefined();
    expect(resolveDims({ dims: 'auto' }, 32)).toBe('auto');
    expect(resolveDims({ dims: '3d' }, 1)).toBe('3d');
    expect(resolveDims({ dims: 'auto' }, 1)).toBe('2d');
  });

  it('dims=auto: 3d on noisy slices, 2d on clean ones or without 2 classes', () => {
    const n = W * H;
    let seed = 3;
    const noise = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 4294967296 - 0.5; };
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % W < 6 ? 1 : i % W > 17 ? 2 : 0));
    const img = (amp: number) => Float32Array.from({ length: n }, (_, i) => (i % W < 12 ? 0.2 : 0.8) + amp * noise());
    expect(autoDims([{ normalised: img(0.05), labels }], W, H).dims).toBe('2d');
    const noisy = autoDims([{ normalised: img(1.2), labels }], W, H);
    expect(noisy.dims).toBe('3d');
    expect(noisy.reason).toMatch(/noise 0\.\d+ >= 0\.2/);
    expect(autoDims([{ normalised: img(1.2), labels: labels.map((v) => (v === 2 ? 1 : v)) }], W, H).dims).toBe('2d');
  });
});
