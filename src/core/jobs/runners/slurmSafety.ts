// What the Slurm runner lets into a batch script or a Slurm command line. Batch scripts hold only single-quoted values
// and integers; every sbatch option goes on sbatch's argv (no `#SBATCH` lines, which sbatch parses by itself); and
// everything read back from slurm/slurm.json is checked before a command is built from it.

import { isAbsolute } from 'node:path';
import { StackSegError } from '../../../shared/errors';
import type { JobSpec } from '../../../shared/jobs/spec';
import type { SlurmState } from './slurm';

/** Slurm job ids as sbatch prints them, array tasks included ("123", "123_4"). */
export const SLURM_ID = /^\d+(_\d+)?$/;
const CONTROL = /[\x00-\x1f\x7f]/;
const SIMPLE_NAME = /^[A-Za-z0-9._-]+$/;
// Slurm's --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, and the unlimited spellings.
const SLURM_TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|unlimited|infinite)$/i;

/** Single-quote for bash, so any path or value reaches the CLI unchanged. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A path shown in a message: control characters visible, not acted on by the terminal. */
const shown = (p: string) => JSON.stringify(p);

/** A path that goes into a batch script or onto sbatch's command line: absolute, no newline or control character. */
export function checkSlurmPath(what: string, p: unknown, source?: string): string {
  if (typeof p === 'string' && CONTROL.test(p)) {
    throw new StackSegError(`the ${what} path ${shown(p)} contains a newline or another control character, which the Slurm runner does not pass to a batch script`, {
      file: source, hint: source ? `${source} was edited or damaged; restore it, or submit the job again` : 'rename that file or folder without newlines or control characters (or use --runner local)',
    });
  }
  if (typeof p !== 'string' || !isAbsolute(p)) {
    throw new StackSegError(`the ${what} ${shown(String(p))} is not an absolute path`, {
      file: source, hint: source ? `${source} was edited or damaged; restore it, or submit the job again` : 'pass an absolute path',
    });
  }
  return p;
}

/**
 * sbatch's --output value for a file in dir: `%` is a filename pattern there, so a literal one is written `%%`; a
 * backslash turns all patterns off (the `%j` in name too), so a folder with one is refused.
 */
export function outputPattern(dir: string, name: string): string {
  if (dir.includes('\\')) {
    throw new StackSegError(`the job folder ${shown(dir)} contains a backslash, which sbatch's --output cannot take`, {
      hint: 'choose a job folder (--out) without a backslash in its path',
    });
  }
  return `${dir.replace(/%/g, '%%')}/${name}`;
}

export interface SlurmSettings {
  /** Node on the compute nodes (default: the Node running this code, e.g. the VS Code server's). */
  node: string;
  /** The bundled CLI (dist/cli.js) — must be readable from the compute nodes. */
  cli: string;
  partition?: string;
  account?: string;
  /** sbatch --time, e.g. "01:00:00". */
  timeLimit?: string;
  /** GPUs for the training step (--gres=gpu:N); 0 = none. */
  gpus?: number;
  cpusPerTask?: number;
  extraArgs?: string[];
}

/** A bare program name (looked up on the compute node's PATH) or an absolute path. */
function checkProgram(what: string, p: string): void {
  if (typeof p === 'string' && SIMPLE_NAME.test(p)) return;
  checkSlurmPath(what, p);
}

/**
 * One `--sbatch-arg` / `stackseg.slurm.extraArgs` entry as one sbatch argv element. "-C gpu" and "--qos high" (the
 * `#SBATCH` spelling) become "-Cgpu" and "--qos=high", so a value can never stand alone and be taken for the script.
 */
