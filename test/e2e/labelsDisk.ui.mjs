// Labels files rewritten by another program while the stack is open (suite `labelsdisk`, real VS Code): a clean
// editor reloads them silently; a dirty one shows the "changed on disk" warning, and Save asks (modal) instead of
// overwriting; Save As onto an image whose labels files exist asks before replacing them.
// The other program is a separate node process (lib/otherWriter.ts) writing a uint8 stack with temp + rename.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { drag, goToSlice, labelAlpha, loadReader, setBrush } from './labels.ui.mjs';
import { closeAllEditors, openInStackViewer, runCommand } from './lib/workbench.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function labelsDiskUiTests(ctx) {
  const { log, files, workspace } = ctx;
  const IMAGE = 'ondisk.tif';
  const labelsPath = join(workspace, 'ondisk.labels.tif');
  const Z = 3;
  let frame, writerJs, reader, dims;
  const page = () => ctx.page;
  const other = (path, z, value, rect) => execFileSync(process.execPath, [writerJs, path, dims.width, dims.height, dims.depth, z, value, ...rect].map(String));
  const dirty = () => page().locator('.tabs-container .tab.active.dirty').count().then((n) => n > 0);
  const waitFor = async (cond, what, ms = 15_000) => {
    const until = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > until) throw new Error(`timed out after ${ms} ms: ${what}`);
      await page().waitForTimeout(150);
    }
  };
  const valueAt = async (path, z, x, y) => {
    const { info, data } = await reader.readStack(path);
    return data[z * info.width * info.height + y * info.width + x];
  };
  /** A 7 px foreground (class 2) stroke along y from x0 to x1 on slice Z. */
  const paint = async (y, x0 = 40, x1 = 200) => {
    await frame.locator('[data-testid=tool-brush]').click();
    await setBrush(frame, 7);
    await frame.locator('[data-testid=viewer-canvas]').focus();
    await page().keyboard.press('2');
    await drag(page(), frame, { x: x0, y }, { x: x1, y });
    await waitFor(async () => (await labelAlpha(frame, (x0 + x1) >> 1, y)) > 0, 'stroke drawn');
  };
  const save = async () => {
    await frame.locator('[data-testid=viewer-canvas]').focus();
    await page().keyboard.press('Control+s');
  };
  const dialog = (text) => page().locator('.monaco-dialog-box', { hasText: text });
  const dialogButton = (text, label) => dialog(text).locator('.monaco-button', { hasText: label }).first();
  const toast = (text) => page().locator('.notifications-toasts .notification-toast', { hasText: text });

  return [
    {
      name: 'labels on disk: another program rewrites <stem>.labels.tif while the stack is open and clean -> the viewer reloads it',
      async fn() {
        mkdirSync(join(workspace, '.vscode'), { recursive: true });
        writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'files.autoSave': 'off' }));
        copyFileSync(join(workspace, files.foam), join(workspace, IMAGE));
        writerJs = join(mkdtempSync(join(tmpdir(), 'stackseg-e2e-writer-')), 'otherWriter.cjs');
        await esbuild.build({ entryPoints: [join(repoRoot, 'test/e2e/lib/otherWriter.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: writerJs, logLevel: 'warning' });
        reader = await loadReader();
        await page().waitForTimeout(1000);
        await closeAllEditors(page());
        frame = await openInStackViewer(page(), IMAGE, { log });
        await frame.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 30_000 });
        await goToSlice(frame, Z);
        await paint(60);
        await save();
        await waitFor(async () => existsSync(labelsPath) && !(await dirty()), 'first save');
        dims = (await reader.readStack(labelsPath)).info;
        assert.equal(await valueAt(labelsPath, Z, 120, 60), 2);
        const t0 = Date.now();
        other(labelsPath, Z, 1, [100, 120, 180, 200]);
        await waitFor(async () => (await labelAlpha(frame, 140, 160)) > 0 && (await labelAlpha(frame, 120, 60)) === 0, 'the viewer shows the other program\'s labels');
        log(`  other program's write -> shown in the viewer: ${Date.now() - t0} ms`);
        assert.ok(!(await dirty()), 'a silent reload must leave the editor clean');
        assert.equal(await toast('changed on disk').count(), 0, 'no question for a clean editor');
        await ctx.shot('labelsdisk-01-reloaded');
      },
    },
    {
      name: 'labels on disk: rewritten while the editor has unsaved labels -> warning (Reload/Keep Mine/Save Mine as Copy), Save asks and does not overwrite',
      async fn() {
        assert.ok(frame && dims, 'the previous test did not open the stack');
        await paint(30);
        await waitFor(dirty, 'dirty after painting', 10_000);
        other(labelsPath, Z, 1, [20, 200, 60, 240]);
        await toast('changed on disk').first().waitFor({ timeout: 15_000 });
        for (const b of ['Reload from Disk', 'Keep Mine', 'Save Mine as Copy…']) {
          assert.equal(await toast('changed on disk').locator('.monaco-button', { hasText: b }).count(), 1, `button ${b}`);
        }
        await ctx.shot('labelsdisk-02-changed-on-disk');
        await toast('changed on disk').locator('.monaco-button', { hasText: 'Keep Mine' }).click();
        assert.ok((await labelAlpha(frame, 120, 30)) > 0, 'Keep Mine keeps the unsaved stroke');
        assert.ok(await dirty(), 'still dirty after Keep Mine');
        // Save: a modal question; while it is open (and after Cancel) the file holds the other program's version.
        await save();
        await dialog('changed on disk').waitFor({ timeout: 15_000 });
        await ctx.shot('labelsdisk-03-save-asks');
        assert.equal(await valueAt(labelsPath, Z, 40, 220), 1);
        assert.equal(await valueAt(labelsPath, Z, 120, 30), 0);
        await dialogButton('changed on disk', 'Cancel').click();
        await dialog('changed on disk').waitFor({ state: 'detached', timeout: 10_000 });
        await page().waitForTimeout(500);
        assert.equal(await valueAt(labelsPath, Z, 40, 220), 1, 'Cancel must leave the other program\'s labels');
        assert.equal(await valueAt(labelsPath, Z, 120, 30), 0, 'Cancel must not write our stroke');
        assert.ok(await dirty(), 'still dirty after a cancelled save');
        await page().keyboard.press('Escape');
        // Save again and overwrite: ours on disk, theirs kept as .bak.
        await save();
        await dialogButton('changed on disk', 'Overwrite').click();
        await waitFor(async () => !(await dirty()), 'saved after Overwrite');
        assert.equal(await valueAt(labelsPath, Z, 120, 30), 2);
        assert.equal(await valueAt(`${labelsPath}.bak`, Z, 40, 220), 1, '.bak holds the other program\'s version');
        // Once more, answered with Reload from Disk: the other version is shown and the editor is clean.
        await paint(45);
        other(labelsPath, Z, 1, [200, 20, 240, 60]);
        await toast('changed on disk').locator('.monaco-button', { hasText: 'Reload from Disk' }).first().click({ timeout: 15_000 });
        await waitFor(async () => !(await dirty()) && (await labelAlpha(frame, 220, 40)) > 0 && (await labelAlpha(frame, 120, 45)) === 0, 'reloaded from disk, clean');
      },
    },
    {
      name: 'labels on disk: Save As onto an image whose labels files exist asks before replacing them; Cancel keeps them',
      async fn() {
        assert.ok(frame && dims, 'the first test did not open the stack');
        const theirsLabels = join(workspace, 'other.labels.tif');
        const theirsJson = join(workspace, 'other.stackseg.json');
        other(theirsLabels, 0, 1, [0, 0, 10, 10]);
        writeFileSync(theirsJson, '{"theirs": true}\n');
        const before = readFileSync(theirsLabels);
        await paint(90);
        await runCommand(page(), 'File: Save As...');
        const input = page().locator('.quick-input-widget input');
        await input.waitFor({ timeout: 10_000 });
        // The simple file dialog fills in the current name after it opens; fill until our name stays.
        const target = join(workspace, 'other.tif');
        await waitFor(async () => { await input.fill(target); await page().waitForTimeout(300); return (await input.inputValue()) === target; }, 'Save As name typed', 10_000);
        await page().keyboard.press('Enter');
        await dialog('already exist').waitFor({ timeout: 15_000 });
        await ctx.shot('labelsdisk-04-save-as-asks');
        await dialogButton('already exist', 'Cancel').click();
        await page().waitForTimeout(500);
        assert.ok(Buffer.compare(readFileSync(theirsLabels), before) === 0, 'other.labels.tif must be unchanged');
        assert.equal(readFileSync(theirsJson, 'utf8'), '{"theirs": true}\n');
        assert.ok(!existsSync(join(workspace, 'other.tif')), 'the image must not be copied when the user says no');
        await page().keyboard.press('Escape');
        await runCommand(page(), 'File: Revert File');
        await waitFor(async () => !(await dirty()), 'reverted');
        await closeAllEditors(page());
      },
    },
  ];
}
