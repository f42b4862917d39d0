// Wires jobs into the extension: manager, Jobs view, commands, tasks.

import * as vscode from 'vscode';
import { GpuStatusBar, setUpGpuBackend, workerEnv } from '../gpu';
import { ModelPanelProvider } from '../modelPanel';
import { registerCompareCommands } from './compareView';
import { registerJobCommands } from './jobCommands';
import { JobManager } from './jobManager';
import { JobsTreeProvider } from './jobsView';
import { StacksegTaskProvider } from './taskProvider';

export function registerJobs(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): JobManager {
  const jobs = new JobManager(context, log);
  const tree = new JobsTreeProvider(jobs);
  context.subscriptions.push(jobs, tree, vscode.window.createTreeView('stackseg.jobs', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true }));
  const openStacks = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .map((t) => t.input).filter((i): i is vscode.TabInputCustom => i instanceof vscode.TabInputCustom && i.viewType === 'stackseg.stackEditor')
    .map((i) => i.uri.fsPath);
  for (const s of openStacks()) jobs.rememberStack(s);
  context.subscriptions.push(vscode.window.tabGroups.onDidChangeTabs(() => openStacks().forEach((s) => jobs.rememberStack(s))));
  context.subscriptions.push(vscode.tasks.registerTaskProvider(StacksegTaskProvider.type, new StacksegTaskProvider(jobs.cliPath, openStacks)));
  registerJobCommands(context, jobs);
  registerCompareCommands(context, jobs);
  const gpu = new GpuStatusBar(context);
  context.subscriptions.push(gpu, vscode.commands.registerCommand('stackseg.setupGpuBackend', () => setUpGpuBackend(context, gpu)));
  jobs.workerEnv = () => workerEnv(gpu.status);
  void gpu.refresh();
  const panel = new ModelPanelProvider(context, jobs, log);
  context.subscriptions.push(panel, vscode.window.registerWebviewViewProvider(ModelPanelProvider.viewId, panel));
  context.subscriptions.push(vscode.commands.registerCommand('stackseg.refreshJobs', () => jobs.refresh()));
  return jobs;
}
