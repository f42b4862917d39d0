// UI tests for jobs, as a user does it: open noisy.tif in the StackSeg viewer, run "StackSeg: Train and Segment"
// from the palette (model quick pick, parameter box), watch the job finish in the Jobs view, open its report.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openInStackViewer, runCommand, viewerFrame } from './lib/workbench.mjs';

export function jobsUiTests({ page, shot, log, files, workspace }) {
  return [
    {
      name: 'Train and Segment from the command palette: the job appears in the Jobs view with its F1, and its report opens',
      async fn() {
        await openInStackViewer(page, files.jobs.image, { log });
        await runCommand(page, 'StackSeg: Train and Segment');
        const input = page.locator('.quick-input-widget input');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Random Forest' }).first().waitFor({ timeout: 15_000 });
        await input.fill('Random Forest');
        await page.keyboard.press('Enter');
        // Parameter box: an invalid value is refused with the registry's message, then defaults with trees=20.
        await input.waitFor({ timeout: 10_000 });
        await input.fill('trees=0');
        await page.locator('.quick-input-message', { hasText: 'below 1' }).waitFor({ timeout: 10_000 });
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
        const report = await viewerFrame(page);
        await report.locator('h1', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
        assert.match(await report.locator('body').textContent(), /Accuracy on labeled pixels/);
        await shot('13-job-report');
      },
    },
  ];
}
