// Runs the `stackseg` CLI as a worker process with the extension host's own Node (process.execPath with
// ELECTRON_RUN_AS_NODE=1), so the same thing works locally and on a Remote-SSH node. Never a shell.
// Progress arrives as JSON lines on stderr; the final JSON on stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { jobLogPath } from '../../core/jobs/jobPaths';
import { LOCK_NAME, lockHolder } from '../../core/jobs/lock';
import { SpaceReserve } from '../../core/jobs/outputs';
import type { JobProgress, JobRecord } from '../../shared/jobs/spec';
import { loadRecord, saveRecord } from '../../core/jobs/store';

export interface WorkerHandlers {
  onProgress?: (p: JobProgress) => void;
  /** Non-JSON stderr lines (the CLI's one-line error, warnings). */
  onLine?: (line: string) => void;
}

export interface WorkerResult {
  code: number | null; signal: NodeJS.Signals | null; stdout: string; lastError?: string;
  /** cancel() was called; killed: the worker ignored SIGTERM for the grace period and got SIGKILL. */
  cancelled?: boolean; killed?: boolean;
}

/** After SIGTERM, a worker that has not exited within this many ms is killed with SIGKILL. */
export const CANCEL_GRACE_MS = 5000;

export class WorkerProcess {
  private readonly child: ChildProcess;
  readonly done: Promise<WorkerResult>;
  private cancelled = false;
  private killed = false;
  private exited = false;
  private killTimer: NodeJS.Timeout | undefined;

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
    this.child.on('exit', () => { this.exited = true; clearTimeout(this.killTimer); });
    this.done = new Promise((resolve) => {
      const end = (r: WorkerResult) => { this.exited = true; clearTimeout(this.killTimer); resolve({ ...r, cancelled: this.cancelled, killed: this.killed }); };
      this.child.on('error', (e) => end({ code: null, signal: null, stdout, lastError: e.message }));
      this.child.on('close', (code, signal) => end({ code, signal, stdout, lastError }));
    });
  }

  get pid(): number | undefined { return this.child.pid; }
  get wasCancelled(): boolean { return this.cancelled; }

  /**
   * SIGTERM: the CLI stops within a node batch / training step, marks the job cancelled and removes partial outputs.
   * A worker still alive after graceMs (stuck in native code, or an old CLI) gets SIGKILL; the caller then marks the
   * job cancelled (markWorkerDied). Repeated calls do not restart the timer.
   */
  cancel(graceMs = CANCEL_GRACE_MS): void {
    if (this.cancelled || this.exited) return;
    this.cancelled = true;
    this.child.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      if (this.exited) return;
      this.killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
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
 * After a worker died without finishing its record (SIGKILL, out of memory), mark the job failed (cancelled, when
 * the user cancelled it and it had to be killed) and say so in its log, so the Jobs view never shows a dead job as
 * running. The log is kept.
 */
export async function markWorkerDied(jobDir: string, result: WorkerResult): Promise<JobRecord | undefined> {
  let record: JobRecord;
  try { record = await loadRecord(jobDir); } catch { return undefined; }
  if (record.status !== 'running' && record.status !== 'queued') return record;
  const how = result.signal ? `killed by ${result.signal}` : `exited with code ${result.code}`;
  if (result.cancelled) {
    record.status = 'cancelled';
    record.error = result.killed ? `cancelled: the worker did not stop within ${CANCEL_GRACE_MS / 1000} s of SIGTERM and was killed` : `cancelled (the worker was ${how})`;
  } else {
    record.status = 'failed';
    record.error = `the worker process was ${how} before the job finished${result.lastError ? `: ${result.lastError}` : ''}`;
  }
  record.finished = new Date().toISOString();
  // Only a log inside the job folder (job.json is user-editable).
  await jobLogPath({ ...record, dir: jobDir }).then((log) => fs.appendFile(log, `${record.finished} ${record.error}\n`)).catch(() => undefined);
  await saveRecord(record);
  // A mask under its temporary name is never left behind looking finished.
  for (const f of await fs.readdir(jobDir).catch(() => [] as string[])) if (f.includes('.tmp-')) await fs.rm(join(jobDir, f), { recursive: true, force: true });
  // The dead worker's lock and space reserve (a lock of a live process is left alone).
  if (!(await lockHolder(jobDir))) for (const f of [SpaceReserve.NAME, LOCK_NAME]) await fs.rm(join(jobDir, f), { force: true });
  return record;
}
