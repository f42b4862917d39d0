// A job's report in an editor tab: status, parameters, timings, the loss curve and the per-slice metric plot.
// Static HTML with inline SVG: the webview runs no script (CSP default-src 'none').

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../../shared/jobs/spec';
import { jobLogPath } from '../../core/jobs/jobPaths';
import { loadRecord } from '../../core/jobs/store';
import { lineChart } from '../../host/jobs/charts';
import { formatDuration, paramSummary } from './jobsView';
import { escapeHtml, makeNonce, renderWebviewHtml } from '../../host/webviewHtml';
import { REPORT_CSS } from '../../host/jobs/reportCss';

const esc = (s: unknown) => escapeHtml(String(s));
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2'];

/** One report tab per job folder: "Open Report" again reveals (and refreshes) it instead of opening a duplicate. */
const openReports = new Map<string, vscode.WebviewPanel>();

/** Job folders whose report tab is open (for tests in the extension host). */
export function openReportDirs(): string[] { return [...openReports.keys()]; }

export async function showJobReport(dir: string): Promise<vscode.WebviewPanel> {
  const record = await loadRecord(dir);
  let panel = openReports.get(record.dir);
  if (panel) panel.reveal(undefined, false);
  else {
    const created = vscode.window.createWebviewPanel('stackseg.jobReport', `Job ${record.id}`, vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
    openReports.set(record.dir, created);
    created.onDidDispose(() => { if (openReports.get(record.dir) === created) openReports.delete(record.dir); });
    panel = created;
  }
  const metrics = await fs.readFile(join(dir, 'metrics.json'), 'utf8').then(JSON.parse).catch(() => undefined);
  // job.json is user-editable: only a log inside the job folder is shown.
  const log = await jobLogPath(record).then((p) => fs.readFile(p, 'utf8'), (e: Error) => `(log not shown: ${e.message})`).catch(() => '');
  panel.webview.html = renderReport(record, metrics, log.split('\n').slice(-40).join('\n'), panel.webview.cspSource);
  return panel;
}

export function renderReport(r: JobRecord, metrics: any, logTail: string, cspSource: string): string {
  const nonce = makeNonce();
  const rows: [string, unknown][] = [
    ['status', r.status + (r.error ? ` — ${r.error}` : '')], ['model', `${r.spec.model} (${paramSummary(r)})`], ['image', r.spec.image],
    ['labels', r.spec.labels ?? '—'], ['runner', `${r.runner}${r.backend ? ` · ${r.backend}` : ''}`], ['created', r.created],
    ...Object.entries(r.timings).map(([k, v]) => [`time: ${k}`, formatDuration(v)] as [string, unknown]),
    ['folder', r.dir],
  ];
  const charts: string[] = [];
  const loss: number[] | undefined = metrics?.training?.lossCurve;
  if (loss?.length) charts.push(lineChart('Training loss', [{ name: 'cross-entropy', values: loss, color: PALETTE[0] }], { xLabel: 'epoch', yLabel: 'loss', x0: 1 }));
  const perSlice: { slice: number; classes: { truth: number; f1: number | null }[] }[] | undefined = metrics?.evaluation?.perSlice;
  if (perSlice?.length) {
    const truths = [...new Set(perSlice.flatMap((s) => s.classes.map((c) => c.truth)))];
    charts.push(lineChart('F1 per slice', truths.map((t, i) => ({
      name: `class ${t}`, color: PALETTE[(i + 1) % PALETTE.length],
      values: perSlice.map((s) => s.classes.find((c) => c.truth === t)?.f1 ?? null),
    })), { xLabel: 'slice', yLabel: 'F1', yMin: 0, yMax: 1, x0: perSlice[0].slice + 1 })); // numbered from 1 like the viewer
  }
  const overall: { truth: number; pred: number; precision: number | null; recall: number | null; f1: number | null; iou: number | null }[] = metrics?.evaluation?.overall ?? [];
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(4));
  const classTable = overall.length ? `<h2>Against ground truth</h2><table><tr><th>pred → truth</th><th>precision</th><th>recall</th><th>F1</th><th>IoU</th></tr>${overall.map((c) => `<tr><td>${c.pred} → ${c.truth}</td><td>${f(c.precision)}</td><td>${f(c.recall)}</td><td>${f(c.f1)}</td><td>${f(c.iou)}</td></tr>`).join('')}</table>` : '';
  const body = `<h1>${esc(r.spec.kind)} · ${esc(r.spec.model)} <span class="status-${esc(r.status)}">${esc(r.status)}</span></h1>
<table>${rows.map(([k, v]) => `<tr><td class="k">${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
${metrics?.training?.trainAccuracy !== undefined ? `<p>Accuracy on labeled pixels: ${(100 * metrics.training.trainAccuracy).toFixed(2)} %</p>` : ''}
${charts.join('\n')}
${classTable}
<h2>Log (last lines)</h2><pre>${esc(logTail)}</pre>`;
  return renderWebviewHtml({ cspSource, nonce, title: r.id, inlineStyle: REPORT_CSS + REPORT_EXTRA_CSS, body });
}

const REPORT_EXTRA_CSS = `
svg[role=img]{margin:8px 16px 8px 0}
pre{background:var(--vscode-textCodeBlock-background);padding:8px;overflow:auto;max-height:320px;font-family:var(--vscode-editor-font-family)}
`;
