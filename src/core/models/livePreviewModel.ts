// Live preview while painting: a small forest trained on the labels of the visible slice re-predicts that slice.
// Features are computed once per shown slice and kept, so after each stroke only training and prediction run.
// Large slices are previewed at reduced resolution (box-averaged image, labels carried over) and upsampled back.

import { computeFeatures, featureCount, type FeatureOptions } from '../features/bank';
import { FeatureBank3d, zHalo } from '../features/bank3d';
import { RandomForest } from './randomForest/randomForest';
import { gatherLabeledPixels } from './randomForest/randomForestTrain';
import { fitNormalization, normalizeSlice } from './normalize';
import { blockMean } from '../../shared/pyramid';

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
  /** Full-resolution class per pixel (0 where no prediction: fewer than two classes labeled). */
  labels: Uint8Array;
  /** 1 - max class probability, 0..255, at full resolution: the uncertainty map. */
  uncertainty: Uint8Array;
  /** The prediction at the resolution it was made (ceil(width/factor) x ceil(height/factor)): what the viewer draws. */
  lowLabels: Uint8Array;
  lowWidth: number;
  lowHeight: number;
  factor: number;
  featureMs: number;
  trainMs: number;
  predictMs: number;
}

export class LivePreview {
  private key: string | undefined;
  private features: Float32Array | undefined;
  private factor = 1;
  private lw = 0;
  private lh = 0;
  private featureMs = 0;
  private nFeatures = 0;

  constructor(private readonly opts: PreviewOptions = PREVIEW_DEFAULTS) {}

  /** Preview downsampling factor of a width x height slice. */
  factorFor(width: number, height: number): number { return Math.max(1, Math.ceil(Math.sqrt((width * height) / this.opts.maxPixels))); }

  /**
   * Slices each side of the shown one that a 3-D preview reads (the caller sends them as `context`): the z radius of
   * the preview bank at the downsampled pixel size (a pixel f times larger: z spacing ratio / f).
   */
  zHalo(width: number, height: number, zRatio = 1): number { return zHalo(this.opts.features, zRatio / this.factorFor(width, height)); }

  /**
   * Sets the shown slice (raw intensities); features are recomputed only when `key` changes (the key should name the
   * slice and, for 3-D, the spacing). With `context` (3-D, as rf dims=3d): the raw slices z-h..z+h, h = zHalo(),
   * reflected at the stack's ends (image is the middle one); the preview then trains on 3-D features.
   */
  setImage(key: string, image: Float32Array, width: number, height: number, context?: { slices: Float32Array[]; zRatio?: number }): void {
    if (key === this.key) return;
    const t0 = performance.now();
    this.factor = this.factorFor(width, height);
    const reduce = (a: Float32Array) => blockMean(a, width, height, 'float32', this.factor).data as Float32Array;
    const reduced = blockMean(image, width, height, 'float32', this.factor);
    const data = reduced.data as Float32Array, w = reduced.width, h = reduced.height;
    this.lw = w;
    this.lh = h;
    const norm = fitNormalization(data);
    if (context) {
      const zRatio = (context.zRatio ?? 1) / this.factor;
      const bank = new FeatureBank3d(w, h, this.opts.features, zRatio);
      const k = (context.slices.length - 1) / 2;
      if (!Number.isInteger(k) || k < bank.halo) throw new Error(`3-D live preview needs ${2 * bank.halo + 1} slices around the shown one, got ${context.slices.length}`);
      const planes = context.slices.map((s) => normalizeSlice(reduce(s), norm));
      // The window as a volume of 2k+1 slices, features of its middle one: with k >= halo the bank never reaches the
      // window's ends, so these are the stack's features (the caller reflects at the stack's ends).
      this.nFeatures = bank.names.length;
      this.features = new Float32Array(this.nFeatures * w * h);
      bank.compute((zz) => planes[zz], k, planes.length, bank.names.map((_, i) => i), this.features);
    } else {
      this.nFeatures = featureCount(this.opts.features);
      this.features = computeFeatures(normalizeSlice(data, norm), w, h, this.opts.features);
    }
    this.key = key;
    this.featureMs = performance.now() - t0;
  }

  /** Trains on the labels of the shown slice (full resolution, 0 = unlabeled) and predicts it. */
  predict(labels: Uint8Array, width: number, height: number): PreviewResult | undefined {
    if (!this.features) throw new Error('LivePreview.predict before setImage');
    const t0 = performance.now();
    const small = thinLabels(downsampleLabels(labels, width, height, this.factor, this.lw, this.lh), this.opts.maxSamples);
    const nf = this.nFeatures;
    const data = gatherLabeledPixels(this.features, nf, small);
    const classes = new Set<number>();
    for (let i = 0; i < data.nSamples; i++) classes.add(data.y[i]);
    if (classes.size < 2) return undefined;
    const forest = RandomForest.train(data, { nTrees: this.opts.trees, maxDepth: this.opts.depth, seed: 0 });
    const t1 = performance.now();
    const { labels: pred, probabilities } = forest.predict(this.features, this.lw * this.lh);
    const n = this.lw * this.lh, C = forest.classes.length;
    const unc = new Uint8Array(n);
    for (let p = 0; p < n; p++) {
      let best = 0;
      for (let c = 0; c < C; c++) best = Math.max(best, probabilities[c * n + p]);
      unc[p] = Math.round(255 * (1 - best));
    }
    const out = { labels: upsampleNearest(pred, this.lw, this.lh, width, height, this.factor), uncertainty: upsampleNearest(unc, this.lw, this.lh, width, height, this.factor) };
    return { ...out, lowLabels: pred, lowWidth: this.lw, lowHeight: this.lh, factor: this.factor, featureMs: this.featureMs, trainMs: t1 - t0, predictMs: performance.now() - t1 };
  }
}

/** A low-resolution pixel takes the label of any labeled pixel it covers (the highest class wins ties). */
function downsampleLabels(src: Uint8Array, w: number, h: number, f: number, sw: number, sh: number): Uint8Array {
  if (f === 1) return src;
  const out = new Uint8Array(sw * sh);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / f) * sw;
    for (let x = 0; x < w; x++) { const v = src[y * w + x]; const o = row + Math.floor(x / f); if (v > out[o]) out[o] = v; }
  }
  return out;
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
