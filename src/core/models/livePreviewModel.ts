// Live preview while painting: a small forest trained on the labels of the visible slice re-predicts that slice.
// Features are computed once per shown slice and kept, so after each stroke only training and prediction run.
// Large slices are previewed at reduced resolution (box-averaged image, labels carried over) and upsampled back.

import { computeFeatures, featureCount, type FeatureOptions } from '../features/bank';
import { FeatureBank3d, zHalo } from '../features/bank3d';
import { RandomForest } from './randomForest/randomForest';
import { gatherLabeledPixels } from './randomForest/randomForestTrain';
import { fitNormalization, normalizeSlice } from './normalize';
import { blockMean } from '../../shared/pyramid';
import { AUTO_3D_MIN_DEPTH, autoDims, resolveDims } from '../features/volumeChunks';

export interface PreviewOptions {
  trees: number;
  depth: number;
  /** Slices above this many pixels are previewed downsampled by an integer factor. */
  maxPixels: number;
  /** Labeled pixels used for training at most (evenly thinned beyond): big strokes must not slow the preview. */
  maxSamples: number;
  features: FeatureOptions;
}

/** A lighter filter bank than training's 41 features: the preview must answer in well under a second. */
export const PREVIEW_DEFAULTS: PreviewOptions = {
  trees: 12, depth: 8, maxPixels: 512 * 512, maxSamples: 20_000,
  features: { raw: true, families: ['gaussian', 'gradientMagnitude', 'laplacian', 'hessian'], sigmas: [0.7, 1.6, 3.5], truncate: 3 },
};

export interface PreviewResult {
  /** Class per pixel (0 where no prediction: fewer than two classes labeled): full resolution, or lowLabels itself when predicted with full: false. */
  labels: Uint8Array;
  /** 1 - max class probability, 0..255, the uncertainty map: at the resolution of `labels`. */
  uncertainty: Uint8Array;
  /** The prediction at the resolution it was made (ceil(width/factor) x ceil(height/factor)): what the viewer draws. */
  lowLabels: Uint8Array;
  lowWidth: number;
  lowHeight: number;
  factor: number;
  /** The filter bank it used: 3-D when the slice got its z window (setContext / setImage's context). */
  dims: '2d' | '3d';
  featureMs: number;
  trainMs: number;
  predictMs: number;
}

/** Preview downsampling factor of a width x height slice: previewed at most maxPixels. */
export function previewFactor(width: number, height: number, maxPixels = PREVIEW_DEFAULTS.maxPixels): number {
  return Math.max(1, Math.ceil(Math.sqrt((width * height) / maxPixels)));
}

/** The pyramid level (a power of two) to read for preview factor f: the largest one dividing f (4 -> 4, 6 -> 2, 3 -> 1). */
export function previewReadLevel(f: number): number {
  let level = 1;
  while (f % (2 * level) === 0 && level < 64) level *= 2;
  return level;
}

/**
 * Slices each side of the shown one that a 3-D preview reads: the z radius of the preview bank at the downsampled
 * pixel size (a preview pixel is f image pixels, so the z spacing ratio in preview pixels is zRatio / f).
 */
export function previewZHalo(width: number, height: number, zRatio = 1, opts: PreviewOptions = PREVIEW_DEFAULTS): number {
  return zHalo(opts.features, zRatio / previewFactor(width, height, opts.maxPixels));
}

/**
 * The preview's filter bank under the rf's `dims` setting, decided as a job decides it (resolveDims, then autoDims
 * on the labelled slice), so the preview shows what a job would learn. `image`: the slice at full resolution when
 * available (the noise measure is taken at the resolution a job sees; it is invariant to the affine normalisation).
 */
export function previewDims(mode: string, depth: number, image: Float32Array, labels: Uint8Array, width: number, height: number): { dims: '2d' | '3d'; reason: string } {
  const d = resolveDims({ dims: mode }, depth);
  if (d !== 'auto') return { dims: d, reason: mode === 'auto' ? `auto: fewer than ${AUTO_3D_MIN_DEPTH} slices` : `dims=${d}` };
  const { dims, reason } = autoDims([{ normalised: image, labels }], width, height);
  return { dims, reason };
}

