// UI tests for jobs, as a user does it: open noisy.tif in the StackSeg viewer, run "StackSeg: Train and Segment"
// from the palette (model quick pick, parameter box), watch the job finish in the Jobs view, open its report.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openInStackViewer, runCommand, runCommandAndPick, viewerFrame, findFrame } from './lib/workbench.mjs';

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
          await runCommandAndPick(page, 'StackSeg: Show Segmentation', 'rf');
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
    {
      name: 'a running job shows one progress line in the toast, the Jobs view and the Model panel; its row\'s inline Cancel cancels it without a picker',
      async fn() {
        await openInStackViewer(page, files.jobs.image, { log });
        const input = page.locator('.quick-input-widget input');
        for (let attempt = 1; ; attempt++) {
          try {
            await page.waitForTimeout(1000);
            await runCommand(page, 'StackSeg: Train and Segment');
            await page.locator('.quick-input-list .monaco-list-row', { hasText: 'MSDNet' }).first().waitFor({ timeout: 15_000 });
            await input.fill('MSDNet', { timeout: 5000 });
            await page.keyboard.press('Enter');
            await page.locator('.quick-input-widget', { hasText: 'MSDNet parameters' }).first().waitFor({ state: 'visible', timeout: 5000 });
            await input.fill('epochs=100000', { timeout: 5000 });
            await page.keyboard.press('Enter');
            break;
          } catch (err) {
            if (attempt === 3) throw new Error(`the Train and Segment quick input did not stay open (3 tries): ${err.message.split('\n')[0]}`);
            log(`  quick input closed (focus moved?): ${err.message.split('\n')[0]}; retry ${attempt}`);
          }
        }
        await page.locator('.activitybar [aria-label^="StackSeg"]').first().click({ timeout: 10_000 });
        const panel = await findFrame(page, '[data-testid=running-list]');
        const row = page.locator('.pane-body .monaco-list-row', { hasText: 'MSDNet' }).filter({ has: page.locator('.codicon-sync') }).first();
        await row.waitFor({ timeout: 60_000 });
        // One formatter: the three places show the same line (digits move between reads, the words may not).
        const shape = (t) => (t ?? '').replace(/\d+/g, '#').trim();
        let seen;
        for (let i = 0; i < 60; i++) {
          await page.waitForTimeout(500);
          const toast = await page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'training and segmenting' }).first().textContent({ timeout: 2000 }).catch(() => '');
          const desc = await row.locator('.label-description').textContent({ timeout: 2000 }).catch(() => '');
          const li = await panel.locator('[data-testid=running-job]').first().textContent({ timeout: 2000 }).catch(() => '');
          const pick = (t) => /(train|segment)[^:·—]*· \d+ %/.exec(t ?? '')?.[0];
          seen = { toast: pick(toast), view: pick(desc), panel: pick(li), raw: { toast, desc, li } };
          // After the first epoch (before it all three read "train · 0 %").
          if (/epoch/.test(seen.view ?? '') && shape(seen.toast) === shape(seen.view) && shape(seen.view) === shape(seen.panel)) break;
        }
        log(`  progress: toast "${seen.toast}" · Jobs view "${seen.view}" · panel "${seen.panel}"`);
        await shot('16-progress-three-places');
        assert.ok(seen.toast && shape(seen.toast) === shape(seen.view) && shape(seen.view) === shape(seen.panel), `progress differs: ${JSON.stringify(seen.raw)}`);
        assert.match(seen.view, /^train epoch \d+\/\d+ · \d+ %$/);
        // The inline Cancel on the row: that job, no "Cancel which job?" picker.
        await row.hover();
        await row.locator('.action-label[aria-label="Cancel Job"]').click({ timeout: 10_000 });
        const picker = await page.locator('.quick-input-widget', { hasText: 'Cancel which job?' }).waitFor({ state: 'visible', timeout: 2000 }).then(() => true, () => false);
        await shot('17-inline-cancel');
        assert.ok(!picker, 'the inline Cancel opened a "Cancel which job?" picker');
        const cancelled = page.locator('.pane-body .monaco-list-row', { hasText: 'cancelled' }).filter({ has: page.locator('.codicon-circle-slash') }).first();
        await cancelled.waitFor({ timeout: 30_000 });
        assert.match(await cancelled.locator('.label-description').textContent(), /^cancelled · /);
        await shot('18-job-cancelled');
        await runCommand(page, 'View: Show Explorer');
        await runCommand(page, 'View: Close All Editors');
      },
    },
    {
      name: 'noisy.labels.tif and a job mask open as a label view (class colours, no tools) with "Show over noisy.tif"; the Explorer offers Train and Segment only on the image',
      async fn() {
        await runCommand(page, 'View: Show Explorer'); // no sidebar webview: the viewer is the only visible one
        await runCommand(page, 'View: Close All Editors');
        const frame = await openInStackViewer(page, files.jobs.labels, { log });
        await frame.locator('[data-testid=label-view]').waitFor({ timeout: 20_000 });
        assert.equal(await frame.locator('.label-panel:not(.label-view)').isVisible(), false, 'the annotation tools are shown on a labels file');
        await frame.waitForFunction(() => Number(document.body.dataset.shownSlice ?? -1) >= 0, null, { timeout: 20_000 });
        const coloured = await frame.evaluate(() => {
          const c = document.querySelector('[data-testid=viewer-canvas]');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++;
          return n;
        });
        log(`  label view: ${coloured} coloured pixels on slice 1 of ${files.jobs.labels}`);
        assert.ok(coloured > 0, 'the labels are drawn in gray, not in class colours');
        await shot('19-label-view');
        await frame.locator('[data-testid=show-over-stack]', { hasText: `Show over ${files.jobs.image}` }).click();
        await page.locator('.tab.active', { hasText: files.jobs.image }).first().waitFor({ timeout: 20_000 });
        await runCommand(page, 'View: Close All Editors');
        // Explorer context menus: Train and Segment on noisy.tif, not on noisy.labels.tif.
        const menuHas = async (name) => {
          await page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first().click({ button: 'right' });
          const menu = page.locator('.monaco-menu').first();
          await menu.waitFor({ timeout: 10_000 });
          const has = await menu.locator('.action-label', { hasText: 'Train and Segment' }).count();
          await page.keyboard.press('Escape');
          return has > 0;
        };
        assert.ok(await menuHas(files.jobs.image), `no Train and Segment on ${files.jobs.image}`);
        assert.ok(!(await menuHas(files.jobs.labels)), `Train and Segment offered on ${files.jobs.labels}`);
        // A job's mask: label view, and "Show over" overlays it on the stack as a segmentation.
        const jobsRoot = join(workspace, 'noisy.stackseg');
        const jobDir = readdirSync(jobsRoot).find((d) => existsSync(join(jobsRoot, d, 'mask.tif')));
        await runCommandAndPick(page, 'StackSeg: Open Job Output', jobDir, { click: true });
        const maskFrame = await viewerFrame(page);
        await maskFrame.locator('[data-testid=label-view]').waitFor({ timeout: 20_000 });
        await shot('20-mask-label-view');
        await maskFrame.locator('[data-testid=show-over-stack]').click();
        await page.locator('.tab.active', { hasText: files.jobs.image }).first().waitFor({ timeout: 20_000 });
        const stackFrame = await viewerFrame(page);
        await stackFrame.locator('[data-testid=segmentation-legend]').waitFor({ timeout: 20_000 });
        await page.waitForTimeout(500);
        await shot('21-mask-shown-over-stack');
        await runCommand(page, 'View: Close All Editors');
      },
    },
  ];
}

