// The Jobs view: one node per stack, its jobs beneath with a status icon, model, parameter summary, duration,
// progress and F1 when known; one node per batch (one model on many stacks), its stacks' jobs beneath, each with its
// own progress. Rebuilt from job.json files (a batch's jobs name it in spec.batch), so it survives reloads.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../../shared/jobs/spec';
import { MODELS } from '../../shared/models/registry';
import type { JobManager } from './jobManager';

type Node = { kind: 'stack'; image: string; jobs: JobRecord[] } | { kind: 'batch'; dir: string; jobs: JobRecord[] } | { kind: 'job'; record: JobRecord; inBatch?: boolean };

const ICONS: Record<JobRecord['status'], [string, string?]> = {
  queued: ['clock'], running: ['sync~spin', 'charts.blue'], succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'], cancelled: ['circle-slash', 'list.warningForeground'],
};

export function paramSummary(r: JobRecord): string {
  const p = r.spec.params;
  switch (r.spec.model) {
    case 'rf': return `${p.trees} trees, depth ${p.depth}`;
    case 'kmeans': return `k=${p.k}`;
    case 'threshold': return p.method === 'fixed' ? `value ${p.value}` : 'Otsu';
    case 'msdnet': return `${p.layers} layers, ${p.epochs} epochs, lr ${p.learningRate}`;
  }
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export class JobsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private records: JobRecord[] | undefined;
  private readonly sub: vscode.Disposable;
  private timer: NodeJS.Timeout | undefined;
  /**
   * One node object per stack and per job folder, kept across refreshes: VS Code maps a row to its element by
   * identity, and a command from a row (the inline Cancel) gets no argument while a whole-tree refresh replaces them.
   */
  private readonly jobNodes = new Map<string, Extract<Node, { kind: 'job' }>>();
  private readonly stackNodes = new Map<string, Extract<Node, { kind: 'stack' }>>();
  private readonly batchNodes = new Map<string, Extract<Node, { kind: 'batch' }>>();
  /** Rows whose progress changed since the last refresh; `all`: reload the records (a job started, ended, appeared). */
  private pending = new Set<Node>();
  private all = false;

  constructor(private readonly jobs: JobManager) {
    // Coalesce bursts of progress events into at most a few refreshes a second. Progress of a running job refreshes
    // only its row; anything else reloads the records.
    this.sub = jobs.onDidChange((dir) => {
      const node = dir !== undefined && jobs.isRunning(dir) ? this.jobNodes.get(dir) : undefined;
      if (node) {
        this.pending.add(node);
        // A batch row counts its stacks' states: refresh it with its job.
        const batch = node.record.spec.batch && this.batchNodes.get(node.record.spec.batch);
        if (batch) this.pending.add(batch);
      } else this.all = true;
      if (this.timer) return;
      this.timer = setTimeout(() => this.flush(), 250);
    });
  }

  private flush(): void {
    this.timer = undefined;
    if (this.all) {
      this.all = false;
      this.pending.clear();
      this.records = undefined;
      this.emitter.fire(undefined);
    } else if (this.pending.size > 0) {
      const nodes = [...this.pending];
      this.pending.clear();
      this.emitter.fire(nodes);
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node?.kind === 'job') return [];
    this.records ??= await this.jobs.listAll();
    if (node?.kind === 'stack') return node.jobs.map((record) => this.jobNode(record));
    if (node?.kind === 'batch') return [...node.jobs].sort((a, b) => a.spec.image.localeCompare(b.spec.image)).map((record) => this.jobNode(record, true));
    // A batch's jobs are listed under the batch only (a row id is unique in the tree).
    const byBatch = new Map<string, JobRecord[]>(), byStack = new Map<string, JobRecord[]>();
    for (const r of this.records) {
      const key = typeof r.spec.batch === 'string' ? r.spec.batch : undefined;
      if (key) byBatch.set(key, [...(byBatch.get(key) ?? []), r]);
      else byStack.set(r.spec.image, [...(byStack.get(r.spec.image) ?? []), r]);
    }
    const batches = [...byBatch].map(([dir, jobs]) => {
      const b = this.batchNodes.get(dir) ?? { kind: 'batch' as const, dir, jobs };
      b.jobs = jobs;
      this.batchNodes.set(dir, b);
      return b;
    });
    const stacks = [...byStack].map(([image, jobs]) => {
      const s = this.stackNodes.get(image) ?? { kind: 'stack' as const, image, jobs };
      s.jobs = jobs;
      this.stackNodes.set(image, s);
      return s;
    });
    return [...batches, ...stacks];
  }

  private jobNode(record: JobRecord, inBatch = false): Extract<Node, { kind: 'job' }> {
    const n = this.jobNodes.get(record.dir) ?? { kind: 'job' as const, record };
    n.record = record;
    n.inBatch = inBatch;
    this.jobNodes.set(record.dir, n);
    return n;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'stack') {
      const item = new vscode.TreeItem(basename(node.image), vscode.TreeItemCollapsibleState.Expanded);
      item.resourceUri = vscode.Uri.file(node.image);
      item.iconPath = vscode.ThemeIcon.File;
      item.description = `${node.jobs.length} job${node.jobs.length === 1 ? '' : 's'}`;
      item.contextValue = 'stack';
      item.id = `stack:${node.image}`;
      item.command = { command: 'vscode.openWith', title: 'Open', arguments: [vscode.Uri.file(node.image), 'stackseg.stackEditor'] };
      return item;
    }
    if (node.kind === 'batch') return this.batchItem(node);
    const r = node.record;
    const running = this.jobs.isRunning(r.dir);
    const status = running ? 'running' : r.status;
    // In a batch the row names its stack (the model is the batch's).
    const label = node.inBatch ? basename(r.spec.image) : `${MODELS[r.spec.model]?.title ?? r.spec.model} · ${r.spec.kind}`;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    const [icon, color] = ICONS[status];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const f1 = r.summary?.meanF1;
    const parts: string[] = [];
    // A job that did not succeed says so in words first (the icon alone read as "greyed out").
    if (status === 'cancelled' || status === 'failed' || status === 'queued') parts.push(status);
    // Progress first: the sidebar is narrow and the end of the description is cut off.
    if (running) parts.push(this.jobs.progressText(r.dir) ?? 'starting');
    parts.push(paramSummary(r));
    if (!running && r.timings.total !== undefined) parts.push(formatDuration(r.timings.total));
    if (f1 !== undefined && f1 !== null) parts.push(`F1 ${f1.toFixed(3)}`);
    if (r.runner === 'slurm') parts.push('slurm');
    item.description = parts.join(' · ');
    item.tooltip = jobTooltip(r, status);
    item.id = r.dir;
    item.contextValue = `job.${status}${r.outputs.mask ? '.mask' : ''}${r.outputs.model ? '.model' : ''}`;
    item.command = { command: 'stackseg.openJobReport', title: 'Open Job Report', arguments: [r.dir] };
    return item;
  }

  /** A batch: its model, how many stacks and how they stand (e.g. "2/3 done · 1 running"). */
  private batchItem(node: Extract<Node, { kind: 'batch' }>): vscode.TreeItem {
    const status = (r: JobRecord) => (this.jobs.isRunning(r.dir) ? 'running' : r.status);
    const count = (s: string) => node.jobs.filter((r) => status(r) === s).length;
    const first = node.jobs[0];
    const item = new vscode.TreeItem(`Batch · ${MODELS[first.spec.model]?.title ?? first.spec.model} · ${node.jobs.length} stack${node.jobs.length === 1 ? '' : 's'}`, vscode.TreeItemCollapsibleState.Expanded);
    const parts = [`${count('succeeded')}/${node.jobs.length} done`];
    for (const s of ['running', 'queued', 'failed', 'cancelled']) if (count(s)) parts.push(`${count(s)} ${s}`);
    if (node.jobs.some((r) => r.runner === 'slurm')) parts.push('slurm');
    item.description = parts.join(' · ');
    const all = node.jobs.map(status);
    const overall = all.every((s) => s === 'succeeded') ? 'succeeded' : all.some((s) => s === 'running' || s === 'queued') ? 'running' : all.some((s) => s === 'failed') ? 'failed' : 'cancelled';
    const [icon, color] = ICONS[overall];
    item.iconPath = new vscode.ThemeIcon(icon === 'pass' ? 'layers' : icon, color ? new vscode.ThemeColor(color) : undefined);
    item.tooltip = `${node.dir}\n${basename(first.spec.modelFrom ?? '')}`;
    item.id = `batch:${node.dir}`;
    item.contextValue = `batch.${overall}`;
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * Text from job.json (id, paths, error) shown in Markdown as plain text: every ASCII punctuation character is
 * backslash-escaped (CommonMark allows it for all of them), so an edited job.json cannot add links, command links,
 * HTML, icons or table cells; control characters (a newline would end the table row) become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/[!-\/:-@[-`{-~]/g, '\\$&');
}

export function jobTooltip(r: JobRecord, status: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', false);
  md.isTrusted = false;
  md.supportHtml = false;
  md.appendMarkdown(`**${escapeMarkdown(String(r.id))}** — ${escapeMarkdown(status)}\n\n`);
  md.appendMarkdown(`| | |\n|---|---|\n`);
  const row = (k: string, v: unknown) => md.appendMarkdown(`| ${escapeMarkdown(k)} | ${escapeMarkdown(String(v))} |\n`);
  row('model', `${r.spec.model} (${paramSummary(r)})`);
  row('image', r.spec.image);
  if (r.spec.labels) row('labels', r.spec.labels);
  row('runner', r.runner + (r.backend ? ` · ${r.backend}` : ''));
  for (const [k, v] of Object.entries(r.timings)) row(k, formatDuration(v));
  if (r.summary?.meanF1 !== undefined) row('mean F1', r.summary.meanF1?.toFixed(4));
  if (r.error) row('error', r.error);
  return md;
}
