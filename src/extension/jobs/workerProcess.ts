// Runs the `stackseg` CLI as a worker process with the extension host's own Node (process.execPath with
// ELECTRON_RUN_AS_NODE=1), so the same thing works locally and on a Remote-SSH node. Never a shell.
// Progress arrives as JSON lines on stderr; the final JSON on stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { jobLogPath } from '../../core/jobs/jobPaths';
import { LOCK_NAME, lockHolder } from '../../core/jobs/lock';
import { SpaceReserve } from '../../core/jobs/outputs';
import type { JobProgress, JobRecord } from '../../core/jobs/spec';

export interface WorkerHandlers {
  onProgress?: (p: JobProgress) => void;
  /** Non-JSON stderr lines (the CLI's one-line error, warnings). */
  onLine?: (line: string) => void;
}

export interface WorkerResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; lastError?: string }

export class WorkerProcess {
  private readonly child: ChildProcess;
  readonly done: Promise<WorkerResult>;
  private cancelled = false;

  constructor(cliPath: string, args: string[], handlers: WorkerHandlers = {}, extraEnv: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [cliPath, ...args], {
      shell: false, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...extraEnv, ELECTRON_RUN_AS_NODE: '1' },
    });
    let stdout = '', pending = '', lastError: string | undefined;
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        const p = parseProgress(line);
        if (p) handlers.onProgress?.(p);
        else if (line.trim()) {
          if (line.startsWith('stackseg: ')) lastError = line.slice('stackseg: '.length);
          handlers.onLine?.(line);
        }
      }
    });
    this.done = new Promise((resolve) => {
      this.child.on('error', (e) => resolve({ code: null, signal: null, stdout, lastError: e.message }));
      this.child.on('close', (code, signal) => resolve({ code, signal, stdout, lastError }));
    });
  }

  get pid(): number | undefined { return this.child.pid; }
  get wasCancelled(): boolean { return this.cancelled; }

  /** SIGTERM: the CLI aborts between steps, marks the job cancelled and removes partial outputs. */
  cancel(): void {
    this.cancelled = true;
    this.child.kill('SIGTERM');
  }
}

function parseProgress(line: string): JobProgress | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as JobProgress;
    return typeof v.phase === 'string' && typeof v.percent === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After a worker died without finishing its record (SIGKILL, out of memory), mark the job failed and say so in
 * its log, so the Jobs view never shows a dead job as running. The log is kept.
 */
export async function markWorkerDied(jobDir: string, result: WorkerResult): Promise<JobRecord | undefined> {
  const file = join(jobDir, 'job.json');
  let record: JobRecord;
  try { record = JSON.parse(await fs.readFile(file, 'utf8')); } catch { return undefined; }
  if (record.status !== 'running' && record.status !== 'queued') return record;
  const how = result.signal ? `killed by ${result.signal}` : `exited with code ${result.code}`;
  record.status = 'failed';
  record.error = `the worker process was ${how} before the job finished${result.lastError ? `: ${result.lastError}` : ''}`;
  record.finished = new Date().toISOString();
  // Only a log inside the job folder (job.json is user-editable).
  await jobLogPath({ ...record, dir: jobDir }).then((log) => fs.appendFile(log, `${record.finished} ${record.error}\n`)).catch(() => undefined);
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
  await fs.rename(tmp, file);
  // A mask under its temporary name is never left behind looking finished.
  for (const f of await fs.readdir(jobDir).catch(() => [] as string[])) if (f.includes('.tmp-')) await fs.rm(join(jobDir, f), { recursive: true, force: true });
  // The dead worker's lock and space reserve (a lock of a live process is left alone).
  if (!(await lockHolder(jobDir))) for (const f of [SpaceReserve.NAME, LOCK_NAME]) await fs.rm(join(jobDir, f), { force: true });
  return record;
}
