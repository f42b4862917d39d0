// MSDNet on PyTorch through the user's Python (python/stackseg_msdnet.py): CUDA on GPU nodes, MPS, or CPU.
// Everything that decides the numbers stays here in TypeScript and is shared with the native path: classes and
// class weights, percentile normalisation, pseudo-labels, loss targets, the seeded initial weights (network.ts),
// the step plan (schedule.ts). Python gets them as binary float32/int32 files in a temp folder, trains with the same
// graph, loss, Adam, BatchNorm and schedule, streams JSON lines (start, epoch, done | error) and writes the model
// folder in io.ts's format, so a torch model segments with the native path and back.
// Inference: one long-lived `serve` process per model; frames over stdin/stdout (raw float32 in, uint8 class
// indices + optional float32 probabilities out). SIGTERM (the job's abort signal) stops either at once.

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackSegError } from '../../../shared/errors';
import { initBackend } from '../tfBackend';
import { normalize, type Normalization } from './augment';
import { channelNormalization, inputPlanes, inputSpec, planesPerChannel, type InputSmoothing, type InputSpec } from './inputPlanes';
import { saveWeights } from './io';
import { createWeights, disposeWeights, type MsdnetArch } from './network';
import { fillPseudoLabels, pseudoLabelMode, trainingTargets, type PseudoLabelMode, type SoftLabels } from './pseudo';
import { classTable } from './classes';
import { probePython, scriptError, scriptPath, type PythonInfo } from './python';
import { stepPlan } from './schedule';
import { augmentTransforms, type AugmentParam } from './symmetry';

export interface TorchRuntime extends Record<string, unknown> {
  backend: 'torch'; device: string; gpu: string | null; torch: string; cuda: string | null; python: string;
}

export interface TorchTrainParams {
  layers: number; width: number; dilations: number[]; epochs: number; learningRate: number; optimizer: 'adam' | 'sgd';
  lrSchedule: 'constant' | 'cosine'; classWeights: 'none' | 'balanced' | number[]; augment: AugmentParam; tta: boolean;
  bnRecompute: boolean; normalization: 'percentile' | 'none' | Normalization; pseudoLabels: boolean | PseudoLabelMode; seed: number;
  /** Loss weight of a teacher-labelled pixel (pseudoLabels=teacher, TorchSlice.teacher). */
  teacherWeight?: number;
  maxSeconds?: number; plateau?: boolean; device?: string;
  /** schedule.ts cropGrid (0 or absent = whole slices). */
  cropSize?: number;
  /** 2.5-D: k slices each side as input channels (TorchSlice.context holds the 2k+1 raw slices). */
  contextSlices?: number;
  /** Fixed Gaussian-smoothed input planes (inputPlanes.ts), as MsdnetParams. */
  inputSigmas?: number[]; inputSmoothing?: InputSmoothing;
}

export interface TorchSlice { image: Float32Array; labels: Uint8Array; width: number; height: number; context?: Float32Array[]; teacher?: SoftLabels }
export type TorchProgress = (epoch: number, loss: number, planned: number) => void;

export interface TorchTrained {
  /** Temp folder holding model.json + weights.bin (io.ts format); removed by dispose of its owner. */
  modelDir: string; workDir: string;
  arch: MsdnetArch; classValues: number[]; normalization: Normalization; tta: boolean; inputs: InputSpec;
  runtime: TorchRuntime;
  trainingInfo: { losses: number[]; seconds: number; steps: number; labelledPixels: number[]; engine: 'torch'; device: string; stopped: string };
}

function cancelled(): StackSegError {
  return new StackSegError('MSDNet training cancelled', { code: 'cancelled' });
}

/** A device request the probe can already refuse: cuda without CUDA. */
export function checkDevice(info: PythonInfo, device = 'auto'): void {
  if (device.startsWith('cuda') && !info.cudaAvailable) {
    const why = info.cuda === null ? 'a CPU-only build of torch' : `built for CUDA ${info.cuda}, but no GPU or driver is visible`;
    throw scriptError('no-cuda', `device=${device} but torch ${info.torch} sees no CUDA GPU (${why})`, info.python);
  }
}

