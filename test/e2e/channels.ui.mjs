// A 2-channel, 3-time-point ImageJ hyperstack in real VS Code (suite `channels`, STACKSEG_E2E_SUITES=channels):
// it opens as a composite (never channels interleaved as slices), the selector shows each channel alone with its own
// pixel values, the composite mixes green and magenta, and the time slider picks the time point. The fixture
// (hyper2c.tif) is written by test/e2e/lib/fixtures.ts writeHyperstack; hyperValue below is its formula.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllEditors, openInStackViewer, runCommand, waitForExplorerFile, findFrame } from './lib/workbench.mjs';

export const HYPER_FILE = 'hyper2c.tif';
const W = 96, H = 64, DEPTH = 4;

/** Same as fixtures.ts hyperValue. */
function hyperValue(x, y, z, c, t) {
  if (c === 0) return ((x - W / 2) ** 2 + (y - H / 2) ** 2 < 15 * 15 ? 6000 : 1000) + 100 * z + 1000 * t;
  return (x < 24 && y < 24 ? 2000 : 20000) + 100 * z + 1000 * t + x;
}

const text = async (frame, id) => ((await frame.locator(`[data-testid=${id}]`).textContent()) ?? '').trim();
const READOUT_RE = /^x (\d+), y (\d+): ([\d | ]+)$/;

