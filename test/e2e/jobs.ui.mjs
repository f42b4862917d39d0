// UI tests for jobs, as a user does it: open noisy.tif in the StackSeg viewer, run "StackSeg: Train and Segment"
// from the palette (model quick pick, parameter box), watch the job finish in the Jobs view, open its report.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openInStackViewer, runCommand, viewerFrame } from './lib/workbench.mjs';

export function jobsUiTests({ page, shot, log, files, workspace }) {
  return [
    {
      name: 'Train and Segment from the command palette: the job appears in the Jobs view with its F1, and its report opens',
      async fn() {
        await openInStackViewer(page, files.jobs.image, { log });
        // The viewer takes focus when its first slice paints, which can close a quick input opened just before (then a
        // fill waits for an input that is gone): every step has a short timeout and the whole sequence is retried.
        const input = page.locator('.quick-input-widget input');
        for (let attempt = 1; ; attempt++) {
          try {
            await page.waitForTimeout(1000);
            await runCommand(page, 'StackSeg: Train and Segment');
            await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Random Forest' }).first().waitFor({ timeout: 15_000 });
            await input.fill('Random Forest', { timeout: 5000 });
            await page.keyboard.press('Enter');
            await page.locator('.quick-input-widget input[aria-label^="trees"]').waitFor({ state: 'visible', timeout: 5000 });
            await input.fill('trees=0', { timeout: 5000 });
            await page.locator('.quick-input-message', { hasText: 'below 1' }).waitFor({ timeout: 10_000 });
            break;
          } catch (err) {
            if (attempt === 3) throw new Error(`the Train and Segment quick input did not stay open (3 tries): ${err.message.split('\n')[0]}`);
            log(`  quick input closed (focus moved?): ${err.message.split('\n')[0]}; retry ${attempt}`);
          }
        }
        await shot('10-params-validation');
        await input.fill('trees=20');
        await page.keyboard.press('Enter');
        await page.locator('.notifications-toasts', { hasText: 'StackSeg: training and segmenting' }).first().waitFor({ timeout: 20_000 }).catch(() => {});
        await shot('11-job-running');
        const jobsRoot = join(workspace, 'noisy.stackseg');
        const until = Date.now() + 180_000;
        let done = false;
        while (!done && Date.now() < until) {
          await page.waitForTimeout(1000);
          done = existsSync(jobsRoot) && readdirSync(jobsRoot).some((d) => existsSync(join(jobsRoot, d, 'mask.tif')));
        }
        assert.ok(done, 'no mask.tif beside the data within 180 s');
        await page.locator('.activitybar [aria-label^="StackSeg"]').first().click({ timeout: 10_000 });
        const row = page.locator('.pane-body .monaco-list-row', { hasText: 'Random Forest' }).first();
        await row.waitFor({ timeout: 20_000 });
        // The succeeded icon (codicon "pass") on the job's row: rebuilt from job.json, not from memory.
        await row.locator('.codicon-pass').waitFor({ timeout: 20_000 });
        await shot('12-jobs-view');
        await row.click();
        await page.locator('.tab', { hasText: /^Job / }).first().waitFor({ timeout: 15_000 });
        const report = await findFrame(page, 'h1');
        await report.locator('h1', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
        assert.match(await report.locator('body').textContent(), /Accuracy on labeled pixels/);
        await shot('13-job-report');

        // Show Segmentation: the job's mask over the viewer of noisy.tif; the command again hides it.
        await page.locator('.activitybar [aria-label^="Explorer"]').first().click({ timeout: 10_000 }); // no sidebar webview
        await openInStackViewer(page, files.jobs.image, { log });
        const overlayPixels = async () => (await viewerFrame(page)).evaluate(() => {
          const c = document.querySelector('[data-testid=segmentation-canvas]');
          if (!c || c.hidden || c.width === 0) return 0;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        });
        const showSegmentation = async () => {
          await runCommand(page, 'StackSeg: Show Segmentation');
          await page.locator('.quick-input-list .monaco-list-row', { hasText: 'rf' }).first().waitFor({ timeout: 15_000 });
          await page.keyboard.press('Enter');
        };
        await showSegmentation();
        let painted = 0;
        for (let i = 0; i < 40 && painted === 0; i++) { await page.waitForTimeout(250); painted = await overlayPixels(); }
        log(`  segmentation overlay: ${painted} coloured pixels`);
        assert.ok(painted > 1000, `the segmentation overlay painted ${painted} pixels`);
        await shot('14-show-segmentation');
        // The panel's Segmentation section: legend with the class names, opacity slider, show/hide box.
        const frame = await viewerFrame(page);
        assert.match(await frame.locator('[data-testid=segmentation-legend]').textContent(), /foreground/);
        await frame.locator('[data-testid=segmentation-opacity]').fill('1');
        assert.equal(await frame.evaluate(() => document.querySelector('[data-testid=segmentation-canvas]').style.opacity), '1');
        await shot('14b-segmentation-opacity-1');
        await frame.locator('[data-testid=segmentation-show]').uncheck();
        assert.equal(await overlayPixels(), 0, 'unticking Show segmentation did not hide the overlay');
        await frame.locator('[data-testid=segmentation-show]').check();
        assert.ok(await overlayPixels() > 1000, 'ticking Show segmentation again did not show the overlay');
        // rf wrote uncertainty.tif: the heat view shows only the doubtful pixels (class edges), fewer than the classes.
        await frame.locator('[data-testid=segmentation-view]').selectOption('uncertainty');
        await frame.waitForFunction(() => document.body.dataset.segmentationView === 'uncertainty', null, { timeout: 10_000 });
        await page.waitForTimeout(300);
        const heatPixels = await overlayPixels();
        log(`  uncertainty overlay: ${heatPixels} coloured pixels of ${painted}`);
        assert.ok(heatPixels > 0 && heatPixels < painted, `uncertainty view painted ${heatPixels} pixels`);
        await shot('14c-segmentation-uncertainty');
        await frame.locator('[data-testid=segmentation-view]').selectOption('classes');
        await frame.waitForFunction(() => document.body.dataset.segmentationView === 'classes', null, { timeout: 10_000 });
        await showSegmentation();
        let after = painted;
        for (let i = 0; i < 40 && after > 0; i++) { await page.waitForTimeout(250); after = await overlayPixels(); }
        assert.equal(after, 0, 'the second Show Segmentation did not hide the overlay');
        await shot('15-hide-segmentation');
      },
    },
    {
      name: 'the Model panel validates parameters like the CLI and starts Train and Segment on the active stack',
      async fn() {
        await runCommand(page, 'StackSeg: Focus on Model View');
        const panel = await findFrame(page, '[data-testid=model-select]');
        await panel.locator('[data-testid=stack-name]', { hasText: files.jobs.image }).waitFor({ timeout: 15_000 });
        await panel.locator('[data-testid=model-select]').selectOption('rf');
        await panel.locator('[data-testid=param-trees]').fill('0');
        await panel.locator('[data-testid=form-error]', { hasText: 'below 1' }).waitFor({ timeout: 5000 });
        assert.ok(await panel.locator('[data-testid=btn-run]').isDisabled(), 'Train and Segment enabled with an invalid parameter');
        await shot('14-model-panel-invalid');
        await panel.locator('[data-testid=param-trees]').fill('8');
        assert.equal((await panel.locator('[data-testid=form-error]').textContent()).trim(), '');
        const jobsRoot = join(workspace, 'noisy.stackseg');
        const masks = () => (existsSync(jobsRoot) ? readdirSync(jobsRoot).filter((d) => existsSync(join(jobsRoot, d, 'mask.tif'))).length : 0);
        const before = masks();
        await panel.locator('[data-testid=btn-run]').click();
        const until = Date.now() + 180_000;
        while (masks() === before && Date.now() < until) await page.waitForTimeout(1000);
        assert.equal(masks(), before + 1, 'no new mask.tif from the Model panel within 180 s');
        const record = readdirSync(jobsRoot).map((d) => join(jobsRoot, d, 'job.json')).filter(existsSync)
          .map((f) => JSON.parse(readFileSync(f, 'utf8'))).sort((a, b) => b.created.localeCompare(a.created))[0];
        assert.equal(record.spec.params.trees, 8, 'the job did not get the panel\'s parameters');
        await panel.locator('[data-testid=trained-select] option').first().waitFor({ state: 'attached', timeout: 15_000 });
        await shot('15-model-panel');
        // Leave the workbench as the next suites expect it: no StackSeg webviews visible, no editors open.
        await runCommand(page, 'View: Show Explorer');
        await runCommand(page, 'View: Close All Editors');
      },
    },
  ];
}

/** The frame (of any webview) holding `selector`: webview iframes all live in one overlay, so search them all. */
async function findFrame(page, selector, timeout = 30_000) {
  const until = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.locator(selector).count().catch(() => 0)) return f;
    }
    if (Date.now() > until) throw new Error(`no webview frame with ${selector}`);
    await page.waitForTimeout(300);
  }
}
