// SIGTERM stops a job within 2 s whatever it is doing (issue 10 item 7): Random Forest training of 1000 deep trees
// in worker threads and in the CLI's own thread, and an MSDNet step on a 1024x1024 slice (~4 s a step).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

let dir: string;
let sample: { image: string; labels: string };

beforeAll(async () => {
  dir = tempDir('stackseg-cancel-');
  // One 1024x1024 slice: ~200k labelled pixels, 41 features (over the 20M values that train in the worker pool).
  const r = await cli(['sample', '--out', dir, '--size', '1024x1024x1']);
  expect(r.code, r.stderr).toBe(0);
  sample = r.json;
});

/** Runs `args`; when a progress line matches `when`, waits `delayMs` and sends SIGTERM. Returns the stop time. */
async function stopAfter(args: string[], when: (line: string) => boolean, delayMs: number) {
  let sentAt = 0;
  let armed = false;
  const r = await cli([...args, '--progress', 'json'], {
    onStderrLine: (line, kill) => {
      if (armed || !when(line)) return;
      armed = true;
      setTimeout(() => { sentAt = Date.now(); kill('SIGTERM'); }, delayMs);
    },
  });
  const stopMs = Date.now() - sentAt;
  return { r, sent: sentAt > 0, stopMs };
}

function expectCancelled(out: string, r: { code: number; stderr: string }) {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/cancelled/);
  const record = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8'));
  expect(record.status).toBe('cancelled');
  expect(existsSync(join(out, 'model'))).toBe(false);
  expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/cancelled/);
}

describe('SIGTERM stops a job within 2 s', () => {
  it('rf trees=1000 depth=40 training in the worker pool', async () => {
    const out = join(dir, 'rf-pool');
    const { r, sent, stopMs } = await stopAfter(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'rf',
      '--set', 'trees=1000', '--set', 'depth=40', '--out', out], (l) => l.includes('training 1000 trees'), 1500);
    expect(sent, r.stderr).toBe(true);
    expect(stopMs).toBeLessThan(2000);
    expectCancelled(out, r);
  });

  it('rf trees=1000 depth=40 training in the CLI thread (no fill: below the pool threshold)', async () => {
    const out = join(dir, 'rf-main');
    const { r, sent, stopMs } = await stopAfter(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'rf',
      '--set', 'trees=1000', '--set', 'depth=40', '--set', 'fill=none', '--out', out], (l) => l.includes('training 1000 trees'), 1500);
    expect(sent, r.stderr).toBe(true);
    expect(stopMs).toBeLessThan(2000);
    expectCancelled(out, r);
  });

  it('msdnet within a training step on a 1024x1024 slice', async () => {
    const out = join(dir, 'msdnet');
    // Right after epoch 1: the old per-step check waited for the whole next step (~4 s).
    const { r, sent, stopMs } = await stopAfter(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'msdnet',
      '--set', 'epochs=1000', '--out', out], (l) => l.includes('"epoch":1,'), 200);
    expect(sent, r.stderr).toBe(true);
    expect(stopMs).toBeLessThan(2000);
    expectCancelled(out, r);
  });
});