/** Writes the training inputs, runs `train`, returns the trained model folder. */
export async function trainTorch(slices: TorchSlice[], p: TorchTrainParams, onProgress?: TorchProgress, signal?: AbortSignal): Promise<TorchTrained> {
  const info = await probePython();
  checkDevice(info, p.device);
  if (slices.length === 0) throw new StackSegError('MSDNet needs at least one labelled slice', { hint: 'paint labels on a slice first' });
  // As msdnet.ts's trainMsdnet: class table, normalisation, pseudo-labels, targets, denominators.
  const { classValues, classIndex, classWeights, counts } = classTable(slices, p.classWeights);
  // Several stack channels: each image holds IC planes (channel-major).
  const IC = Math.max(1, Math.round(slices[0].image.length / (slices[0].width * slices[0].height)));
  const normalization = p.normalization === 'percentile' ? channelNormalization(slices.map((s) => s.image), IC)
    : p.normalization === 'none' ? { low: 0, high: 1 } : p.normalization;
  const spec = inputSpec(p), P = planesPerChannel(spec);
  // Pseudo-labels read the first channel alone.
  const images = slices.map((s) => normalize(s.image.subarray(0, s.width * s.height), normalization));
  // Network inputs, channel-major per slice ([c][pixel], torch's NCHW): the slice, or its stack channels x (2k+1
  // neighbours and smoothed planes) (inputPlanes.ts), each channel normalised on its own.
  const inputs = P * IC === 1 ? images : slices.map((s) => {
    const n = s.width * s.height, planes = inputPlanes(s.image, s.context, IC, spec, s.width, s.height, normalization);
    const out = new Float32Array(planes.length * n);
    planes.forEach((q, c) => out.set(q, c * n));
    return out;
  });
  // The fill assigns the nearest class mean of one intensity: with several stack channels it would mislabel classes
  // only the channels together tell apart, so it is left out (the teacher, a multi-channel forest, still works).
  const mode = IC > 1 && pseudoLabelMode(p.pseudoLabels) === 'fill' ? 'off' : pseudoLabelMode(p.pseudoLabels);
  const trainLabels = slices.map((s, i) => (mode === 'fill' ? fillPseudoLabels(images[i], s.labels, s.width, s.height, classValues) : s.labels));
  const C = classValues.length;
  // The teacher's soft labels are loss weights like any other: Python trains on targets.f32 unchanged.
  const built = slices.map((s, i) => trainingTargets(trainLabels[i], classIndex, classWeights, C, mode === 'teacher' ? s.teacher : undefined, p.teacherWeight ?? 1));
  const targets = built.map((b) => b.targets), denominators = built.map((b) => b.denominator);
  const arch: MsdnetArch = { layers: p.layers, width: p.width, dilations: p.dilations, inChannels: P * IC, classes: C };
  // The flips/rotations of training, BatchNorm recompute and tta (symmetry.ts), as msdnet.ts.
  const transforms = augmentTransforms(p.augment, () => images.map((image, i) => ({ image, width: slices[i].width, height: slices[i].height })));

  const workDir = await fs.mkdtemp(join(tmpdir(), 'stackseg-torch-'));
  try {
    await initBackend('wasm');
    const weights = createWeights(arch, p.seed);
    try {
      await saveWeights(join(workDir, 'init'), { arch, weights, classValues, normalization, tta: p.tta, backend: 'init', inputs: spec, transforms });
    } finally {
      disposeWeights(weights);
    }
    const bytes = (arrays: ArrayBufferView[]) => Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
    await fs.writeFile(join(workDir, 'images.f32'), bytes(inputs));
    await fs.writeFile(join(workDir, 'targets.f32'), bytes(targets));
    // [slice, k, x, y] per step, as msdnet.ts draws them; the script crops cropSize (schedule.ts cropGrid, batchNormRegion).
    const { plan, stepsPerEpoch } = stepPlan(slices, p.epochs, p.seed, transforms, p.cropSize ?? 0);
    await fs.writeFile(join(workDir, 'plan.i32'), bytes([plan]));
    const request = {
      device: p.device ?? 'auto', epochs: p.epochs, learningRate: p.learningRate, optimizer: p.optimizer, lrSchedule: p.lrSchedule,
      bnRecompute: p.bnRecompute, transforms, maxSeconds: p.maxSeconds ?? 0, plateau: p.plateau ?? false, denominators, labelledPixels: counts, cropSize: p.cropSize ?? 0, stepsPerEpoch,
      slices: slices.map((s) => ({ width: s.width, height: s.height })),
    };
    await fs.writeFile(join(workDir, 'request.json'), JSON.stringify(request));
    const { start, done } = await runTrain(info, workDir, onProgress, signal);
    const runtime: TorchRuntime = { backend: 'torch', device: String(start.device), gpu: (start.gpu as string | null) ?? null,
      torch: String(start.torch), cuda: (start.cuda as string | null) ?? null, python: info.executable };
    const modelJson = JSON.parse(await fs.readFile(join(workDir, 'out', 'model.json'), 'utf8'));
    return { modelDir: join(workDir, 'out'), workDir, arch, classValues, normalization, tta: p.tta, inputs: spec, runtime,
      trainingInfo: { ...modelJson.trainingInfo, stopped: String(done.stopped) } };
  } catch (e) {
    await fs.rm(workDir, { recursive: true, force: true });
    throw e;
  }
}

type Event = Record<string, unknown>;

