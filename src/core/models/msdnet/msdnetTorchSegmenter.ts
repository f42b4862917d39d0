// Which engine runs an MSDNet job (`--set backend=auto|torch|tfjs-gpu|native`, `--set device=...`), and MSDNet on
// torch as a Segmenter. auto: torch when its Python sees a CUDA GPU (or device asks for cuda/mps), then
// tfjs-node-gpu when installed, then the native CPU path; the reason for each skip goes into the job log.
// The model folder is the same for every engine (io.ts's model.json + weights.bin beside stackseg.json).

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../../../shared/errors';
import { probePython, type PythonInfo } from './python';
import { checkDevice, TorchPredictor, trainTorch, type TorchRuntime, type TorchTrainParams, type TorchTrained } from './torchBackend';
import type { BackendPreference } from '../tfBackend';
import type { ModelParams } from '../../../shared/models/registry';
import type { ModelFileHeader, Normalization, Prediction, Segmenter, TrainInput, ZContext } from '../segmenter';
import { contextPlanes, withContext } from './msdnetSegmenter';
import { rawInputPlanes, recordedSpec, type InputSpec } from './inputPlanes';
import { runTeacher } from './teacher';
import { recordedTransforms } from './symmetry';
import { writeHeader } from '../modelHeader';

export type MsdnetEngine = { engine: 'torch'; info: PythonInfo; device: string; note?: string } | { engine: 'tfjs'; tfjs: BackendPreference; note?: string };

/**
 * Picks the engine. 'torch' (or device cuda/mps) fails with one clear message when Python, torch or CUDA is missing,
 * except when loading a model to segment: then it falls back to the native path (a torch-trained model segments
 * anywhere) and says so in `note`.
 */
export async function chooseMsdnetEngine(params: ModelParams, purpose: 'train' | 'segment'): Promise<MsdnetEngine> {
  const backend = String(params.backend ?? 'auto');
  const device = String(params.device ?? 'auto');
  if (backend === 'native') return { engine: 'tfjs', tfjs: 'wasm' };
  if (backend === 'tfjs-gpu') return { engine: 'tfjs', tfjs: 'gpu' };
  if (['gpu', 'wasm', 'cpu'].includes(backend)) return { engine: 'tfjs', tfjs: backend as BackendPreference };
  const wantsTorch = backend === 'torch' || device.startsWith('cuda') || device === 'mps';
  try {
    if (device === 'cpu' && backend !== 'torch') return { engine: 'tfjs', tfjs: 'auto', note: 'device=cpu: the native CPU path' };
    const info = await probePython();
    if (wantsTorch) {
      checkDevice(info, device);
      return { engine: 'torch', info, device };
    }
    if (info.cudaAvailable) return { engine: 'torch', info, device: 'auto' };
    return { engine: 'tfjs', tfjs: 'auto', note: `torch ${info.torch} (${info.python}) sees no CUDA GPU` };
  } catch (e) {
    if (wantsTorch && purpose === 'train') throw e;
    return { engine: 'tfjs', tfjs: 'auto', note: `torch skipped: ${(e as Error).message.split(' — ')[0]}` };
  }
}

function torchParams(params: ModelParams, device: string): TorchTrainParams {
  return {
    layers: params.layers as number, width: params.width as number, dilations: params.dilations as number[], epochs: params.epochs as number,
    learningRate: params.learningRate as number, optimizer: params.optimizer as 'adam' | 'sgd', lrSchedule: params.lrSchedule as 'constant' | 'cosine',
    classWeights: params.classWeights as 'none' | 'balanced', augment: params.augment as TorchTrainParams['augment'], tta: params.tta as boolean,
    bnRecompute: params.bnRecompute as boolean, normalization: 'percentile', pseudoLabels: params.pseudoLabels as TorchTrainParams['pseudoLabels'], teacherWeight: Number(params.teacherWeight ?? 1),
    contextSlices: Number(params.contextSlices ?? 0), inputSigmas: params.inputSigmas as number[] | undefined, inputSmoothing: params.inputSmoothing as TorchTrainParams['inputSmoothing'], seed: params.seed as number, maxSeconds: (params.maxSeconds as number | undefined) ?? 0, plateau: (params.plateau as boolean | undefined) ?? false, cropSize: Number(params.cropSize ?? 0), device,
  };
}

export class TorchMsdnetSegmenter implements Segmenter {
  readonly kind = 'msdnet' as const;
  readonly backend = 'torch';
  /** Two slices in flight: the next one is read and sent while Python computes. */
  readonly concurrency = 2;
  private predictor: Promise<TorchPredictor> | undefined;
  /** For metrics.json: the teacher's report (pseudoLabels=teacher, teacher.ts), what contextSlices=-1 and augment=auto decided. */
  extraReport: Record<string, unknown> = {};

