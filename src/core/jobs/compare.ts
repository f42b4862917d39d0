// Jobs side by side (`stackseg compare`, the Compare Jobs view): per-class F1/IoU where truth is known, times,
// backend and model parameters of each job, as rows of one table; CSV export. Pure Node, no vscode.
//
// job.json and metrics.json are text files users can edit: every field read here is type-checked, and a wrong one is
// one clear error naming the file, never a NaN or "[object Object]" in the table.

import { basename, join, resolve } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { readJson } from '../fsutil';
import { jobOutputPath } from './jobPaths';
import type { JobRecord } from '../../shared/jobs/spec';
import { loadRecord } from './store';

/** The scalar kinds a cell holds; arrays of numbers (rf sigmas) are shown space-separated. */
export type ParamValue = string | number | boolean | null | (string | number)[];

export interface ClassScore {
  /** Truth class, as a string key ("1"). */
  truth: string;
  /** F1 and IoU averaged over slices (the foam protocol, and what the Jobs view's "F1" shows). */
  f1: number | null;
  iou: number | null;
}

export interface ComparedJob {
  dir: string;
  id: string;
  kind: string;
  status: string;
  model: string;
  image: string;
  labels?: string;
  runner: string;
  backend?: string;
  /** runtime.device where the segmenter recorded one (MSDNet on torch: cuda / cpu). */
  device?: string;
  params: Record<string, ParamValue>;
  /** Seconds; undefined where the job has no such phase. */
  time: { train?: number; segment?: number; total?: number };
  /** Truth the job was scored against; undefined (and classes empty) when it was not. */
  truth?: string;
  classes: ClassScore[];
  meanF1: number | null;
  meanIoU: number | null;
}

export interface Comparison {
  jobs: ComparedJob[];
  /** Every truth class scored by at least one job, in numeric order. */
  classes: string[];
  /** Every parameter key of any job, in first-seen order. */
  params: string[];
}

export const TIME_KEYS = ['train', 'segment', 'total'] as const;

/** Reads each job folder through loadRecord and its checked metrics.json path; throws on the first bad file. */
export async function loadComparison(dirs: readonly string[]): Promise<Comparison> {
  const jobs: ComparedJob[] = [];
  const seen = new Set<string>();
  for (const d of dirs) {
    const record = await loadRecord(resolve(d)); // resolved: "job" and "job/" are one job
    if (seen.has(record.dir)) continue;
    seen.add(record.dir);
    jobs.push(await compareJob(record));
  }
  return buildComparison(jobs);
}

export function buildComparison(jobs: ComparedJob[]): Comparison {
  const classes = [...new Set(jobs.flatMap((j) => j.classes.map((c) => c.truth)))].sort((a, b) => Number(a) - Number(b));
  const params = [...new Set(jobs.flatMap((j) => Object.keys(j.params)))];
  return { jobs, classes, params };
}

/** One job's row: fields of job.json checked, scores from metrics.json (when it has an evaluation). */
export async function compareJob(record: JobRecord): Promise<ComparedJob> {
  const file = join(record.dir, 'job.json');
  const bad = (field: string, value: unknown, want: string) => new StackSegError(`${field} is ${short(value)}, not ${want}`, {
    file, hint: 'job.json was edited or damaged: fix that field, or rerun the job',
  });
  const text = (field: string, value: unknown, optional = false): string | undefined => {
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string' || value.length > 4096) throw bad(field, value, 'a text');
    return value;
  };
  const spec = record.spec;
  const params: Record<string, ParamValue> = {};
  const rawParams = spec.params as unknown;
  if (rawParams !== undefined && (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams))) throw bad('spec.params', rawParams, 'an object');
  for (const [k, v] of Object.entries((rawParams ?? {}) as Record<string, unknown>)) {
    if (!isParamValue(v)) throw bad(`spec.params.${k}`, v, 'a number, text, true/false or a list of numbers');
    params[k] = v;
  }
  const time: ComparedJob['time'] = {};
  const timings = record.timings as unknown;
  if (timings !== undefined && (typeof timings !== 'object' || timings === null)) throw bad('timings', timings, 'an object');
  for (const k of TIME_KEYS) {
    const v = (timings as Record<string, unknown> | undefined)?.[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`timings.${k}`, v, 'a number of seconds');
    time[k] = v;
  }
  const device = (record.runtime as Record<string, unknown> | undefined)?.device;
  const scores = await readScores(record);
  return {
    dir: record.dir, id: text('id', record.id)!, kind: text('spec.kind', spec.kind)!, status: text('status', record.status)!,
    model: text('spec.model', spec.model)!, image: text('spec.image', spec.image)!, labels: text('spec.labels', spec.labels, true), runner: text('runner', record.runner)!,
    backend: text('backend', record.backend, true), device: typeof device === 'string' ? device : undefined,
    params, time, ...scores,
  };
}

