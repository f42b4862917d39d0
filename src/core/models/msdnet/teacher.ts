// The Random Forest as MSDNet's teacher (`pseudoLabels=teacher`). Brush strokes lie where the class is certain,
// away from edges, so nothing in them tells a network where a boundary belongs. The forest's filter bank, its
// threshold fill and (where `dims=auto` picks it) its 3-D features place boundaries well and train in seconds. So
// the forest with its own defaults is trained on the same strokes first, it predicts the labelled slices, and MSDNet
// learns from the strokes (full weight) plus the forest's class probabilities on the unlabelled pixels (soft targets,
// weight `teacherWeight`, pseudo.ts trainingTargets). The targets are only loss weights, so every engine (native,
// tfjs, torch) trains on them unchanged. See docs/models.md.

import { resolveParams, type ModelParams } from '../../../shared/models/registry';
import { SliceRing } from '../../features/volumeChunks';
import { RandomForestSegmenter } from '../randomForest/randomForestSegmenter';
import type { TrainInput, ZContext } from '../segmenter';
import { pseudoLabelMode, type SoftLabels } from './pseudo';

/** The teacher's class probabilities on one slice: probs[c * n + i] for classes[c] (class-major, as Prediction). */
export interface TeacherPrediction { classes: readonly number[]; probs: Float32Array }

export interface TeacherResult {
  /** By slice index z of the labelled slices. */
  predictions: Map<number, TeacherPrediction>;
  /** For metrics.json: which teacher, what it decided, its time. */
  report: Record<string, unknown>;
}

/**
 * Trains the Random Forest with the registry's rf defaults (seed from MSDNet's) on input's labelled slices and
 * predicts them. Without the whole stack (input.volume) the forest stays 2-D. The forest is disposed before return.
 */
export async function forestTeacher(input: TrainInput): Promise<TeacherResult> {
  const t0 = performance.now();
  const vol = input.volume;
  const params = resolveParams('rf', { seed: Number(input.params.seed ?? 0), ...(vol ? {} : { dims: '2d' }) });
  const rf = await RandomForestSegmenter.train({
    ...input, params,
    // The teacher is the first few per cent of an MSDNet job.
    onProgress: (p) => input.onProgress({ percent: Math.min(5, p.percent / 20), message: `teacher (Random Forest): ${p.message ?? ''}` }),
  });
  const t1 = performance.now();
  const predictions = new Map<number, TeacherPrediction>();
  try {
    const halo = rf.zHalo;
    const ring = halo > 0 && vol ? new SliceRing(vol.depth, halo, (z) => vol.read(z)) : null;
    // In z order, so the ring reads the slices shared by neighbouring windows once.
    for (const s of [...input.slices].sort((a, b) => a.z - b.z)) {
      input.signal?.throwIfAborted();
      const context: ZContext | undefined = ring && vol ? { z: s.z, depth: vol.depth, slice: await ring.centre(s.z) } : undefined;
      const { probs } = await rf.predict(s.image, input.width, input.height, true, input.signal, context);
      if (probs) predictions.set(s.z, { classes: rf.classes, probs });
    }
  } finally {
    await rf.dispose();
  }
  const r = rf.trainingReport();
  const report = {
    model: 'rf', params: 'rf defaults', dims: r.dims, dimsReason: r.dimsReason, fill: r.fill, slices: predictions.size,
    trainSeconds: round((t1 - t0) / 1000), predictSeconds: round((performance.now() - t1) / 1000), seconds: round((performance.now() - t0) / 1000),
  };
  return { predictions, report };
}

const round = (s: number) => Math.round(s * 1000) / 1000;

/**
 * With `pseudoLabels=teacher`: the teacher's prediction attached to each training slice (by z). Should the forest
 * fail (anything but a cancel), training goes on with the threshold fill instead, and the report says why.
 */
export async function attachTeacher<T extends { z: number }>(input: TrainInput, slices: T[]):
  Promise<{ slices: Array<T & { teacher?: SoftLabels }>; params: ModelParams; report?: Record<string, unknown> }> {
  if (pseudoLabelMode(input.params.pseudoLabels) !== 'teacher') return { slices, params: input.params };
  try {
    const { predictions, report } = await forestTeacher(input);
    return { slices: slices.map((s) => ({ ...s, teacher: predictions.get(s.z) })), params: input.params, report };
  } catch (e) {
    if (input.signal?.aborted || (e as { code?: string }).code === 'cancelled') throw e;
    return { slices, params: { ...input.params, pseudoLabels: 'fill' }, report: { model: 'rf', error: (e as Error).message, fallback: 'fill' } };
  }
}
