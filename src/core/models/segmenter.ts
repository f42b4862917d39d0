// The one interface every trained model offers to the job engine, whatever its kind.

import type { ModelKind, ModelParams } from '../../shared/models/registry';

import type { IntensityNormalization } from './normalize';

/** One channel's normalisation in a multi-channel model: `channel` is the stack channel it belongs to. */
export interface ChannelNormalization extends IntensityNormalization { channel: number }

/**
 * The normalisation a model stores. A job reading several channels together (`--set channel=all`) fits one per
 * channel: `channels` lists them in the order the slices hold them (channel-major), and the fields above repeat the
 * first. Absent: one channel. A model's channel count is `channels?.length ?? 1` (features/channels.ts).
 */
export interface Normalization extends IntensityNormalization { channels?: ChannelNormalization[] }

/** image: raw intensities; with C channels (norm.channels), C planes one after the other (C * width * height). */
export interface TrainingSlice { z: number; image: Float32Array; labels: Uint8Array }

/** The stack a job reads (3-D features and 2.5-D models read the slices around a labelled one). */
export interface VolumeInput {
  depth: number;
  /** For the voxel spacing (ImageJ spacing, OME PhysicalSize). */
  info?: { imagej?: { spacing?: number }; pixelSize?: { x?: number; z?: number } };
  /** Raw intensities of slice z as float32 (C planes one after the other with C channels). */
  read(z: number): Promise<Float32Array>;
}

/** What a 3-D / 2.5-D model sees around the slice it predicts: slice(zz) gives raw slice zz for |zz - z| <= zHalo. */
export interface ZContext { z: number; depth: number; slice(zz: number): Float32Array }

export interface TrainInput {
  width: number;
  height: number;
  /** Slices with at least one labeled pixel, raw intensities as float32 (supervised models). */
  slices: TrainingSlice[];
  /** Intensities sampled over the whole stack (unsupervised models fit on these); channel-major with C channels. */
  sample: Float32Array;
  norm: Normalization;
  params: ModelParams;
  /** The whole stack, read on demand: models with a z context (3-D features, 2.5-D) read neighbouring slices. */
  volume?: VolumeInput;
  onProgress: (p: { percent: number; message?: string; epoch?: number; loss?: number }) => void;
  signal?: AbortSignal;
}

export interface Prediction {
  /** Class value per pixel (same numbering as the labels: 1..k). */
  labels: Uint8Array;
  /** Optional class probabilities, class-major: probs[c * n + i] for classes[c]. */
  probs?: Float32Array;
}

export interface Segmenter {
  readonly kind: ModelKind;
  readonly classes: readonly number[];
  readonly norm: Normalization;
  /** tfjs backend or 'js' — recorded in the job. */
  readonly backend: string;
  /** What ran it (MSDNet: engine, device, GPU name, torch and CUDA versions) — job.json's runtime. */
  readonly runtime?: Record<string, unknown>;
  /**
   * Predicts one slice of raw intensities; probabilities only where asked (they cost memory and transfer). An abort
   * of `signal` rejects at once where the model can stop mid-slice (worker threads), else after the slice.
   */
  predict(image: Float32Array, width: number, height: number, withProbabilities?: boolean, signal?: AbortSignal, context?: ZContext): Promise<Prediction>;
  /** Slices each side of a slice that predict() reads through `context` (3-D features, 2.5-D); absent or 0: none. */
  readonly zHalo?: number;
  /** Writes the model into dir (which exists and is empty): model.json plus any weight files. */
  save(dir: string): Promise<void>;
  /** Extra training facts for metrics.json (loss curve, accuracy...). */
  trainingReport(): Record<string, unknown>;
  /** How many slices may be predicted at once (a worker pool); 1 when prediction runs in this thread. */
  readonly concurrency?: number;
  dispose?(): void | Promise<void>;
}

export interface ModelFileHeader {
  format: 'stackseg-model';
  version: 1;
  kind: ModelKind;
  params: ModelParams;
  classes: number[];
  norm: Normalization;
}
