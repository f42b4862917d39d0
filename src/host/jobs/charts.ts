// Small SVG line charts for job reports (loss curve, per-slice F1). Pure string building: no vscode, no DOM, so
// the report webview needs no script at all.
import { escapeHtml } from '../webviewHtml';

export interface Series { name: string; values: (number | null)[]; color: string }

const esc = escapeHtml;

export function lineChart(title: string, series: Series[], opts: { xLabel: string; yLabel: string; width?: number; height?: number; yMin?: number; yMax?: number; x0?: number }): string {
  // The legend sits in its own row under the x axis (swatch + name), so it never covers a line.
  const legendRows = series.length > 0 ? legendLayout(series.map((s) => s.name), (opts.width ?? 560) - 52 - 12) : [];
  const LEG = 16 * (legendRows.at(-1)?.row ?? -1) + (legendRows.length ? 16 : 0);
  const W = opts.width ?? 560, H = (opts.height ?? 220) + LEG, L = 52, R = 12, T = 26, B = 34 + LEG;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const n = Math.max(0, ...series.map((s) => s.values.length));
  if (all.length === 0 || n === 0) return `<p class="empty">${esc(title)}: no data</p>`;
  let lo = opts.yMin ?? Math.min(...all), hi = opts.yMax ?? Math.max(...all);
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const x = (i: number) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const y = (v: number) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => lo + t * (hi - lo));
  const x0 = opts.x0 ?? 0;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${L}" y="16" class="title">${esc(title)}</text>`];
  for (const t of ticks) parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${L - 6}" y="${y(t) + 4}" class="tick" text-anchor="end">${fmt(t)}</text>`);
  for (const i of [0, Math.floor((n - 1) / 2), n - 1]) parts.push(`<text x="${x(i)}" y="${H - B + 16}" class="tick" text-anchor="middle">${i + x0}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - LEG - 4}" class="axis" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text x="12" y="${(T + H - B) / 2}" class="axis" text-anchor="middle" transform="rotate(-90 12 ${(T + H - B) / 2})">${esc(opts.yLabel)}</text>`);
  series.forEach((s, k) => {
    let d = '', pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="1.8"/>`);
    const at = legendRows[k];
    if (at) {
      const ly = H - LEG + 6 + 16 * at.row;
      parts.push(`<g class="legend-item"><rect x="${L + at.x}" y="${ly}" width="12" height="10" fill="${esc(s.color)}"/><text x="${L + at.x + 16}" y="${ly + 9}" class="legend">${esc(s.name)}</text></g>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Left edge (from the plot's left) and row of each legend entry; ~6.5 px per character of 11 px text. */
export function legendLayout(names: readonly string[], width: number): { x: number; row: number }[] {
  const out: { x: number; row: number }[] = [];
  let x = 0, row = 0;
  for (const n of names) {
    const w = 16 + Math.ceil(n.length * 6.5) + 14;
    if (x > 0 && x + w > width) { x = 0; row++; }
    out.push({ x, row });
    x += w;
  }
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}
