// Scoring masks against ground truth for jobs and `stackseg eval`: streams slice by slice over the stacks.

import { StackSegError } from '../../shared/errors';
import { SegmentationEvaluator, type ClassPair, type EvaluationResult } from '../metrics';
import { toLabels } from '../pixels';
import { openStack } from '../tiff';

export interface EvaluationReport extends EvaluationResult {
  /** Per truth class: F1 averaged over slices (the foam benchmark's protocol). */
  classF1: Record<string, number | null>;
  classIoU: Record<string, number | null>;
  /** Mean over classes of the slice-averaged F1. */
  meanF1: number | null;
  meanIoU: number | null;
  pred?: string;
  truth?: string;
}

function pairsOf(classMap?: Record<number, number>): ClassPair[] | undefined {
  if (!classMap) return undefined;
  return Object.entries(classMap).map(([p, t]) => ({ pred: Number(p), truth: t }));
}

export class Evaluation {
  private readonly evaluator: SegmentationEvaluator;
  private nextSlice = 0;

  constructor(classMap?: Record<number, number>) {
    this.evaluator = new SegmentationEvaluator({ classes: pairsOf(classMap) });
  }

  addSlice(_z: number, pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    this.evaluator.add(pred, truth);
    this.nextSlice++;
  }

  /** One slice's sparse confusion counts, from a chunk task that scored its slices (see runners/chunkTask.ts). */
  addSliceCounts(entries: [number, number][]): void {
    this.evaluator.addSliceCounts(entries);
    this.nextSlice++;
  }

  result(extra: { pred?: string; truth?: string } = {}): EvaluationReport {
    const r = this.evaluator.result();
    const classF1: Record<string, number | null> = {}, classIoU: Record<string, number | null> = {};
    for (const c of r.meanOverSlices) { classF1[String(c.truth)] = c.f1; classIoU[String(c.truth)] = c.iou; }
    return { ...r, classF1, classIoU, meanF1: r.macro.sliceMeanF1, meanIoU: r.macro.sliceMeanIoU, ...extra };
  }
}

export async function evaluateFiles(predPath: string, truthPath: string, classMap?: Record<number, number>): Promise<EvaluationReport> {
  const pred = await openStack(predPath, { cacheBytes: 0 });
  try {
    const truth = await openStack(truthPath, { cacheBytes: 0 });
    try {
      const a = pred.info, b = truth.info;
      if (a.width !== b.width || a.height !== b.height || a.depth !== b.depth) {
        // Never broadcast or truncate: a one-slice truth would score every slice against slice 0.
        throw new StackSegError(`the truth stack is ${b.width}×${b.height}×${b.depth} but the prediction ${predPath} is ${a.width}×${a.height}×${a.depth}`, {
          file: truthPath, hint: `pass a truth stack with the same width, height and ${a.depth} slices as the prediction`,
        });
      }
      const ev = new Evaluation(classMap);
      for (let z = 0; z < a.depth; z++) {
        ev.addSlice(z, toLabels(await pred.readSlice(z), predPath, z), toLabels(await truth.readSlice(z), truthPath, z));
      }
      return ev.result({ pred: predPath, truth: truthPath });
    } finally {
      await truth.close();
    }
  } finally {
    await pred.close();
  }
}
