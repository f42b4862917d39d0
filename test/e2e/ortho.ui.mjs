// 3 views in real VS Code (suite `ortho`, STACKSEG_E2E_SUITES=ortho): the "3 views" button shows XZ and YZ beside
// XY; a click in XZ moves XY to that slice and YZ to that column; a brush stroke in XZ labels one row of every slice
// it crosses (seen in XY on several slices), and one Ctrl+Z undoes all of it. Works on a copy of the foam stack
// (ortho.tif), so the labels suite's files are not touched.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllEditors, openInStackViewer, waitForExplorerFile } from './lib/workbench.mjs';
import { goToSlice, labelAlpha, setBrush } from './labels.ui.mjs';

const FILE = 'ortho.tif';

const body = (frame, key) => frame.evaluate((k) => document.body.dataset[k] ?? '', key);

/** Page point of plane pixel (u, v) of the XZ or YZ view (plane full size: XZ width x depth, YZ depth x height). */
async function planePoint(frame, axis, u, v, size) {
  const box = await frame.locator(`[data-testid=plane-${axis}-canvas]`).boundingBox();
  return { x: box.x + ((u + 0.5) / size.w) * box.width, y: box.y + ((v + 0.5) / size.h) * box.height };
}

/** Alpha of the plane's label overlay at plane pixel (u, v). */
const planeLabelAlpha = (frame, axis, u, v) => frame.evaluate(([a, x, y]) => {
  const c = document.querySelector(`[data-testid=plane-${a}-labels]`);
  return c.getContext('2d').getImageData(x, y, 1, 1).data[3];
}, [axis, u, v]);