export class LivePreview {
  private key: string | undefined;
  /** The shown slice reduced to the preview's resolution and normalised. */
  private plane: Float32Array | undefined;
  /** The shown slice at full resolution (raw), for previewDims; absent when it arrived reduced. */
  private fullImage: Float32Array | undefined;
  private norm: ReturnType<typeof fitNormalization> | undefined;
  private features2d: Float32Array | undefined;
  private features3d: { features: Float32Array; n: number } | undefined;
  private factor = 1;
  /** The full slice's size (setImage). */
  private size = { width: 0, height: 0 };
  private lw = 0;
  private lh = 0;
  private featureMs = 0;
  private small: { from: Uint8Array; small: Uint8Array } | undefined;
  /** decideDims' last answer under auto (kept while the labels are alike). */
  private decided: { mode: string; depth: number; classes: string; count: number; result: { dims: '2d' | '3d'; reason: string } } | undefined;

  constructor(private readonly opts: PreviewOptions = PREVIEW_DEFAULTS) {}

  /** Preview downsampling factor of a width x height slice. */
  factorFor(width: number, height: number): number { return previewFactor(width, height, this.opts.maxPixels); }

  /** Slices each side of the shown one that a 3-D preview reads (the caller sends them as `context`): previewZHalo. */
  zHalo(width: number, height: number, zRatio = 1): number { return previewZHalo(width, height, zRatio, this.opts); }

  /** Whether the shown slice has 3-D features (its z window arrived). */
  get has3d(): boolean { return this.features3d !== undefined; }

  /**
   * Sets the shown slice (raw intensities of a width x height slice, or its pyramid level `level` when > 1); nothing is
   * recomputed while `key` stays the same (the key should name the slice and the image it came from). With `context`
   * the preview also gets 3-D features (setContext).
   */
  setImage(key: string, image: Float32Array, width: number, height: number, context?: { slices: Float32Array[]; zRatio?: number }, level = 1): void {
    if (key !== this.key) {
      this.factor = this.factorFor(width, height);
      this.size = { width, height };
      const reduced = this.reduce(image, width, height, level);
      this.lw = reduced.width;
      this.lh = reduced.height;
      this.norm = fitNormalization(reduced.data);
      this.plane = normalizeSlice(reduced.data, this.norm);
      this.fullImage = level === 1 ? image : undefined;
      this.features2d = this.features3d = undefined;
      this.small = this.decided = undefined;
      this.featureMs = 0;
      this.key = key;
    }
    if (context) this.setContext(key, context.slices, context.zRatio ?? 1, level);
  }

  /**
   * 3-D features of the shown slice from `slices`, its raw z window z-h..z+h (h >= zHalo(), the image is the middle
   * one) reflected at the stack's ends, each a width x height slice or its pyramid level `level`. Kept until the key
   * changes (as rf dims=3d).
   */
  setContext(key: string, slices: Float32Array[], zRatio: number, level = 1): void {
    if (key !== this.key || !this.plane || !this.norm) throw new Error('LivePreview.setContext for another slice than setImage\'s');
    if (this.features3d) return;
    const t0 = performance.now();
    const { width, height } = this.size;
    const w = this.lw, h = this.lh, norm = this.norm;
    const bank = new FeatureBank3d(w, h, this.opts.features, zRatio / this.factor);
    const k = (slices.length - 1) / 2;
    if (!Number.isInteger(k) || k < bank.halo) throw new Error(`3-D live preview needs ${2 * bank.halo + 1} slices around the shown one, got ${slices.length}`);
    // Identical slices (the window reflects at the stack's ends) are reduced and normalised once.
    const done = new Map<Float32Array, Float32Array>();
    const planes = slices.map((s) => {
      let p = done.get(s);
      if (!p) { p = normalizeSlice(this.reduceTo(s, width, height, level, w, h), norm); done.set(s, p); }
      return p;
    });
    // The window as a volume of 2k+1 slices, features of its middle one: with k >= halo the bank never reaches the
    // window's ends, so these are the stack's features (the caller reflects at the stack's ends).
    const features = new Float32Array(bank.names.length * w * h);
    bank.compute((zz) => planes[zz], k, planes.length, bank.names.map((_, i) => i), features);
    this.features3d = { features, n: bank.names.length };
    this.featureMs += performance.now() - t0;
  }

