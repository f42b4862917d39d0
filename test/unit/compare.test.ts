// Jobs side by side (core/jobs/compare.ts, the page in extension/jobs/compareHtml.ts): values read from job.json and
// metrics.json, jobs without truth, RFC 4180 CSV with awkward names, and edited files refused with one clear message.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvField, loadComparison, toCsv } from '../../src/core/jobs/compare';
import { barChart, renderComparison } from '../../src/host/jobs/compareHtml';

const root = mkdtempSync(join(tmpdir(), 'stackseg-compare-'));

function job(name: string, over: Record<string, any> = {}, metrics?: unknown): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const record = {
    format: 'stackseg-job', version: 1, id: name, dir, status: 'succeeded', created: '2026-01-01T00:00:00Z', runner: 'local', backend: 'js',
    spec: { kind: 'run', model: 'rf', params: { trees: 20, depth: 8, sigmas: [0.7, 1.6] }, image: '/data/foam.tif', truth: '/data/foam.truth.tif' },
    inputs: {}, timings: { train: 1.5, segment: 2.25, total: 4 }, versions: { stackseg: '0', node: 'v20', platform: 'linux' },
    outputs: { log: join(dir, 'log.txt'), ...(metrics ? { metrics: join(dir, 'metrics.json') } : {}) }, ...over,
  };
  writeFileSync(join(dir, 'job.json'), JSON.stringify(record));
  if (metrics) writeFileSync(join(dir, 'metrics.json'), typeof metrics === 'string' ? metrics : JSON.stringify(metrics));
  return dir;
}

const evaluation = (f1: Record<string, number | null>, iou: Record<string, number | null>, meanF1: number, meanIoU: number) =>
  ({ training: { trainAccuracy: 1 }, evaluation: { classF1: f1, classIoU: iou, meanF1, meanIoU, truth: '/data/foam.truth.tif' } });