export function sbatchExtraArg(a: string): string {
  const bad = (why: string) => new StackSegError(`the sbatch argument ${shown(String(a))} ${why}`, {
    hint: 'write each stackseg.slurm.extraArgs entry (or --sbatch-arg) as one option: --name=value, --flag or -Xvalue',
  });
  if (typeof a !== 'string') throw bad('is not a string');
  if (CONTROL.test(a)) throw bad('contains a newline or another control character');
  const s = a.trim();
  const long = /^(--[A-Za-z][A-Za-z0-9-]*)(?:(=)(.*)|\s+(\S.*))?$/s.exec(s);
  const short = /^(-[A-Za-z])(?:\s*(\S.*))?$/s.exec(s);
  let out: string;
  if (long) out = long[2] ? s : long[4] !== undefined ? `${long[1]}=${long[4]}` : long[1];
  else if (short) out = short[2] !== undefined ? `${short[1]}${short[2]}` : short[1];
  else throw bad('is not an sbatch option (it must start with - or --)');
  // --wrap makes sbatch run a shell command line instead of StackSeg's script.
  // (getopt takes any unique prefix: --wr, --wra.)
  const longName = /^--([^=]*)/.exec(out)?.[1];
  if (longName && longName.length >= 2 && 'wrap'.startsWith(longName)) throw bad('is refused: --wrap runs a shell command instead of the StackSeg step');
  return out;
}

