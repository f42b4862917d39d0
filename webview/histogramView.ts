// Draws the small histogram in the toolbar: log-scaled counts over the slice's value range, with the
// display window shaded. Colours come from the VS Code theme so it reads in light, dark and high contrast.

import type { DisplayWindow } from './lut';
import { displayBins, type Histogram } from './stats';

function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function drawHistogram(canvas: HTMLCanvasElement, h: Histogram | undefined, w: DisplayWindow): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 120;
  const cssH = canvas.clientHeight || 22;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  if (!h || h.total === 0) return;

  // Range drawn: the data range, widened to include the window so its edges are visible.
  let lo = Math.min(h.min, w.min);
  let hi = Math.max(h.max, w.max);
  if (!(hi > lo)) hi = lo + 1;
  const pad = (hi - lo) * 0.02;
  lo -= pad;
  hi += pad;
  const bins = Math.max(8, Math.floor(cssW));
  const counts = displayBins(h, lo, hi, bins);
  let peak = 0;
  for (const c of counts) peak = Math.max(peak, Math.log1p(c));
  const x = (v: number) => ((v - lo) / (hi - lo)) * cssW;

  ctx.fillStyle = themeColor('--vscode-editor-selectionBackground', 'rgba(38,79,120,0.6)');
  ctx.globalAlpha = 0.55;
  ctx.fillRect(x(w.min), 0, Math.max(1, x(w.max) - x(w.min)), cssH);
  ctx.globalAlpha = 1;

  ctx.fillStyle = themeColor('--vscode-foreground', '#ccc');
  ctx.globalAlpha = 0.8;
  const colW = cssW / bins;
  for (let i = 0; i < bins; i++) {
    if (counts[i] === 0 || peak === 0) continue;
    const bh = Math.max(1, (Math.log1p(counts[i]) / peak) * (cssH - 2));
    ctx.fillRect(i * colW, cssH - bh, Math.max(1, colW), bh);
  }
  ctx.globalAlpha = 1;

  ctx.strokeStyle = themeColor('--vscode-focusBorder', '#0078d4');
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const v of [w.min, w.max]) {
    const px = Math.round(x(v)) + 0.5;
    ctx.moveTo(px, 0);
    ctx.lineTo(px, cssH);
  }
  ctx.stroke();
}
