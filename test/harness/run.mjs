// Browser harness for the stack viewer webview: serves dist/webview.js inside the same HTML + CSP the
// extension uses (src/extension/webviewHtml.ts), with a fake host (fakeHost.js) feeding synthetic slices,
// and drives it with Debian's Chromium through playwright-core.
//
//   npm run build && node test/harness/run.mjs [--out DIR] [--switches N]
//
// Writes screenshots to DIR (default /tmp/stackseg-harness), checks the test hooks, and prints the
// key-press-to-painted-frame times for a 2048x2048 uint16 stack as JSON. Not a vitest test: it needs
// Chromium and measures time.
import * as esbuild from 'esbuild';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const outDir = arg('--out', '/tmp/stackseg-harness');
const switchCount = Number(arg('--switches', 60));
mkdirSync(outDir, { recursive: true });

// Load the real HTML builder (TypeScript) through esbuild.
const tmp = mkdtempSync(join(tmpdir(), 'stackseg-harness-'));
const htmlModule = join(tmp, 'webviewHtml.mjs');
await esbuild.build({ entryPoints: [join(root, 'src/extension/webviewHtml.ts')], bundle: true, format: 'esm', platform: 'node', outfile: htmlModule, logLevel: 'warning' });
const { renderWebviewHtml } = await import(pathToFileURL(htmlModule).href);

const files = {
  '/dist/webview.js': ['dist/webview.js', 'text/javascript'],
  '/media/viewer.css': ['media/viewer.css', 'text/css'],
  '/harness/fakeHost.js': ['test/harness/fakeHost.js', 'text/javascript'],
  '/harness/theme.css': ['test/harness/theme.css', 'text/css'],
};
const nonce = 'harnessNonce0123456789abcdefABCDEF';
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') {
    const origin = `http://127.0.0.1:${server.address().port}`;
    let html = renderWebviewHtml({ cspSource: origin, scriptUri: `${origin}/dist/webview.js`, styleUri: `${origin}/media/viewer.css`, nonce, title: 'sample.tif' });
    // The fake host must exist before the bundle runs; the theme stands in for VS Code's injected variables.
    html = html.replace('<script nonce', `<script nonce="${nonce}" src="${origin}/harness/fakeHost.js"></script>\n  <script nonce`);
    html = html.replace('</head>', `  <link rel="stylesheet" href="${origin}/harness/theme.css">\n</head>`);
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    return;
  }
  if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
  const f = files[url.pathname];
  if (!f) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': f[1] }).end(readFileSync(join(root, f[0])));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const report = { checks: {}, problems: [] };
const check = (name, ok, detail) => {
  report.checks[name] = ok ? 'ok' : `FAILED${detail ? `: ${detail}` : ''}`;
  if (!ok) report.problems.push(name);
};

