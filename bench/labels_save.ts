// Host-side label timings: save of a 512 x 512 x 100 label stack (labels.tif + stackseg.json, temp + rename), and
// applying undo/redo of a brush stroke on a 2048 x 2048 slice. Prints JSON. Run: node bench/labels_save.mjs
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DocumentLabels, OVERWRITE } from '../src/host/documentLabels';
import { encodeRle } from '../src/shared/labels/rle';
import { stampLine, emptyRect, extractRect } from '../webview/paintOps';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-labels-bench-'));
  try {
    const image = join(dir, 'stack.tif');
    const { labels } = await DocumentLabels.load(image, { width: 512, height: 512, depth: 100 });
    // Strokes on every 5th slice, like a user annotating sparsely.
    for (let z = 0; z < 100; z += 5) {
      const buf = new Uint8Array(512 * 512);
      const dirty = emptyRect();
      stampLine(buf, 512, 512, 40, 40 + z, 470, 300, 15, 1 + (z % 2), dirty);
      const box = { x: dirty.x0, y: dirty.y0, width: dirty.x1 - dirty.x0, height: dirty.y1 - dirty.y0 };
      labels.stroke(z, box, encodeRle(extractRect(buf, 512, dirty)), 'brush');
    }
    const saves: number[] = [];
    for (let i = 0; i < 5; i++) {
      await labels.save(OVERWRITE);
      saves.push(labels.lastSaveMs);
    }
    const bytes = statSync(labels.paths.labels).size;

    // Undo/redo of one long stroke on 2048 x 2048.
    const big = await DocumentLabels.load(join(dir, 'big.tif'), { width: 2048, height: 2048, depth: 10 });
    const buf = new Uint8Array(2048 * 2048);
    const dirty = emptyRect();
    stampLine(buf, 2048, 2048, 100, 100, 1900, 1800, 40, 2, dirty);
    const t0 = performance.now();
    const r = big.labels.stroke(3, { x: dirty.x0, y: dirty.y0, width: dirty.x1 - dirty.x0, height: dirty.y1 - dirty.y0 }, encodeRle(extractRect(buf, 2048, dirty)), 'brush')!;
    const strokeMs = performance.now() - t0;
    const undo: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      big.labels.apply(r.edit, 'undo');
      undo.push(performance.now() - t);
      t = performance.now();
      big.labels.apply(r.edit, 'redo');
    }
    // The e2e perf stroke (test/e2e/labels.ui.mjs): 25 px brush along a sine, its box spans most of the slice.
    const sine = new Uint8Array(2048 * 2048);
    const sineDirty = emptyRect();
    let prev = { x: 200, y: 200 };
    for (let i = 1; i <= 150; i++) {
      const t = i / 150;
      const q = { x: 200 + 1600 * t, y: 200 + 1500 * Math.sin(t * 3) ** 2 };
      stampLine(sine, 2048, 2048, prev.x, prev.y, q.x, q.y, 25, 2, sineDirty);
      prev = q;
    }
    let t1 = performance.now();
    const rs = big.labels.stroke(7, { x: sineDirty.x0, y: sineDirty.y0, width: sineDirty.x1 - sineDirty.x0, height: sineDirty.y1 - sineDirty.y0 }, encodeRle(extractRect(sine, 2048, sineDirty)), 'brush')!;
    const sineStrokeMs = performance.now() - t1;
    const sineUndo: number[] = [];
    for (let i = 0; i < 5; i++) {
      t1 = performance.now();
      big.labels.apply(rs.edit, 'undo');
      sineUndo.push(performance.now() - t1);
      big.labels.apply(rs.edit, 'redo');
    }
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
    console.log(JSON.stringify({
      save512x512x100: { medianMs: +med(saves).toFixed(1), allMs: saves.map((s) => +s.toFixed(1)), fileBytes: bytes, goalMs: 200 },
      stroke2048: { box: r.edit.patches[0].box, afterRleBytes: r.edit.patches[0].after.length, hostApplyMs: +strokeMs.toFixed(1), undoMedianMs: +med(undo).toFixed(1), goalMs: 50 },
      sineStroke2048: { box: rs.edit.patches[0].box, afterRleBytes: rs.edit.patches[0].after.length, hostApplyMs: +sineStrokeMs.toFixed(1), firstUndoMs: +sineUndo[0].toFixed(1), undoMedianMs: +med(sineUndo).toFixed(1) },
    }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
