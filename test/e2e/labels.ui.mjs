// Annotation in real VS Code (code-server + Chromium): paint with the mouse on a foam slice, undo, redo, Ctrl+S,
// read <stem>.labels.tif back with the project's reader, reload the window and see the strokes, crash-style reload
// with unsaved strokes restored from the hot-exit backup, and the stroke/undo timings on a 2048 x 2048 stack.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { closeAllEditors, openInStackViewer, openWorkbench, runCommand, viewerFrame } from './lib/workbench.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function loadReader() {
  const out = join(mkdtempSync(join(tmpdir(), 'stackseg-e2e-labels-')), 'labelsRead.mjs');
  await esbuild.build({ entryPoints: [join(repoRoot, 'test/e2e/lib/labelsRead.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'warning' });
  return import(pathToFileURL(out).href);
}

/**
 * One line saying where an undo's time went (webview UndoTrace). key->drawn is what the user sees: the keydown to the
 * undone labels painted, by the optimistic paint of the prepared step when there was one, else by the host's patch.
 * The host path (keydown -> VS Code undo command -> host apply -> post -> webview) is waited for and printed too.
 */
async function undoBreakdown(frame) {
  await frame.waitForFunction(() => {
    const t = (window.__stacksegPerf.undoTraces ?? []).at(-1);
    return !t || t.painted !== 'optimistic' || t.outcome !== 'pending';
  }, null, { timeout: 5000 }).catch(() => undefined);
  const t = await frame.evaluate(() => (window.__stacksegPerf.undoTraces ?? []).at(-1));
  if (!t) return 'no undo trace';
  const ms = (a, b) => (a === undefined || b === undefined ? '?' : (b - a).toFixed(1));
  const seen = t.keyAt !== undefined ? t.drawnAt - t.keyAt : undefined;
  const painted = t.painted === 'optimistic' ? `optimistic paint, host ${t.outcome}` : 'host patch';
  const shown = t.frameAt !== undefined ? `, key->frame shown ${ms(t.keyAt, t.frameAt)} ms` : '';
  return `key->drawn ${ms(t.keyAt, t.drawnAt)} ms by ${painted} (${seen !== undefined && seen <= 50 ? 'meets' : 'MISSES'} <= 50 ms; webview apply+draw ${ms(t.paintStartAt, t.drawnAt)} ms, write ${t.writeMs?.toFixed(1)}${shown}); `
    + `host path: key->host ${ms(t.keyAt, t.startedAt)} ms, host apply ${t.applyMs?.toFixed(1)} ms, host apply->post ${ms(t.startedAt + t.applyMs, t.postedAt)} ms, `
    + `post->webview ${ms(t.postedAt, t.receivedAt)} ms, key->host patch received ${ms(t.keyAt, t.receivedAt)} ms `
    + `(${t.pixels} px box, ${t.rects} tile rects redrawn, ${t.redrawn} px)`;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const body = (frame, key) => frame.evaluate((k) => document.body.dataset[k] ?? '', key);

export async function goToSlice(frame, z) {
  await frame.locator('[data-testid=slice-input]').fill(String(z + 1));
  await frame.locator('[data-testid=slice-input]').press('Enter');
  await frame.waitForFunction((want) => document.body.dataset.shownSlice === String(want), z, { timeout: 20_000 });
}

/** Alpha of the label overlay at image pixel (x, y): > 0 where a label is drawn. */
export function labelAlpha(frame, x, y) {
  return frame.evaluate(([px, py]) => {
    const c = document.querySelector('[data-testid=labels-canvas]');
    return c.getContext('2d').getImageData(px, py, 1, 1).data[3];
  }, [x, y]);
}

/** Page coordinates of image pixel (x, y) centre. */
export async function pagePoint(frame, x, y) {
  const box = await frame.locator('[data-testid=viewer-canvas]').boundingBox();
  // The image canvas holds the shown resolution level (1, 2, 4 ...); image coordinates are full resolution.
  const size = await frame.evaluate(() => {
    const c = document.querySelector('[data-testid=viewer-canvas]');
    const level = Number(document.body.dataset.shownLevel || 1);
    return { w: c.width * level, h: c.height * level };
  });
  return { x: box.x + ((x + 0.5) / size.w) * box.width, y: box.y + ((y + 0.5) / size.h) * box.height };
}

export async function drag(page, frame, from, to, steps = 20) {
  const a = await pagePoint(frame, from.x, from.y);
  const b = await pagePoint(frame, to.x, to.y);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps });
  await page.mouse.up();
}

/** Types the brush size into the panel's number box (the slider beside it is logarithmic). */
export async function setBrush(frame, px) {
  await frame.evaluate((v) => {
    const s = document.querySelector('[data-testid=brush-size-input]');
    s.value = String(v);
    s.dispatchEvent(new Event('change', { bubbles: true }));
  }, px);
}

/** Path of a StackSeg labels backup under the user-data dir that holds a write to slice z (undefined: none). */
function findBackup(userData, z) {
  const root = join(userData, 'User', 'workspaceStorage');
  for (const ws of existsSync(root) ? readdirSync(root) : []) {
    const dir = join(root, ws, 'stackseg.stackseg');
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      try {
        const b = JSON.parse(readFileSync(join(dir, name), 'utf8'));
        if (b.format === 'stackseg-labels-backup' && b.writes.some((w) => w.z === z)) return join(dir, name);
      } catch { /* being written, or not a backup */ }
    }
  }
  return undefined;
}

async function waitForBackup(userData, z, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = findBackup(userData, z);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no labels backup holding slice ${z} under ${userData} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const activeTabDirty = (page) => page.locator('.tabs-container .tab.active.dirty').count().then((n) => n > 0);

export function labelsUiTests(ctx) {
  const { shot, log, files, metrics, workspace, serverUrl } = ctx;
  const Z = 5; // slice painted first (0-based)
  const Z2 = 9; // slice painted without saving before the crash-style reload
  let frame;
  const stroke = { from: { x: 40, y: 60 }, to: { x: 200, y: 60 } };
  const reopen = async () => {
    // After a reload VS Code restores the editor by itself; open it when it did not.
    const restored = await ctx.page.locator('iframe.webview.ready:visible').first().waitFor({ timeout: 15_000 }).then(() => true, () => false);
    frame = restored ? await viewerFrame(ctx.page) : await openInStackViewer(ctx.page, files.foam, { log });
    await frame.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 30_000 });
    log(`  editor ${restored ? 'restored by VS Code' : 'reopened'} after reload`);
  };

  return [
    {
      name: 'labels: paint a brush stroke with the mouse on a foam slice; one edit, dirty marker, counts, annotated-slice list',
      async fn() {
        // VS Code for the web auto-saves after 1 s by default: switch that off here, or "unsaved" strokes are saved
        // before the crash-style reload and the backup path is never exercised.
        mkdirSync(join(workspace, '.vscode'), { recursive: true });
        writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'files.autoSave': 'off' }));
        await ctx.page.waitForTimeout(1000);
        await closeAllEditors(ctx.page);
        frame = await openInStackViewer(ctx.page, files.foam, { log });
        await frame.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 30_000 });
        await frame.locator('[data-testid=class-1]').waitFor({ timeout: 10_000 });
        assert.equal(await frame.locator('[data-testid=class-name-1]').inputValue(), 'background');
        assert.equal(await frame.locator('[data-testid=class-name-2]').inputValue(), 'foreground');
        await goToSlice(frame, Z);
        await frame.locator('[data-testid=tool-brush]').click();
        await setBrush(frame, 7);
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await ctx.page.keyboard.press('2'); // select foreground
        assert.match(await frame.locator('[data-testid=class-2]').getAttribute('class'), /selected/);
        await drag(ctx.page, frame, stroke.from, stroke.to);
        await frame.waitForFunction((z) => (document.body.dataset.annotatedSlices ?? '').split(',').includes(String(z)), Z, { timeout: 10_000 });
        assert.equal(await body(frame, 'strokesSent'), '1', 'one stroke message per pointerup');
        for (const x of [40, 120, 200]) assert.ok((await labelAlpha(frame, x, 60)) > 0, `no label drawn at ${x},60`);
        assert.ok((await labelAlpha(frame, 120, 70)) === 0, 'a 7 px brush must not reach 10 px away');
        await frame.locator(`[data-testid=annotated-slice-${Z}]`).waitFor({ timeout: 5000 });
        const count = Number((await frame.locator('[data-testid=class-count-2]').textContent()).replace(/,/g, ''));
        assert.ok(count >= 160 * 7 && count <= 170 * 8, `foreground count ${count} not ~ a 160 x 7 stroke`);
        assert.ok(await activeTabDirty(ctx.page), 'the tab is not marked dirty after painting');
        await shot('labels-01-stroke');
      },
    },
    {
      name: 'labels: Ctrl+Z undoes the stroke and Ctrl+Shift+Z redoes it (VS Code undo stack)',
      async fn() {
        assert.ok(frame, 'viewer not open');
        await frame.locator('[data-testid=viewer-canvas]').focus();
        const before = Number(await body(frame, 'labelPatches') || 0);
        let t0 = Date.now();
        await ctx.page.keyboard.press('Control+z');
        await frame.waitForFunction((n) => Number(document.body.dataset.labelPatches ?? 0) > n, before, { timeout: 10_000 });
        const undoMs = Date.now() - t0;
        assert.equal(await labelAlpha(frame, 120, 60), 0, 'label still drawn after undo');
        await frame.waitForFunction(() => (document.body.dataset.annotatedSlices ?? '') === '', null, { timeout: 10_000 });
        await shot('labels-02-undo');
        log(`  PERF undo breakdown (foam 256x256): ${await undoBreakdown(frame)}`);
        t0 = Date.now();
        await ctx.page.keyboard.press('Control+Shift+z');
        await frame.waitForFunction((n) => Number(document.body.dataset.labelPatches ?? 0) > n + 1, before, { timeout: 10_000 });
        const redoMs = Date.now() - t0;
        assert.ok((await labelAlpha(frame, 120, 60)) > 0, 'label not back after redo');
        const patchMs = await frame.evaluate(() => window.__stacksegPerf.patches.slice());
        log(`  PERF undo (key -> patch applied in the webview, foam 256x256): ${undoMs} ms, redo ${redoMs} ms; webview patch apply ${patchMs.map((m) => m.toFixed(1)).join(', ')} ms`);
        log(`  PERF redo breakdown: ${await undoBreakdown(frame)}`);
        metrics.labelsUndoFoam = { undoMs, redoMs, patchMs };
        await shot('labels-03-redo');
      },
    },
    {
      name: 'labels: Ctrl+S writes <stem>.labels.tif (read back with the project reader) and <stem>.stackseg.json',
      async fn() {
        assert.ok(frame, 'viewer not open');
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await ctx.page.keyboard.press('Control+s');
        const labelsPath = join(workspace, files.foam.replace(/\.tif$/, '.labels.tif'));
        const settingsPath = join(workspace, files.foam.replace(/\.tif$/, '.stackseg.json'));
        const until = Date.now() + 15_000;
        while ((!existsSync(labelsPath) || (await activeTabDirty(ctx.page))) && Date.now() < until) await ctx.page.waitForTimeout(200);
        assert.ok(existsSync(labelsPath), `${labelsPath} not written`);
        assert.ok(!(await activeTabDirty(ctx.page)), 'tab still dirty after save');
        const { readStack } = await loadReader();
        const { info, data } = await readStack(labelsPath);
        assert.equal(info.dtype, 'uint8');
        assert.equal(info.depth, files.foamDepth);
        const plane = info.width * info.height;
        const at = (z, x, y) => data[z * plane + y * info.width + x];
        for (const x of [40, 100, 200]) assert.equal(at(Z, x, 60), 2, `labels.tif slice ${Z} pixel ${x},60`);
        assert.equal(at(Z, 120, 70), 0);
        assert.equal(at(Z - 1, 120, 60), 0, 'the neighbouring slice must stay unlabeled');
        let labeled = 0;
        for (let i = 0; i < data.length; i++) if (data[i] !== 0) labeled++;
        log(`  ${labelsPath}: ${info.width}x${info.height}x${info.depth} uint8, ${labeled} labeled pixels`);
        const settings = JSON.parse(readFileSync(settingsPath, 'utf8'));
        assert.deepEqual(settings.classes.map((c) => c.name), ['background', 'foreground']);
        await shot('labels-04-saved');
      },
    },
    {
      name: 'labels: after reloading the window the saved stroke is shown again',
      async fn() {
        await ctx.page.reload({ waitUntil: 'domcontentloaded' });
        await ctx.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await reopen();
        await goToSlice(frame, Z);
        await frame.waitForFunction(() => document.querySelector('[data-testid=labels-canvas]') !== null);
        const until = Date.now() + 10_000;
        while ((await labelAlpha(frame, 120, 60)) === 0 && Date.now() < until) await ctx.page.waitForTimeout(200);
        assert.ok((await labelAlpha(frame, 120, 60)) > 0, 'saved stroke not shown after reload');
        await frame.locator(`[data-testid=annotated-slice-${Z}]`).waitFor({ timeout: 5000 });
        // The display window comes back with the webview state, and its min/max boxes show it (they were blank).
        const window = [await frame.locator('[data-testid=level-min]').inputValue(), await frame.locator('[data-testid=level-max]').inputValue()];
        assert.ok(window.every((v) => v !== '' && Number.isFinite(Number(v))), `display window boxes after reload: ${JSON.stringify(window)}`);
        // The tool and brush size come back from the webview state too; in a full run (after the viewer suite's tab
        // switches on this file) VS Code sometimes restores an older persisted state, so they are logged, not asserted
        // here (the viewer suite asserts view state across tab switches).
        await frame.waitForFunction(() => document.querySelector('[data-testid=tool-brush]')?.getAttribute('aria-pressed') === 'true', null, { timeout: 5_000 }).catch(() => {});
        log(`  after reload: brush tool ${await frame.locator('[data-testid=tool-brush]').getAttribute('aria-pressed')}, size ${await frame.locator('[data-testid=brush-size-input]').inputValue()} px`);
        await shot('labels-05-reloaded');
      },
    },
    {
      name: `labels: ${process.env.STACKSEG_E2E_CRASH === '1' ? 'a crash-style close' : 'a window reload'} with unsaved strokes restores them from the hot-exit backup`,
      async fn() {
        await goToSlice(frame, Z2);
        await frame.locator('[data-testid=tool-lasso]').click();
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await ctx.page.keyboard.press('1'); // background
        const pts = [{ x: 60, y: 100 }, { x: 140, y: 100 }, { x: 140, y: 160 }, { x: 60, y: 160 }];
        const p0 = await pagePoint(frame, pts[0].x, pts[0].y);
        await ctx.page.mouse.move(p0.x, p0.y);
        await ctx.page.mouse.down();
        for (const p of pts.slice(1)) { const q = await pagePoint(frame, p.x, p.y); await ctx.page.mouse.move(q.x, q.y, { steps: 8 }); }
        await ctx.page.mouse.up();
        await frame.waitForFunction((z) => (document.body.dataset.annotatedSlices ?? '').split(',').includes(String(z)), Z2, { timeout: 10_000 });
        assert.ok((await labelAlpha(frame, 100, 130)) > 0, 'lasso did not fill its inside');
        assert.ok(await activeTabDirty(ctx.page), 'tab not dirty after the lasso');
        await shot('labels-06-unsaved-lasso');
        // VS Code backs up a dirty custom document about 1 s after a change (longer on a busy machine) by calling
        // backupCustomDocument: wait for the extension's backup file (workspaceStorage/<id>/stackseg.stackseg/...)
        // holding the lasso's slice. Then wait for the workbench to persist its editor state, which carries the
        // backup id that openCustomDocument gets back after the reload: VS Code for the web flushes that state
        // every 5 s while the window has focus (BrowserStorageService); the flush it starts on unload is
        // optimistic ("the browser does not guarantee that this is being executed"), and when it is lost the
        // editor comes back from an older state, without backupId (why this test used to fail now and then).
        const backupFile = await waitForBackup(ctx.userData, Z2, 20_000);
        log(`  backup written: ${backupFile}`);
        await ctx.page.waitForTimeout(7000);
        if (process.env.STACKSEG_E2E_CRASH === '1') {
          // Crash-style: no beforeunload, no orderly shutdown of the window.
          const context = ctx.page.context();
          await ctx.page.close({ runBeforeUnload: false });
          const fresh = await context.newPage();
          await openWorkbench(fresh, serverUrl, workspace);
          ctx.swapPage(fresh);
        } else {
          // Reload with unsaved changes: the window goes away with dirty labels (hot exit keeps them in the backup).
          ctx.page.once('dialog', (d) => d.accept().catch(() => {}));
          await ctx.page.reload({ waitUntil: 'domcontentloaded' });
          await ctx.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        }
        await reopen();
        await goToSlice(frame, Z2);
        const until = Date.now() + 10_000;
        while ((await labelAlpha(frame, 100, 130)) === 0 && Date.now() < until) await ctx.page.waitForTimeout(200);
        assert.ok((await labelAlpha(frame, 100, 130)) > 0, 'unsaved lasso not restored from the backup');
        await ctx.shotOn(ctx.page, 'labels-07-restored-from-backup');
        const tabClass = await ctx.page.locator('.tabs-container .tab.active').first().getAttribute('class').catch(() => '?');
        log(`  restored tab: ${tabClass}`);
        assert.ok(await activeTabDirty(ctx.page), 'a document restored from a backup must be dirty');
        await goToSlice(frame, Z);
        assert.ok((await labelAlpha(frame, 120, 60)) > 0, 'saved stroke lost after restoring the backup');
        // Leave a clean state for the suites that follow.
        await runCommand(ctx.page, 'File: Revert File');
        const t = Date.now() + 10_000;
        while ((await activeTabDirty(ctx.page)) && Date.now() < t) await ctx.page.waitForTimeout(200);
        assert.ok(!(await activeTabDirty(ctx.page)), 'still dirty after File: Revert File');
        await goToSlice(frame, Z2);
        // The host's reset of the labels may still be on its way (over a slow link, STACKSEG_E2E_LINK).
        const dropped = Date.now() + 10_000;
        while ((await labelAlpha(frame, 100, 130)) !== 0 && Date.now() < dropped) await ctx.page.waitForTimeout(200);
        assert.equal(await labelAlpha(frame, 100, 130), 0, 'revert did not drop the unsaved lasso');
        await closeAllEditors(ctx.page);
      },
    },
    {
      name: 'labels perf: brush stroke frames on a 2048 x 2048 slice (p95 goal <= 16 ms) and undo (goal <= 50 ms)',
      skip: files.perf ? undefined : 'perf stack not generated (--no-perf)',
      async fn() {
        const p = ctx.page;
        await closeAllEditors(p);
        const perf = await openInStackViewer(p, files.perf, { log });
        await perf.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 60_000 });
        await perf.locator('[data-testid=tool-brush]').click();
        await setBrush(perf, 25);
        await perf.evaluate(() => { window.__stacksegPerf.strokeFrames.length = 0; window.__stacksegPerf.patches.length = 0; });
        const a = await pagePoint(perf, 200, 200);
        await p.mouse.move(a.x, a.y);
        await p.mouse.down();
        const moves = 150;
        for (let i = 1; i <= moves; i++) {
          const t = i / moves;
          const q = await pagePoint(perf, 200 + 1600 * t, 200 + 1500 * Math.sin(t * 3) ** 2);
          await p.mouse.move(q.x, q.y);
        }
        await p.mouse.up();
        await perf.waitForFunction(() => (document.body.dataset.annotatedSlices ?? '') !== '', null, { timeout: 20_000 });
        const frames = (await perf.evaluate(() => window.__stacksegPerf.strokeFrames.slice())).sort((x, y) => x - y);
        await perf.locator('[data-testid=viewer-canvas]').focus();
        const t0 = Date.now();
        await p.keyboard.press('Control+z');
        await perf.waitForFunction(() => Number(document.body.dataset.labelPatches ?? 0) > 0, null, { timeout: 20_000 });
        const undoMs = Date.now() - t0;
        const patchMs = await perf.evaluate(() => window.__stacksegPerf.patches.slice());
        await ctx.shotOn(p, 'labels-08-perf2048');
        const p50 = percentile(frames, 50), p95 = percentile(frames, 95);
        log(`  PERF stroke 2048x2048 (25 px brush, ${moves} moves): frames n=${frames.length} p50=${p50.toFixed(2)} ms p95=${p95.toFixed(2)} ms max=${frames.at(-1).toFixed(2)} ms (${p95 <= 16 ? 'meets' : 'MISSES'} p95 <= 16 ms)`);
        // Wall time from Playwright's key press to seeing the patch (adds CDP round trips); the breakdown's key->drawn
        // runs from the keydown event in the webview to the patch drawn, which is what the goal is about.
        log(`  PERF undo of that stroke: key -> patch applied ${undoMs} ms wall (webview apply+redraw ${patchMs.map((m) => m.toFixed(1)).join(', ')} ms)`);
        log(`  PERF undo breakdown: ${await undoBreakdown(perf)}`);
        // Redo, then undo again once the webview has painted (warm code: the usual case after the first undo).
        const again = [];
        for (const [key, n] of [['Control+Shift+z', 2], ['Control+z', 3]]) {
          await perf.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
          const t = Date.now();
          await p.keyboard.press(key);
          await perf.waitForFunction((k) => Number(document.body.dataset.labelPatches ?? 0) >= k, n, { timeout: 20_000 });
          again.push(Date.now() - t);
          log(`  PERF ${n === 2 ? 'redo' : 'undo again'}: key -> patch applied ${again.at(-1)} ms; ${await undoBreakdown(perf)}`);
        }
        metrics.labelsStroke2048 = { n: frames.length, p50, p95, max: frames.at(-1), undoMs, patchMs, redoMs: again[0], undoAgainMs: again[1] };
        assert.ok(frames.length >= 10, `only ${frames.length} stroke frames recorded`);
        // Leave no dirty editor behind.
        await runCommand(p, 'File: Revert File');
        await p.waitForTimeout(500);
        await closeAllEditors(p);
      },
    },
  ];
}
