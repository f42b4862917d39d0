// Features and prediction of a slice in strips of rows, so memory is bounded by the strip, not the slice: a 2048^2
// slice has 41 feature planes of 16 MB (688 MB); a window of ~490 rows (430 rows + context) needs 160 MB, and context costs ~14 % more filter work.
//
// API
//   stripHalo(opts): number                      rows of context each side of a strip that make its features exact
//   stripRows(width, height, nFeatures, budgetBytes?): number   rows per strip so a window's features fit the budget
//   new StripFeatures(width, height, opts, select, rows)   one engine for windows of min(height, rows + 2 halo) rows
//   strips.window(normalised, y0): { features, start }      features (select order) of the window holding rows
//        y0..y0+rows-1, feature-major with width*windowRows pixels per plane; `start` = the window's first row. Only
//        rows y0..y0+rows-1 are computed (the engine skips what they do not need); the rest of a plane is undefined
//   strips.rowsFeatures(normalised, y0, y1, out?)           rows y0..y1-1 only (feature-major, (y1-y0)*width per plane)
//   predictInStrips(forest, strips, normalised, probabilities): { labels, probabilities? }   forest reads the select
//        features (forest.selectFeatures(select)); the same numbers as computeFeatures + forest.predict on the slice
//
// Why exact: a window is a run of whole rows of the slice. Row (x) passes see whole rows, so they are the slice's.
// Column (y) passes are exact for rows at least their kernel radius from an edge of the window that is not an edge of
// the slice (where reflection differs); the structure tensor chains two column passes (gradient, then the outer
// smoothing), so the halo is the largest sum of radii. Windows are clamped inside the slice, so all have one height
// and one engine serves them. With opts.halfScaleFrom (halfScale.ts) the large sigmas run on the slice's even rows and
// columns: windows start on an even row (one more row each, and height - windowRows even so the last one too), and
// the halo also covers the pre-smoothing, the half grid's radii (x 2) and the interpolation.

import type { RandomForest } from '../models/randomForest/randomForest';
import type { FeatureOptions } from './bank';
import { FeatureEngine } from './featureEngine';
import { halfHalo } from './halfScale';

const radius = (sigma: number, truncate: number) => Math.max(1, Math.floor(truncate * sigma + 0.5)); // = gaussianKernel1d's

export function stripHalo(opts: FeatureOptions): number {
  const t = opts.truncate ?? 4;
  let halo = 0;
  if (opts.families.length === 0) return 0;
  const cut = opts.halfScaleFrom ?? 0, big = halfSigmas(opts);
  if (big.length) halo = halfHalo(opts, big);
  for (const s of opts.sigmas) {
    if (cut > 0 && s >= cut) continue;
    let r = radius(s, t);
    if (opts.families.includes('dog')) r = Math.max(r, radius(0.66 * s, t));
    if (opts.families.includes('structureTensor')) r = Math.max(r, radius(s, t) + radius(0.5 * s, t));
    halo = Math.max(halo, r);
  }
  return halo;
}

/** The sigmas the engine computes on the half grid (none without halfScaleFrom). */
const halfSigmas = (opts: FeatureOptions) => { const cut = opts.halfScaleFrom ?? 0; return cut > 0 ? opts.sigmas.filter((s) => s >= cut) : []; };

/** Default budget for one window's feature planes (per worker thread). */
export const STRIP_BUDGET_BYTES = 160 * 2 ** 20;

/**
 * Window budget per worker when `threads` workers run at once: their windows share POOL_STRIP_BYTES (each worker also
 * holds ~0.4x its window in engine scratch, plus its slices), between 48 MB (thinner strips spend too much on halo)
 * and STRIP_BUDGET_BYTES. 2 threads: 128 MB each; 8: 48 MB each.
 */
export function stripBudgetBytes(threads: number): number {
  return Math.round(Math.max(48 * 2 ** 20, Math.min(STRIP_BUDGET_BYTES, POOL_STRIP_BYTES / Math.max(1, threads))));
}
const POOL_STRIP_BYTES = 256 * 2 ** 20;