describe('loadComparison', () => {
  const rf = job('rf', {}, evaluation({ 1: 0.95, 2: 0.9 }, { 1: 0.905, 2: 0.82 }, 0.925, 0.8625));
  const km = job('km', { backend: 'js', spec: { kind: 'run', model: 'kmeans', params: { k: 3 }, image: '/data/other.tif' }, timings: { total: 0.5 } },
    evaluation({ 1: 0.7 }, { 1: 0.54 }, 0.7, 0.54));
  const noTruth = job('plain', { spec: { kind: 'run', model: 'threshold', params: { method: 'otsu' }, image: '/data/foam.tif' }, timings: { segment: 0.25, total: 0.3 } });

  it('reads per-class F1/IoU, means, times, backend and parameters of each job', async () => {
    const c = await loadComparison([rf, km, noTruth]);
    expect(c.jobs.map((j) => j.model)).toEqual(['rf', 'kmeans', 'threshold']);
    expect(c.classes).toEqual(['1', '2']);
    expect(c.params).toEqual(['trees', 'depth', 'sigmas', 'k', 'method']);
    const [a, b] = c.jobs;
    expect(a.classes).toEqual([{ truth: '1', f1: 0.95, iou: 0.905 }, { truth: '2', f1: 0.9, iou: 0.82 }]);
    expect([a.meanF1, a.meanIoU, a.backend, a.runner]).toEqual([0.925, 0.8625, 'js', 'local']);
    expect(a.time).toEqual({ train: 1.5, segment: 2.25, total: 4 });
    expect(b.time).toEqual({ total: 0.5 });
    expect(b.classes).toEqual([{ truth: '1', f1: 0.7, iou: 0.54 }]);
  });

  it('a job without truth has no scores (not zeros) and empty CSV cells', async () => {
    const c = await loadComparison([rf, noTruth]);
    const j = c.jobs[1];
    expect([j.classes, j.meanF1, j.meanIoU, j.truth]).toEqual([[], null, null, undefined]);
    const [head, , row] = toCsv(c).split('\r\n').map((l) => l.split(','));
    const at = (k: string) => row[head.indexOf(k)];
    expect([at('f1_class_1'), at('iou_class_2'), at('mean_f1'), at('truth'), at('train_s'), at('segment_s')]).toEqual(['', '', '', '', '', '0.25']);
    expect(at('param.method')).toBe('otsu');
    expect(at('param.trees')).toBe('');
  });

  it('the same folder twice is one job', async () => {
    expect((await loadComparison([rf, rf + '/'])).jobs).toHaveLength(1);
  });

  it('CSV: header, numbers as written, lists space-separated', async () => {
    const csv = toCsv(await loadComparison([rf]));
    const [head, row] = csv.split('\r\n');
    expect(head).toBe('job,id,stack,image,kind,model,status,runner,backend,train_s,segment_s,total_s,f1_class_1,iou_class_1,f1_class_2,iou_class_2,mean_f1,mean_iou,truth,param.trees,param.depth,param.sigmas');
    expect(row).toBe(`${rf},rf,foam.tif,/data/foam.tif,run,rf,succeeded,local,js,1.5,2.25,4,0.95,0.905,0.9,0.82,0.925,0.8625,/data/foam.truth.tif,20,8,0.7 1.6`);
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('CSV quotes names with commas, quotes and newlines (RFC 4180)', async () => {
    const odd = job('odd', { id: 'a, "b"\nc', spec: { kind: 'run', model: 'rf', params: { trees: 5 }, image: '/d/x,y.tif' } });
    const csv = toCsv(await loadComparison([odd]));
    expect(csv).toContain(',"a, ""b""\nc",');
    expect(csv).toContain(',"x,y.tif","/d/x,y.tif",');
    expect(parseCsv(csv)[1].slice(1, 4)).toEqual(['a, "b"\nc', 'x,y.tif', '/d/x,y.tif']);
  });

  it('CSV: a text cell a spreadsheet would run as a formula starts with an apostrophe; numbers stay numbers', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(['+1', '-x', '@a', 'plain'].map(csvField)).toEqual(["'+1", "'-x", "'@a", 'plain']);
    expect([csvField(-3), csvField(0.5), csvField(undefined), csvField(null), csvField(Number.NaN)]).toEqual(['-3', '0.5', '', '', '']);
  });

  it('an edited job.json or metrics.json is refused with one message naming the file and field', async () => {
    const t = job('badtime', { timings: { total: 'soon' } });
    await expect(loadComparison([t])).rejects.toThrow(`${join(t, 'job.json')}: timings.total is "soon", not a number of seconds`);
    const p = job('badparam', { spec: { kind: 'run', model: 'rf', params: { trees: { $x: 1 } }, image: '/d/x.tif' } });
    await expect(loadComparison([p])).rejects.toThrow(/job\.json: spec\.params\.trees is \{"\$x":1\}, not a number/);
    const m = job('badf1', {}, evaluation({ 1: 7 }, {}, 0.5, 0.5));
    await expect(loadComparison([m])).rejects.toThrow(`${join(m, 'metrics.json')}: evaluation.classF1["1"] is 7, not a score from 0 to 1 — metrics.json was edited`);
    const j = job('badjson', {}, '{ nope');
    await expect(loadComparison([j])).rejects.toThrow(/metrics\.json: not readable JSON/);
    await expect(loadComparison([join(root, 'missing')])).rejects.toThrow(/missing\/job\.json: not a readable StackSeg job/);
  });

  it('metrics.json is read only inside the job folder (outputs.metrics elsewhere or a symlink out is refused)', async () => {
    const secret = join(root, 'secret.json');
    writeFileSync(secret, JSON.stringify(evaluation({ 1: 1 }, { 1: 1 }, 1, 1)));
    const out = job('outside', { outputs: { log: 'log.txt', metrics: secret } });
    await expect(loadComparison([out])).rejects.toThrow(/outputs\.metrics .* is outside the job folder/);
    const link = job('link');
    symlinkSync(secret, join(link, 'metrics.json'));
    await expect(loadComparison([link])).rejects.toThrow(/leads outside the job folder/);
  });
});

describe('the Compare Jobs page', () => {
  it('shows the values, marks the best, escapes names from job.json, and says which jobs have no truth', async () => {
    const evil = job('evil', { id: '<img src=x onerror=alert(1)>', spec: { kind: 'run', model: 'threshold', params: { method: '"><script>' }, image: '/d/<b>.tif' } });
    const rf = job('rf2', {}, evaluation({ 1: 0.95 }, { 1: 0.9 }, 0.95, 0.9));
    const km = job('km2', { spec: { kind: 'run', model: 'kmeans', params: { k: 2 }, image: '/d/a.tif' } }, evaluation({ 1: 0.8 }, { 1: 0.7 }, 0.8, 0.7));
    const html = renderComparison(await loadComparison([rf, km, evil]), 'NONCE', 'vscode-resource:');
    // The one CSP of every StackSeg page (src/host/webviewHtml.ts): nothing inline without the nonce.
    expect(html).toContain(`content="default-src &#39;none&#39;; script-src &#39;nonce-NONCE&#39;; style-src vscode-resource: &#39;nonce-NONCE&#39;;`);
    expect(html).not.toContain('unsafe-inline');
    expect(html.match(/<script nonce="NONCE">/g)).toHaveLength(1);
    expect(html).not.toMatch(/<img|<script>(?!\n)|style="/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
    expect(html).toMatch(/class="num best" data-testid="f1-1">0\.9500</);
    expect(html).toMatch(/class="num" data-testid="f1-1">0\.8000</);
    expect(html).toMatch(/data-testid="no-truth">No ground truth for 3 · threshold · &lt;b&gt;\.tif/);
    expect([...html.matchAll(/<script/g)]).toHaveLength(1);
    expect(html).toContain('<script nonce="NONCE">');
    // F1 and IoU charts: two bars (class 1, mean) per scored job; the time chart: one per phase per job.
    expect([...html.matchAll(/<rect class="bar"/g)]).toHaveLength(2 * 2 * 2 + 3 * 3);
  });

  it('bar heights follow the values; a missing value leaves a gap, not a zero bar', () => {
    const svg = barChart('F1', ['class 1', 'mean'], [{ name: 'a', color: '#111111', values: [1, 0.5] }, { name: 'b', color: '#222222', values: [null, 0.25] }], { yLabel: 'F1', yMax: 1 });
    const heights = [...svg.matchAll(/<rect class="bar"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(3);
    expect(heights[1] / heights[0]).toBeCloseTo(0.5, 2);
    expect(heights[2] / heights[0]).toBeCloseTo(0.25, 2);
    expect(svg).toContain('<title>b · mean: 0.250</title>');
  });
});

/** Minimal RFC 4180 reader, to check that quoting round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [[]];
  let field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { rows.at(-1)!.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { rows.at(-1)!.push(field); field = ''; rows.push([]); i++; }
    else field += ch;
  }
  if (rows.at(-1)!.length === 0) rows.pop();
  return rows;
}
