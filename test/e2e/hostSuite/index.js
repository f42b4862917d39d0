// Tests that run inside the extension host with the real `vscode` API (extensionTestsPath). Used by:
//  - test/e2e/run.mjs through code-server's payload URL (code-server does not exit when tests end, so results are
//    also written to <workspace>/.stackseg-e2e/host-results.json, which run.mjs waits for);
//  - test/e2e/electron.mjs (@vscode/test-electron) and .vscode/launch.json "Extension Tests" (run() rejects on failure).
// The workspace folder must hold hq.tif (a readable stack) and bad.tif (a corrupt one).
'use strict';
const vscode = require('vscode');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const VIEW_TYPE = 'stackseg.stackEditor';
const EXTENSION_ID = 'stackseg.stackseg';

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function poll(what, check, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(200);
  }
}

function activeTabInput() {
  return vscode.window.tabGroups.activeTabGroup.activeTab?.input;
}

async function openInViewer(uri) {
  await vscode.commands.executeCommand('vscode.open', uri);
  return poll(`${path.basename(uri.fsPath)} in the custom editor`, () => {
    const input = activeTabInput();
    return input instanceof vscode.TabInputCustom && input.uri.toString() === uri.toString() ? input : undefined;
  });
}

function workspaceFile(name) {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder open');
  return vscode.Uri.joinPath(folder.uri, name);
}

const tests = [
  ['the extension is installed and declares the custom editor', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} not found`);
    const editors = ext.packageJSON.contributes?.customEditors ?? [];
    assert.ok(editors.some((e) => e.viewType === VIEW_TYPE), 'customEditors lacks stackseg.stackEditor');
  }],
  ['vscode.open on a .tif opens a TabInputCustom with viewType stackseg.stackEditor', async () => {
    const input = await openInViewer(workspaceFile('hq.tif'));
    assert.equal(input.viewType, VIEW_TYPE);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext.isActive, 'extension not active after opening a stack');
  }],
  ['the viewer paints a slice and can be driven through the extension API', async () => {
    const uri = workspaceFile('hq.tif').toString();
    const api = vscode.extensions.getExtension(EXTENSION_ID).exports;
    assert.ok(api && typeof api.waitForSlice === 'function', 'activate() did not return the StackSeg test API');
    await poll('the viewer to register', () => api.openEditors().includes(uri));
    await poll('a first painted slice', () => api.lastSliceShown(uri) !== undefined, 30_000);
    assert.ok(api.showSlice(uri, 5), 'showSlice returned false');
    await api.waitForSlice(uri, 5, 15_000);
    assert.equal(api.lastSliceShown(uri), 5);
  }],
  ['a corrupt .tif opens in the viewer and reports an error naming the file', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const bad = workspaceFile('bad.tif');
    const input = await openInViewer(bad);
    assert.equal(input.viewType, VIEW_TYPE);
    const api = vscode.extensions.getExtension(EXTENSION_ID).exports;
    const message = await poll('an error message', () => api.errorShown(bad.toString()), 20_000);
    assert.ok(message.includes('bad.tif'), `error does not name the file: ${message}`);
  }],
];

tests.push(...require('./jobs').tests);

function writeResults(results) {
  const folder = vscode.workspace.workspaceFolders?.[0];
  // In code-server the folder is a vscode-remote: URI whose path is a path on this machine.
  if (!folder || !['file', 'vscode-remote'].includes(folder.uri.scheme)) return;
  const dir = path.join(folder.uri.fsPath, '.stackseg-e2e');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'host-results.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2));
  fs.renameSync(`${file}.tmp`, file); // run.mjs must never read a half-written file
}

async function run() {
  const results = { vscodeVersion: vscode.version, tests: [] };
  for (const [name, fn] of tests) {
    const started = Date.now();
    try {
      const note = await fn(); // a test may return one line to print (PERF numbers)
      results.tests.push({ name, ok: true, ms: Date.now() - started, ...(typeof note === 'string' ? { note } : {}) });
    } catch (e) {
      results.tests.push({ name, ok: false, ms: Date.now() - started, error: String(e && e.stack ? e.stack : e) });
    }
  }
  writeResults(results);
  const failed = results.tests.filter((t) => !t.ok);
  for (const t of results.tests) console.log(`${t.ok ? 'ok' : 'FAIL'} - ${t.name}${t.ok ? '' : `\n${t.error}`}`);
  if (failed.length > 0) throw new Error(`${failed.length} of ${results.tests.length} host tests failed`);
}

module.exports = { run, tests };
