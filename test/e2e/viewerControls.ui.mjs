// Viewer controls a first-time user meets (issue 11), in the real VS Code on the foam stack of the viewer suite:
// class keys after clicking a panel control, the class being painted in sight, fill of the image region under
// the click, the log-scale brush slider, the next-step hint and its link, and the view state (tool, brush, fill
// tolerance, zoom, slice, segmentation opacity) across a tab switch. Run as part of suite `viewer` (ui.suite.mjs).
// Leaves the stack unmodified (File: Revert File) for the suites that follow.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelAlpha, loadReader, pagePoint } from './labels.ui.mjs';
import { closeAllEditors, openInStackViewer, runCommand, viewerFrame } from './lib/workbench.mjs';

const count = async (frame, k) => Number(((await frame.locator(`[data-testid=class-count-${k}]`).textContent()) ?? '').replace(/,/g, ''));
const body = (frame, key) => frame.evaluate((k) => document.body.dataset[k] ?? '', key);
const activeTabDirty = (page) => page.locator('.tabs-container .tab.active.dirty').count().then((n) => n > 0);

/** Image pixel inside the darkest 9x9 patch of slice z near the centre: a pore of the foam (the dark air outside
 * the foam cylinder is not a pore). */
async function poreSeed(workspace, file, z) {
  const { readStack } = await loadReader();
  const { info, data } = await readStack(join(workspace, file));
  const W = info.width, H = info.height, plane = W * H;
  let best = { x: 0, y: 0, mean: Infinity };
  for (let y = 20; y < H - 20; y += 2) {
    for (let x = 20; x < W - 20; x += 2) {
      if (Math.hypot(x - W / 2, y - H / 2) > 0.3 * Math.min(W, H)) continue;
      let s = 0;
      for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) s += data[z * plane + (y + dy) * W + x + dx];
      if (s / 81 < best.mean) best = { x, y, mean: s / 81 };
    }
  }
  return { ...best, width: W, height: H };
}

/** The workspace folder the workbench was opened on (the viewer suite's context does not carry it). */
const workspaceOf = (page) => new URL(page.url()).searchParams.get('folder');

