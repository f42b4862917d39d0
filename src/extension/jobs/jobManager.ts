// Starts, tracks and cancels StackSeg jobs from VS Code. Jobs run in a worker process (the CLI), never on the
// extension host thread; their records (job.json beside the data) are the single source of truth, so the history
// survives reloads. Jobs are refused in untrusted workspaces.

import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { jobArgs } from '../../core/jobs/runners/args';
import type { JobProgress, JobRecord, JobSpec } from '../../shared/jobs/spec';
import { defaultJobDir, listJobs, loadRecord } from '../../core/jobs/store';
import { isDeadLocalJob, reapDeadJob } from '../../core/jobs/reap';
import { notifyFinished } from './notify';
import { jobProgress } from '../../host/jobs/progressText';
import { markWorkerDied, WorkerProcess } from '../../host/jobs/workerProcess';
import { walkthroughEvent } from '../walkthrough';
import { runnerArgs } from './runnerArgs';

export interface RunningJob { dir: string; spec: JobSpec; worker: WorkerProcess; progress?: JobProgress; started: number }

export class JobManager implements vscode.Disposable {
  private readonly running = new Map<string, RunningJob>();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fires with a job folder when that job changed (undefined: reload everything). */
  readonly onDidChange = this.changed.event;
  private readonly watcher: vscode.FileSystemWatcher;
  /** Stacks opened in the editor, whose jobs are listed even outside the workspace folders. */
  private readonly knownStacks = new Set<string>();

  /** Extra environment for workers (e.g. NODE_PATH to an installed tfjs-node-gpu). */
  workerEnv: () => NodeJS.ProcessEnv = () => ({});

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {
    this.watcher = vscode.workspace.createFileSystemWatcher('**/*.stackseg/*/job.json');
    const fire = (uri: vscode.Uri) => this.changed.fire(dirname(uri.fsPath));
    this.watcher.onDidChange(fire);
    this.watcher.onDidCreate(fire);
    this.watcher.onDidDelete(() => this.changed.fire(undefined));
  }

  get cliPath(): string { return this.context.asAbsolutePath(join('dist', 'cli.js')); }

  rememberStack(fsPath: string): void {
    if (!this.knownStacks.has(fsPath)) { this.knownStacks.add(fsPath); this.changed.fire(undefined); }
  }

  refresh(): void { this.changed.fire(undefined); }

  isRunning(dir: string): boolean { return this.running.has(dir); }
  progressOf(dir: string): JobProgress | undefined { return this.running.get(dir)?.progress; }
  /** The progress line every view shows for a running job (undefined when not running here). */
  progressText(dir: string): string | undefined {
    const j = this.running.get(dir);
    return j && jobProgress(j.spec.kind, j.progress).text;
  }
  runningJobs(): RunningJob[] { return [...this.running.values()]; }

