// The extension's worker process: cancel sends SIGTERM, escalates to SIGKILL after the grace period, and a worker
// killed that way leaves its job marked cancelled (issue 10 item 7). Real child processes, no VS Code.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initialRecord, loadRecord, saveRecord } from '../../src/core/jobs/store';
import { CANCEL_GRACE_MS, markWorkerDied, WorkerProcess } from '../../src/host/jobs/workerProcess';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node child running `code` (WorkerProcess runs `node <cliPath> ...args`: here `node -e code`). */
function child(code: string): { worker: WorkerProcess; ready: Promise<void> } {
  let ready!: () => void;
  const p = new Promise<void>((r) => (ready = r));
  const worker = new WorkerProcess('-e', [code], { onLine: (line) => { if (line === 'ready') ready(); } });
  return { worker, ready: p };
}

describe('WorkerProcess.cancel', () => {
  it('escalates to SIGKILL when the worker ignores SIGTERM', async () => {
    const { worker, ready } = child("process.on('SIGTERM', () => {}); console.error('ready'); setInterval(() => {}, 1000)");
    await ready;
    const t0 = Date.now();
    worker.cancel(400);
    worker.cancel(400); // a second click does not restart the timer
    const r = await worker.done;
    const waited = Date.now() - t0;
    expect(r.signal).toBe('SIGKILL');
    expect(r).toMatchObject({ cancelled: true, killed: true });
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(3000);
  });

  it('does not kill a worker that stops on SIGTERM', async () => {
    const { worker, ready } = child("process.on('SIGTERM', () => { console.error('stopping'); process.exit(1); }); console.error('ready'); setInterval(() => {}, 1000)");
    await ready;
    worker.cancel(400);
    const r = await worker.done;
    expect(r).toMatchObject({ code: 1, signal: null, cancelled: true, killed: false });
  });

  it('uses a 5 s grace period by default', () => {
    expect(CANCEL_GRACE_MS).toBe(5000);
  });
});

describe('markWorkerDied', () => {
  const running = async (name: string) => {
    const jobDir = join(dir, name);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(jobDir);
    const record = initialRecord({ kind: 'train', model: 'rf', params: {}, image: join(dir, 'a.tif') }, jobDir, 'local');
    record.status = 'running';
    await saveRecord(record);
    return jobDir;
  };

  it('marks a cancelled worker that had to be killed as cancelled, saying why', async () => {
    const jobDir = await running('killed');
    await markWorkerDied(jobDir, { code: null, signal: 'SIGKILL', stdout: '', cancelled: true, killed: true });
    const r = await loadRecord(jobDir);
    expect(r.status).toBe('cancelled');
    expect(r.error).toMatch(/did not stop within 5 s of SIGTERM and was killed/);
    expect(r.finished).toBeTruthy();
  });

  it('still marks a worker that died on its own as failed', async () => {
    const jobDir = await running('died');
    await markWorkerDied(jobDir, { code: null, signal: 'SIGKILL', stdout: '' });
    expect((await loadRecord(jobDir)).status).toBe('failed');
  });
});
