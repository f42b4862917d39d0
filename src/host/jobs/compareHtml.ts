// The Compare Jobs page: a table of the jobs (status, backend, times, per-class F1/IoU), grouped bar charts of the
// scores and times, and the parameters side by side with the differences marked. Pure string building (no vscode),
// so it is unit-tested. Static SVG; the only script is the Export button's, allowed by nonce.

import { basename } from 'node:path';
import { formatParam, jobLabel, TIME_KEYS, type Comparison, type ComparedJob } from '../../core/jobs/compare';
import { escapeHtml, renderWebviewHtml } from '../webviewHtml';
import { REPORT_CSS } from './reportCss';
import { legendLayout } from './charts';

/** Tableau 10: distinct on dark and light backgrounds. */
export const COMPARE_PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const colorOf = (i: number) => COMPARE_PALETTE[i % COMPARE_PALETTE.length];
const esc = (s: unknown) => escapeHtml(String(s));
const score = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(4));
// A colour square as SVG: CSP (style-src by nonce) refuses style="" attributes, not SVG fill.
const swatch = (i: number) => `<svg class="swatch" width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${colorOf(i)}"/></svg>`;
const secs = (v: number | undefined) => (v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));

export interface BarSeries { name: string; color: string; values: (number | null | undefined)[] }

/**
 * Grouped vertical bars: one group per entry of `groups`, one bar per series in it, legend in its own rows under
 * the axis. A missing value leaves a gap (never a zero bar). Each bar has an SVG <title> with its exact value.
 */