export function viewerControlsTests({ page, shot, log, files, frame: getFrame }) {
  const Z = 3;
  let frame;
  let settingsFile;
  let settingsBefore;
  const stroke = async (from, to) => {
    const a = await pagePoint(frame, from.x, from.y);
    const b = await pagePoint(frame, to.x, to.y);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 12 });
    await page.mouse.up();
  };
  const strokes = async () => Number((await body(frame, 'strokesSent')) || 0);

  return [
    {
      name: 'keys 1-9 select the class after clicking the Live preview checkbox; the class being painted is shown',
      async fn() {
        frame = getFrame();
        assert.ok(frame, 'viewer not open');
        // VS Code for the web auto-saves after 1 s: off while these tests paint, so hq.tif gets no labels file (the
        // labels suite expects none); put back at the end.
        const ws = workspaceOf(page);
        settingsFile = join(ws, '.vscode', 'settings.json');
        settingsBefore = existsSync(settingsFile) ? readFileSync(settingsFile, 'utf8') : undefined;
        mkdirSync(join(ws, '.vscode'), { recursive: true });
        writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(settingsBefore ?? '{}'), 'files.autoSave': 'off' }));
        await page.waitForTimeout(3000); // the settings watcher is slow on a busy machine
        await frame.locator('[data-testid=slice-input]').fill(String(Z + 1));
        await frame.locator('[data-testid=slice-input]').press('Enter');
        await frame.waitForFunction((z) => document.body.dataset.shownSlice === String(z), Z, { timeout: 10_000 });
        await frame.locator('[data-testid=class-1]').waitFor({ timeout: 10_000 });
        await frame.locator('[data-testid=viewer-canvas]').click({ position: { x: 5, y: 5 } });
        await page.keyboard.press('b');
        await page.keyboard.press('1');
        assert.match(await frame.locator('[data-testid=class-1]').getAttribute('class'), /selected/);
        // The user's path: click the panel's checkbox (twice: on, then off again), then press 2.
        const toggle = frame.locator('[data-testid=live-preview-toggle]');
        await toggle.click();
        await toggle.click();
        assert.equal(await frame.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'live-preview-toggle', 'the checkbox has the focus');
        await page.keyboard.press('2');
        assert.match(await frame.locator('[data-testid=class-2]').getAttribute('class'), /selected/, 'key 2 did not select class 2 after the checkbox click');
        const before = { bg: await count(frame, 1), fg: await count(frame, 2) };
        const sent = await strokes();
        await stroke({ x: 30, y: 30 }, { x: 90, y: 30 });
        await frame.waitForFunction((n) => Number(document.body.dataset.strokesSent ?? 0) > n, sent, { timeout: 10_000 });
        await frame.waitForFunction((fg) => Number(document.querySelector('[data-testid=class-count-2]').textContent.replace(/,/g, '')) > fg, before.fg, { timeout: 10_000 });
        assert.equal(await count(frame, 1), before.bg, 'the stroke went to background, not the selected foreground');
        const current = (await frame.locator('[data-testid=current-class]').textContent({ timeout: 5000 })) ?? '';
        assert.match(current, /foreground/, `the panel does not show the class being painted: "${current}"`);
        assert.equal(await frame.locator('[data-testid=current-class]').getAttribute('data-index'), '2');
        await shot('20-class-key-after-checkbox');
      },
    },
    {
      name: 'after the first stroke the viewer shows the next step; its link opens the StackSeg sidebar; dismiss hides it',
      async fn() {
        const hint = frame.locator('[data-testid=next-step]');
        await hint.waitFor({ state: 'visible', timeout: 5000 });
        const text = (await hint.textContent()) ?? '';
        log(`  hint: "${text.trim()}"`);
        assert.match(text, /paint a second class/i);
        assert.match(text, /Model panel/);
        await shot('21-next-step-hint');
        await frame.locator('[data-testid=next-step-open]').click();
        await page.locator('.part.sidebar .composite.title', { hasText: /stackseg/i }).first().waitFor({ timeout: 10_000 });
        await page.waitForTimeout(1500); // let the Model panel's webview draw before the screenshot
        await shot('22-next-step-opened-sidebar');
        // Back to the Explorer: the sidebar's webview (Model panel) would otherwise be the last visible webview.
        await runCommand(page, 'View: Show Explorer');
        await page.locator('.part.sidebar .composite.title', { hasText: /explorer/i }).first().waitFor({ timeout: 10_000 });
        frame = await viewerFrame(page);
        // A second class painted: the hint says to train.
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await page.keyboard.press('1');
        const sent = await strokes();
        await stroke({ x: 30, y: 50 }, { x: 90, y: 50 });
        await frame.waitForFunction((n) => Number(document.body.dataset.strokesSent ?? 0) > n, sent, { timeout: 10_000 });
        await frame.waitForFunction(() => /train/i.test(document.querySelector('[data-testid=next-step]').textContent), null, { timeout: 10_000 });
        await frame.locator('[data-testid=next-step-dismiss]').click();
        assert.ok(await hint.isHidden(), 'the hint is still shown after dismissing it');
      },
    },
    {
      name: 'fill labels the image region under the click (a pore), not the whole unlabelled slice; tolerance adjustable',
      async fn() {
        const seed = await poreSeed(workspaceOf(page), files.foam, Z);
        log(`  pore seed ${seed.x},${seed.y} (9x9 mean ${seed.mean.toFixed(3)})`);
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await page.keyboard.press('g');
        await page.keyboard.press('2');
        const fillAt = async () => {
          const sent = await strokes();
          const p = await pagePoint(frame, seed.x, seed.y);
          await page.mouse.click(p.x, p.y);
          await frame.waitForFunction((n) => Number(document.body.dataset.strokesSent ?? 0) > n, sent, { timeout: 10_000 });
          return Number(await body(frame, 'lastFill'));
        };
        const before = await count(frame, 2);
        const n = await fillAt();
        const plane = seed.width * seed.height;
        await frame.waitForFunction((c) => Number(document.querySelector('[data-testid=class-count-2]').textContent.replace(/,/g, '')) !== c, before, { timeout: 10_000 });
        const filled = (await count(frame, 2)) - before;
        log(`  fill at the default tolerance: ${filled} px of ${plane}`);
        assert.ok(filled > 0, 'fill changed nothing');
        assert.ok(filled < plane / 10, `fill flooded ${filled} of ${plane} px: not the pore under the click`);
        assert.equal(filled, n, 'the fill the webview reports and the host counts differ');
        await frame.locator('[data-testid=fill-tolerance]').waitFor({ state: 'visible', timeout: 5000 });
        assert.equal(await frame.locator('[data-testid=fill-tolerance-label]').textContent(), '15 %');
        const title = await frame.locator('[data-testid=tool-fill]').getAttribute('title');
        assert.match(title, /image region under the click/);
        assert.match(title, /tolerance/);
        assert.ok((await labelAlpha(frame, seed.x, seed.y)) > 0, 'no label drawn at the click');
        await shot('23-fill-pore');
        // Undo, raise the tolerance: a larger region (still bounded by the labels and the image).
        await frame.locator('[data-testid=viewer-canvas]').focus();
        const patches = Number((await body(frame, 'labelPatches')) || 0);
        await page.keyboard.press('Control+z');
        await frame.waitForFunction((k) => Number(document.body.dataset.labelPatches ?? 0) > k, patches, { timeout: 10_000 });
        await frame.locator('[data-testid=fill-tolerance]').evaluate((s) => { s.value = '60'; s.dispatchEvent(new Event('input', { bubbles: true })); });
        assert.equal(await frame.locator('[data-testid=fill-tolerance-label]').textContent(), '60 %');
        const wider = await fillAt();
        log(`  fill at 60 %: ${wider} px`);
        assert.ok(wider > n, `a higher tolerance did not grow the fill (${n} -> ${wider})`);
      },
    },
    {
      name: 'brush-size slider is logarithmic: 1-6 px lie in its first third, sizes can be typed',
      async fn() {
        await frame.locator('[data-testid=tool-brush]').click();
        const slider = frame.locator('[data-testid=brush-size]');
        const box = await slider.boundingBox();
        const sizeAt = async (f) => {
          await page.mouse.click(box.x + box.width * f, box.y + box.height / 2);
          // The number box; before it existed, the "N px" label beside the slider.
          const input = frame.locator('[data-testid=brush-size-input]');
          if ((await input.count()) > 0) return Number(await input.inputValue());
          return parseInt(await frame.locator('[data-testid=brush-size-label]').textContent(), 10);
        };
        const small = await sizeAt(0.1), third = await sizeAt(0.33), end = await sizeAt(0.995);
        log(`  slider ${box.width.toFixed(0)} px wide: 10 % -> ${small} px, 33 % -> ${third} px, end -> ${end} px`);
        assert.ok(small <= 2, `10 % of the slider gives ${small} px`);
        assert.ok(third >= 4 && third <= 7, `a third of the slider gives ${third} px (linear would be ~66)`);
        assert.ok(end >= 190, `the end of the slider gives ${end} px`);
        await frame.locator('[data-testid=brush-size-input]').fill('3');
        await frame.locator('[data-testid=brush-size-input]').press('Enter');
        assert.equal(await frame.locator('[data-testid=brush-size-input]').inputValue(), '3');
        await shot('24-brush-slider');
      },
    },
    {
      name: 'view state survives a tab switch: tool, brush, fill tolerance, zoom/pan, slice, overlay opacities',
      async fn() {
        await frame.locator('[data-testid=viewer-canvas]').focus();
        for (const k of ['b', '[', '[', '[', '[', '[', '[']) await page.keyboard.press(k); // down to 1 px
        for (const k of [']', ']', ']', ']', ']', ']']) await page.keyboard.press(k); // 7 px
        await page.keyboard.press('e'); // eraser
        await frame.locator('[data-testid=segmentation-opacity]').evaluate((s) => { s.value = '1'; s.dispatchEvent(new Event('input', { bubbles: true })); });
        await frame.locator('[data-testid=live-preview-opacity]').evaluate((s) => { s.value = '30'; s.dispatchEvent(new Event('input', { bubbles: true })); }, null, { timeout: 5000 }).catch(() => log('  (no live preview opacity slider)'));
        const c = await frame.locator('[data-testid=viewer-canvas]').boundingBox();
        await page.mouse.move(c.x + c.width * 0.3, c.y + c.height * 0.3);
        await page.keyboard.down('Control');
        await page.mouse.wheel(0, -300);
        await page.keyboard.up('Control');
        await frame.locator('[data-testid=slice-input]').fill(String(Z + 11));
        await frame.locator('[data-testid=slice-input]').press('Enter');
        await frame.waitForFunction((z) => document.body.dataset.shownSlice === String(z), Z + 10, { timeout: 10_000 });
        const before = {
          zoom: await frame.locator('[data-testid=status-zoom]').textContent(),
          canvas: await frame.locator('[data-testid=viewer-canvas]').boundingBox(),
        };
        await shot('25-before-tab-switch');
        // Another stack in a new tab hides this one (its webview is destroyed); then come back.
        await openInStackViewer(page, files.foam512, { log });
        await page.locator('.tabs-container .tab', { hasText: files.foam }).first().click();
        frame = await viewerFrame(page);
        await frame.waitForFunction((z) => document.body.dataset.shownSlice === String(z), Z + 10, { timeout: 20_000 });
        const pressed = async (t) => frame.locator(`[data-testid=tool-${t}]`).getAttribute('aria-pressed');
        assert.equal(await pressed('eraser'), 'true', `tool after the tab switch: ${(await Promise.all(['pan', 'brush', 'eraser'].map(async (t) => `${t}=${await pressed(t)}`))).join(' ')}`);
        assert.match(await frame.locator('[data-testid=class-2]').getAttribute('class'), /selected/, 'selected class after the tab switch');
        assert.equal(await frame.locator('[data-testid=status-zoom]').textContent(), before.zoom, 'zoom after the tab switch');
        const after = await frame.locator('[data-testid=viewer-canvas]').boundingBox();
        for (const k of ['x', 'y', 'width']) assert.ok(Math.abs(after[k] - before.canvas[k]) < 2, `pan/zoom moved: ${k} ${before.canvas[k]} -> ${after[k]}`);
        assert.equal(await body(frame, 'segmentationOpacity'), '1', 'segmentation opacity after the tab switch');
        assert.equal(await frame.locator('[data-testid=live-preview-opacity]').inputValue(), '30', 'live preview opacity slider after the tab switch');
        assert.equal(await frame.locator('[data-testid=live-preview-canvas]').evaluate((c) => c.style.opacity), '0.3', 'live preview overlay opacity after the tab switch');
        assert.equal(await frame.locator('[data-testid=brush-size-input]').inputValue(), '7', 'brush size after the tab switch');
        assert.equal(await frame.locator('[data-testid=fill-tolerance]').inputValue(), '60', 'fill tolerance after the tab switch');
        assert.ok(await frame.locator('[data-testid=next-step]').isHidden(), 'the dismissed hint came back');
        await shot('26-after-tab-switch');
        // Leave the stack as it was for the suites that follow.
        await page.locator('.tabs-container .tab.active').first().click();
        await runCommand(page, 'File: Revert File').catch(() => runCommand(page, 'File: Revert File'));
        const until = Date.now() + 10_000;
        while ((await activeTabDirty(page)) && Date.now() < until) await page.waitForTimeout(200);
        assert.ok(!(await activeTabDirty(page)), 'still dirty after File: Revert File');
        await closeAllEditors(page);
        // Should auto-save have saved a stroke before the setting took effect, remove what it wrote (the labels
        // suite expects hq.tif without labels).
        const ws = workspaceOf(page);
        const stem = files.foam.replace(/\.tif$/, '');
        for (const f of readdirSync(ws)) if (f.startsWith(`${stem}.labels.tif`) || f.startsWith(`${stem}.stackseg.json`)) { log(`  removing ${f} (auto-saved)`); rmSync(join(ws, f)); }
        if (settingsBefore === undefined) rmSync(settingsFile, { force: true });
        else writeFileSync(settingsFile, settingsBefore);
      },
    },
  ];
}
