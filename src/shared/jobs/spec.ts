// What a job is (JobSpec: what to do) and what happened (JobRecord: written to <jobDir>/job.json).

import type { ModelKind, ModelParams } from '../models/registry';

// Declared here, not in fsutil, so that this file stays free of node imports: the webview's tsconfig checks it
// through modelPanelProtocol's JobKind.
/** Size, mtime and a content hash, so a job records exactly which inputs it saw. */
export interface FileFingerprint { path: string; size: number; mtime: string; sha256: string }

export type JobKind = 'train' | 'segment' | 'run';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type RunnerKind = 'local' | 'slurm';

export interface JobSpec {
  kind: JobKind;
  model: ModelKind;
  params: ModelParams;
  image: string;
  labels?: string;
  /** For `segment`: the job directory holding a trained model. */
  modelFrom?: string;
  truth?: string;
  /** Prediction class -> truth class, e.g. {2: 1} when foam is label 2 and truth 1. */
  classMap?: Record<number, number>;
  /** Half-open slice range [start, end) to segment; whole stack when absent. */
  slices?: [number, number];
  /** Where the mask goes; <jobDir>/mask.tif when absent. */
  maskOut?: string;
  /**
   * Multi-channel / time-lapse images: the channel(s) and time point read (`--set channel=N`, `--set timepoint=N`);
   * `all` or a list reads those channels of each slice together (`--set channel=all`, `--set channel=0,2`).
   */
  channel?: number | number[] | 'all';
  timepoint?: number;
  /** HDF5 / Zarr images: the mask also as mask.h5 / mask.zarr, chunked as the input (`--set maskFormat=h5|zarr`). */
  maskFormat?: 'h5' | 'zarr';
  /**
   * rf: write uncertainty.tif (default). false (`--set uncertainty=off`): labels only, no uncertainty map (about as
   * fast since the settled vote, rf `settle`, stops walking trees either way).
   */
  uncertainty?: boolean;
  /** The batch folder (batch.json) this job is one stack of; see batch.ts. */
  batch?: string;
}

export interface JobProgress {
  phase: string; percent: number; message?: string; epoch?: number; loss?: number;
  /** In a batch: the child job this event is about, its stack's index and the number of stacks. */
  job?: string; stack?: number; stacks?: number;
}

export interface JobRecord {
  format: 'stackseg-job';
  version: 1;
  id: string;
  dir: string;
  spec: JobSpec;
  inputs: { image?: FileFingerprint; labels?: FileFingerprint; truth?: FileFingerprint };
  status: JobStatus;
  created: string;
  started?: string;
  finished?: string;
  /** Seconds per phase: open, features, train, segment, metrics, total. */
  timings: Record<string, number>;
  backend?: string;
  /** The segmenter's runtime: MSDNet engine, device, GPU name, torch and CUDA versions. */
  runtime?: Record<string, unknown>;
  runner: RunnerKind;
  versions: { stackseg: string; node: string; platform: string; tfjs?: string };
  progress?: JobProgress;
  /** The process writing the job and its host, while it runs (`stackseg status` tells a dead one). */
  pid?: number;
  host?: string;
  error?: string;
  /** Multi-channel images: the stack channels the job read (several: read together, in this order). */
  channels?: number[];
  outputs: { log: string; model?: string; mask?: string; metrics?: string; /** rf: uint8 255 * (1 - top class probability) */ uncertainty?: string; /** --set maskFormat */ maskH5?: string; maskZarr?: string };
  summary?: { trainAccuracy?: number; meanF1?: number; classF1?: Record<string, number | null> };
}

export function newJobId(model: ModelKind, now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${model}-${Math.random().toString(36).slice(2, 6)}`;
}
