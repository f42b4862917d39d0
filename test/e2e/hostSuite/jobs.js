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
    // The log is a buffered stream: wait until the epoch line is on disk, then check that the kill keeps it.
    const logPath = path.join(job.dir, 'log.txt');
    await poll('the epoch line in log.txt', () => fs.existsSync(logPath) && /epoch 1 /.test(fs.readFileSync(logPath, 'utf8')), 30_000);
    process.kill(job.pid, 'SIGKILL');
    const record = await done;
    assert.equal(record.status, 'failed');
    assert.match(record.error, /SIGKILL/);
    const log = fs.readFileSync(logPath, 'utf8');
    assert.match(log, /epoch 1 /);
    assert.match(log, /SIGKILL/);
    assert.ok(!fs.readdirSync(job.dir).some((f) => f.includes('.tmp-')), 'temporary files left behind');
  }],
  // ---- issue 11: a first-time user's path (sample, notifications, report, evaluate)
  ['StackSeg: Open Sample Stack writes stackseg-sample/ and opens sample.tif; a second run overwrites nothing', async () => {
    const dir = file('stackseg-sample');
    fs.rmSync(dir, { recursive: true, force: true });
    await vscode.commands.executeCommand('stackseg.openSample');
    const names = ['sample.tif', 'sample.labels.tif', 'sample.truth.tif', 'sample.stackseg.json'];
    for (const n of names) assert.ok(fs.existsSync(path.join(dir, n)), `${n} not written`);
    const image = vscode.Uri.file(path.join(dir, 'sample.tif')).toString();
    await poll('sample.tif in the StackSeg viewer', () => api().openEditors().includes(image), 30_000);
    await poll('a painted slice of sample.tif', () => api().lastSliceShown(image) !== undefined, 30_000);
    // The user's changes survive: a second run writes no file.
    fs.writeFileSync(path.join(dir, 'sample.stackseg.json'), fs.readFileSync(path.join(dir, 'sample.stackseg.json'), 'utf8').replace('"foam"', '"walls"'));
    const before = names.map((n) => fs.statSync(path.join(dir, n)).mtimeMs);
    await vscode.commands.executeCommand('stackseg.openSample');
    assert.deepEqual(names.map((n) => fs.statSync(path.join(dir, n)).mtimeMs), before, 'a second Open Sample Stack rewrote a file');
    assert.match(fs.readFileSync(path.join(dir, 'sample.stackseg.json'), 'utf8'), /walls/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }],
  ['a finished job notifies with Show Segmentation + Open Report; Open Report twice keeps one tab', async () => {
    const record = (await api().listJobs()).find((r) => r.status === 'succeeded' && r.outputs.mask && r.spec.model === 'rf');
    assert.ok(record, 'no finished rf job (the first jobs test makes one)');
    const shown = api().jobs.notifications();
    const done = shown.find((n) => n.dir === record.dir);
    assert.ok(done, `no notification when ${record.id} finished`);
    assert.deepEqual(done.actions, ['Show Segmentation', 'Open Report']);
    assert.match(done.message, /finished/);
    const failed = shown.find((n) => n.status === 'failed');
    assert.ok(failed, 'no notification for the killed (failed) job');
    assert.deepEqual(failed.actions, ['Open Log']);
    const reportTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label === `Job ${record.id}`).length;
    await vscode.commands.executeCommand('stackseg.openJobReport', record.dir);
    await poll('the report tab', () => reportTabs() === 1, 10_000);
    await vscode.commands.executeCommand('stackseg.openJobReport', record.dir);
    await sleep(500);
    assert.equal(reportTabs(), 1, 'Open Report opened a duplicate tab');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }],
  ['Evaluate offers <stem>.truth.tif first, proposes 1=0, 2=1 for mask {1,2} vs truth {0,1}, and remembers it', async () => {
    const record = (await api().listJobs()).find((r) => r.status === 'succeeded' && r.outputs.mask && r.spec.model === 'rf');
    assert.ok(record, 'no finished rf job');
    const evaluation = vscode.commands.executeCommand('stackseg.evaluateJob', record.dir);
    let settled = false;
    void Promise.resolve(evaluation).finally(() => { settled = true; });
    // A user pressing Enter twice: the first truth offered, then the mapping filled in.
    for (let i = 0; i < 2; i++) {
      await sleep(1500);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    await poll('the evaluation to finish', () => settled, 60_000);
    const report = await evaluation;
    assert.ok(report && report.classF1, 'Evaluate returned no report (no truth offered first, or no mapping proposed)');
    assert.ok(report.classF1['1'] >= 0.9, `foam F1 ${report.classF1['1']} with the proposed mapping`);
    assert.deepEqual(api().jobs.evaluation(record.spec.image), { truth: file('noisy.truth.tif'), mapping: '1=0, 2=1' });
  }],
  ['a job whose process died outside VS Code is listed as failed, not running forever', async () => {
    // A job folder as a killed `stackseg run` leaves it: job.json says running, with the pid of a process that is gone.
    const dir = file(path.join('noisy.stackseg', '20260101-000000-rf-dead'));
    fs.mkdirSync(dir, { recursive: true });
    const { spawnSync } = require('node:child_process');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    const pid = Number(gone.stdout.toString());
    assert.ok(pid > 0, 'no pid from the short-lived process');
    const record = {
      format: 'stackseg-job', version: 1, id: path.basename(dir), dir, spec: spec('rf'), inputs: {}, status: 'running',
      created: new Date().toISOString(), timings: {}, runner: 'local', pid, host: require('node:os').hostname(),
      versions: { stackseg: '0', node: process.version, platform: process.platform }, outputs: { log: path.join(dir, 'log.txt') },
    };
    fs.writeFileSync(path.join(dir, 'job.json'), JSON.stringify(record));
    fs.writeFileSync(path.join(dir, 'mask.tif.tmp-' + pid + '-abcdef'), 'half');
    const listed = await api().listJobs();
    const r = listed.find((x) => x.dir === dir);
    assert.ok(r, 'the dead job is not listed');
    assert.equal(r.status, 'failed');
    assert.match(r.error, new RegExp(`process ${pid} ended`));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'job.json'), 'utf8')).status, 'failed', 'job.json not updated');
    assert.ok(!fs.existsSync(path.join(dir, 'mask.tif.tmp-' + pid + '-abcdef')), 'the temp file was left behind');
    fs.rmSync(dir, { recursive: true, force: true });
  }],
];

module.exports = { tests };
