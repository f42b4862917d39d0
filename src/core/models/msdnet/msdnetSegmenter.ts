// MSDNet as a Segmenter. The network normalises its own input (percentiles of the training slices) and writes
// tfjs files (model.json + weights.bin) beside StackSeg's header (stackseg.json).

import { loadMsdnet, trainMsdnet, type MsdnetModel } from './msdnet';
import type { ModelParams } from '../../../shared/models/registry';
import type { ModelFileHeader, Normalization, Prediction, Segmenter, TrainInput, ZContext } from '../segmenter';
import { AUTO_3D_MIN_DEPTH, autoDims, contextWindow, SliceRing } from '../../features/volumeChunks';
import { normalizeSlice } from '../normalize';
import { StackSegError } from '../../../shared/errors';
import { writeHeader } from '../modelHeader';
import { chooseMsdnetEngine, TorchMsdnetSegmenter } from './msdnetTorchSegmenter';
import { runTeacher } from './teacher';
import { AUTO_SIGMAS } from './inputPlanes';
import { resolveAugment } from './symmetry';

export class MsdnetSegmenter implements Segmenter {
  readonly kind = 'msdnet' as const;

  constructor(private readonly model: MsdnetModel, readonly norm: Normalization, readonly params: ModelParams, private readonly note?: string) {}

  /** For metrics.json: the teacher's report (pseudoLabels=teacher, teacher.ts), what contextSlices=-1 and augment=auto decided. */
  extraReport: Record<string, unknown> = {};

  get classes(): readonly number[] { return this.model.classValues; }
  get backend(): string { return this.model.backend; }
  get runtime(): Record<string, unknown> {
    const gpu = this.model.backend === 'tensorflow';
    return { backend: gpu ? 'tfjs-gpu' : 'native', engine: this.model.trainingInfo?.engine ?? 'tfjs', tfjs: this.model.backend,
      device: gpu ? 'cuda (tfjs-node-gpu)' : 'cpu', gpu: null, torch: null, cuda: null, ...(this.note ? { note: this.note } : {}) };
  }

  /** On the engine of chooseMsdnetEngine: torch (python/), or tfjs + the native CPU step. */
  static async train(input: TrainInput): Promise<Segmenter> {
    const context = resolveAutoInputs(input);
    const augment = resolveAugment(context.input);
    input = augment.input;
    const report = { ...context.report, ...augment.report };
    const engine = await chooseMsdnetEngine(input.params, 'train');
    if (engine.engine === 'torch') return TorchMsdnetSegmenter.train(input, engine, report);
    const epochs = input.params.epochs as number;
    const taught = await runTeacher(input);
    const model = await trainMsdnet(
      taught.attach(await withContext(taught.input)),
      { ...taught.input.params, backend: engine.tfjs },
      (epoch, loss, planned) => input.onProgress({ percent: Math.min(99, (100 * epoch) / (planned || epochs)), epoch, loss, message: `epoch ${epoch}/${planned || epochs}` }),
      input.signal,
    );
    const segmenter = new MsdnetSegmenter(model, input.norm, input.params, engine.note);
    segmenter.extraReport = { ...report, ...(taught.report ? { teacher: taught.report } : {}) };
    return segmenter;
  }

  /** Any engine's model folder; segments on torch where chooseMsdnetEngine picks it, else on tfjs (native CPU). */
  static async load(dir: string, header: ModelFileHeader): Promise<Segmenter> {
    const engine = await chooseMsdnetEngine(header.params, 'segment');
    if (engine.engine === 'torch') return TorchMsdnetSegmenter.load(dir, header, engine);
    const model = await loadMsdnet(dir, engine.tfjs);
    return new MsdnetSegmenter(model, header.norm, header.params, engine.note);
  }

  /** 2.5-D: the slices each side that predict() reads through its ZContext (the model records its input planes). */
  get zHalo(): number { return this.model.inputs.contextSlices; }

  async predict(image: Float32Array, width: number, height: number, _withProbabilities?: boolean, signal?: AbortSignal, context?: ZContext): Promise<Prediction> {
    const planes = contextPlanes(this.zHalo, context);
    const { labels, probs } = await this.model.predict(image, width, height, { signal, context: planes });
    // The network gives pixel-major probabilities; the Segmenter contract is class-major.
    const C = this.classes.length, n = width * height;
    const classMajor = new Float32Array(C * n);
    for (let p = 0; p < n; p++) for (let c = 0; c < C; c++) classMajor[c * n + p] = probs[p * C + c];
    return { labels, probs: classMajor };
  }

  async save(dir: string): Promise<void> {
    await this.model.save(dir);
    await writeHeader(dir, { kind: 'msdnet', params: this.params, classes: [...this.classes], norm: this.norm }, { backend: this.backend });
  }

  trainingReport(): Record<string, unknown> {
    const info = this.model.trainingInfo;
    return info ? { lossCurve: info.losses, fitSeconds: info.seconds, steps: info.steps, labeledPixels: info.labelledPixels.reduce((a, b) => a + b, 0), backend: this.backend, engine: info.engine, epochs: info.losses.length, stopped: info.stopped, ...this.extraReport } : {};
  }

  dispose(): void { this.model.dispose(); }
}

/** The z window of a 2.5-D prediction (undefined for a one-slice network). */
export function contextPlanes(k: number, context: ZContext | undefined): Float32Array[] | undefined {
  if (k === 0) return undefined;
  if (!context) throw new StackSegError(`this MSDNet reads ${k} slices each side (contextSlices=${k}): it needs the slices around the one it segments`, { hint: 'segment through stackseg segment / a job, which stream them' });
  return contextWindow(context.slice, context.z, context.depth, k);
}