/** Checks the runner's settings (from the CLI, hence from the extension's settings) before any file is written. */
export function checkSlurmSettings(o: SlurmSettings): void {
  checkProgram('node path (--node-path, stackseg.slurm.nodePath)', o.node);
  checkSlurmPath('StackSeg CLI', o.cli);
  const name = (what: string, v: string | undefined, list = false) => {
    if (v === undefined) return;
    const ok = list ? v.split(',').every((p) => SIMPLE_NAME.test(p)) : SIMPLE_NAME.test(v);
    if (!ok) throw new StackSegError(`the Slurm ${what} ${shown(v)} is not a ${list ? 'name (or comma-separated names)' : 'name'} of letters, digits, ".", "_" and "-"`, { hint: `check --${what} / stackseg.slurm.${what}` });
  };
  name('partition', o.partition, true);
  name('account', o.account);
  if (o.timeLimit !== undefined && !SLURM_TIME.test(o.timeLimit)) {
    throw new StackSegError(`the Slurm time limit ${shown(o.timeLimit)} is not a Slurm time`, { hint: 'use minutes, H:MM:SS or D-HH:MM:SS (--time / stackseg.slurm.timeLimit)' });
  }
  for (const [k, v] of [['gpus', o.gpus], ['cpus per task', o.cpusPerTask]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new StackSegError(`the Slurm ${k} value ${v} is not a whole number`);
  }
  o.extraArgs?.forEach(sbatchExtraArg);
}

/** The job's paths and values that reach a batch script (from the command line, or read back from job.json). */
export function checkSpecForSlurm(spec: JobSpec, jobDir: string, source?: string): void {
  // Inputs first: a default job folder is named after the image, so its trouble is the image's.
  checkSlurmPath('image', spec.image, source);
  if (spec.labels !== undefined) checkSlurmPath('labels', spec.labels, source);
  if (spec.truth !== undefined) checkSlurmPath('truth', spec.truth, source);
  checkSlurmPath('job folder', jobDir);
  outputPattern(jobDir, 'x');
  const text = (what: string, v: unknown) => {
    if (typeof v !== 'string' || CONTROL.test(v)) {
      throw new StackSegError(`the job's ${what} ${shown(String(v))} is not plain text`, { file: source, hint: source ? `${source} was edited or damaged; submit the job again` : undefined });
    }
  };
  text('model', spec.model);
  for (const [k, v] of Object.entries(spec.params ?? {})) { text('parameter name', k); text(`parameter ${k}`, Array.isArray(v) ? v.join(',') : String(v)); }
  for (const [k, v] of Object.entries(spec.classMap ?? {})) { text('class', k); text(`class ${k}`, String(v)); }
}

/** The job id in sbatch's answer (`--parsable`: "123" or "123;cluster"), checked before it is stored or used. */
export function parseSbatchId(stdout: string, script: string): string {
  const text = stdout.trim();
  const id = /^(\d+)(;\S*)?$/.exec(text)?.[1] ?? /^Submitted batch job (\d+)\b/m.exec(text)?.[1];
  if (!id) throw new StackSegError(`sbatch answered ${shown(text.slice(0, 200))}, not a job id`, { file: script, hint: 'check that sbatch on the PATH is Slurm\'s' });
  return id;
}

/**
 * slurm/slurm.json as read back from disk: every field checked (numeric ids, integer chunks covering [0, depth] in
 * order, task numbers naming chunks). One message names the file and the field; nothing is run from a bad file.
 */
export function parseSlurmState(raw: unknown, file: string): SlurmState {
  const bad = (field: string, why: string): never => {
    throw new StackSegError(`slurm.json field "${field}" ${why}`, {
      file, hint: 'the file was edited or damaged, so no Slurm command is run from it; restore it, or submit the job again',
    });
  };
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('(top level)', 'is not an object');
  const s = raw as Record<string, unknown>;
  if (s.format !== 'stackseg-slurm') bad('format', 'is not "stackseg-slurm"');
  if (s.version !== 1) bad('version', 'is not 1');
  if (!isInt(s.depth) || s.depth < 1) bad('depth', 'is not a positive integer');
  const depth = s.depth as number;
  if (!Array.isArray(s.chunks) || s.chunks.length === 0) bad('chunks', 'is not a non-empty list');
  const chunks = s.chunks as unknown[];
  chunks.forEach((c, i) => {
    if (!Array.isArray(c) || c.length !== 2 || !isInt(c[0]) || !isInt(c[1])) bad(`chunks[${i}]`, `is ${shown(JSON.stringify(c) ?? String(c))}, not a pair of integers`);
    const [a, b] = c as [number, number];
    if (!(a >= 0 && a < b && b <= depth)) bad(`chunks[${i}]`, `[${a}, ${b}] is not a slice range within [0, ${depth}]`);
    const prev = i === 0 ? 0 : (chunks[i - 1] as number[])[1];
    if (a !== prev) bad(`chunks[${i}]`, `starts at ${a}, not ${prev}: the chunks must cover the slices in order`);
  });
  if ((chunks[chunks.length - 1] as number[])[1] !== depth) bad('chunks', `end before slice ${depth}`);
  for (const k of ['trainId', 'arrayId', 'mergeId']) {
    if (s[k] !== undefined && !(typeof s[k] === 'string' && SLURM_ID.test(s[k] as string))) bad(k, `is ${shown(String(s[k]))}, not a numeric Slurm job id`);
  }
  const tasks = (field: string, v: unknown): number[] => {
    if (!Array.isArray(v)) return bad(field, 'is not a list');
    v.forEach((t, j) => { if (!isInt(t) || t < 0 || t >= chunks.length) bad(`${field}[${j}]`, `is ${shown(String(t))}, not a chunk number 0..${chunks.length - 1}`); });
    return v as number[];
  };
  tasks('arrayTasks', s.arrayTasks);
  for (const k of ['first', 'width', 'height']) {
    if (s[k] !== undefined && !(isInt(s[k]) && (s[k] as number) >= (k === 'first' ? 0 : 1))) bad(k, `is ${shown(String(s[k]))}, not a ${k === 'first' ? 'slice number' : 'positive integer'}`);
  }
  if (s.uncertainty !== undefined && typeof s.uncertainty !== 'boolean') bad('uncertainty', 'is not true or false');
  if (s.arrayTaskIds !== undefined) {
    const ids = s.arrayTaskIds;
    if (!Array.isArray(ids) || ids.length !== (s.arrayTasks as unknown[]).length) bad('arrayTaskIds', 'is not a list as long as arrayTasks');
    (ids as unknown[]).forEach((t, j) => { if (!isInt(t) || t < 0) bad(`arrayTaskIds[${j}]`, `is ${shown(String(t))}, not an array task id`); });
  }
  if (s.logDir !== undefined) checkSlurmPath('Slurm log folder (slurm.json logDir)', s.logDir, file);
  if (!Array.isArray(s.history)) bad('history', 'is not a list');
  (s.history as unknown[]).forEach((h, i) => {
    const e = h as Record<string, unknown>;
    if (typeof h !== 'object' || h === null || typeof e.arrayId !== 'string' || !SLURM_ID.test(e.arrayId)) bad(`history[${i}].arrayId`, 'is not a numeric Slurm job id');
    tasks(`history[${i}].tasks`, e.tasks);
  });
  return s as unknown as SlurmState;
}