function isParamValue(v: unknown): v is ParamValue {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'string') return v.length <= 4096;
  return Array.isArray(v) && v.length <= 256 && v.every((x) => (typeof x === 'number' && Number.isFinite(x)) || (typeof x === 'string' && x.length <= 256));
}

const short = (v: unknown) => { const s = JSON.stringify(v) ?? String(v); return s.length > 60 ? `${s.slice(0, 57)}...` : s; };

type Scores = Pick<ComparedJob, 'truth' | 'classes' | 'meanF1' | 'meanIoU'>;

/** The evaluation part of metrics.json (where recordEvaluation put it), checked; no scores when there is none. */
async function readScores(record: JobRecord): Promise<Scores> {
  const none: Scores = { classes: [], meanF1: null, meanIoU: null };
  // The recorded path, else the default name: both checked to lie inside the job folder (symlinks resolved).
  const path = (await jobOutputPath(record, 'metrics')) ?? (await jobOutputPath({ dir: record.dir, outputs: { log: '', metrics: 'metrics.json' } }, 'metrics'))!;
  let metrics: unknown;
  try {
    metrics = await readJson<unknown>(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return none;
    throw new StackSegError(`not readable JSON (${(e as Error).message})`, { file: path, hint: 'rerun `stackseg eval --job` on this job to rewrite it, or remove the file' });
  }
  const ev = (metrics as Record<string, unknown> | null)?.evaluation;
  if (ev === undefined) return none;
  const bad = (field: string, value: unknown, want: string) => new StackSegError(`${field} is ${short(value)}, not ${want}`, {
    file: path, hint: `metrics.json was edited or damaged: rerun \`stackseg eval --job ${record.dir} --truth T\` to rewrite it`,
  });
  if (typeof ev !== 'object' || ev === null) throw bad('evaluation', ev, 'an object');
  const e = ev as Record<string, unknown>;
  const score = (field: string, v: unknown): number | null => {
    if (v === null || v === undefined) return null;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw bad(field, v, 'a score from 0 to 1');
    return v;
  };
  const table = (field: 'classF1' | 'classIoU'): Record<string, number | null> => {
    const t = e[field];
    if (t === undefined) return {};
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw bad(`evaluation.${field}`, t, 'an object of class: score');
    const out: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(t)) {
      if (!/^\d{1,3}$/.test(k)) throw bad(`evaluation.${field} key`, k, 'a class number');
      out[k] = score(`evaluation.${field}["${k}"]`, v);
    }
    return out;
  };
  const f1 = table('classF1'), iou = table('classIoU');
  const keys = [...new Set([...Object.keys(f1), ...Object.keys(iou)])].sort((a, b) => Number(a) - Number(b));
  const truth = e.truth ?? record.spec.truth;
  return {
    truth: typeof truth === 'string' ? truth : undefined,
    classes: keys.map((k) => ({ truth: k, f1: f1[k] ?? null, iou: iou[k] ?? null })),
    meanF1: score('evaluation.meanF1', e.meanF1), meanIoU: score('evaluation.meanIoU', e.meanIoU),
  };
}

/** A parameter value as one cell: lists space-separated, absent as "". */
export function formatParam(v: ParamValue | undefined): string {
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.join(' ') : String(v);
}

/** Short name of a job in a legend or header: "1 · rf · sample.tif". */
export function jobLabel(j: ComparedJob, index: number): string {
  return `${index + 1} · ${j.model} · ${basename(j.image)}`;
}

/** The CSV header: fixed columns, then time, then per-class scores, then parameters (param.<key>). */
export function csvHeader(c: Comparison): string[] {
  return [
    'job', 'id', 'stack', 'image', 'kind', 'model', 'status', 'runner', 'backend',
    ...TIME_KEYS.map((k) => `${k}_s`),
    ...c.classes.flatMap((k) => [`f1_class_${k}`, `iou_class_${k}`]), 'mean_f1', 'mean_iou', 'truth',
    ...c.params.map((p) => `param.${p}`),
  ];
}

export function csvRows(c: Comparison): (string | number | undefined | null)[][] {
  return c.jobs.map((j) => [
    j.dir, j.id, basename(j.image), j.image, j.kind, j.model, j.status, j.runner, j.backend ?? '',
    ...TIME_KEYS.map((k) => j.time[k]),
    ...c.classes.flatMap((k) => { const s = j.classes.find((x) => x.truth === k); return [s?.f1, s?.iou]; }),
    j.meanF1, j.meanIoU, j.truth ?? '',
    ...c.params.map((p) => (p in j.params ? formatParam(j.params[p]) : '')),
  ]);
}

/**
 * RFC 4180 CSV (CRLF rows; a field with a comma, quote, CR or LF quoted, quotes doubled). A text field that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe: job.json is editable,
 * so a job name must not become a formula in the user's spreadsheet. Numbers are written as they are.
 */
export function toCsv(c: Comparison): string {
  const lines = [csvHeader(c), ...csvRows(c)].map((row) => row.map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function csvField(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