  /** Starts a job; resolves with its final record (undefined when refused). Shows progress with a Cancel button. */
  async start(spec: JobSpec): Promise<JobRecord | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('StackSeg does not run training or segmentation jobs in an untrusted workspace. Viewing and annotating still work. Trust the workspace (Manage Workspace Trust) to run jobs.');
      return undefined;
    }
    const dir = defaultJobDir(spec);
    const args = [...jobArgs(spec, dir), ...this.runnerArgs(spec)];
    const id = dir.split(/[\\/]/).pop()!;
    this.log.info(`[${id}] start: stackseg ${args.join(' ')}`);
    const worker = new WorkerProcess(this.cliPath, args, {
      onProgress: (p) => { job.progress = p; this.changed.fire(dir); if (p.loss !== undefined && p.epoch !== undefined && p.epoch % 10 === 0) this.log.info(`[${id}] epoch ${p.epoch} loss ${p.loss.toFixed(4)}`); },
      onLine: (line) => this.log.info(`[${id}] ${line}`),
    }, this.workerEnv());
    const job: RunningJob = { dir, spec, worker, started: Date.now() };
    this.running.set(dir, job);
    this.rememberStack(spec.image);
    this.changed.fire(dir);

    const title = `StackSeg: ${spec.kind === 'segment' ? 'segmenting' : spec.kind === 'train' ? 'training' : 'training and segmenting'} with ${spec.model}`;
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => worker.cancel());
      let last = 0;
      const sub = this.onDidChange((d) => {
        if (d !== dir || !job.progress) return;
        // The same text as the Jobs view and the Model panel (one formatter, one event).
        const { text, overall } = jobProgress(spec.kind, job.progress);
        progress.report({ increment: Math.max(0, overall - last), message: text });
        last = Math.max(last, overall);
      });
      try { return await worker.done; } finally { sub.dispose(); }
    });
    this.running.delete(dir);
    let record: JobRecord | undefined;
    if (result.code !== 0) record = await markWorkerDied(dir, result);
    record ??= await loadRecord(dir).catch(() => undefined);
    this.changed.fire(dir);
    this.log.info(`[${id}] ${record?.status ?? 'not started'}${record?.error ? `: ${record.error}` : ''}`);
    if (record?.status === 'succeeded' && record.outputs.mask) walkthroughEvent('jobSucceeded');
    if (!record) void vscode.window.showErrorMessage(`StackSeg: ${result.lastError ?? 'the job could not start'}`);
    else notifyFinished(record);
    return record;
  }

  cancel(dir: string): boolean {
    const job = this.running.get(dir);
    if (!job) return false;
    job.worker.cancel();
    return true;
  }

  // Every kind (train, segment, train+segment) and batches go to the runner the settings name.
  private runnerArgs(spec: JobSpec): string[] { return runnerArgs(spec.image); }

  /**
   * A batch: one trained model on many stacks, in one worker (a local queue, or one Slurm array). Each stack's
   * job shows as running, with its own progress, from the first event that names it.
   */
  async startBatch(modelFrom: string, images: string[]): Promise<void> {
    if (!vscode.workspace.isTrusted) return void vscode.window.showErrorMessage('StackSeg does not run jobs in an untrusted workspace.');
    const args = ['segment', '--job', modelFrom, ...images.flatMap((i) => ['--image', i]), '--progress', 'json', ...runnerArgs(images[0])];
    this.log.info(`[batch] start: stackseg ${args.join(' ')}`);
    const children: RunningJob[] = [];
    const worker: WorkerProcess = new WorkerProcess(this.cliPath, args, {
      onProgress: (p) => {
        if (!p.job) return;
        let job = this.running.get(p.job);
        if (!job && p.percent < 100) {
          job = { dir: p.job, spec: { kind: 'segment', model: 'rf', params: {}, image: images[p.stack ?? 0] ?? images[0], modelFrom }, worker, started: Date.now() };
          this.running.set(p.job, job);
          children.push(job);
        }
        if (job) job.progress = p;
        this.changed.fire(p.job);
      },
      onLine: (line) => this.log.info(`[batch] ${line}`),
    }, this.workerEnv());
    const result = await worker.done;
    for (const j of children) this.running.delete(j.dir);
    this.changed.fire(undefined);
    this.log.info(`[batch] exit ${result.code}`);
    if (result.code !== 0) void vscode.window.showWarningMessage(`StackSeg batch: ${result.lastError ?? 'some stacks were not segmented'} (see the Jobs view)`);
    else void vscode.window.showInformationMessage(`StackSeg: ${images.length} stacks segmented.`);
  }

  /** Every job found in the workspace folders and beside stacks opened this session, newest first. */
  async listAll(): Promise<JobRecord[]> {
    const dirs = new Set<string>();
    const found = await vscode.workspace.findFiles('**/*.stackseg/*/job.json', '**/node_modules/**', 2000);
    for (const f of found) dirs.add(dirname(f.fsPath));
    const records: JobRecord[] = [];
    for (const d of dirs) { try { records.push(await loadRecord(d)); } catch { /* half-written or foreign */ } }
    for (const stack of this.knownStacks) for (const r of await listJobs(stack)) if (!dirs.has(r.dir)) { dirs.add(r.dir); records.push(r); }
    // A job whose process died outside VS Code (killed, out of memory) would say "running" forever: mark it failed,
    // as `stackseg status` does (writes job.json, so only in a trusted workspace).
    if (vscode.workspace.isTrusted) {
      for (let i = 0; i < records.length; i++) {
        if (!this.running.has(records[i].dir) && isDeadLocalJob(records[i])) records[i] = await reapDeadJob(records[i]).catch(() => records[i]);
      }
    }
    return records.sort((a, b) => b.created.localeCompare(a.created));
  }

  async delete(dir: string): Promise<void> {
    if (this.running.has(dir)) throw new Error('cancel the job before deleting it');
    const record = await loadRecord(dir); // refuses folders that are not jobs
    await fs.rm(record.dir, { recursive: true, force: true });
    this.changed.fire(undefined);
  }

  dispose(): void {
    for (const j of this.running.values()) j.worker.cancel();
    this.watcher.dispose();
    this.changed.dispose();
  }
}