export function barChart(title: string, groups: string[], series: BarSeries[], opts: { yLabel: string; yMax?: number; digits?: number; width?: number }): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  if (groups.length === 0 || all.length === 0) return `<p class="empty">${esc(title)}: no data</p>`;
  const barW = Math.max(8, Math.min(28, Math.floor(360 / Math.max(1, series.length))));
  const groupW = series.length * barW + 24;
  const L = 52, R = 12, T = 28;
  const W = Math.max(opts.width ?? 420, L + R + groups.length * groupW);
  const legend = legendLayout(series.map((s) => s.name), W - L - R);
  const LEG = legend.length ? 16 * ((legend.at(-1)?.row ?? 0) + 1) : 0;
  const plotH = 180, B = 28 + LEG, H = T + plotH + B;
  const hi = opts.yMax ?? niceMax(Math.max(...all));
  const y = (v: number) => T + plotH - (Math.max(0, Math.min(v, hi)) * plotH) / hi;
  const digits = opts.digits ?? 3;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" class="bars">`,
    `<text x="${L}" y="17" class="title">${esc(title)}</text>`];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const v = t * hi;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${tick(v)}</text>`);
  }
  parts.push(`<text x="12" y="${T + plotH / 2}" class="axis" text-anchor="middle" transform="rotate(-90 12 ${T + plotH / 2})">${esc(opts.yLabel)}</text>`);
  const span = (W - L - R) / groups.length;
  groups.forEach((g, gi) => {
    const x0 = L + gi * span + (span - series.length * barW) / 2;
    parts.push(`<text x="${L + gi * span + span / 2}" y="${T + plotH + 16}" class="tick" text-anchor="middle">${esc(g)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (typeof v !== 'number' || !Number.isFinite(v)) return;
      const top = y(v);
      parts.push(`<rect class="bar" x="${(x0 + si * barW + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${barW - 2}" height="${(T + plotH - top).toFixed(1)}" fill="${esc(s.color)}"><title>${esc(`${s.name} · ${g}: ${v.toFixed(digits)}`)}</title></rect>`);
    });
  });
  series.forEach((s, k) => {
    const at = legend[k];
    const ly = H - LEG + 2 + 16 * at.row;
    parts.push(`<g class="legend-item"><rect x="${L + at.x}" y="${ly}" width="12" height="10" fill="${esc(s.color)}"/><text x="${L + at.x + 16}" y="${ly + 9}" class="legend">${esc(s.name)}</text></g>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  // Maxima whose quarters are round numbers (0.25, 0.5, 1, 1.5, 2, 2.5 times a power of ten).
  return ([1, 2, 4, 6, 8, 10].find((m) => m * p >= v) ?? 10) * p;
}
const tick = (v: number) => String(Number(v.toPrecision(3)));

/** The best (highest score / lowest time) value of a column, to mark it in the table; undefined with < 2 values. */
function best(values: (number | null | undefined)[], lowest = false): number | undefined {
  const v = values.filter((x): x is number => typeof x === 'number');
  if (v.length < 2) return undefined;
  return lowest ? Math.min(...v) : Math.max(...v);
}

export function renderComparison(c: Comparison, nonce: string, cspSource: string): string {
  const jobs = c.jobs;
  const scored = jobs.filter((j) => j.classes.length > 0 || j.meanF1 !== null);
  const label = (j: ComparedJob) => jobLabel(j, jobs.indexOf(j));
  const cls = (j: ComparedJob, k: string) => j.classes.find((x) => x.truth === k);
  // Columns with a best value marked: scores highest, times lowest.
  // Headers in two lines (what, then which class or unit), so a table of many classes stays narrow.
  type Value = number | null | undefined;
  interface Col { head: [string, string]; get: (j: ComparedJob) => Value; fmt: (v: Value) => string; testid: string; lowest?: boolean }
  const col = (what: string, which: string, testid: string, get: Col['get'], fmt: Col['fmt'] = score, lowest = false): Col => ({ head: [what, which], get, fmt, testid, lowest });
  const cols: Col[] = [
    ...TIME_KEYS.map((k) => col(k, 'seconds', `time-${k}`, (j) => j.time[k], (v) => secs(v ?? undefined), true)),
    ...c.classes.flatMap((k) => [col('F1', `class ${k}`, `f1-${k}`, (j) => cls(j, k)?.f1), col('IoU', `class ${k}`, `iou-${k}`, (j) => cls(j, k)?.iou)]),
    ...(c.classes.length ? [col('F1', 'mean', 'mean-f1', (j) => j.meanF1), col('IoU', 'mean', 'mean-iou', (j) => j.meanIoU)] : []),
  ];
  const bests = cols.map((col) => best(jobs.map(col.get), col.lowest));
  const rows = jobs.map((j, i) => `<tr data-testid="job-row" data-dir="${esc(j.dir)}">
<td>${swatch(i)}${i + 1}</td><td title="${esc(j.dir)}">${esc(j.id)}</td><td title="${esc(j.image)}">${esc(basename(j.image))}</td>
<td>${esc(j.model)} · ${esc(j.kind)}</td><td class="status-${esc(j.status)}">${esc(j.status)}</td><td>${esc(j.runner)}<br><span class="k">${esc([j.backend, j.device].filter(Boolean).join(' · ') || '—')}</span></td>
${cols.map((col, k) => { const v = col.get(j); return `<td class="num${typeof v === 'number' && v === bests[k] ? ' best' : ''}" data-testid="${col.testid}">${col.fmt(v)}</td>`; }).join('')}</tr>`).join('\n');

  const charts: string[] = [];
  if (scored.length) {
    const groups = [...c.classes.map((k) => `class ${k}`), 'mean'];
    const seriesOf = (pick: (j: ComparedJob, k: string | null) => number | null | undefined) => scored.map((j) => ({
      name: label(j), color: colorOf(jobs.indexOf(j)), values: [...c.classes.map((k) => pick(j, k)), pick(j, null)],
    }));
    charts.push(barChart('F1 per truth class', groups, seriesOf((j, k) => (k === null ? j.meanF1 : cls(j, k)?.f1)), { yLabel: 'F1', yMax: 1, digits: 4 }));
    charts.push(barChart('IoU per truth class', groups, seriesOf((j, k) => (k === null ? j.meanIoU : cls(j, k)?.iou)), { yLabel: 'IoU', yMax: 1, digits: 4 }));
  }
  const timed = jobs.filter((j) => TIME_KEYS.some((k) => j.time[k] !== undefined));
  if (timed.length) {
    charts.push(barChart('Time', TIME_KEYS.map((k) => k), timed.map((j) => ({ name: label(j), color: colorOf(jobs.indexOf(j)), values: TIME_KEYS.map((k) => j.time[k]) })), { yLabel: 'seconds', digits: 2 }));
  }
  const unscored = jobs.filter((j) => !scored.includes(j));
  const note = unscored.length
    ? `<p class="note" data-testid="no-truth">No ground truth for ${unscored.map((j) => esc(label(j))).join(', ')}: run <em>StackSeg: Evaluate Against Ground Truth</em> on ${unscored.length > 1 ? 'them' : 'it'} to score ${unscored.length > 1 ? 'them' : 'it'}.</p>`
    : '';
  const paramRows = c.params.map((p) => {
    const vals = jobs.map((j) => (p in j.params ? formatParam(j.params[p]) : undefined));
    const present = vals.filter((v): v is string => v !== undefined);
    const differs = new Set(present).size > 1;
    return `<tr${differs ? ' class="differs"' : ''}><td class="k">${esc(p)}</td>${vals.map((v) => `<td>${v === undefined ? '<span class="k">—</span>' : esc(v)}</td>`).join('')}</tr>`;
  }).join('\n');

  const body = `<h1>Compare ${jobs.length} job${jobs.length === 1 ? '' : 's'} <button id="export" data-testid="export-csv" title="Save this comparison as a CSV file">Export CSV…</button></h1>
<table data-testid="compare-table"><tr><th>#</th><th>job</th><th>stack</th><th>model</th><th>status</th><th>runner<br><span class="sub">backend</span></th>${cols.map((col) => `<th class="num">${esc(col.head[0])}<br><span class="sub">${esc(col.head[1])}</span></th>`).join('')}</tr>
${rows}
</table>
<p class="note">F1 and IoU: per truth class, averaged over slices (as the Jobs view's F1); mean: over classes. Best value of each column in bold.</p>
${note}
<div class="charts">${charts.join('\n')}</div>
${c.params.length ? `<h2>Parameters</h2><table data-testid="param-table"><tr><th>parameter</th>${jobs.map((j, i) => `<th>${swatch(i)}${esc(label(j))}</th>`).join('')}</tr>
${paramRows}
</table><p class="note">Highlighted: parameters whose values differ between the jobs that have them.</p>` : ''}`;
  return renderWebviewHtml({ cspSource, nonce, title: 'Compare Jobs', inlineStyle: REPORT_CSS + COMPARE_CSS, inlineScript: EXPORT_SCRIPT, body });
}

const EXPORT_SCRIPT = `const vscode = acquireVsCodeApi();
document.getElementById('export').addEventListener('click', () => vscode.postMessage({ type: 'exportCsv' }));`;

const COMPARE_CSS = `
h1{display:flex;align-items:center;gap:16px} h2{margin-top:22px}
td,th{white-space:nowrap} th{vertical-align:bottom;border-bottom:1px solid var(--vscode-widget-border,var(--vscode-editorWidget-border,#8884))}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums} td.best{font-weight:700;color:var(--vscode-charts-green,var(--vscode-foreground))}
tr.differs td{background:var(--vscode-diffEditor-insertedLineBackground,#8881)} tr.differs td.k{font-weight:600;color:var(--vscode-foreground)}
.sub{font-size:.9em;opacity:.8} .swatch{margin-right:6px;vertical-align:-1px}
.charts{display:flex;flex-wrap:wrap;gap:8px}
button{font-family:inherit;font-size:inherit;color:var(--vscode-button-foreground);background:var(--vscode-button-background);border:none;padding:4px 12px;cursor:pointer;border-radius:2px}
button:hover{background:var(--vscode-button-hoverBackground)}
`;
