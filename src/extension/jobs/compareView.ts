// "StackSeg: Compare Jobs": the chosen jobs side by side in one editor tab (compareHtml.ts), refreshed when one of
// them changes (an evaluation added), and "Export CSV…" through VS Code's save dialog, which asks before replacing.

import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { loadComparison, toCsv, type Comparison } from '../../core/jobs/compare';
import type { JobRecord } from '../../shared/jobs/spec';
import { isInside, writeFileAtomic } from '../../core/fsutil';
import { makeNonce } from '../../host/webviewHtml';
import { renderComparison } from '../../host/jobs/compareHtml';
import type { JobManager } from './jobManager';
import { formatDuration } from './jobsView';

type TreeNode = { kind: 'job'; record: JobRecord } | { kind: 'stack'; image: string; jobs: JobRecord[] };

/** The open comparison (one tab, reused): its panel, job folders and last loaded table. */
let current: { panel: vscode.WebviewPanel; dirs: string[]; comparison?: Comparison } | undefined;

/** For tests in the extension host: the job folders and table of the open Compare Jobs tab. */
export function openComparison(): { dirs: string[]; comparison?: Comparison } | undefined {
  return current && { dirs: [...current.dirs], comparison: current.comparison };
}

/** Job folders from a command's arguments: Jobs-view rows (clicked + selected), folder strings, or a list of them. */
export function dirsFromArgs(arg?: unknown, selected?: unknown): string[] {
  const items = Array.isArray(selected) && selected.length ? selected : Array.isArray(arg) ? arg : arg === undefined ? [] : [arg];
  const dirs = items.flatMap((n: unknown): string[] => {
    if (typeof n === 'string') return [n];
    const node = n as TreeNode | undefined;
    if (node?.kind === 'job') return [node.record.dir];
    if (node?.kind === 'stack') return node.jobs.map((r) => r.dir);
    if (n instanceof vscode.Uri) return [n.fsPath];
    return [];
  });
  return [...new Set(dirs)];
}

export function registerCompareCommands(context: vscode.ExtensionContext, jobs: JobManager): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('stackseg.compareJobs', async (arg?: unknown, selected?: unknown) => {
      let dirs = dirsFromArgs(arg, selected);
      // Fewer than two: pick (those given preselected), so one row's context menu still leads to a comparison.
      if (dirs.length < 2) dirs = (await pickJobs(jobs, dirs)) ?? [];
      if (dirs.length > 0) await showComparison(dirs, jobs);
    }),
    vscode.commands.registerCommand('stackseg.exportJobComparison', () => exportCsv()),
    jobs.onDidChange((dir) => {
      if (current && (dir === undefined || current.dirs.includes(dir))) scheduleRefresh();
    }),
  );
}

async function pickJobs(jobs: JobManager, preselected: string[]): Promise<string[] | undefined> {
  const all = await jobs.listAll();
  if (all.length === 0) { void vscode.window.showInformationMessage('No StackSeg job to compare: run Train and Segment on a stack first.'); return undefined; }
  const items = all.map((r) => ({
    label: `${r.spec.model} · ${r.spec.kind} · ${r.status}`, description: r.id, picked: preselected.includes(r.dir), dir: r.dir,
    detail: [basename(r.spec.image), r.summary?.meanF1 != null ? `F1 ${r.summary.meanF1.toFixed(3)}` : 'no truth', formatDuration(r.timings?.total)].filter(Boolean).join(' · '),
  }));
  const picks = await vscode.window.showQuickPick(items, { title: 'Compare which jobs? (pick two or more)', canPickMany: true, matchOnDescription: true, matchOnDetail: true });
  return picks?.map((p) => p.dir);
}

export async function showComparison(dirs: string[], _jobs?: JobManager): Promise<vscode.WebviewPanel | undefined> {
  let comparison: Comparison;
  try {
    comparison = await loadComparison(dirs);
  } catch (e) {
    void vscode.window.showErrorMessage(`StackSeg: cannot compare these jobs: ${(e as Error).message}`);
    return undefined;
  }
  if (!current) {
    const panel = vscode.window.createWebviewPanel('stackseg.compareJobs', 'Compare Jobs', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
    const mine = { panel, dirs };
    current = mine;
    panel.onDidDispose(() => { if (current === mine) current = undefined; });
    panel.webview.onDidReceiveMessage((m: unknown) => {
      if ((m as { type?: unknown })?.type === 'exportCsv') void exportCsv();
    });
  } else current.panel.reveal(undefined, false);
  current.dirs = comparison.jobs.map((j) => j.dir);
  render(comparison);
  return current.panel;
}

function render(comparison: Comparison): void {
  if (!current) return;
  current.comparison = comparison;
  current.panel.title = `Compare Jobs (${comparison.jobs.length})`;
  current.panel.webview.html = renderComparison(comparison, makeNonce(), current.panel.webview.cspSource);
}

let refreshTimer: NodeJS.Timeout | undefined;
function scheduleRefresh(): void {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = undefined;
    if (!current) return;
    // A deleted job leaves the comparison; any other error keeps the last table (the next change retries).
    const dirs = current.dirs.filter((d) => existsSync(join(d, 'job.json')));
    if (dirs.length === 0) return;
    // Only a change in what the page shows redraws it (a redraw resets the scroll): a running job's progress does not.
    await loadComparison(dirs).then((c) => { if (JSON.stringify(c) !== JSON.stringify(current?.comparison)) render(c); }, () => undefined);
  }, 500);
}

/** Saves the open comparison as CSV where the user says. VS Code's dialog confirms replacing a file. */
export async function exportCsv(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const comparison = current?.comparison;
  if (!comparison) { void vscode.window.showInformationMessage('Open StackSeg: Compare Jobs first.'); return undefined; }
  const first = comparison.jobs[0];
  const near = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(first ? dirname(first.image) : process.cwd());
  const uri = target ?? await vscode.window.showSaveDialog({
    title: 'Export the job comparison as CSV', saveLabel: 'Export', filters: { CSV: ['csv'] },
    defaultUri: vscode.Uri.joinPath(near, 'jobs-comparison.csv'),
  });
  if (!uri) return undefined;
  // Never over a job's own files or its inputs, whatever the dialog allowed.
  if (uri.scheme === 'file') {
    const path = resolve(uri.fsPath);
    const clash = comparison.jobs.find((j) => isInside(path, resolve(j.dir)) || [j.image, j.labels, j.truth].some((p) => p && resolve(p) === path));
    if (clash) {
      void vscode.window.showErrorMessage(`StackSeg: ${path} is part of job ${clash.id} (its folder or an input): export the CSV somewhere else.`);
      return undefined;
    }
  }
  const csv = toCsv(comparison);
  try {
    // Written under a temporary name and renamed: a failed write never leaves half a CSV over the old file.
    if (uri.scheme === 'file') await writeFileAtomic(uri.fsPath, csv);
    else await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(csv));
  } catch (e) {
    void vscode.window.showErrorMessage(`StackSeg: could not write ${uri.fsPath}: ${(e as Error).message}`);
    return undefined;
  }
  void vscode.window.showInformationMessage(`Exported ${comparison.jobs.length} job${comparison.jobs.length === 1 ? '' : 's'} to ${basename(uri.fsPath)}.`);
  return uri;
}