async function openPage(query) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${base}?${query}`);
  return { page, consoleErrors };
}

try {
  // 1. Small float stack: look, hooks, stepping, zoom, pixel readout.
  {
    const { page, consoleErrors } = await openPage('w=256&h=256&d=32&dtype=float32');
    await page.waitForFunction(() => document.body.dataset.shownSlice === '0');
    await page.waitForTimeout(300); // histogram is drawn when stepping pauses
    await page.screenshot({ path: join(outDir, 'float32-fit.png') });
    check('status-info', (await page.textContent('[data-testid=status-info]')) === '256 × 256 × 32 float32');
    check('status-slice initial', (await page.textContent('[data-testid=status-slice]')) === 'Slice 1 / 32');
    check('canvas focused', await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'viewer-canvas'));
    check('error hidden', !(await page.isVisible('[data-testid=error-message]')));
    for (const k of ['ArrowUp', 'ArrowUp', 'PageUp']) await page.keyboard.press(k);
    await page.waitForFunction(() => document.body.dataset.shownSlice === '12');
    check('keys Up Up PageUp -> slice 13', (await page.textContent('[data-testid=status-slice]')) === 'Slice 13 / 32');
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.body.dataset.shownSlice === '31');
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.body.dataset.shownSlice === '0');
    await page.fill('[data-testid=slice-input]', '20');
    await page.press('[data-testid=slice-input]', 'Enter');
    await page.waitForFunction(() => document.body.dataset.shownSlice === '19');
    check('slice-input -> slice 20', (await page.textContent('[data-testid=status-slice]')) === 'Slice 20 / 32');
    const box = await page.locator('[data-testid=viewer-canvas]').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const pixel = await page.textContent('[data-testid=status-pixel]');
    check('status-pixel format', /^x 12[78], y 12[78]: \d+\.\d{4}$/.test(pixel ?? ''), pixel);
    await page.mouse.wheel(0, 100);
    await page.waitForFunction(() => document.body.dataset.shownSlice === '20');
    check('wheel -> next slice', true);
    // ctrl+wheel zoom about the cursor: the pixel under the cursor stays the same.
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -400);
    await page.keyboard.up('Control');
    await page.mouse.move(box.x + box.width / 2 + 1, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const pixelAfterZoom = await page.textContent('[data-testid=status-pixel]');
    check('ctrl+wheel zooms about cursor', (pixelAfterZoom ?? '').split(':')[0] === (pixel ?? '').split(':')[0], `${pixel} -> ${pixelAfterZoom}`);
    const zoom = await page.textContent('[data-testid=status-zoom]');
    await page.fill('[data-testid=level-min]', '0.3');
    await page.press('[data-testid=level-min]', 'Enter');
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(outDir, 'float32-zoomed.png') });
    await page.click('[data-testid=btn-1to1]');
    check('1:1 button', (await page.textContent('[data-testid=status-zoom]')) === '100%');
    await page.click('[data-testid=btn-fit]');
    await page.click('[data-testid=btn-auto-contrast]');
    const lo = Number(await page.inputValue('[data-testid=level-min]'));
    const hi = Number(await page.inputValue('[data-testid=level-max]'));
    check('auto contrast window inside data range', lo >= 0 && hi <= 1 && hi > lo, `${lo}..${hi}`);
    // drag pans
    const before = await page.evaluate(() => document.querySelector('[data-testid=viewer-canvas]').style.transform);
    await page.mouse.move(box.x + 50, box.y + 50);
    await page.mouse.down();
    await page.mouse.move(box.x + 90, box.y + 70, { steps: 4 });
    await page.mouse.up();
    const after = await page.evaluate(() => document.querySelector('[data-testid=viewer-canvas]').style.transform);
    check('drag pans', before !== after, `${before} -> ${after}`);
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.click('[data-testid=btn-fit]');
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(outDir, 'float32-narrow.png') });
    report.zoomAfterCtrlWheel = zoom;
    check('no console/CSP errors (float32)', consoleErrors.length === 0, consoleErrors.join(' | '));
    await page.close();
  }

  // 2. Bad file: one clear message.
  {
    const { page, consoleErrors } = await openPage('error=1');
    await page.waitForSelector('[data-testid=error-message]:visible');
    await page.screenshot({ path: join(outDir, 'bad-file.png') });
    check('error message shown', /not a TIFF file/.test((await page.textContent('[data-testid=error-message]')) ?? ''));
    check('canvas hidden on error', !(await page.isVisible('[data-testid=viewer-canvas]')));
    check('no console/CSP errors (error)', consoleErrors.length === 0, consoleErrors.join(' | '));
    await page.close();
  }

  // 3. 2048 x 2048 uint16: key press -> painted frame, stepping at a reading pace and at key-repeat pace.
  {
    const { page, consoleErrors } = await openPage('w=2048&h=2048&d=64&dtype=uint16&prewarm=1&delay=5');
    await page.waitForFunction(() => document.body.dataset.shownSlice === '0', null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(outDir, 'uint16-2048.png') });
    const run = async (gapMs, n, key) => {
      await page.evaluate(() => { window.__stacksegPerf.switches.length = 0; window.__stacksegPerf.draws.length = 0; window.__stacksegPerf.fetches.length = 0; window.__stacksegPerf.superseded = 0; });
      for (let i = 0; i < n; i++) {
        await page.keyboard.press(key);
        await page.waitForTimeout(gapMs);
      }
      await page.waitForTimeout(400);
      return page.evaluate(() => ({ switches: [...window.__stacksegPerf.switches], draws: [...window.__stacksegPerf.draws], fetches: [...window.__stacksegPerf.fetches], superseded: window.__stacksegPerf.superseded }));
    };
    const stats = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      const q = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
      return { n: s.length, median: +q(50).toFixed(1), p95: +q(95).toFixed(1), max: +s[s.length - 1].toFixed(1) };
    };
    const paced = await run(150, Math.min(switchCount, 60), 'ArrowUp');
    const repeat = await run(33, Math.min(switchCount, 60), 'ArrowDown');
    report.uint16_2048 = {
      pace150ms: { keyToFrame: stats(paced.switches), draw: stats(paced.draws), fetch: stats(paced.fetches), superseded: paced.superseded },
      pace33ms: { keyToFrame: stats(repeat.switches), draw: stats(repeat.draws), fetch: stats(repeat.fetches), superseded: repeat.superseded },
    };
    check('no console/CSP errors (uint16)', consoleErrors.length === 0, consoleErrors.join(' | '));
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
writeFileSync(join(outDir, 'report.json'), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report, null, 2));
process.exit(report.problems.length ? 1 : 0);