export function channelsUiTests(ctx) {
  const { log } = ctx;
  let frame;

  /** Waits until the viewer painted slice z of `channel` ('composite' or '0', '1') at time point t. */
  const waitShown = (z, channel, t) => frame.waitForFunction(([z, channel, t]) => document.body.dataset.shownSlice === String(z)
    && document.body.dataset.channel === channel && document.body.dataset.timePoint === String(t), [z, channel, t], { timeout: 20_000 });

  /** Canvas RGB at image pixel (x, y) (the 96 x 64 stack is shown at level 1: one canvas pixel per image pixel). */
  const rgbAt = (x, y) => frame.evaluate(([x, y]) => {
    const canvas = document.querySelector('[data-testid=viewer-canvas]');
    const d = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2]];
  }, [x, y]);

  /** Moves the pointer over image pixel (fx, fy) of the canvas and parses the readout: {x, y, values}. */
  const readAt = async (fx, fy) => {
    const box = await frame.locator('[data-testid=viewer-canvas]').boundingBox();
    await ctx.page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 2 });
    await ctx.page.waitForTimeout(300);
    const s = await text(frame, 'status-pixel');
    const m = READOUT_RE.exec(s);
    assert.ok(m, `pixel readout "${s}" is not "x X, y Y: v | v" (exact values)`);
    return { x: Number(m[1]), y: Number(m[2]), values: m[3].split('|').map((v) => Number(v.trim())), text: s };
  };

  return [
    {
      name: 'channels: a 2-channel ImageJ hyperstack opens as a composite of Z slices, with C and T in the status',
      async fn() {
        const page = ctx.page;
        await closeAllEditors(page);
        await waitForExplorerFile(page, HYPER_FILE);
        frame = await openInStackViewer(page, HYPER_FILE, { log });
        await waitShown(0, 'composite', 0);
        assert.equal(await text(frame, 'status-slice'), `Slice 1 / ${DEPTH}`, 'the 24 pages are 4 slices, not 24');
        assert.match(await text(frame, 'status-info'), /96 × 64 × 4 uint16, 2 channels, 3 time points/);
        assert.equal(await frame.locator('[data-testid=channel-select]').inputValue(), 'composite');
        assert.match(await text(frame, 'channel-note'), /Labels are shared by all channels\. Live preview reads channel 1/);
        await page.waitForTimeout(300);
        // Composite: channel 1 green, channel 2 magenta, each under its automatic window.
        const disc = await rgbAt(48, 32), right = await rgbAt(85, 40), corner = await rgbAt(5, 5);
        log(`  composite RGB: disc ${disc}, right ${right}, corner ${corner}`);
        assert.ok(disc.every((v) => v > 180), `both channels bright in the disc: white-ish, got ${disc}`);
        assert.ok(right[0] > 180 && right[1] < 80 && right[2] > 180, `only channel 2 bright on the right: magenta, got ${right}`);
        assert.ok(corner.every((v) => v < 80), `both dark in the top-left square: black, got ${corner}`);
        const r = await readAt(0.5, 0.5);
        assert.deepEqual(r.values, [hyperValue(r.x, r.y, 0, 0, 0), hyperValue(r.x, r.y, 0, 1, 0)], `composite readout ${r.text}: both channels' values`);
        await ctx.shot('channels-01-composite');
      },
    },
    {
      name: 'channels: the selector shows each channel alone with its own values; the composite comes back',
      async fn() {
        assert.ok(frame, 'viewer not open');
        const select = frame.locator('[data-testid=channel-select]');
        await select.selectOption('0');
        await waitShown(0, '0', 0);
        const a = await readAt(0.75, 0.6);
        assert.deepEqual(a.values, [hyperValue(a.x, a.y, 0, 0, 0)], `channel 1 readout ${a.text}`);
        const [disc1, right1] = [await rgbAt(48, 32), await rgbAt(85, 40)];
        assert.ok(disc1[0] > 180 && right1[0] < 60 && disc1[0] === disc1[1] && disc1[1] === disc1[2], `channel 1 in gray: bright disc, dark right (${disc1} / ${right1})`);
        await ctx.shot('channels-02-channel1');

        await select.selectOption('1');
        await waitShown(0, '1', 0);
        const b = await readAt(0.75, 0.6);
        assert.deepEqual(b.values, [hyperValue(b.x, b.y, 0, 1, 0)], `channel 2 readout ${b.text}`);
        assert.notEqual(b.values[0], a.values[0], 'the two channels read different values at the same pixel');
        const [corner2, right2] = [await rgbAt(5, 5), await rgbAt(85, 40)];
        assert.ok(corner2[0] < 60 && right2[0] > 180, `channel 2 in gray: dark corner, bright right (${corner2} / ${right2})`);
        assert.match(await text(frame, 'channel-note'), /Live preview reads channel 2/);
        await ctx.shot('channels-03-channel2');

        // A slice step keeps the channel; the values follow z.
        const input = frame.locator('[data-testid=slice-input]');
        await input.fill('3');
        await input.press('Enter');
        await waitShown(2, '1', 0);
        const c = await readAt(0.75, 0.6);
        assert.deepEqual(c.values, [hyperValue(c.x, c.y, 2, 1, 0)], `channel 2, slice 3 readout ${c.text}`);

        await select.selectOption('composite');
        await waitShown(2, 'composite', 0);
        const d = await readAt(0.5, 0.5);
        assert.deepEqual(d.values, [hyperValue(d.x, d.y, 2, 0, 0), hyperValue(d.x, d.y, 2, 1, 0)]);
      },
    },
    {
      name: 'channels: per-channel colour and window, and the time slider picks the time point',
      async fn() {
        assert.ok(frame, 'viewer not open');
        // Channel 2 hidden: the composite is channel 1's green alone.
        await frame.locator('[data-testid=channel-visible-1]').uncheck();
        await ctx.page.waitForTimeout(300);
        const right = await rgbAt(85, 40), disc = await rgbAt(48, 32);
        assert.ok(right.every((v) => v < 60) && disc[1] > 180 && disc[0] < 60, `channel 1 alone in green (disc ${disc}, right ${right})`);
        await frame.locator('[data-testid=channel-visible-1]').check();
        // Channel 1 in red, over a window that saturates everything: red is added everywhere.
        await frame.locator('[data-testid=channel-color-0]').evaluate((el) => { el.value = '#ff0000'; el.dispatchEvent(new Event('input', { bubbles: true })); });
        await frame.locator('[data-testid=channel-min-0]').fill('0');
        await frame.locator('[data-testid=channel-max-0]').fill('500');
        await frame.locator('[data-testid=channel-max-0]').press('Enter');
        await ctx.page.waitForTimeout(300);
        const corner = await rgbAt(5, 5);
        assert.ok(corner[0] > 240 && corner[1] < 60, `channel 1 saturated red in the corner, got ${corner}`);
        await ctx.shot('channels-04-colour-window');
        await frame.locator('[data-testid=btn-channel-auto]').click();
        await ctx.page.waitForTimeout(300);
        assert.ok((await rgbAt(5, 5))[0] < 80, 'Auto brings the channel windows back');

        // Time point 3: every value 2000 higher.
        await frame.locator('[data-testid=time-slider]').evaluate((el) => { el.value = '3'; el.dispatchEvent(new Event('input', { bubbles: true })); });
        await waitShown(2, 'composite', 2);
        assert.equal(await text(frame, 'time-label'), '3 / 3');
        const e = await readAt(0.5, 0.5);
        assert.deepEqual(e.values, [hyperValue(e.x, e.y, 2, 0, 2), hyperValue(e.x, e.y, 2, 1, 2)], `time point 3 readout ${e.text}`);
        await ctx.shot('channels-05-time3');
        log(`  time point 3: ${e.text}`);
      },
    },
    {
      name: 'channels: the Model panel offers the channel and time point; a k-means job reads the one picked',
      async fn() {
        const page = ctx.page;
        await runCommand(page, 'StackSeg: Focus on Model View');
        const panel = await findFrame(page, '[data-testid=job-channel]');
        await panel.locator('[data-testid=stack-name]', { hasText: HYPER_FILE }).waitFor({ timeout: 15_000 });
        await panel.locator('[data-testid=plane-row]:visible').waitFor({ timeout: 10_000 });
        assert.deepEqual(await panel.locator('[data-testid=job-channel] option').allTextContents(), ['Channel 1', 'Channel 2', 'All channels']);
        await panel.locator('[data-testid=model-select]').selectOption('kmeans');
        await panel.locator('[data-testid=job-channel]').selectOption('1');
        await panel.locator('[data-testid=job-timepoint]').fill('2');
        await ctx.shot('channels-06-model-panel');
        const jobsRoot = join(ctx.workspace, 'hyper2c.stackseg');
        const done = () => (existsSync(jobsRoot) ? readdirSync(jobsRoot).filter((d) => existsSync(join(jobsRoot, d, 'mask.tif'))) : []);
        await panel.locator('[data-testid=btn-run]').click();
        const until = Date.now() + 120_000;
        while (done().length === 0 && Date.now() < until) await page.waitForTimeout(500);
        const jobs = done();
        assert.equal(jobs.length, 1, `one k-means job with a mask in ${jobsRoot}`);
        const record = JSON.parse(readFileSync(join(jobsRoot, jobs[0], 'job.json'), 'utf8'));
        assert.equal(record.spec.channel, 1, 'the job read channel 2 (index 1), as picked');
        assert.equal(record.spec.timepoint, 1, 'and time point 2 (index 1)');
        log(`  job ${jobs[0]}: channel ${record.spec.channel}, time point ${record.spec.timepoint}`);
      },
    },
    {
      name: 'channels: the channel and time point shown survive switching tabs',
      async fn() {
        const page = ctx.page;
        await frame.locator('[data-testid=channel-select]').selectOption('1');
        await waitShown(2, '1', 2);
        await openInStackViewer(page, 'hq.tif', { log });
        await page.locator('.tabs-container .tab', { hasText: HYPER_FILE }).first().click();
        await page.waitForTimeout(500);
        frame = await findFrame(page, '[data-testid=channel-select]'); // the rebuilt webview (hq.tif's has no channel bar)
        await waitShown(2, '1', 2).catch(async (e) => {
          log(`  after the tab switch: ${JSON.stringify(await frame.evaluate(() => ({ ...document.body.dataset })))}`);
          throw e;
        });
        assert.equal(await frame.locator('[data-testid=channel-select]').inputValue(), '1');
        const r = await readAt(0.75, 0.6);
        assert.deepEqual(r.values, [hyperValue(r.x, r.y, 2, 1, 2)], `after the tab switch ${r.text}`);
        await ctx.shot('channels-07-after-tab-switch');
      },
    },
  ];
}

