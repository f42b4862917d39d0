// Extension entry: registers the stack viewer custom editor and returns the test API.

import * as vscode from 'vscode';
import type { StackSegApi } from './api';
import type { JobSpec } from '../core/jobs/spec';
import { registerJobs } from './jobs';
import { StackEditorProvider } from './stackEditorProvider';
import { showSegmentation } from './jobs/showSegmentation';

export type { StackSegApi } from './api';

export function activate(context: vscode.ExtensionContext): StackSegApi & { listJobs(): Promise<unknown[]>; jobs: unknown } {
  const log = vscode.window.createOutputChannel('StackSeg', { log: true });
  context.subscriptions.push(log);
  const { provider, registration } = StackEditorProvider.register(context, log);
  context.subscriptions.push(registration);
  context.subscriptions.push(vscode.commands.registerCommand('stackseg.toggleLivePreview', () => provider.toggleLivePreview()));
  const jobs = registerJobs(context, log);
  context.subscriptions.push(vscode.commands.registerCommand('stackseg.showSegmentation', (arg?: unknown) => showSegmentation(provider, jobs, arg)));
  return {
    ...provider.api(),
    // For tests inside the extension host: the jobs this window knows, read from job.json files.
    listJobs: () => jobs.listAll(),
    jobs: {
      start: (spec: JobSpec) => jobs.start(spec),
      running: () => jobs.runningJobs().map((j) => ({ dir: j.dir, pid: j.worker.pid, progress: j.progress })),
      cancel: (dir: string) => jobs.cancel(dir),
    },
  };
}

export function deactivate(): void {
  // Documents and webviews are disposed by VS Code; nothing else holds resources.
}