  /**
   * Which bank a job would use here (previewDims) for these labels (full resolution) on a stack of `depth` slices.
   * Measured on the full-resolution slice when setImage got it (cropped to the labelled pixels with a margin wider
   * than the rule's smoothing kernel: the same numbers, fewer pixels), else at the preview's resolution. Under auto,
   * kept until the labelled classes change or the labelled pixels double or halve: at 2048² the rule costs more than a
   * stroke's training, and a few more pixels of the same classes do not move a noise estimate. With `deferred`, a
   * decision due only to the pixel count comes back as `refresh` (call it after replying) with the last answer.
   */
  decideDims(mode: string, depth: number, labels: Uint8Array, width: number, height: number, opts: { deferred?: boolean } = {}): { dims: '2d' | '3d'; reason: string; refresh?: () => void } {
    if (!this.plane || !this.norm) throw new Error('LivePreview.decideDims before setImage');
    if (resolveDims({ dims: mode }, depth) !== 'auto') return previewDims(mode, depth, this.plane, labels, width, height);
    const small = this.smallLabels(labels, width, height);
    const st = labelStats(small, this.lw, this.lh);
    const d = this.decided;
    const same = d && d.mode === mode && d.depth === depth && d.classes === st.classes;
    if (same && st.count <= 2 * d.count && 2 * st.count >= d.count) return d.result;
    // deferred: the same classes, more or fewer pixels: answer as before, and let the caller decide again after
    // replying (off the stroke's critical path; the next stroke sees the new answer).
    if (same && opts.deferred) return { ...d.result, refresh: () => { if (this.decided === d) this.decideDims(mode, depth, labels, width, height); } };
    let result: { dims: '2d' | '3d'; reason: string };
    if (st.count === 0) result = previewDims(mode, depth, this.plane, small, this.lw, this.lh);
    else if (this.fullImage && this.fullImage.length === width * height) {
      const f = this.factor, m = 2; // the rule smooths at sigma 0.3: a kernel radius of 1
      const x0 = Math.max(0, st.x0 * f - m), y0 = Math.max(0, st.y0 * f - m);
      const x1 = Math.min(width, (st.x1 + 1) * f + m), y1 = Math.min(height, (st.y1 + 1) * f + m);
      const cw = x1 - x0, ch = y1 - y0, img = new Float32Array(cw * ch), lab = new Uint8Array(cw * ch);
      for (let y = 0; y < ch; y++) {
        const from = (y0 + y) * width + x0;
        img.set(this.fullImage.subarray(from, from + cw), y * cw);
        lab.set(labels.subarray(from, from + cw), y * cw);
      }
      result = previewDims(mode, depth, img, lab, cw, ch);
    } else result = previewDims(mode, depth, this.plane, small, this.lw, this.lh);
    this.decided = { mode, depth, classes: st.classes, count: st.count, result };
    return result;
  }

  /** Classes labelled on the shown slice (at the preview's resolution): fewer than two, nothing to train. */
  labelledClasses(labels: Uint8Array, width: number, height: number): number {
    const small = this.smallLabels(labels, width, height);
    const seen = new Uint8Array(256);
    let n = 0;
    for (let i = 0; i < small.length; i++) { const v = small[i]; if (v !== 0 && seen[v] === 0) { seen[v] = 1; n++; } }
    return n;
  }

  /** downsampleLabels of `labels`, once per labels array (decideDims and predict get the same one). */
  private smallLabels(labels: Uint8Array, width: number, height: number): Uint8Array {
    if (this.small?.from !== labels) this.small = { from: labels, small: downsampleLabels(labels, width, height, this.factor, this.lw, this.lh) };
    return this.small.small;
  }

  /**
   * Trains on the labels of the shown slice (full resolution, 0 = unlabeled) and predicts it, on 3-D features when
   * the slice has them (unless dims: '2d'). full: false skips the full-resolution copies (labels = lowLabels).
   */
  predict(labels: Uint8Array, width: number, height: number, opts: { dims?: '2d' | '3d'; full?: boolean } = {}): PreviewResult | undefined {
    if (!this.plane) throw new Error('LivePreview.predict before setImage');
    const dims = opts.dims ?? (this.features3d ? '3d' : '2d');
    if (dims === '3d' && !this.features3d) throw new Error('LivePreview.predict with 3-D features before setContext');
    if (dims === '2d' && !this.features2d) {
      const t = performance.now();
      this.features2d = computeFeatures(this.plane, this.lw, this.lh, this.opts.features);
      this.featureMs += performance.now() - t;
    }
    const features = dims === '3d' ? this.features3d!.features : this.features2d!;
    const nf = dims === '3d' ? this.features3d!.n : featureCount(this.opts.features);
    const t0 = performance.now();
    const small = thinLabels(this.smallLabels(labels, width, height), this.opts.maxSamples);
    const data = gatherLabeledPixels(features, nf, small);
    const classes = new Set<number>();
    for (let i = 0; i < data.nSamples; i++) classes.add(data.y[i]);
    if (classes.size < 2) return undefined;
    const forest = RandomForest.train(data, { nTrees: this.opts.trees, maxDepth: this.opts.depth, seed: 0 });
    const t1 = performance.now();
    const { labels: pred, probabilities } = forest.predict(features, this.lw * this.lh);
    const n = this.lw * this.lh, C = forest.classes.length;
    const unc = new Uint8Array(n);
    for (let p = 0; p < n; p++) {
      let best = 0;
      for (let c = 0; c < C; c++) best = Math.max(best, probabilities[c * n + p]);
      unc[p] = Math.round(255 * (1 - best));
    }
    const full = opts.full ?? true;
    const out = full
      ? { labels: upsampleNearest(pred, this.lw, this.lh, width, height, this.factor), uncertainty: upsampleNearest(unc, this.lw, this.lh, width, height, this.factor) }
      : { labels: pred, uncertainty: unc };
    return { ...out, lowLabels: pred, lowWidth: this.lw, lowHeight: this.lh, factor: this.factor, dims, featureMs: this.featureMs, trainMs: t1 - t0, predictMs: performance.now() - t1 };
  }

