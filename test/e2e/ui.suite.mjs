// UI suite: drives the installed extension in code-server through Chromium, using the viewer's test hooks
// (data-testid attributes, document.body.dataset.shownSlice, window.__stacksegPerf) inside the webview frame.
// Tests run in order on one page; each takes `ctx` = { page, shot(name), log, files: { foam, bad, perf, foamDepth } }.
import assert from 'node:assert/strict';
import { closeAllEditors, openInStackViewer, waitForContributions, waitForExplorerFile } from './lib/workbench.mjs';
import { viewerControlsTests } from './viewerControls.ui.mjs';

const SLICE_RE = /^Slice (\d+) \/ (\d+)$/;
const PIXEL_RE = /^x (\d+), y (\d+): \S+/;

async function text(frame, testId) {
  return ((await frame.locator(`[data-testid=${testId}]`).textContent()) ?? '').trim();
}

/** Waits until the viewer has painted slice z (0-based) and the status bar agrees. */
async function waitForSlice(frame, z, depth, timeout = 10_000) {
  await frame.waitForFunction((want) => document.body.dataset.shownSlice === String(want), z, { timeout })
    .catch(async () => {
      const shown = await frame.evaluate(() => document.body.dataset.shownSlice);
      throw new Error(`expected slice ${z} shown, have ${shown}`);
    });
  assert.equal(await text(frame, 'status-slice'), `Slice ${z + 1} / ${depth}`);
}

