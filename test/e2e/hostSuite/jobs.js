// Jobs from VS Code, inside the real extension host: Train and Segment in a worker process, outputs beside the data,
// cancel, and a worker killed with SIGKILL. The workspace holds noisy.tif, noisy.labels.tif and noisy.truth.tif
// (test/e2e/lib/fixtures.ts writeJobStacks).
'use strict';
const vscode = require('vscode');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const EXTENSION_ID = 'stackseg.stackseg';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(what, check, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function file(name) {
  return path.join(vscode.workspace.workspaceFolders[0].uri.fsPath, name);
}

function api() {
  return vscode.extensions.getExtension(EXTENSION_ID).exports;
}

function spec(model, params = {}) {
  return { kind: 'run', model, params, image: file('noisy.tif'), labels: file('noisy.labels.tif'), truth: file('noisy.truth.tif'), classMap: { 2: 1 } };
}

/** Starts a long MSDNet job and resolves once it reports a training epoch. */
async function startTraining() {
  const done = api().jobs.start(spec('msdnet', { epochs: 100000 }));
  const job = await poll('an MSDNet epoch', () => api().jobs.running().find((j) => j.progress && j.progress.epoch >= 1), 120_000);
  return { done, job };
}

const tests = [
  ['Train and Segment (rf) runs in a worker and writes mask.tif + metrics.json beside the data; stackseg eval F1 >= 0.9', async () => {
    const record = await api().jobs.start(spec('rf'));
    assert.ok(record, 'the job was refused');
    assert.equal(record.status, 'succeeded', record.error);
    assert.equal(path.dirname(record.dir), file('noisy.stackseg'));
    for (const f of ['mask.tif', 'metrics.json', 'job.json', 'log.txt']) assert.ok(fs.existsSync(path.join(record.dir, f)), `${f} missing`);
    assert.notEqual(record.runner, undefined);
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID).extensionPath, 'dist', 'cli.js');
    const out = execFileSync(process.execPath, [cli, 'eval', '--pred', path.join(record.dir, 'mask.tif'), '--truth', file('noisy.truth.tif'), '--class', '2=1'],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }).toString();
    const f1 = JSON.parse(out).classF1['1'];
    assert.ok(f1 >= 0.9, `foam F1 ${f1} < 0.9`);
    const listed = await api().listJobs();
    assert.ok(listed.some((r) => r.dir === record.dir && r.status === 'succeeded'), 'the Jobs view does not list the finished job');
  }],
  ['an MSDNet job cancelled from VS Code is marked cancelled and leaves no mask', async () => {
    const { done, job } = await startTraining();
    assert.ok(api().jobs.cancel(job.dir));
    const record = await done;
    assert.equal(record.status, 'cancelled');
    assert.ok(!fs.existsSync(path.join(job.dir, 'mask.tif')), 'a mask was left behind');
    assert.match(fs.readFileSync(path.join(job.dir, 'log.txt'), 'utf8'), /cancelled/);
  }],
  ['the extension host stays responsive while MSDNet trains in the worker (event-loop delay over 20 s)', async () => {
    const { done, job } = await startTraining();
    // This test code runs on the extension host's own event loop, so its delay is the host's responsiveness.
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = Date.now();
    await sleep(20_000);
    h.disable();
    const epochs = api().jobs.running().find((j) => j.dir === job.dir)?.progress?.epoch;
    assert.ok(api().jobs.cancel(job.dir));
    assert.equal((await done).status, 'cancelled');
    // The histogram holds whole timer intervals (an idle loop reads ~10 ms at resolution 10): the delay is the excess.
    const delay = (ns) => Math.max(0, ns / 1e6 - 10);
    const p99 = delay(h.percentile(99));
    const note = `PERF extension host event-loop delay during MSDNet training (${((Date.now() - t0) / 1000).toFixed(0)} s, epoch ${epochs}, n=${h.count}): p50 ${delay(h.percentile(50)).toFixed(1)} p99 ${p99.toFixed(1)} max ${delay(h.max).toFixed(1)} ms (10 ms sampling interval subtracted; goal p99 <= 50 ms)`;
    console.log(note);
    // Generous bound: the 2-core test machine is shared; a blocked host shows as seconds, not tens of ms.
    assert.ok(p99 < 250, note);
    return note;
  }],
  ['a worker killed with SIGKILL marks the job failed and keeps its log', async () => {
    const { done, job } = await startTraining();
    process.kill(job.pid, 'SIGKILL');
    const record = await done;
    assert.equal(record.status, 'failed');
    assert.match(record.error, /SIGKILL/);
    const log = fs.readFileSync(path.join(job.dir, 'log.txt'), 'utf8');
    assert.match(log, /epoch 1 /);
    assert.match(log, /SIGKILL/);
    assert.ok(!fs.readdirSync(job.dir).some((f) => f.includes('.tmp-')), 'temporary files left behind');
  }],
];

module.exports = { tests };
