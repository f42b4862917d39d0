// Segmentation metrics: streaming confusion matrix, per-class precision / recall / F1 / IoU, per slice and overall.
//
// API
//   const ev = new SegmentationEvaluator({ classes?: ClassPair[], ignoreTruth?: number[] })
//   ev.add(pred, truth)                 one slice (any integer typed arrays of equal length); call once per slice
//   ev.result(): EvaluationResult       { classes, overall, perSlice, meanOverSlices, macro }
//   parseClassMapping("2=1"): ClassPair        the CLI's `--class 2=1` (pred value 2 is scored against truth value 1)
//   ConfusionMatrix                     256x256 counts of (pred value, truth value); classStats(matrix, pair)
//
// Semantics: for a pair {pred: p, truth: t}: TP = #(pred == p & truth == t), FP = #(pred == p & truth != t),
// FN = #(pred != p & truth == t). precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN),
// IoU = TP/(TP+FP+FN). A ratio whose denominator is 0 is null (never NaN): e.g. a class absent from both prediction
// and truth has F1 = null and is left out of means. Without explicit pairs every value (except ignored truth
// values) seen in pred or truth is scored against itself. Pixels whose truth is in ignoreTruth are not counted
// (use [0] to score against sparse labels, where 0 = unlabelled).

import { StackSegError, UsageError } from '../shared/errors';

export interface ClassPair { pred: number; truth: number; name?: string }

export interface ClassStats {
  pred: number; truth: number; name: string;
  tp: number; fp: number; fn: number;
  precision: number | null; recall: number | null; f1: number | null; iou: number | null;
}

export interface EvaluationResult {
  classes: ClassPair[];
  /** From the matrix summed over all slices. */
  overall: ClassStats[];
  perSlice: { slice: number; classes: ClassStats[]; macroF1: number | null; macroIoU: number | null }[];
  /** Per class, the mean of per-slice F1 / IoU over slices where it is defined (the foam benchmark's protocol). */
  meanOverSlices: { pred: number; truth: number; name: string; f1: number | null; iou: number | null }[];
  /** Means over classes (non-null values) of overall F1 / IoU and of meanOverSlices F1 / IoU. */
  macro: { f1: number | null; iou: number | null; sliceMeanF1: number | null; sliceMeanIoU: number | null };
}

export class ConfusionMatrix {
  /** counts[pred * 256 + truth] */
  readonly counts = new Float64Array(256 * 256);
  add(pred: ArrayLike<number>, truth: ArrayLike<number>, ignoreTruth: ReadonlySet<number> = new Set()): void {
    if (pred.length !== truth.length) throw new StackSegError(`prediction has ${pred.length} pixels but truth has ${truth.length}`, { hint: 'compare stacks of the same width and height' });
    const c = this.counts;
    for (let i = 0; i < pred.length; i++) {
      const t = truth[i] & 255;
      if (ignoreTruth.size && ignoreTruth.has(t)) continue;
      c[(pred[i] & 255) * 256 + t]++;
    }
  }
  addMatrix(o: ConfusionMatrix): void { for (let i = 0; i < this.counts.length; i++) this.counts[i] += o.counts[i]; }
  /** Values that occur as prediction or truth. */
  valuesPresent(): { pred: Set<number>; truth: Set<number> } {
    const pred = new Set<number>(), truth = new Set<number>();
    for (let p = 0; p < 256; p++) for (let t = 0; t < 256; t++) if (this.counts[p * 256 + t] > 0) { pred.add(p); truth.add(t); }
    return { pred, truth };
  }
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

export function classStats(m: ConfusionMatrix, pair: ClassPair): ClassStats {
  const c = m.counts;
  const tp = c[pair.pred * 256 + pair.truth];
  let predSum = 0, truthSum = 0;
  for (let k = 0; k < 256; k++) { predSum += c[pair.pred * 256 + k]; truthSum += c[k * 256 + pair.truth]; }
  const fp = predSum - tp, fn = truthSum - tp;
  return {
    pred: pair.pred, truth: pair.truth, name: pair.name ?? pairName(pair), tp, fp, fn,
    precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn), iou: ratio(tp, tp + fp + fn),
  };
}