async function shownSlice(frame) {
  return Number(await frame.evaluate(() => document.body.dataset.shownSlice));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function uiTests(ctx) {
  const { page, shot, log, files } = ctx;
  let frame; // the foam viewer's inner frame, shared by the tests that follow its opening
  let depth = 0;

  return [
    {
      name: 'workbench loads, lists the workspace files and registers the StackSeg commands',
      async fn() {
        await waitForExplorerFile(page, files.foam);
        await waitForContributions(page, 'StackSeg');
        await shot('01-workbench');
      },
    },
    {
      name: `${files.foam} opens in the StackSeg custom editor and paints a slice`,
      async fn() {
        frame = await openInStackViewer(page, files.foam, { log });
        const canvas = frame.locator('[data-testid=viewer-canvas]');
        await canvas.waitFor({ state: 'visible', timeout: 30_000 });
        await frame.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 30_000 });
        const status = await text(frame, 'status-slice');
        const m = SLICE_RE.exec(status);
        assert.ok(m, `status-slice "${status}" does not read "Slice k / n"`);
        depth = Number(m[2]);
        assert.equal(depth, files.foamDepth, 'depth in the status bar');
        assert.equal(Number(m[1]), (await shownSlice(frame)) + 1, 'status slice agrees with the painted slice');
        const box = await canvas.boundingBox();
        assert.ok(box && box.width > 50 && box.height > 50, `canvas too small: ${JSON.stringify(box)}`);
        const info = await text(frame, 'status-info');
        assert.ok(info.length > 0, 'status-info is empty');
        log(`  status: "${status}", info: "${info}"`);
        await shot('02-foam-open');
      },
    },
    {
      name: 'one direction: ArrowDown/ArrowRight/PageDown/wheel-down go to the next slice, ArrowUp/ArrowLeft/PageUp back; PageDown works on slice 1',
      async fn() {
        assert.ok(frame, 'viewer not open');
        const canvas = frame.locator('[data-testid=viewer-canvas]');
        await canvas.click({ position: { x: 5, y: 5 } }); // focus the webview
        const last = depth - 1;
        await page.keyboard.press('Home');
        await waitForSlice(frame, 0, depth);
        await page.keyboard.press('PageDown'); // on slice 1 it goes forward, as in every document
        await waitForSlice(frame, 10, depth);
        await page.keyboard.press('ArrowDown');
        await waitForSlice(frame, 11, depth);
        await page.keyboard.press('ArrowRight');
        await waitForSlice(frame, 12, depth);
        await page.keyboard.press('ArrowUp');
        await waitForSlice(frame, 11, depth);
        await page.keyboard.press('ArrowLeft');
        await waitForSlice(frame, 10, depth);
        await page.keyboard.press('PageUp');
        await waitForSlice(frame, 0, depth);
        const box = await canvas.boundingBox();
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, 100); // wheel down: forward too
        await waitForSlice(frame, 1, depth);
        // The slice slider with the focus follows the same direction (its native arrows would go the other way).
        await frame.locator('[data-testid=slice-slider]').focus();
        await page.keyboard.press('ArrowDown');
        await waitForSlice(frame, 2, depth);
        await canvas.click({ position: { x: 5, y: 5 } });
        await page.keyboard.press('End');
        await waitForSlice(frame, last, depth);
        await shot('03-after-end');
        await page.keyboard.press('ArrowDown'); // already at the last slice: stays there
        await page.waitForTimeout(300);
        assert.equal(await shownSlice(frame), last, 'ArrowDown past the last slice');
        await page.keyboard.press('Home');
        await waitForSlice(frame, 0, depth);
        await page.keyboard.press('ArrowUp'); // already at the first slice: stays there
        await page.waitForTimeout(300);
        assert.equal(await shownSlice(frame), 0, 'ArrowUp before the first slice');
      },
    },
    {
      name: 'pixel readout follows the mouse',
      async fn() {
        assert.ok(frame, 'viewer not open');
        const canvas = frame.locator('[data-testid=viewer-canvas]');
        const box = await canvas.boundingBox();
        const readAt = async (fx, fy) => {
          await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 3 });
          await page.waitForTimeout(150);
          return text(frame, 'status-pixel');
        };
        const a = await readAt(0.5, 0.5);
        const b = await readAt(0.3, 0.6);
        log(`  readouts: "${a}" then "${b}"`);
        assert.match(a, PIXEL_RE);
        assert.match(b, PIXEL_RE);
        assert.notEqual(a, b, 'the readout did not change when the mouse moved');
        const [, ax] = PIXEL_RE.exec(a);
        const [, bx] = PIXEL_RE.exec(b);
        assert.ok(Number(bx) < Number(ax), `x should decrease moving left (${ax} -> ${bx})`);
        await shot('04-pixel-readout');
      },
    },
    ...viewerControlsTests({ page, shot, log, files, frame: () => frame }),
    {
      name: 'a corrupt .tif shows an error message in the viewer',
      async fn() {
        await closeAllEditors(page);
        const bad = await openInStackViewer(page, files.bad, { log });
        const err = bad.locator('[data-testid=error-message]');
        await err.waitFor({ state: 'visible', timeout: 20_000 });
        const message = ((await err.textContent()) ?? '').trim();
        log(`  error shown: "${message.slice(0, 160)}"`);
        assert.ok(message.length > 10, 'error message is empty');
        assert.ok(message.includes(files.bad), `error message does not name the file ${files.bad}`);
        await shot('05-bad-tiff');
      },
    },
    {
      name: 'perf: key-driven slice switches on a 2048 x 2048 uint16 stack (p95 goal <= 50 ms)',
      skip: files.perf ? undefined : 'perf stack not generated (--no-perf)',
      async fn() {
        await closeAllEditors(page);
        const perf = await openInStackViewer(page, files.perf, { log });
        await perf.locator('[data-testid=viewer-canvas]').waitFor({ state: 'visible', timeout: 30_000 });
        await perf.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 60_000 });
        const perfDepth = Number(SLICE_RE.exec(await text(perf, 'status-slice'))?.[2]);
        assert.equal(perfDepth, files.perfDepth);
        await perf.locator('[data-testid=viewer-canvas]').click({ position: { x: 5, y: 5 } });
        await page.keyboard.press('End');
        await waitForSlice(perf, perfDepth - 1, perfDepth, 30_000);
        const refinedNow = (want) => document.body.dataset.shownSlice === String(want)
          && Number(document.body.dataset.shownLevel) <= Number(document.body.dataset.displayLevel);
        await perf.waitForFunction(refinedNow, perfDepth - 1, { timeout: 30_000 });
        await page.waitForTimeout(1000); // the user looks at the slice before stepping
        // Key -> frame at the display level, going down from the last slice (slices not shown before). Two paces:
        // reading (a key a second: the viewer brings the next display levels while the user looks) and back to back
        // (the next key 60 ms after the refined frame: over a slow link that is bound by the bytes of one level).
        let z = perfDepth - 1;
        const refinedRun = async (presses, paceMs) => {
          await perf.evaluate(() => { window.__stacksegPerf.refined.length = 0; });
          for (let i = 0; i < presses; i++) {
            const pressed = Date.now();
            await page.keyboard.press('ArrowUp'); // back one slice
            z -= 1;
            await perf.waitForFunction(refinedNow, z, { timeout: 30_000 });
            await page.waitForTimeout(Math.max(60, paceMs - (Date.now() - pressed)));
          }
          const refined = (await perf.evaluate(() => window.__stacksegPerf.refined.slice())).sort((x, y) => x - y);
          assert.ok(refined.length >= 1, 'no refined frame recorded');
          return { n: refined.length, p50: percentile(refined, 50), p95: percentile(refined, 95), max: refined.at(-1) };
        };
        const presses = Math.min(6, Math.floor((perfDepth - 1) / 2));
        const levels = await perf.evaluate(() => `${document.body.dataset.shownLevel}/${document.body.dataset.displayLevel}`);
        const reading = await refinedRun(presses, 1000);
        const backToBack = await refinedRun(presses, 0);
        for (const [label, r] of [['a key a second', reading], ['back to back', backToBack]]) {
          log(`  PERF slice switch refined, ${label} (key -> display-level frame, shown/display level ${levels}): n=${r.n} p50=${r.p50.toFixed(1)} ms p95=${r.p95.toFixed(1)} ms max=${r.max.toFixed(1)} ms`);
        }
        ctx.metrics.sliceSwitchRefined = reading;
        ctx.metrics.sliceSwitchRefinedBackToBack = backToBack;
        ctx.metrics.linkHint = await perf.evaluate(() => document.querySelector('[data-testid=status-link]:not([hidden])')?.textContent ?? '');
        log(`  link hint: "${ctx.metrics.linkHint}"`);
        await shot('06-perf-refined');
        await perf.evaluate(() => { window.__stacksegPerf.switches.length = 0; });
        const switchPresses = 30;
        const budgetMs = 40_000; // keep the e2e run short on a slow machine: measure what fits
        const loopStart = Date.now();
        let pressed = 0;
        let dir = -1; // down to the first slice, then back up
        for (let i = 0; i < switchPresses && Date.now() - loopStart < budgetMs; i++, pressed++) {
          if (z + dir < 0 || z + dir > perfDepth - 1) dir = -dir;
          await page.keyboard.press(dir < 0 ? 'ArrowUp' : 'ArrowDown');
          z += dir;
          await waitForSlice(perf, z, perfDepth, 30_000);
          await page.waitForTimeout(60);
        }
        const switches = await perf.evaluate(() => window.__stacksegPerf.switches.slice());
        await shot('06-perf');
        assert.ok(pressed >= 5, `only ${pressed} key presses fit in ${budgetMs} ms`);
        assert.ok(switches.length >= pressed * 0.9, `only ${switches.length} switches recorded for ${pressed} presses`);
        const sorted = switches.slice().sort((a, b) => a - b);
        const p50 = percentile(sorted, 50);
        const p95 = percentile(sorted, 95);
        const verdict = p95 <= 50 ? 'meets' : 'MISSES';
        log(`  PERF slice switch 2048x2048 uint16 (key -> first painted frame, any level): n=${sorted.length} p50=${p50.toFixed(1)} ms p95=${p95.toFixed(1)} ms max=${sorted.at(-1).toFixed(1)} ms (${verdict} the p95 <= 50 ms goal)`);
        ctx.metrics.sliceSwitch = { n: sorted.length, p50, p95, max: sorted.at(-1) };
        const fetches = (await perf.evaluate(() => window.__stacksegPerf.fetches.slice(-40))).sort((x, y) => x - y);
        const draws = (await perf.evaluate(() => window.__stacksegPerf.draws.slice(-40))).sort((x, y) => x - y);
        log(`  PERF   host fetch (request -> slice in webview, last ${fetches.length}): p50=${percentile(fetches, 50).toFixed(1)} max=${fetches.at(-1)?.toFixed(1)} ms; draw p50=${percentile(draws, 50).toFixed(1)} max=${draws.at(-1)?.toFixed(1)} ms`);

        // Readout honesty: from a coarse level it is marked approximate; a resting pointer brings the exact values of
        // a small box of full-resolution pixels around it, never level 1 (the screen cannot show it at this zoom).
        const EXACT_RE = /^x \d+, y \d+: \d+$/;
        const box = await perf.locator('[data-testid=viewer-canvas]').boundingBox();
        const exactNow = () => /^x \d+, y \d+: \d+$/.test(document.querySelector('[data-testid=status-pixel]')?.textContent?.trim() ?? '');
        await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4, { steps: 2 });
        await page.mouse.move(box.x + box.width * 0.41, box.y + box.height * 0.41, { steps: 2 });
        const rested = Date.now();
        await perf.waitForFunction(exactNow, null, { timeout: 30_000 });
        const exactMs = Date.now() - rested;
        const exact = await text(perf, 'status-pixel');
        await page.mouse.move(box.x + box.width * 0.41 + 4, box.y + box.height * 0.41 + 3); // a few pixels on: same box
        await page.waitForTimeout(50);
        const near = await text(perf, 'status-pixel');
        const shownLevel = await perf.evaluate(() => document.body.dataset.shownLevel);
        log(`  exact readout ${exactMs} ms after the pointer rested: "${exact}", a few pixels on: "${near}" (shown level ${shownLevel})`);
        ctx.metrics.exactReadoutMs = exactMs;
        assert.match(exact, EXACT_RE, 'the readout from the full-resolution box is an exact integer, not marked approximate');
        assert.match(near, EXACT_RE, 'a pointer moved inside the box reads exact values at once');
        assert.notEqual(shownLevel, '1', 'the readout fetched level 1 (full resolution the screen cannot show)');
        await shot('06-perf-exact-readout');
      },
    },
  ];
}
