// Runs the built CLI (dist/cli.js) as a child process, the way users, the extension and Slurm tasks run it.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { readStack } from '../../src/core/tiff';

export const ROOT = resolve(__dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');
export const FOAM = resolve(ROOT, '../shared/data/foam');
export const hasFoam = existsSync(join(FOAM, 'hq.tif'));

export interface CliResult { code: number; stdout: string; stderr: string; json?: any; progress: any[] }

export interface CliOptions {
  onStderrLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with the child's pid once it started. */
  onPid?: (pid: number) => void;
}

export function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, env: opts.env ?? process.env });
    if (child.pid) opts.onPid?.(child.pid);
    let stdout = '', stderr = '', buf = '';
    const progress: any[] = [];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('{')) { try { progress.push(JSON.parse(line)); } catch { /* not json */ } }
        opts.onStderrLine?.(line, (sig) => child.kill(sig));
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let json: any;
      try { json = JSON.parse(stdout); } catch { /* not json */ }
      resolvePromise({ code: code ?? -1, stdout, stderr, json, progress });
    });
  });
}

export function tempDir(prefix = 'stackseg-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `stackseg segment --slices z0:z1` of a finished job writes exactly those slices of the job's own mask.tif. */
export async function expectSlicesLikeJobMask(job: string, image: string, out: string, z0: number, z1: number, sliceSize: number): Promise<void> {
  const s = await cli(['segment', '--job', job, '--image', image, '--slices', `${z0}:${z1}`, '--out', out]);
  expect(s.code, s.stderr).toBe(0);
  const whole = (await readStack(join(job, 'mask.tif'))).data as Uint8Array;
  const part = (await readStack(out)).data as Uint8Array;
  expect(Buffer.compare(Buffer.from(part), Buffer.from(whole.subarray(z0 * sliceSize, z1 * sliceSize)))).toBe(0);
}
