// Job report charts: the legend has colour swatches in its own row under the plot (never over a line), and the
// per-slice F1 chart numbers slices from 1 like the viewer.
import { describe, expect, it, vi } from 'vitest';

vi.mock('vscode', () => ({ TreeItem: class {}, EventEmitter: class {}, ThemeIcon: class {}, TreeItemCollapsibleState: {} }));
import { legendLayout, lineChart } from '../../src/host/jobs/charts';
import { renderReport } from '../../src/extension/jobs/jobReport';

const nums = (svg: string, re: RegExp) => [...svg.matchAll(re)].map((m) => Number(m[1]));

describe('lineChart legend', () => {
  const svg = lineChart('F1 per slice', [
    { name: 'class 0', values: [0.9, 0.95, 1], color: '#f28e2b' },
    { name: 'class 1', values: [1, 0.98, 0.97], color: '#59a14f' },
  ], { xLabel: 'slice', yLabel: 'F1', yMin: 0, yMax: 1, x0: 1 });

  it('draws one swatch per series in the series colour', () => {
    const rects = [...svg.matchAll(/<rect [^>]*fill="([^"]+)"/g)].map((m) => m[1]);
    expect(rects).toEqual(['#f28e2b', '#59a14f']);
    expect(svg).toContain('>class 0</text>');
  });

  it('puts the legend below every point of every line', () => {
    const lineYs = [...svg.matchAll(/<path d="([^"]+)"/g)].flatMap((m) => nums(m[1], /,([\d.]+)/g));
    const legendYs = nums(svg, /<rect [^>]*y="([\d.]+)"/g);
    const axisLabelY = nums(svg, /y="([\d.]+)" class="axis" text-anchor="middle">slice/g)[0];
    expect(Math.min(...legendYs)).toBeGreaterThan(Math.max(...lineYs));
    expect(Math.min(...legendYs)).toBeGreaterThan(axisLabelY - 10);
    const height = nums(svg, /viewBox="0 0 \d+ (\d+)"/g)[0];
    expect(Math.max(...legendYs) + 10).toBeLessThanOrEqual(height);
  });

  it('wraps legend entries that do not fit one row', () => {
    const at = legendLayout(Array.from({ length: 12 }, (_, i) => `class ${i}`), 300);
    expect(at[0]).toEqual({ x: 0, row: 0 });
    expect(Math.max(...at.map((a) => a.row))).toBeGreaterThan(0);
    for (const a of at) expect(a.x).toBeLessThan(300);
  });
});

describe('job report F1 chart', () => {
  it('numbers slices from 1 (metrics count from 0)', () => {
    const perSlice = [0, 1, 2, 3, 4].map((slice) => ({ slice, classes: [{ truth: 1, f1: 0.9 }] }));
    const record = {
      id: 'j1', dir: '/d/j1', status: 'succeeded', runner: 'local', created: '2026-01-01', timings: {}, outputs: { log: '/d/j1/log.txt' },
      spec: { kind: 'run', model: 'rf', params: {}, image: '/d/a.tif' },
    } as any;
    const html = renderReport(record, { evaluation: { perSlice, overall: [] } }, '', '');
    const ticks = nums(html, /class="tick" text-anchor="middle">(\d+)</g);
    expect(ticks).toEqual([1, 3, 5]);
  });
});