function runTrain(info: PythonInfo, workDir: string, onProgress?: TorchProgress, signal?: AbortSignal): Promise<{ start: Event; done: Event }> {
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) return reject(cancelled());
    // stdin stays open: the script exits when it closes (this process died), so no orphan keeps a GPU busy.
    const child = spawn(info.python, [scriptPath(), 'train', workDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let start: Event = {}, done: Event | undefined, error: Event | undefined, buf = '', stderr = '';
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        let ev: Event;
        try { ev = JSON.parse(line); } catch { continue; }
        if (ev.event === 'start') start = ev;
        else if (ev.event === 'epoch') onProgress?.(Number(ev.epoch), Number(ev.loss), Number(ev.planned));
        else if (ev.event === 'done') done = ev;
        else if (ev.event === 'error') error = ev;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
    child.on('error', (e) => reject(new StackSegError(`cannot run ${info.python}: ${e.message}`, { code: 'torch-no-python' })));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(cancelled());
      if (error) return reject(scriptError(String(error.code), String(error.message), info.python));
      if (code === 0 && done) return resolvePromise({ start, done });
      const last = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new StackSegError(`torch training stopped (${sig ?? `exit ${code}`}): ${last || 'no message'}`, { hint: `${info.python} ${scriptPath()}`, code: 'torch-failed' }));
    });
  });
}

const HEADER_BYTES = 16;

/** A `serve` process for one model folder; predictions queue in order. */
export class TorchPredictor {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Array<{ bytes: number; resolve: (b: Buffer) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private stderr = '';

  private constructor(private readonly child: ChildProcess, private readonly python: string) {}

  /** Starts the process on `device` and waits for its ready line (the resolved device, GPU, versions). */
  static async start(modelDir: string, device = 'auto'): Promise<{ predictor: TorchPredictor; runtime: TorchRuntime }> {
    const info = await probePython();
    checkDevice(info, device);
    const child = spawn(info.python, [scriptPath(), 'serve', modelDir, device], { stdio: ['pipe', 'pipe', 'pipe'] });
    const predictor = new TorchPredictor(child, info.python);
    const ready = await new Promise<Event>((resolvePromise, reject) => {
      let line = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        predictor.stderr = (predictor.stderr + d).slice(-4000);
        line += d;
        let i;
        while ((i = line.indexOf('\n')) >= 0) {
          const text = line.slice(0, i); line = line.slice(i + 1);
          try {
            const ev = JSON.parse(text) as Event;
            if (ev.event === 'ready') resolvePromise(ev);
            if (ev.event === 'error') predictor.failure = scriptError(String(ev.code), String(ev.message), info.python);
          } catch { /* a Python warning line */ }
        }
      });
      child.on('error', (e) => reject(new StackSegError(`cannot run ${info.python}: ${e.message}`, { code: 'torch-no-python' })));
      child.on('close', (code) => {
        const e = predictor.failure ?? new StackSegError(`torch inference process ended (exit ${code}): ${predictor.stderr.trim().split('\n').slice(-2).join(' | ')}`, { code: 'torch-failed' });
        predictor.failure = e;
        reject(e);
        for (const p of predictor.pending.splice(0)) p.reject(e);
      });
    });
    child.stdout!.on('data', (d: Buffer) => predictor.onData(d));
    child.stdin!.on('error', () => undefined); // a dead process is reported through 'close'
    return { predictor, runtime: { backend: 'torch', device: String(ready.device), gpu: (ready.gpu as string | null) ?? null,
      torch: String(ready.torch), cuda: (ready.cuda as string | null) ?? null, python: info.executable } };
  }

  private onData(d: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, d]) : d;
    while (this.pending.length && this.buffer.length >= this.pending[0].bytes) {
      const p = this.pending.shift()!;
      const out = this.buffer.subarray(0, p.bytes);
      this.buffer = this.buffer.subarray(p.bytes);
      p.resolve(out);
    }
  }

  /** Class indices (argmax) per pixel and, when asked, class-major probabilities probs[c * n + i]. */
  predict(image: Float32Array, width: number, height: number, classes: number, tta: boolean, withProbabilities: boolean, context?: Float32Array[]): Promise<{ index: Uint8Array; probs?: Float32Array }> {
    if (this.failure) return Promise.reject(this.failure);
    const n = width * height;
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeInt32LE(width, 0); header.writeInt32LE(height, 4); header.writeInt32LE((tta ? 1 : 0) | (withProbabilities ? 2 : 0), 8);
    header.writeInt32LE(context?.length ?? 1, 12); // input planes (2.5-D: 2k+1), channel-major after the header
    const bytes = n + (withProbabilities ? 4 * classes * n : 0);
    const result = new Promise<Buffer>((resolve, reject) => this.pending.push({ bytes, resolve, reject }));
    this.child.stdin!.write(header);
    for (const plane of context ?? [image]) this.child.stdin!.write(Buffer.from(plane.buffer, plane.byteOffset, plane.byteLength));
    return result.then((b) => {
      // Copies into fresh arrays: the chunk may be pooled and its float part unaligned.
      const index = new Uint8Array(b.subarray(0, n));
      if (!withProbabilities) return { index };
      const probs = new Float32Array(classes * n);
      new Uint8Array(probs.buffer).set(b.subarray(n));
      return { index, probs };
    });
  }

  /** Ends the process (EOF, then SIGTERM if it lingers). */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 5000);
    await closed;
    clearTimeout(timer);
  }

  kill(): void { this.child.kill('SIGTERM'); }
  get command(): string { return this.python; }
}