function pairName(p: ClassPair): string { return p.pred === p.truth ? `class ${p.pred}` : `pred ${p.pred} = truth ${p.truth}`; }

function mean(values: (number | null)[]): number | null {
  const ok = values.filter((v): v is number => v !== null);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
}

/** "2=1" -> { pred: 2, truth: 1 }; "3" -> { pred: 3, truth: 3 }. */
export function parseClassMapping(text: string): ClassPair {
  const m = /^\s*(\d{1,3})\s*(?:=\s*(\d{1,3}))?\s*$/.exec(text);
  const pred = m ? Number(m[1]) : NaN, truth = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || pred > 255 || truth > 255) throw new UsageError(`class mapping "${text}" is invalid`, 'write PRED=TRUTH with label values 0..255, e.g. --class 2=1');
  return { pred, truth };
}

export class SegmentationEvaluator {
  private readonly total = new ConfusionMatrix();
  /** Per slice: a matrix, or sparse [pred * 256 + truth, count] pairs (512 KB a matrix adds up over 2000 slices). */
  private readonly slices: (ConfusionMatrix | [number, number][])[] = [];
  private readonly ignore: Set<number>;
  constructor(private readonly opts: { classes?: ClassPair[]; ignoreTruth?: number[] } = {}) {
    this.ignore = new Set(opts.ignoreTruth ?? []);
  }

  /** Adds one slice; slices are numbered in the order added. */
  add(pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    const m = new ConfusionMatrix();
    m.add(pred, truth, this.ignore);
    this.slices.push(m);
    this.total.addMatrix(m);
  }

  /** Adds one slice's counts computed elsewhere (a Slurm chunk task's) as sparse [pred * 256 + truth, count] pairs. */
  addSliceCounts(entries: [number, number][]): void {
    this.slices.push(entries);
    for (const [i, v] of entries) this.total.counts[i] += v;
  }

  get sliceCount(): number { return this.slices.length; }
  get matrix(): ConfusionMatrix { return this.total; }

  result(): EvaluationResult {
    let classes = this.opts.classes;
    if (!classes || classes.length === 0) {
      const { pred, truth } = this.total.valuesPresent();
      const values = [...new Set([...pred, ...truth])].filter((v) => !this.ignore.has(v)).sort((a, b) => a - b);
      classes = values.map((v) => ({ pred: v, truth: v }));
    }
    const overall = classes.map((p) => classStats(this.total, p));
    const scratch = new ConfusionMatrix();
    const perSlice = this.slices.map((s, slice) => {
      const m = Array.isArray(s) ? scratch : s;
      if (Array.isArray(s)) for (const [i, v] of s) scratch.counts[i] = v;
      const cs = classes!.map((p) => classStats(m, p));
      if (Array.isArray(s)) for (const [i] of s) scratch.counts[i] = 0;
      return { slice, classes: cs, macroF1: mean(cs.map((s) => s.f1)), macroIoU: mean(cs.map((s) => s.iou)) };
    });
    const meanOverSlices = classes.map((p, k) => ({
      pred: p.pred, truth: p.truth, name: overall[k].name,
      f1: mean(perSlice.map((s) => s.classes[k].f1)), iou: mean(perSlice.map((s) => s.classes[k].iou)),
    }));
    return {
      classes, overall, perSlice, meanOverSlices,
      macro: {
        f1: mean(overall.map((s) => s.f1)), iou: mean(overall.map((s) => s.iou)),
        sliceMeanF1: mean(meanOverSlices.map((s) => s.f1)), sliceMeanIoU: mean(meanOverSlices.map((s) => s.iou)),
      },
    };
  }
}

/** `--class 2=1` pairs (prediction class = truth class), parsed by parseClassMapping. */
export function parseClassMap(pairs: string[]): Record<number, number> | undefined {
  if (pairs.length === 0) return undefined;
  const map: Record<number, number> = {};
  for (const p of pairs) {
    const { pred, truth } = parseClassMapping(p);
    map[pred] = truth;
  }
  return map;
}