/**
 * The auto inputs (the defaults), resolved into params so that stackseg.json records what was used:
 * - contextSlices=-1: 3 (2.5-D) where the labelled slices are noisy in-plane, by the test of the forest's dims=auto
 *   (features/volumeChunks.ts autoDims: at least 8 slices, contrast-to-noise under 5:1), else 0. Averaging
 *   neighbouring slices removes noise that in-plane filters can only remove by blurring thin walls; on clean slices
 *   the extra input weights only cost;
 * - teacherSlices=-1: 2 + 2k, so that the teacher labels real (not mirrored) windows around the labelled slice;
 * - inputSigmas=-1: 1,2 where k > 0 (with inputSmoothing=3d the z window smoothed in 3-D, the cheap analogue of the
 *   forest's 3-D features), else none.
 * Measured in docs/models.md (2.5-D MSDNet). The report goes to metrics.json.
 */
export function resolveAutoInputs(input: TrainInput): { input: TrainInput; report: Record<string, unknown> } {
  const params = { ...input.params }, report: Record<string, unknown> = {};
  if (Number(params.contextSlices ?? 0) < 0) {
    const vol = input.volume, n = input.width * input.height;
    let k = 0, reason = 'auto: single slices (no stack)';
    if (vol && vol.depth < AUTO_3D_MIN_DEPTH) reason = `auto: ${vol.depth} slices < ${AUTO_3D_MIN_DEPTH}`;
    else if (vol && input.slices.some((s) => s.image.length !== n)) reason = 'auto: several channels';
    else if (vol) {
      const auto = autoDims(input.slices.map((s) => ({ normalised: normalizeSlice(s.image, input.norm), labels: s.labels })), input.width, input.height);
      k = auto.dims === '3d' ? AUTO_CONTEXT_SLICES : 0;
      reason = auto.reason;
    }
    params.contextSlices = k;
    Object.assign(report, { contextSlices: k, contextReason: reason });
  }
  const k = Number(params.contextSlices ?? 0);
  const sigmas = params.inputSigmas;
  if (Array.isArray(sigmas) ? sigmas.includes(AUTO_SIGMAS) : Number(sigmas) === AUTO_SIGMAS) report.inputSigmas = params.inputSigmas = k > 0 ? [1, 2] : [0];
  if (Number(params.teacherSlices ?? 0) < 0) {
    const ts = autoTeacherSlices(k, (params.inputSigmas as number[] | undefined)?.filter((v) => v > 0).length ?? 0, input.slices.length, input.width * input.height);
    report.teacherSlices = params.teacherSlices = ts.slices;
    if (ts.reason) report.teacherSlicesReason = ts.reason;
  }
  return { input: { ...input, params }, report };
}

/** What MSDNet's training data may hold in memory when teacherSlices is auto (inputs, targets, teacher, z windows). */
export const AUTO_TRAINING_BYTES = 1.5 * 2 ** 30;

/**
 * teacherSlices=-1: 2 + 2k (the slices whose z windows overlap a labelled one), fewer where that many training
 * slices would not fit AUTO_TRAINING_BYTES: ~80 bytes a pixel with k = 3 (9 input planes, targets, teacher
 * probabilities, the 7-slice window), so 17 slices of 2048² would take 5.7 GB; there 1 each side, which with crops
 * still gives 192 steps an epoch.
 */
export function autoTeacherSlices(k: number, sigmas: number, labelled: number, pixels: number): { slices: number; reason?: string } {
  const want = 2 + 2 * k, groups = Math.max(1, labelled);
  // input planes (2k+1 raw, the sigmas), targets and teacher probabilities (2 classes), the z window: float32 each
  const bytesPerSlice = 4 * ((2 * k + 1) + sigmas + 2 * 2 + (2 * k + 1)) * pixels;
  const fit = Math.floor((AUTO_TRAINING_BYTES / (bytesPerSlice * groups) - 1) / 2);
  if (fit >= want) return { slices: want };
  const slices = Math.max(0, fit), wanted = (1 + 2 * want) * groups;
  return { slices, reason: `auto: ${slices}, not ${want}: ${wanted} training slices of ${pixels} pixels would hold ${((bytesPerSlice * wanted) / 2 ** 30).toFixed(1)} GB` };
}

/** contextSlices=-1 on noisy slices (docs/models.md: 1 gave noisy .9471, 3 with its teacher slices and planes .9486). */
export const AUTO_CONTEXT_SLICES = 3;

/** Training slices for MSDNet; with contextSlices = k, each with its 2k+1 raw neighbours (read through a ring). */
export async function withContext(input: TrainInput): Promise<Array<{ z: number; image: Float32Array; labels: Uint8Array; width: number; height: number; context?: Float32Array[] }>> {
  const k = Number(input.params.contextSlices ?? 0);
  const base = input.slices.map((s) => ({ z: s.z, image: s.image, labels: s.labels, width: input.width, height: input.height }));
  if (k === 0) return base;
  const vol = input.volume;
  if (!vol) throw new StackSegError('contextSlices needs the whole stack, and this caller passed single slices', { hint: 'use --set contextSlices=0 here' });
  const ring = new SliceRing(vol.depth, k, (z) => vol.read(z));
  const out = [];
  for (const s of [...base].sort((a, b) => a.z - b.z)) {
    input.signal?.throwIfAborted();
    out.push({ ...s, context: contextWindow(await ring.centre(s.z), s.z, vol.depth, k) });
  }
  return out;
}
