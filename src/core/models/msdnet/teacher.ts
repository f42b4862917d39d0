// The Random Forest as MSDNet's teacher (`pseudoLabels=teacher`). Brush strokes lie where the class is certain,
// away from edges, so nothing in them tells a network where a boundary belongs. The forest's filter bank, its
// threshold fill and (where `dims=auto` picks it) its 3-D features place boundaries well and train in seconds. So
// the forest with its own defaults is trained on the same strokes first, it predicts the labelled slices, and MSDNet
// learns from the strokes (full weight) plus the forest's class probabilities on the unlabelled pixels (soft targets,
// weight `teacherWeight`, pseudo.ts trainingTargets). The targets are only loss weights, so every engine (native,
// tfjs, torch) trains on them unchanged. See docs/models.md.

import { resolveParams } from '../../../shared/models/registry';
import { SliceRing } from '../../features/volumeChunks';
import { RandomForestSegmenter } from '../randomForest/randomForestSegmenter';
import type { TrainInput, ZContext } from '../segmenter';
import { pseudoLabelMode, type SoftLabels } from './pseudo';

/** The teacher's class probabilities on one slice: probs[c * n + i] for classes[c] (class-major, as Prediction). */
export interface TeacherPrediction { classes: readonly number[]; probs: Float32Array }

export interface TeacherResult {
  /** By slice index z of the labelled slices. */
  predictions: Map<number, TeacherPrediction>;
  /** The raw slices of `extra` the forest read, by z (MSDNet trains on them: not read twice). */
  extraImages: Map<number, Float32Array>;
  /** For metrics.json: which teacher, what it decided, its time. */
  report: Record<string, unknown>;
}

/**
 * Trains the Random Forest with the registry's rf defaults (seed from MSDNet's) on input's labelled slices and
 * predicts them and the slices `extra` (z indices, read from input.volume). Without the whole stack (input.volume)
 * the forest stays 2-D. The forest is disposed before return.
 */
export async function forestTeacher(input: TrainInput, extra: number[] = []): Promise<TeacherResult> {
  const t0 = performance.now();
  const vol = input.volume;
  // settle 0: soft targets from all trees (a settled vote would average fewer trees for confident pixels).
  // teacherDepth (6): shallower trees than the forest's own 8 give smoother probabilities, and a better forest on
  // noisy slices (docs/models.md, fifth round). A caller that passes no msdnet params gets rf's own depth.
  const depth = Number(input.params.teacherDepth ?? resolveParams('rf', {}).depth);
  const params = resolveParams('rf', { seed: Number(input.params.seed ?? 0), settle: 0, depth, ...(vol ? {} : { dims: '2d' }) });
  const rf = await RandomForestSegmenter.train({
    ...input, params,
    // The teacher is the first few per cent of an MSDNet job.
    onProgress: (p) => input.onProgress({ percent: Math.min(5, p.percent / 20), message: `teacher (Random Forest): ${p.message ?? ''}` }),
  });
  const t1 = performance.now();
  const predictions = new Map<number, TeacherPrediction>();
  const extraImages = new Map<number, Float32Array>();
  try {
    const halo = rf.zHalo;
    const ring = halo > 0 && vol ? new SliceRing(vol.depth, halo, (z) => vol.read(z)) : null;
    const images = new Map(input.slices.map((s) => [s.z, s.image]));
    // In z order, so the ring reads the slices shared by neighbouring windows once.
    for (const z of [...new Set([...images.keys(), ...(vol ? extra : [])])].sort((a, b) => a - b)) {
      input.signal?.throwIfAborted();
      const context: ZContext | undefined = ring && vol ? { z, depth: vol.depth, slice: await ring.centre(z) } : undefined;
      const image = images.get(z) ?? context?.slice(z) ?? await vol!.read(z);
      if (!images.has(z)) extraImages.set(z, image);
      const { probs } = await rf.predict(image, input.width, input.height, true, input.signal, context);
      if (probs) predictions.set(z, { classes: rf.classes, probs });
    }
  } finally {
    await rf.dispose();
  }
  const r = rf.trainingReport();
  const report = {
    model: 'rf', params: `rf defaults, depth ${depth}`, dims: r.dims, dimsReason: r.dimsReason, fill: r.fill, slices: [...predictions.keys()],
    trainSeconds: round((t1 - t0) / 1000), predictSeconds: round((performance.now() - t1) / 1000), seconds: round((performance.now() - t0) / 1000),
  };
  return { predictions, extraImages, report };
}

const round = (s: number) => Math.round(s * 1000) / 1000;

/** Unlabelled slices within `k` of a labelled one (inside the stack): the teacher labels them too. */
export function neighbourSlices(labelled: number[], depth: number, k: number): number[] {
  const have = new Set(labelled), out = new Set<number>();
  for (const z of labelled) for (let d = -k; d <= k; d++) if (z + d >= 0 && z + d < depth && !have.has(z + d)) out.add(z + d);
  return [...out].sort((a, b) => a - b);
}

export interface Taught {
  /** input with the teacher's extra slices (no painted pixel) added, and params.pseudoLabels = fill if the teacher failed. */
  input: TrainInput;
  /** The training slices (as withContext gives them) with the teacher's prediction attached by z. */
  attach<T extends { z: number }>(slices: T[]): Array<T & { teacher?: SoftLabels }>;
  report?: Record<string, unknown>;
}

/**
 * With `pseudoLabels=teacher`: the forest's predictions of the labelled slices and of `teacherSlices` unlabelled
 * slices each side of them, which become training slices with no painted pixel. Should the forest fail (anything
 * but a cancel), training goes on with the threshold fill instead, and the report says why.
 */
export async function runTeacher(input: TrainInput): Promise<Taught> {
  const none = <T>(slices: T[]) => slices;
  if (pseudoLabelMode(input.params.pseudoLabels) !== 'teacher') return { input, attach: none };
  const vol = input.volume;
  const extra = vol ? neighbourSlices(input.slices.map((s) => s.z), vol.depth, Number(input.params.teacherSlices ?? 0)) : [];
  try {
    const { predictions, extraImages, report } = await forestTeacher(input, extra);
    const blank = new Uint8Array(input.width * input.height);
    const added = extra.filter((z) => predictions.has(z)).map((z) => ({ z, image: extraImages.get(z)!, labels: blank }));
    return {
      input: { ...input, slices: [...input.slices, ...added] }, report,
      attach: (slices) => slices.map((s) => ({ ...s, teacher: predictions.get(s.z) })),
    };
  } catch (e) {
    if (input.signal?.aborted || (e as { code?: string }).code === 'cancelled') throw e;
    return { input: { ...input, params: { ...input.params, pseudoLabels: 'fill' } }, attach: none, report: { model: 'rf', error: (e as Error).message, fallback: 'fill' } };
  }
}
