#!/usr/bin/env node
// The extension-host suite (test/e2e/hostSuite) in a downloaded desktop VS Code, via @vscode/test-electron.
// On machines that cannot reach update.code.visualstudio.com it prints "skipped: cannot download VS Code (...)" and
// exits 0; there, test/e2e/run.mjs runs the same suite in code-server instead.
// Usage: npm run test:e2e:electron   (VS Code version: STACKSEG_VSCODE_VERSION, default 1.100.3)
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = process.env.STACKSEG_VSCODE_VERSION ?? '1.100.3';

async function download() {
  const cachePath = join(repoRoot, '.e2e', 'vscode-test');
  // A short idle timeout: offline, DNS fails at once (ENOTFOUND); behind a black-holing firewall it would hang.
  const attempt = downloadAndUnzipVSCode({ version, cachePath, timeout: 15_000 });
  const watchdog = new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 30 s')), 30_000).unref());
  return Promise.race([attempt, watchdog]);
}

async function makeWorkspace(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fixturesJs = join(dir, '..', 'electron-fixtures.mjs');
  await esbuild.build({ entryPoints: [join(repoRoot, 'test/e2e/lib/fixtures.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: fixturesJs, logLevel: 'warning' });
  const fixtures = await import(pathToFileURL(fixturesJs).href);
  const foam = [join(repoRoot, '..', 'shared', 'data', 'foam', 'hq.tif'), '/work/shared/data/foam/hq.tif'].find(existsSync);
  if (foam) await import('node:fs').then((fs) => fs.copyFileSync(foam, join(dir, 'hq.tif')));
  else await fixtures.writeSyntheticFoam(join(dir, 'hq.tif'));
  await fixtures.writeBadTiff(join(dir, 'bad.tif'));
}

async function main() {
  let vscodeExecutablePath;
  try {
    vscodeExecutablePath = await download();
  } catch (e) {
    const reason = e?.message || e?.code || String(e);
    // No count line here: a zero count would read as "ran no test"; .ci/run prints the run's total.
    console.log(`skipped: cannot download VS Code (${String(reason).split('\n')[0]})`);
    return 0;
  }
  const workspace = join(repoRoot, '.e2e', 'electron-workspace');
  await makeWorkspace(workspace);
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(repoRoot, 'test/e2e/hostSuite/index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (e) {
    console.error(`VS Code exited with a failure: ${e?.message ?? e}`);
  }
  const resultFile = join(workspace, '.stackseg-e2e', 'host-results.json');
  if (!existsSync(resultFile)) {
    console.log('0 passed, 1 failed');
    return 1;
  }
  const { tests } = JSON.parse(readFileSync(resultFile, 'utf8'));
  for (const t of tests) console.log(`${t.ok ? 'ok  ' : 'FAIL'} - ${t.name}${t.ok ? '' : `\n${t.error}`}`);
  const failed = tests.filter((t) => !t.ok).length;
  console.log(`${tests.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