export function orthoUiTests(ctx) {
  const { log, files, workspace } = ctx;
  let frame;
  let W, H, D;
  const xz = () => ({ w: W, h: D });

  return [
    {
      name: 'ortho: "3 views" shows XZ and YZ beside XY, streamed by level, with crosshairs',
      async fn() {
        copyFileSync(join(workspace, files.foam), join(workspace, FILE));
        await closeAllEditors(ctx.page);
        await waitForExplorerFile(ctx.page, FILE);
        frame = await openInStackViewer(ctx.page, FILE, { log });
        await frame.waitForFunction(() => document.body.dataset.shownSlice !== undefined, null, { timeout: 30_000 });
        [W, H, D] = (await frame.locator('[data-testid=status-info]').textContent()).match(/(\d+) × (\d+) × (\d+)/).slice(1).map(Number);
        assert.equal(await frame.locator('[data-testid=plane-xz]').count(), 0, '3 views are off by default');
        const t0 = Date.now();
        await frame.locator('[data-testid=btn-3views]').click();
        await frame.waitForFunction(() => document.body.dataset.planeXz && document.body.dataset.planeYz, null, { timeout: 20_000 });
        const firstMs = Date.now() - t0;
        const cross = (await body(frame, 'cross')).split(',').map(Number);
        assert.deepEqual(cross, [W >> 1, H >> 1], 'the crosshair starts at the centre');
        assert.match(await body(frame, 'planeXz'), new RegExp(`^${H >> 1}@\\d+$`), 'XZ shows row y of the crosshair');
        assert.match(await body(frame, 'planeYz'), new RegExp(`^${W >> 1}@\\d+$`), 'YZ shows column x');
        // The XZ canvas holds real pixels (not blank): some spread of grey values.
        const spread = await frame.evaluate(() => {
          const c = document.querySelector('[data-testid=plane-xz-canvas]');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let lo = 255, hi = 0;
          for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
          return hi - lo;
        });
        assert.ok(spread > 60, `XZ plane looks blank (grey range ${spread})`);
        log(`  ${W} x ${H} x ${D}: first XZ and YZ planes painted ${firstMs} ms after the click (XZ ${await body(frame, 'planeXz')}, YZ ${await body(frame, 'planeYz')})`);
        await ctx.shot('ortho-01-three-views');
      },
    },
    {
      name: 'ortho: a click in XZ moves XY to that slice and YZ to that column',
      async fn() {
        assert.ok(frame, 'viewer not open');
        await frame.locator('[data-testid=tool-pan]').click();
        const p = await planePoint(frame, 'xz', 60, 20, xz());
        await ctx.page.mouse.click(p.x, p.y);
        await frame.waitForFunction(() => document.body.dataset.shownSlice === '20', null, { timeout: 10_000 });
        assert.equal(await frame.locator('[data-testid=slice-input]').inputValue(), '21');
        assert.equal((await body(frame, 'cross')).split(',')[0], '60', 'YZ column follows the click');
        await frame.waitForFunction(() => (document.body.dataset.planeYz ?? '').startsWith('60@'), null, { timeout: 10_000 });
        // A shift+click in XY moves the XZ row.
        const box = await frame.locator('[data-testid=viewer-canvas]').boundingBox();
        await ctx.page.keyboard.down('Shift');
        await ctx.page.mouse.click(box.x + box.width * (100.5 / W), box.y + box.height * (80.5 / H));
        await ctx.page.keyboard.up('Shift');
        await frame.waitForFunction(() => document.body.dataset.cross === '100,80', null, { timeout: 10_000 });
        await frame.waitForFunction(() => (document.body.dataset.planeXz ?? '').startsWith('80@'), null, { timeout: 10_000 });
        await ctx.shot('ortho-02-click-moves-views');
      },
    },
    {
      name: 'ortho: a brush stroke in XZ labels row y of many slices (seen in XY); one Ctrl+Z undoes it all',
      async fn() {
        assert.ok(frame, 'viewer not open');
        const y = 80;
        await frame.locator('[data-testid=class-2]').waitFor({ timeout: 10_000 });
        await frame.locator('[data-testid=tool-brush]').click();
        await setBrush(frame, 3);
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await ctx.page.keyboard.press('2'); // foreground
        // A diagonal from (x 40, z 8) to (x 200, z 24): slice z is crossed near x = 40 + 10 (z - 8).
        const a = await planePoint(frame, 'xz', 40, 8, xz());
        const b = await planePoint(frame, 'xz', 200, 24, xz());
        await ctx.page.mouse.move(a.x, a.y);
        await ctx.page.mouse.down();
        await ctx.page.mouse.move(b.x, b.y, { steps: 30 });
        await ctx.page.mouse.up();
        await frame.waitForFunction(() => document.body.dataset.planeStrokes === '1', null, { timeout: 5000 });
        await frame.waitForFunction(() => (document.body.dataset.annotatedSlices ?? '').split(',').length >= 12, null, { timeout: 10_000 });
        const annotated = (await body(frame, 'annotatedSlices')).split(',').map(Number);
        log(`  XZ stroke labelled slices ${annotated.join(',')}`);
        for (const z of [8, 12, 16, 20, 24]) assert.ok(annotated.includes(z), `slice ${z} not labelled by the XZ stroke`);
        assert.ok(!annotated.includes(2) && !annotated.includes(30), 'slices outside the stroke labelled');
        assert.ok((await planeLabelAlpha(frame, 'xz', 120, 16)) > 0, 'the XZ view shows its stroke');
        for (const z of [12, 16, 20]) {
          await goToSlice(frame, z);
          const x = 40 + 10 * (z - 8);
          await frame.waitForFunction(([px, py]) => {
            const c = document.querySelector('[data-testid=labels-canvas]');
            return c.getContext('2d').getImageData(px, py, 1, 1).data[3] > 0;
          }, [x, y], { timeout: 10_000 });
          assert.equal(await labelAlpha(frame, x, y - 3), 0, `slice ${z}: only row ${y} (and the brush's reach in z), not rows above`);
        }
        // YZ (column 100) crosses the stroke at z = 14: its labels were resent after the XZ stroke.
        await frame.waitForFunction(() => {
          const c = document.querySelector('[data-testid=plane-yz-labels]');
          return c.getContext('2d').getImageData(14, 80, 1, 1).data[3] > 0;
        }, null, { timeout: 10_000 });
        await ctx.shot('ortho-03-xz-stroke');
        // One undo removes every slice's row.
        await frame.locator('[data-testid=viewer-canvas]').focus();
        await ctx.page.keyboard.press('Control+z');
        await frame.waitForFunction(() => (document.body.dataset.annotatedSlices ?? '') === '', null, { timeout: 10_000 });
        assert.equal(await labelAlpha(frame, 40 + 10 * (20 - 8), y), 0, 'XY label still drawn after undo');
        await frame.waitForFunction(() => {
          const c = document.querySelector('[data-testid=plane-xz-labels]');
          return c.getContext('2d').getImageData(120, 16, 1, 1).data[3] === 0;
        }, null, { timeout: 10_000 });
        await ctx.shot('ortho-04-undone');
        await frame.locator('[data-testid=tool-pan]').click();
        await frame.locator('[data-testid=btn-3views]').click();
        await frame.waitForFunction(() => document.body.dataset.orthoViews === 'false', null, { timeout: 5000 });
        assert.equal(await frame.locator('[data-testid=plane-xz]').isVisible(), false, '3 views off again');
      },
    },
  ];
}