  /** The slice (at pyramid level `level`) box-averaged to the preview's resolution. */
  private reduce(image: Float32Array, width: number, height: number, level: number): { data: Float32Array; width: number; height: number } {
    if (this.factor % level !== 0) throw new Error(`live preview: level ${level} does not divide the preview factor ${this.factor}`);
    const lw = Math.ceil(width / level), lh = Math.ceil(height / level);
    if (image.length !== lw * lh) throw new Error(`live preview: the image has ${image.length} pixels, expected level ${level} of ${width} x ${height} (${lw} x ${lh})`);
    const r = blockMean(image, lw, lh, 'float32', this.factor / level);
    return { data: r.data as Float32Array, width: r.width, height: r.height };
  }

  private reduceTo(image: Float32Array, width: number, height: number, level: number, w: number, h: number): Float32Array {
    const r = this.reduce(image, width, height, level);
    if (r.width !== w || r.height !== h) throw new Error(`live preview: a context slice reduces to ${r.width} x ${r.height}, expected ${w} x ${h}`);
    return r.data;
  }
}

/**
 * A low-resolution pixel takes the label of any labeled pixel it covers (the highest class wins ties). Runs per
 * stroke over the whole full-resolution slice, mostly zeros: skips them four at a time.
 */
export function downsampleLabels(src: Uint8Array, w: number, h: number, f: number, sw: number, sh: number): Uint8Array {
  if (f === 1) return src;
  const out = new Uint8Array(sw * sh);
  const col = new Int32Array(w);
  for (let x = 0; x < w; x++) col[x] = Math.floor(x / f);
  const words = src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, src.length >> 2) : undefined;
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / f) * sw, start = y * w, end = start + w;
    let i = start;
    while (i < end) {
      if (words && (i & 3) === 0 && i + 4 <= end && words[i >> 2] === 0) { i += 4; continue; }
      const v = src[i];
      if (v !== 0) { const o = row + col[i - start]; if (v > out[o]) out[o] = v; }
      i++;
    }
  }
  return out;
}

/** Labelled pixels, the classes present (as a key) and their bounding box. */
function labelStats(labels: Uint8Array, w: number, h: number): { count: number; classes: string; x0: number; y0: number; x1: number; y1: number } {
  let count = 0, x0 = w, y0 = h, x1 = -1, y1 = -1;
  const seen = new Uint8Array(256);
  for (let y = 0; y < h; y++) {
    for (let x = 0, i = y * w; x < w; x++, i++) {
      const v = labels[i];
      if (v === 0) continue;
      count++; seen[v] = 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  const classes = [...seen.keys()].filter((c) => seen[c]).join(',');
  return { count, classes, x0, y0, x1, y1 };
}

function upsampleNearest(src: Uint8Array, sw: number, _sh: number, w: number, h: number, f: number): Uint8Array {
  if (f === 1) return src;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / f) * sw;
    for (let x = 0; x < w; x++) out[y * w + x] = src[row + Math.floor(x / f)];
  }
  return out;
}

/** Keeps about `max` labeled pixels, evenly spread (every k-th labeled pixel), so every stroke still counts. */
function thinLabels(labels: Uint8Array, max: number): Uint8Array {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) n++;
  if (n <= max) return labels;
  const keepEvery = n / max;
  const out = new Uint8Array(labels.length);
  let seen = 0, next = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    if (seen >= next) { out[i] = labels[i]; next += keepEvery; }
    seen++;
  }
  return out;
}