export function stripRows(width: number, height: number, nFeatures: number, halo: number, budgetBytes = STRIP_BUDGET_BYTES): number {
  const windowRows = Math.floor(budgetBytes / (Math.max(1, nFeatures) * width * 4));
  // At least 4 halos of useful rows: thinner strips would spend most of their time on context.
  return Math.min(height, Math.max(4 * halo, 16, windowRows - 2 * halo));
}

export class StripFeatures {
  readonly halo: number;
  readonly rows: number;
  readonly windowRows: number;
  private readonly engine: FeatureEngine;
  /** The window's feature planes: in the engine's SIMD memory when it has one (written there with no copies), else
   * a JS array. */
  private readonly out: { view: () => Float32Array } | null;
  private readonly js: Float32Array | null;
  /** Windows start on even rows (the half grid's, see above). */
  private readonly even: boolean;

  constructor(readonly width: number, readonly height: number, opts: FeatureOptions, readonly select: readonly number[], rows: number) {
    this.halo = stripHalo(opts);
    this.even = opts.families.length > 0 && halfSigmas(opts).length > 0;
    let windowRows = Math.min(height, rows + 2 * this.halo + (this.even ? 1 : 0));
    if (this.even && (height - windowRows) % 2 === 1) windowRows++;
    this.windowRows = windowRows;
    this.rows = this.windowRows === height ? height : rows;
    this.engine = new FeatureEngine(width, this.windowRows, opts);
    const n = width * this.windowRows;
    this.out = this.engine.directOutput(select.length);
    this.js = this.out ? null : new Float32Array(select.length * n);
  }

  /** The window's feature planes (select order, width * windowRows pixels each). */
  private get buffer(): Float32Array { return this.out ? this.out.view() : this.js!; }

  /** First row of the window serving rows y0..y0+rows-1: halo rows above, clamped inside the slice. */
  windowStart(y0: number): number {
    const s = Math.max(0, Math.min(y0 - this.halo, this.height - this.windowRows));
    return this.even ? s - (s & 1) : s;
  }

  window(normalised: Float32Array, y0: number): { features: Float32Array; start: number } {
    const start = this.windowStart(y0), w = this.width;
    const out = this.buffer;
    const rows = { from: y0 - start, to: Math.min(this.height, y0 + this.rows) - start };
    this.engine.compute(normalised.subarray(start * w, (start + this.windowRows) * w), this.select, out, rows);
    return { features: out, start };
  }

  rowsFeatures(normalised: Float32Array, y0: number, y1: number, out = new Float32Array(this.select.length * (y1 - y0) * this.width)): Float32Array {
    const w = this.width, m = (y1 - y0) * w, plane = w * this.windowRows;
    for (let r0 = y0; r0 < y1; r0 += this.rows) {
      const r1 = Math.min(y1, r0 + this.rows);
      const { features, start } = this.window(normalised, r0);
      const from = (r0 - start) * w, count = (r1 - r0) * w;
      for (let f = 0; f < this.select.length; f++) out.set(features.subarray(f * plane + from, f * plane + from + count), f * m + (r0 - y0) * w);
    }
    return out;
  }
}

export function predictInStrips(forest: RandomForest, strips: StripFeatures, normalised: Float32Array, probabilities: boolean): { labels: Uint8Array; probabilities?: Float32Array } {
  const { width: w, height: h, windowRows } = strips;
  const n = w * h, C = forest.classes.length;
  const labels = new Uint8Array(n);
  const probs = probabilities ? new Float32Array(C * n) : undefined;
  for (let y0 = 0; y0 < h; y0 += strips.rows) {
    const y1 = Math.min(h, y0 + strips.rows);
    const { features, start } = strips.window(normalised, y0);
    const from = (y0 - start) * w, to = (y1 - start) * w;
    if (!probs) { labels.set(forest.predictLabelsRange(features, w * windowRows, from, to), y0 * w); continue; }
    const r = forest.predictRange(features, w * windowRows, from, to);
    labels.set(r.labels, y0 * w);
    const m = (y1 - y0) * w;
    for (let c = 0; c < C; c++) probs.set(r.probabilities.subarray(c * m, (c + 1) * m), c * n + y0 * w);
  }
  return { labels, probabilities: probs };
}
