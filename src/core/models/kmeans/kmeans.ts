// K-means segmentation: fit ml-kmeans on a seeded pixel sample, assign every pixel to the nearest centre.
//
// API
//   fitKMeans(points, nDims, { k = 2, maxIterations = 300, sampleSize = 50_000, seed = 0 }): KMeansModel
//        points: feature-major Float32Array [dim][pixel] (nDims = 1 for normalised intensity; more dims for a few
//        features). Dimension 0 must be the intensity: clusters are numbered by their centre's dimension 0, lowest
//        -> class 1, so the numbering is stable across seeds and runs.
//   model.predict(points, nPixels): Uint8Array        classes 1..k
//   model.toJSON(): KMeansJSON / KMeansModel.fromJSON(json, file?)
// ml-kmeans is ESM only; fine for vitest and the esbuild bundles.

import { kmeans } from 'ml-kmeans';
import { StackSegError } from '../../../shared/errors';

export interface KMeansOptions { k: number; maxIterations: number; sampleSize: number; seed: number }
export const DEFAULT_KMEANS_OPTIONS: KMeansOptions = { k: 2, maxIterations: 300, sampleSize: 50_000, seed: 0 };

export interface KMeansJSON {
  format: 'stackseg-kmeans';
  version: 1;
  options: KMeansOptions;
  nDims: number;
  /** Centres ordered by dimension 0; centres[c] belongs to class c + 1. */
  centers: number[][];
  iterations: number;
  converged: boolean;
}

export class KMeansModel {
  constructor(readonly options: KMeansOptions, readonly centers: number[][], readonly iterations: number, readonly converged: boolean) {}
  get nDims(): number { return this.centers[0].length; }
  get k(): number { return this.centers.length; }

  predict(points: ArrayLike<number>, nPixels: number): Uint8Array {
    const d = this.nDims, k = this.k;
    if (points.length !== d * nPixels) throw new StackSegError(`k-means input has ${points.length} values, expected ${d} x ${nPixels}`);
    const flat = Float64Array.from(this.centers.flat());
    const out = new Uint8Array(nPixels);
    for (let p = 0; p < nPixels; p++) {
      let best = 0, bestD = Infinity;
      for (let c = 0; c < k; c++) {
        let dist = 0;
        for (let j = 0; j < d; j++) { const diff = points[j * nPixels + p] - flat[c * d + j]; dist += diff * diff; }
        if (dist < bestD) { bestD = dist; best = c; }
      }
      out[p] = best + 1;
    }
    return out;
  }

  toJSON(): KMeansJSON {
    return { format: 'stackseg-kmeans', version: 1, options: this.options, nDims: this.nDims, centers: this.centers, iterations: this.iterations, converged: this.converged };
  }

  static fromJSON(json: unknown, file?: string): KMeansModel {
    const j = json as Partial<KMeansJSON>;
    if (!j || j.format !== 'stackseg-kmeans') throw new StackSegError('not a StackSeg k-means model', { file, hint: 'expected "format": "stackseg-kmeans"' });
    if (j.version !== 1) throw new StackSegError(`k-means model version ${j.version} is not supported`, { file, hint: 'retrain the model' });
    if (!Array.isArray(j.centers) || j.centers.length < 1 || !j.centers.every((c) => Array.isArray(c) && c.length === j.centers![0].length)) {
      throw new StackSegError('k-means model has no valid centres', { file, hint: 'the file is corrupted; retrain' });
    }
    return new KMeansModel({ ...DEFAULT_KMEANS_OPTIONS, ...j.options }, j.centers, j.iterations ?? 0, j.converged ?? false);
  }
}

export function fitKMeans(points: ArrayLike<number>, nDims: number, options: Partial<KMeansOptions> = {}): KMeansModel {
  const opts = { ...DEFAULT_KMEANS_OPTIONS, ...options };
  const n = Math.floor(points.length / nDims);
  if (!(Number.isInteger(opts.k) && opts.k >= 2 && opts.k <= 255)) throw new StackSegError(`k = ${opts.k} is invalid`, { hint: 'use 2..255', code: 'usage' });
  if (n < opts.k) throw new StackSegError(`only ${n} pixels for ${opts.k} clusters`, { hint: 'use a larger image or fewer clusters' });
  // Seeded sample without replacement (partial Fisher-Yates on indices).
  const m = Math.min(n, opts.sampleSize);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  let s = (opts.seed * 2654435761 + 1) >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  if (m < n) for (let i = 0; i < m; i++) { const j = i + Math.floor(rnd() * (n - i)); const t = idx[i]; idx[i] = idx[j]; idx[j] = t; }
  const data: number[][] = [];
  for (let i = 0; i < m; i++) { const row = new Array<number>(nDims); for (let d = 0; d < nDims; d++) row[d] = points[d * n + idx[i]]; data.push(row); }
  const r = kmeans(data, opts.k, { maxIterations: opts.maxIterations, seed: opts.seed, initialization: 'kmeans++' });
  const centers = r.centroids.map((c) => Array.from(c)).sort((a, b) => a[0] - b[0]);
  return new KMeansModel(opts, centers, r.iterations, r.converged);
}
