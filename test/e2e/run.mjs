#!/usr/bin/env node
// Real-VS-Code end-to-end tests (npm run test:e2e): builds and packages the extension, installs the .vsix into a
// private code-server 4.100.3 (VS Code 1.100.3), opens a temporary workspace with test stacks, drives the workbench
// with Debian's Chromium (UI suite), then runs test/e2e/hostSuite inside the extension host via the payload URL.
// Always kills what it started. Last line of output: `N passed, M failed`; exit code 1 on any failure.
//
// Options: --no-build (use dist/ as is), --no-perf (skip the 2048x2048 stack), --only=ui|host, --keep (keep .e2e/run-*)
// Env: STACKSEG_E2E_TIMEOUT_S (default 420), STACKSEG_CODE_SERVER, STACKSEG_CHROMIUM, STACKSEG_FOAM_DIR,
// STACKSEG_E2E_LINK=20mbit,40ms (Chromium reaches code-server through lib/slowLink.mjs: that bandwidth and round trip).
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { ensureCodeServer, installExtension, killGroupNow, startCodeServer } from './lib/codeServer.mjs';
import { dismissSaveDialogs, launchBrowser, openWorkbench } from './lib/workbench.mjs';
import { parseLink, startSlowLink } from './lib/slowLink.mjs';
import { uiTests } from './ui.suite.mjs';
import { jobsUiTests } from './jobs.ui.mjs';
import { labelsUiTests } from './labels.ui.mjs';
import { labelsDiskUiTests } from './labelsDisk.ui.mjs';
import { livePreviewUiTests } from './livePreview.ui.mjs';
import { walkthroughUiTests } from './walkthrough.ui.mjs';
import { channelsUiTests } from './channels.ui.mjs';
import { compareUiTests } from './compare.ui.mjs';
import { orthoUiTests } from './ortho.ui.mjs';
import { torchUiTests } from './torch.ui.mjs';
import { formatsUiTests, writeFormatsWorkspace } from './formats.ui.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length);
const timeoutS = Number(process.env.STACKSEG_E2E_TIMEOUT_S ?? 720);
const t0 = Date.now();
const log = (msg) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