  private constructor(
    private readonly modelDir: string,
    readonly classes: readonly number[],
    private readonly tta: boolean,
    readonly norm: Normalization,
    readonly params: ModelParams,
    public runtime: TorchRuntime,
    /** The input planes (inputPlanes.ts), as the model records them. */
    private readonly inputs: InputSpec,
    private readonly trained?: TorchTrained,
    readonly note?: string,
  ) {}

  static async train(input: TrainInput, engine: Extract<MsdnetEngine, { engine: 'torch' }>, report: Record<string, unknown> = {}): Promise<TorchMsdnetSegmenter> {
    const taught = await runTeacher(input);
    const trained = await trainTorch(taught.attach(await withContext(taught.input)),
      torchParams(taught.input.params, engine.device),
      (epoch, loss, planned) => input.onProgress({ percent: Math.min(99, (100 * epoch) / planned), epoch, loss, message: `epoch ${epoch}/${planned} (torch ${engine.device})` }),
      input.signal);
    const segmenter = new TorchMsdnetSegmenter(trained.modelDir, trained.classValues, trained.tta, input.norm, input.params, trained.runtime, trained.inputs, trained, engine.note);
    segmenter.extraReport = { ...report, ...(taught.report ? { teacher: taught.report } : {}) };
    return segmenter;
  }

  /** A saved model folder (any engine wrote it) on torch; starts the inference process now to learn the device. */
  static async load(dir: string, header: ModelFileHeader, engine: Extract<MsdnetEngine, { engine: 'torch' }>): Promise<TorchMsdnetSegmenter> {
    const json = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology?: { classValues: number[]; tta?: boolean; arch?: { inChannels?: number }; inputs?: unknown; transforms?: unknown } };
    if (!json.modelTopology) throw new StackSegError('not a StackSeg MSDNet model', { file: join(dir, 'model.json'), hint: 'pass the model/ folder of an msdnet job' });
    const inputs = recordedSpec(json.modelTopology.inputs, json.modelTopology.arch?.inChannels ?? 1, header.norm.channels?.length ?? 1, join(dir, 'model.json'));
    recordedTransforms(json.modelTopology.transforms, json.modelTopology.tta ?? false, join(dir, 'model.json')); // Python reads them; refuse bad ones here
    const started = TorchPredictor.start(dir, engine.device);
    const { runtime } = await started;
    const s = new TorchMsdnetSegmenter(dir, json.modelTopology.classValues, json.modelTopology.tta ?? false, header.norm, header.params, runtime, inputs, undefined, engine.note);
    s.predictor = started.then((r) => r.predictor);
    return s;
  }

  private start(): Promise<TorchPredictor> {
    if (!this.predictor) {
      this.predictor = TorchPredictor.start(this.modelDir, this.runtime.device).then(({ predictor, runtime }) => { this.runtime = runtime; return predictor; });
    }
    return this.predictor;
  }

  /** 2.5-D: slices each side read through the ZContext (the model records its input planes). */
  get zHalo(): number { return this.inputs.contextSlices; }

  async predict(image: Float32Array, width: number, height: number, withProbabilities = false, _signal?: AbortSignal, context?: ZContext): Promise<Prediction> {
    const predictor = await this.start();
    // The raw input planes: stack channels (norm.channels) x planes, as inputPlanes.ts; Python normalises them.
    const planes = rawInputPlanes(image, contextPlanes(this.zHalo, context), this.norm.channels?.length ?? 1, this.inputs, width, height);
    const { index, probs } = await predictor.predict(image, width, height, this.classes.length, this.tta, withProbabilities, planes);
    const labels = new Uint8Array(index.length);
    for (let i = 0; i < index.length; i++) labels[i] = this.classes[index[i]];
    return { labels, probs };
  }

  async save(dir: string): Promise<void> {
    for (const f of ['model.json', 'weights.bin']) await fs.copyFile(join(this.modelDir, f), join(dir, f));
    await writeHeader(dir, { kind: 'msdnet', params: this.params, classes: [...this.classes], norm: this.norm }, { backend: this.backend, runtime: this.runtime });
  }

  trainingReport(): Record<string, unknown> {
    const t = this.trained?.trainingInfo;
    return t ? { lossCurve: t.losses, fitSeconds: t.seconds, steps: t.steps, epochs: t.losses.length, stopped: t.stopped,
      labeledPixels: t.labelledPixels.reduce((a, b) => a + b, 0), backend: 'torch', engine: 'torch', device: t.device, runtime: this.runtime, ...this.extraReport } : {};
  }

  async dispose(): Promise<void> {
    const p = this.predictor;
    this.predictor = undefined;
    if (p) await p.then((x) => x.close(), () => undefined);
    if (this.trained) await fs.rm(this.trained.workDir, { recursive: true, force: true });
  }
}
