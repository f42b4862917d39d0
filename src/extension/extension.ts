// Extension entry: registers the stack viewer custom editor and returns the test API.

import * as vscode from 'vscode';
import type { StackSegApi } from './api';
import type { JobSpec } from '../shared/jobs/spec';
import { registerJobs } from './jobs';
import { rememberedEvaluation } from './jobs/evaluateCommand';
import { openReportDirs } from './jobs/jobReport';
import * as notify from './jobs/notify';
import { StackEditorProvider } from './stackEditorProvider';
import { showSegmentation } from './jobs/showSegmentation';
import { openSample } from './openSample';
import { registerOpenStackCommands } from './openStackCommands';

export type { StackSegApi } from './api';

export function activate(context: vscode.ExtensionContext): StackSegApi & { listJobs(): Promise<unknown[]>; jobs: unknown } {
  const log = vscode.window.createOutputChannel('StackSeg', { log: true });
  context.subscriptions.push(log);
  const { provider, registration } = StackEditorProvider.register(context, log);
  context.subscriptions.push(registration);
  context.subscriptions.push(vscode.commands.registerCommand('stackseg.toggleLivePreview', () => provider.toggleLivePreview()));
  context.subscriptions.push(vscode.commands.registerCommand('stackseg.openSample', (target?: unknown) => openSample(typeof target === 'string' ? target : undefined)));
  registerOpenStackCommands(context);
  const jobs = registerJobs(context, log);
  context.subscriptions.push(vscode.commands.registerCommand('stackseg.showSegmentation', (arg?: unknown) => showSegmentation(provider, jobs, arg)));
  return {
    ...provider.api(),
    // For tests inside the extension host: the jobs this window knows, read from job.json files.
    listJobs: () => jobs.listAll(),
    jobs: {
      start: (spec: JobSpec) => jobs.start(spec),
      running: () => jobs.runningJobs().map((j) => ({ dir: j.dir, pid: j.worker.pid, progress: j.progress, text: jobs.progressText(j.dir) })),
      cancel: (dir: string) => jobs.cancel(dir),
      /** Job folders whose report tab is open (one per job). */
      openReports: () => openReportDirs(),
      /** The job-finished notifications shown (newest last): message and buttons. */
      notifications: () => [...notify.jobNotifications],
      /** The truth file and class mapping remembered for a stack's evaluations. */
      evaluation: (image: string) => rememberedEvaluation(context, image),
    },
  };
}

export function deactivate(): void {
  // Documents and webviews are disposed by VS Code; nothing else holds resources.
}