const runDir = join(repoRoot, '.e2e', `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
const shotsDir = join(repoRoot, 'test-results', 'e2e');
const results = []; // { name, ok, ms, error?, skipped? }
const metrics = {};
let server;
let browser;

// --- cleanup: always, including on the watchdog, Ctrl+C and uncaught errors.
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    await browser?.close();
    await server?.stop();
    const csLog = join(runDir, 'code-server.log');
    if (existsSync(csLog)) { mkdirSync(shotsDir, { recursive: true }); copyFileSync(csLog, join(shotsDir, 'code-server.log')); }
    if (!args.has('--keep')) rmSync(runDir, { recursive: true, force: true });
  })();
  return cleaning;
}
process.on('exit', () => { if (server) killGroupNow(server.pid); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => { log(`${sig}: stopping`); await cleanup(); process.exit(130); });
}
const watchdog = setTimeout(async () => {
  results.push({ name: `whole e2e run within ${timeoutS} s`, ok: false, ms: timeoutS * 1000, error: 'watchdog timeout' });
  log(`watchdog: e2e run exceeded ${timeoutS} s`);
  await finish();
}, timeoutS * 1000);

function run(cmd, cmdArgs, what, cwd = repoRoot) {
  const started = Date.now();
  execFileSync(cmd, cmdArgs, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  log(`${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * Snapshot of the built extension (what the .vsix holds) in the run dir: packaging and the host suite then read a
 * consistent copy even when someone rebuilds dist/ in the same checkout meanwhile.
 */
function stageExtension() {
  const dir = join(runDir, 'extension');
  mkdirSync(dir, { recursive: true });
  for (const entry of ['package.json', '.vscodeignore', 'README.md', 'LICENSE', 'dist', 'media']) {
    if (existsSync(join(repoRoot, entry))) cpSync(join(repoRoot, entry), join(dir, entry), { recursive: true });
  }
  return dir;
}

/** Locates the foam benchmark data: ../shared/data/foam beside the checkout (CI clones keep that layout). */
function foamDir() {
  const candidates = [process.env.STACKSEG_FOAM_DIR, join(repoRoot, '..', 'shared', 'data', 'foam'), '/work/shared/data/foam'];
  return candidates.find((d) => d && existsSync(join(d, 'hq.tif')));
}

async function makeWorkspace() {
  const ws = join(runDir, 'workspace');
  mkdirSync(ws, { recursive: true });
  const fixturesJs = join(runDir, 'fixtures.mjs');
  await esbuild.build({ entryPoints: [join(repoRoot, 'test/e2e/lib/fixtures.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: fixturesJs, logLevel: 'warning' });
  const fixtures = await import(pathToFileURL(fixturesJs).href);
  const foam = foamDir();
  if (foam) {
    copyFileSync(join(foam, 'hq.tif'), join(ws, 'hq.tif'));
    log(`workspace: hq.tif from ${foam}`);
  } else {
    await fixtures.writeSyntheticFoam(join(ws, 'hq.tif'));
    log('workspace: foam data not found (../shared/data/foam); wrote a synthetic 32 x 256 x 256 hq.tif');
  }
  await fixtures.writeBadTiff(join(ws, 'bad.tif'));
  await fixtures.writeTiledFoam(join(ws, 'foam512.tif'), foam && join(foam, 'hq.tif'));
  const jobStacks = await fixtures.writeJobStacks(ws, foam);
  await fixtures.writeHyperstack(join(ws, 'hyper2c.tif')); // channels suite: 2 channels x 4 slices x 3 time points
  if (!process.env.STACKSEG_E2E_SUITES || process.env.STACKSEG_E2E_SUITES.split(',').includes('formats')) writeFormatsWorkspace(ws);
  log(`workspace: noisy.tif + noisy.labels.tif + noisy.truth.tif for the jobs tests (${foam ? 'foam' : 'generated'})`);
  const files = { foam: 'hq.tif', foamDepth: 32, bad: 'bad.tif', foam512: 'foam512.tif', jobs: { image: 'noisy.tif', labels: 'noisy.labels.tif', truth: 'noisy.truth.tif', depth: jobStacks.depth } };
  if (!args.has('--no-perf')) {
    const started = Date.now();
    await fixtures.writePerfStack(join(ws, 'perf2048.tif'), 2048, 2048, 20);
    Object.assign(files, { perf: 'perf2048.tif', perfDepth: 20 });
    log(`workspace: perf2048.tif 20 x 2048 x 2048 uint16 (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return { ws, files };
}

function writeUserSettings() {
  const dir = join(runDir, 'user-data', 'User');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'workbench.editor.enablePreview': false,
    'git.openRepositoryInParentFolders': 'never', // the run's workspace lies inside this repo: no toast over the viewer
  }, null, 2));
}

async function runTest(name, fn, page) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - started });
    log(`ok   - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - started, error: e?.stack ?? String(e) });
    log(`FAIL - ${name}\n${String(e?.stack ?? e).split('\n').slice(0, 8).join('\n')}`);
    await page?.screenshot({ path: join(shotsDir, `FAIL-${results.length}.png`) }).catch(() => {});
    // Leave no modal dialog or half-typed quick input behind for the next test.
    if (page) { await page.keyboard.press('Escape').catch(() => {}); await dismissSaveDialogs(page).catch(() => {}); }
  }
}

async function uiSuite(page, files) {
  const shot = (name) => page.screenshot({ path: join(shotsDir, `${name}.png`) });
  page.on('pageerror', (e) => log(`  page error: ${e.message}`));
  await openWorkbench(page, server.url, join(runDir, 'workspace'));
  // The labels suite replaces the page (crash-style reload), so it reads ctx.page rather than a captured page.
  const labelsCtx = { page, log, files, metrics, workspace: join(runDir, 'workspace'), serverUrl: server.url, userData: join(runDir, 'user-data') };
  labelsCtx.shot = (name) => labelsCtx.page.screenshot({ path: join(shotsDir, `${name}.png`) });
  labelsCtx.shotOn = (p, name) => p.screenshot({ path: join(shotsDir, `${name}.png`) });
  if (process.env.STACKSEG_E2E_SHOTS) { // a private folder, so a parallel e2e run does not wipe these
    mkdirSync(process.env.STACKSEG_E2E_SHOTS, { recursive: true });
    labelsCtx.shot = (name) => labelsCtx.page.screenshot({ path: join(process.env.STACKSEG_E2E_SHOTS, `${name}.png`) });
    labelsCtx.shotOn = (p, name) => p.screenshot({ path: join(process.env.STACKSEG_E2E_SHOTS, `${name}.png`) });
  }
  labelsCtx.swapPage = (p) => { labelsCtx.page = p; browser.page = p; };
  // STACKSEG_E2E_SUITES=viewer,jobs,labels,labelsdisk (default: all) runs only the named UI suites.
  const suites = process.env.STACKSEG_E2E_SUITES?.split(',');
  const want = (name) => !suites || suites.includes(name);
  const tests = [
    ...(want('viewer') ? uiTests({ page, shot, log, files, metrics }) : []),
    ...(want('jobs') ? jobsUiTests({ page, shot, log, files, workspace: join(runDir, 'workspace') }) : []),
    ...(want('labels') ? labelsUiTests(labelsCtx) : []),
    ...(want('labelsdisk') ? labelsDiskUiTests(labelsCtx) : []),
    ...(want('live') ? livePreviewUiTests(labelsCtx) : []),
    ...(want('walkthrough') ? walkthroughUiTests(labelsCtx) : []),
    ...(want('channels') ? channelsUiTests(labelsCtx) : []),
    ...(want('compare') ? compareUiTests(labelsCtx) : []),
    ...(want('ortho') ? orthoUiTests(labelsCtx) : []),
    ...(want('torch') ? torchUiTests(labelsCtx) : []),
    ...(want('formats') ? formatsUiTests(labelsCtx) : []),
  ];
  for (const t of tests) {
    if (t.skip) { results.push({ name: t.name, skipped: t.skip }); log(`skip - ${t.name}: ${t.skip}`); continue; }
    await runTest(t.name, t.fn, page);
  }
}

/** Runs test/e2e/hostSuite inside the extension host and collects its results file. */
async function hostSuite(page, ws, extDir) {
  const resultFile = join(ws, '.stackseg-e2e', 'host-results.json');
  rmSync(resultFile, { force: true });
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  const started = Date.now();
  await openWorkbench(page, server.url, ws, [
    ['extensionDevelopmentPath', remote(extDir)],
    ['extensionTestsPath', remote(join(repoRoot, 'test/e2e/hostSuite/index.js'))],
  ]);
  const until = Date.now() + 300_000; // the jobs tests train and segment for real
  while (!existsSync(resultFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
  await page.screenshot({ path: join(shotsDir, '07-host-suite.png') }).catch(() => {});
  if (!existsSync(resultFile)) {
    writeFileSync(join(shotsDir, 'host-console.log'), consoleLines.join('\n'));
    results.push({ name: 'host suite reports results', ok: false, ms: Date.now() - started, error: `no ${resultFile} within 300 s; browser console in test-results/e2e/host-console.log` });
    log('FAIL - host suite wrote no results');
    return;
  }
  const host = JSON.parse(readFileSync(resultFile, 'utf8'));
  log(`host suite ran in VS Code ${host.vscodeVersion}`);
  for (const t of host.tests) {
    results.push({ ...t, name: `host: ${t.name}` });
    log(`${t.ok ? 'ok  ' : 'FAIL'} - host: ${t.name} (${t.ms} ms)${t.ok ? '' : `\n${t.error.split('\n').slice(0, 8).join('\n')}`}`);
    if (t.note) log(`  ${t.note}`);
  }
}

async function finish() {
  clearTimeout(watchdog);
  await cleanup();
  const passed = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => r.ok === false);
  const skipped = results.filter((r) => r.skipped).length;
  mkdirSync(shotsDir, { recursive: true });
  writeFileSync(join(shotsDir, 'results.json'), JSON.stringify({ results, metrics, seconds: (Date.now() - t0) / 1000 }, null, 2));
  console.log('');
  for (const f of failed) console.log(`FAILED: ${f.name}\n  ${String(f.error).split('\n')[0]}`);
  if (skipped) console.log(`${skipped} skipped`);
  console.log(`e2e total ${((Date.now() - t0) / 1000).toFixed(0)} s; screenshots in ${shotsDir}`);
  console.log(`${passed} passed, ${failed.length} failed`);
  process.exit(failed.length > 0 || passed === 0 ? 1 : 0);
}

async function main() {
  mkdirSync(runDir, { recursive: true });
  rmSync(shotsDir, { recursive: true, force: true });
  mkdirSync(shotsDir, { recursive: true });
  const bin = ensureCodeServer(repoRoot, log);
  if (!args.has('--no-build')) run('npm', ['run', '--silent', 'build'], 'built dist/');
  const extDir = stageExtension();
  const vsix = join(runDir, 'stackseg.vsix');
  // --allow-missing-repository / --skip-license: vsce would otherwise stop and ask on stdin.
  // --no-rewrite-relative-links: the README's screenshots (media/readme/) ship in the .vsix; without a repository
  // URL vsce refuses relative images instead of rewriting them.
  run('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--out', vsix],
    `packaged ${basename(vsix)}`, extDir);
  const { ws, files } = await makeWorkspace();
  installExtension(bin, runDir, vsix);
  writeUserSettings();
  log('installed the .vsix into a private extensions dir');
  server = await startCodeServer({ bin, dir: runDir, workspace: ws, log });
  if (process.env.STACKSEG_E2E_LINK) {
    // Chromium talks to the proxy; the run's URL and port (remote authority of the host suite) become the proxy's.
    const { bitsPerSecond, rttMs } = parseLink(process.env.STACKSEG_E2E_LINK);
    const direct = server;
    const link = await startSlowLink({ target: { port: direct.port }, bitsPerSecond, rttMs });
    server = { ...direct, url: link.url, port: link.port, stop: async () => { await link.close(); await direct.stop(); } };
    metrics.link = { bitsPerSecond, rttMs };
    log(`slow link: ${bitsPerSecond / 1e6} Mbit/s, ${rttMs} ms round trip on ${link.url} -> ${direct.url}`);
  }
  browser = await launchBrowser(runDir);
  if (only !== 'host') await uiSuite(browser.page, files);
  if (only !== 'ui') {
    await browser.page.close().catch(() => {}); // one workbench at a time: Chromium takes ~1.2 GB per window
    await hostSuite(await browser.context.newPage(), ws, extDir);
  }
}

main().catch((e) => {
  results.push({ name: 'e2e setup', ok: false, ms: Date.now() - t0, error: e?.stack ?? String(e) });
  log(`setup failed: ${e?.stack ?? e}`);
}).then(finish);
