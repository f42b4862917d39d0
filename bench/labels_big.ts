// Labels at full size: open and save of a 2048 x 2048 x 1000 labels stack with strokes on 3 slices.
//   node bench/run.mjs labels_big [--width 2048] [--depth 1000] [--slices 3] [--keep]
// Phases (each: wall ms, bytes read/written by this process from /proc/self/io, RSS and peak RSS):
//   legacy:   a labels file as StackSeg wrote it before (every page uncompressed, zeros included), strokes on 3 slices
//   openLegacy, saveAfterStrokes (strokes on 3 slices, then Ctrl+S), openSaved (the file that save wrote),
//   autoSave (one more stroke on one slice, then save: what files.autoSave does after each stroke).
// Prints JSON. Needs about 2 x width x height x depth bytes of free disk.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DocumentLabels, OVERWRITE } from '../src/host/documentLabels';
import { encodeRle } from '../src/shared/labels/rle';
import { StackWriter } from '../src/core/tiff/writer';
import { emptyRect, extractRect, stampLine } from '../webview/paintOps';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const W = arg('width', 2048), H = arg('width', 2048), D = arg('depth', 1000), S = arg('slices', 3);
const labelled = Array.from({ length: S }, (_, k) => Math.floor(((k + 1) * D) / (S + 1)));

function io(): { read: number; written: number } {
  const text = readFileSync('/proc/self/io', 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { read: get('rchar'), written: get('wchar') };
}
function resetPeak(): void { try { writeFileSync('/proc/self/clear_refs', '5'); } catch { /* not Linux */ } }
function peakMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function phase<T>(name: string, out: Record<string, unknown>, run: () => Promise<T>, extra?: (r: T) => Record<string, unknown>): Promise<T> {
  (globalThis as { gc?: () => void }).gc?.();
  resetPeak();
  const before = io();
  const t0 = performance.now();
  const r = await run();
  const ms = performance.now() - t0;
  const after = io();
  out[name] = {
    ms: Math.round(ms), readMB: +((after.read - before.read) / 1e6).toFixed(2), writtenMB: +((after.written - before.written) / 1e6).toFixed(3),
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), peakRssMB: peakMB(), ...(extra ? extra(r) : {}),
  };
  return r;
}

function strokeRle(z: number, cls: number): { box: { x: number; y: number; width: number; height: number }; rle: Uint8Array } {
  const buf = new Uint8Array(W * H);
  const dirty = emptyRect();
  stampLine(buf, W, H, W * 0.1, H * 0.1 + (z % 50), W * 0.9, H * 0.7, Math.max(3, W / 80), cls, dirty);
  return { box: { x: dirty.x0, y: dirty.y0, width: dirty.x1 - dirty.x0, height: dirty.y1 - dirty.y0 }, rle: encodeRle(extractRect(buf, W, dirty)) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-labels-big-'));
  const out: Record<string, unknown> = { width: W, height: H, depth: D, labelledSlices: labelled };
  try {
    const image = join(dir, 'stack.tif');
    const labelsPath = join(dir, 'stack.labels.tif');
    // The file a previous version wrote: uncompressed pages, zeros included, one labelled region per slice.
    await phase('writeLegacyFile', out, async () => {
      const w = await StackWriter.create(labelsPath, { width: W, height: H, depth: D, dtype: 'uint8' });
      const zeros = new Uint8Array(W * H);
      for (let z = 0; z < D; z++) {
        if (!labelled.includes(z)) { await w.appendSlice(zeros); continue; }
        const s = new Uint8Array(W * H);
        s.fill(1, (H / 4) * W, (H / 4) * W + 50 * W);
        await w.appendSlice(s);
      }
      await w.close();
    }, () => ({ fileMB: +(statSync(labelsPath).size / 1e6).toFixed(1) }));

    const dims = { width: W, height: H, depth: D };
    const opened = await phase('openLegacy', out, () => DocumentLabels.load(image, dims), (r) => ({ annotated: r.labels.volume.annotatedSlices().length }));
    const labels = opened.labels;
    await phase('saveAfterStrokes', out, async () => {
      for (const z of labelled) { const s = strokeRle(z, 2); labels.stroke(z, s.box, s.rle, 'brush'); }
      await labels.save(OVERWRITE);
    }, () => ({ fileMB: +(statSync(labelsPath).size / 1e6).toFixed(3), lastSaveMs: Math.round(labels.lastSaveMs) }));
    await phase('autoSaveOneStroke', out, async () => {
      const s = strokeRle(labelled[0] + 1, 1);
      labels.stroke(labelled[0] + 1, s.box, s.rle, 'brush');
      await labels.save(OVERWRITE);
    }, () => ({ fileMB: +(statSync(labelsPath).size / 1e6).toFixed(3), lastSaveMs: Math.round(labels.lastSaveMs) }));
    (labels as { dispose?: () => void }).dispose?.();
    const again = await phase('openSaved', out, () => DocumentLabels.load(image, dims), (r) => ({ annotated: r.labels.volume.annotatedSlices().length, counts: r.labels.volume.classCounts() }));
    await phase('showLabelledSlice', out, async () => again.labels.volume.slice(labelled[1]), (s) => ({ labelled: s ? s.reduce((a, v) => a + (v ? 1 : 0), 0) : 0 }));
    (again.labels as { dispose?: () => void }).dispose?.();
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out, null, 2));
}

void main();
