// Stacks that are not one TIFF, in real VS Code (suite `formats`, STACKSEG_E2E_SUITES=formats): a folder of
// single-image TIFFs through the Explorer's "Open Folder as Stack", an HDF5 file with /exchange/data by a click,
// and an HDF5 file with two 3D datasets through the quick pick. Fixtures are written with Debian's python3-h5py and
// tifffile; the suite is skipped without them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openInStackViewer, viewerFrame, waitForContributions, waitForExplorerFile, closeAllEditors } from './lib/workbench.mjs';

const PYTHON = '/usr/bin/python3';
const SCRIPT = `
import os, sys, numpy as np, tifffile, h5py
ws = sys.argv[1]
yy, xx = np.mgrid[0:96, 0:128]
def slice_(z, n):
    r = 20 + 15 * np.sin(np.pi * z / n)
    img = (xx * 200 + yy * 100).astype(np.float64)
    img[(yy - 48) ** 2 + (xx - 64) ** 2 < r * r] = 60000
    return img.astype(np.uint16)
os.makedirs(os.path.join(ws, 'slices'), exist_ok=True)
for z in range(24):
    tifffile.imwrite(os.path.join(ws, 'slices', f'recon_{z}.tiff'), slice_(z, 24))
with h5py.File(os.path.join(ws, 'scan.h5'), 'w') as f:
    f.create_dataset('exchange/data', data=np.stack([slice_(z, 16) for z in range(16)]), chunks=(1, 96, 128), compression='gzip', shuffle=True)
with h5py.File(os.path.join(ws, 'multi.h5'), 'w') as f:
    f.create_dataset('entry/a', data=np.stack([slice_(z, 5) for z in range(5)]).astype(np.float32), chunks=(5, 48, 64), compression='gzip')
    f.create_dataset('entry/b', data=np.stack([255 - slice_(z, 7) // 256 for z in range(7)]).astype(np.uint8))
`;

const text = async (frame, id) => ((await frame.locator(`[data-testid=${id}]`).textContent()) ?? '').trim();

async function depthShown(frame) {
  await frame.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 30_000 });
  const status = await text(frame, 'status-slice');
  const m = /Slice (\d+) \/ (\d+)/.exec(status);
  assert.ok(m, `status-slice "${status}" does not read "Slice k / n"`);
  return Number(m[2]);
}

let skip = 'the workspace has no format fixtures (writeFormatsWorkspace was not called)';

/** Writes slices/, scan.h5 and multi.h5 into the workspace before VS Code starts (its Explorer then lists them). */
export function writeFormatsWorkspace(workspace) {
  try {
    execFileSync(PYTHON, ['-c', 'import h5py, tifffile, numpy'], { stdio: 'pipe' });
  } catch {
    skip = `${PYTHON} with h5py, tifffile and numpy is not available (apt-get install python3-h5py python3-tifffile)`;
    return;
  }
  execFileSync(PYTHON, ['-c', SCRIPT, workspace], { stdio: 'pipe' });
  skip = undefined;
}

export function formatsUiTests(ctx) {
  const { log } = ctx;
  const ensure = () => {};

  return [
    {
      name: 'formats: Explorer "Open Folder as Stack" opens 24 single-image TIFFs as one stack',
      skip,
      async fn() {
        ensure();
        const page = ctx.page;
        await waitForContributions(page, 'StackSeg');
        await closeAllEditors(page);
        await waitForExplorerFile(page, 'slices');
        await page.locator('.explorer-folders-view .monaco-list-row[aria-label^="slices"]').first().click({ button: 'right' });
        const item = page.locator('.monaco-menu .action-item', { hasText: 'Open Folder as Stack' }).first();
        await item.waitFor({ timeout: 15_000 });
        await item.hover();
        await page.keyboard.press('Enter'); // code-server's context menu acts on Enter more reliably than on a click
        const frame = await viewerFrame(page);
        assert.equal(await depthShown(frame), 24, 'the folder opens as 24 slices');
        await page.waitForTimeout(500);
        await ctx.shot('formats-01-folder');
        log('  folder stack: 24 slices shown');
      },
    },
    {
      name: 'formats: an HDF5 file with /exchange/data opens by a click (16 slices)',
      skip,
      async fn() {
        ensure();
        const page = ctx.page;
        await closeAllEditors(page);
        await waitForExplorerFile(page, 'scan.h5');
        const frame = await openInStackViewer(page, 'scan.h5', { log });
        assert.equal(await depthShown(frame), 16);
        await page.waitForTimeout(500);
        await ctx.shot('formats-02-hdf5');
      },
    },
    {
      name: 'formats: an HDF5 file with two 3D datasets asks which, and opens the one picked',
      skip,
      async fn() {
        ensure();
        const page = ctx.page;
        await closeAllEditors(page);
        await waitForExplorerFile(page, 'multi.h5');
        await page.locator('.explorer-folders-view .monaco-list-row[aria-label^="multi.h5"]').first().click();
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: '/entry/b' }).first();
        await row.waitFor({ timeout: 30_000 });
        assert.equal(await page.locator('.quick-input-list .monaco-list-row', { hasText: '/entry/a' }).count(), 1, '/entry/a listed too');
        await ctx.shot('formats-03-hdf5-pick');
        await row.click();
        const until = Date.now() + 30_000;
        let depth;
        while (Date.now() < until) {
          const frame = await viewerFrame(page, 5000).catch(() => undefined);
          depth = frame ? await depthShown(frame).catch(() => undefined) : undefined;
          if (depth === 7) break;
          await page.waitForTimeout(500);
        }
        assert.equal(depth, 7, 'the picked dataset /entry/b (7 slices) is shown');
        await page.waitForTimeout(500);
        await ctx.shot('formats-04-hdf5-picked');
        const tabs = await page.locator('.tabs-container .tab').allTextContents();
        log(`  tabs: ${tabs.map((t) => t.trim()).join(' | ')}`);
      },
    },
  ];
}
