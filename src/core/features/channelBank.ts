// The 2-D filter bank on several channels (`--set channel=all`): the bank runs on each channel's normalised plane and
// the features are concatenated, channel 0's F features first (names: features/channels.ts). Runs in the calling
// thread or in a feature worker (pool.ts), in strips of rows (strips.ts) so memory is bounded by a strip of C*F
// planes, not the slice's.

import { featureCount, type FeatureOptions } from './bank';
import { channelRuns } from './channels';
import { StripFeatures, stripHalo, stripRows } from './strips';
import type { RandomForest } from '../models/randomForest/randomForest';

/**
 * All C * F features of C normalised planes, a block of rows at a time (training gathers its samples per block):
 * onBlock(features, first pixel, pixels) with features feature-major over the block's pixels.
 */
export function forEachChannelBlock(planes: readonly Float32Array[], width: number, height: number, opts: FeatureOptions,
  onBlock: (features: Float32Array, first: number, pixels: number) => void): void {
  const F = featureCount(opts), C = planes.length, all = Array.from({ length: F }, (_, i) => i);
  const rows = stripRows(width, height, C * F, stripHalo(opts));
  const strips = new StripFeatures(width, height, opts, all, rows);
  for (let y0 = 0; y0 < height; y0 += rows) {
    const y1 = Math.min(height, y0 + rows), m = (y1 - y0) * width;
    const block = new Float32Array(C * F * m);
    planes.forEach((p, c) => strips.rowsFeatures(p, y0, y1, block.subarray(c * F * m, (c + 1) * F * m)));
    onBlock(block, y0 * width, m);
  }
}

/** Forest prediction over the multi-channel bank: only the features the forest splits on, computed per strip. */
export class ChannelPredictor {
  private readonly sub: RandomForest;
  private readonly runs: ReturnType<typeof channelRuns>;
  private readonly strips: StripFeatures[];
  private readonly buffer: Float32Array;
  private readonly windowRows: number;
  private readonly rows: number;

  constructor(forest: RandomForest, opts: FeatureOptions, readonly width: number, readonly height: number) {
    const used = forest.usedFeatures().sort((a, b) => a - b); // by channel: one run of features per channel
    this.sub = forest.selectFeatures(used);
    this.runs = channelRuns(used, featureCount(opts));
    const rows = stripRows(width, height, Math.max(1, used.length), stripHalo(opts));
    this.strips = this.runs.map((r) => new StripFeatures(width, height, opts, r.local, rows));
    // Every channel's strips have one window shape (same options and rows); a forest of leaves alone reads none.
    this.windowRows = this.strips[0]?.windowRows ?? height;
    this.rows = this.strips[0]?.rows ?? height;
    this.buffer = new Float32Array(used.length * width * this.windowRows);
  }

  predict(planes: readonly Float32Array[], probabilities: boolean): { labels: Uint8Array; probabilities?: Float32Array } {
    const { width: w, height: h, windowRows } = this;
    const n = w * h, K = this.sub.classes.length, plane = w * windowRows;
    const labels = new Uint8Array(n);
    const probs = probabilities ? new Float32Array(K * n) : undefined;
    for (let y0 = 0; y0 < h; y0 += this.rows) {
      const y1 = Math.min(h, y0 + this.rows);
      let start = 0;
      this.runs.forEach((r, i) => {
        const got = this.strips[i].window(planes[r.channel], y0);
        start = got.start;
        this.buffer.set(got.features.subarray(0, r.local.length * plane), r.from * plane);
      });
      const from = (y0 - start) * w, to = (y1 - start) * w;
      if (!probs) { labels.set(this.sub.predictLabelsRange(this.buffer, plane, from, to), y0 * w); continue; }
      const res = this.sub.predictRange(this.buffer, plane, from, to);
      labels.set(res.labels, y0 * w);
      const m = (y1 - y0) * w;
      for (let c = 0; c < K; c++) probs.set(res.probabilities.subarray(c * m, (c + 1) * m), c * n + y0 * w);
    }
    return { labels, probabilities: probs };
  }
}
