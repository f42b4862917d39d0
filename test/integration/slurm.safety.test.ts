// The Slurm runner against hostile paths, settings and edited state files, with a FAKE sbatch/squeue/scancel on PATH
// (they save their argv, and sbatch the script it is given) and a fake node. The saved batch scripts are then run with
// bash in a sandbox folder: an injected `$(touch x)` would leave a file x there.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSlurmState } from '../../src/core/jobs/runners/slurmSafety';
import { CLI, cli, tempDir, type CliResult } from './helpers';

const FAKES: Record<string, string> = {
  sbatch: `#!/bin/bash
n=$(ls "$FAKE_SLURM_LOG" | grep -c '^sbatch-argv-' || true)
printf '%s\\0' "$@" > "$FAKE_SLURM_LOG/sbatch-argv-$n"
cp -- "\${@: -1}" "$FAKE_SLURM_LOG/sbatch-script-$n"
id=$((123 + n))
case " $* " in *" --parsable "*) echo "$id" ;; *) echo "Submitted batch job $id" ;; esac
`,
  scancel: `#!/bin/bash
printf '%s\\0' "$@" > "$FAKE_SLURM_LOG/scancel-argv-$(date +%s%N)"
`,
  squeue: '#!/bin/bash\nexit 0\n',
  // The "node" the batch scripts exec: records its argv and does nothing else.
  node: '#!/bin/bash\nprintf \'%s\\0\' "$@" > "$FAKE_NODE_ARGV"\n',
};

interface Sandbox { root: string; bin: string; log: string; node: string; env: NodeJS.ProcessEnv }

function sandbox(): Sandbox {
  const root = tempDir('stackseg-slurm-safety-');
  const bin = join(root, 'bin'), log = join(root, 'log');
  mkdirSync(bin);
  mkdirSync(log);
  for (const [name, text] of Object.entries(FAKES)) { writeFileSync(join(bin, name), text); chmodSync(join(bin, name), 0o755); }
  return { root, bin, log, node: join(bin, 'node'), env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_SLURM_LOG: log } };
}

/** The CLI with the fake Slurm commands first on PATH, run in the sandbox folder. */
function slurmCli(s: Sandbox, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: s.root, env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: any;
      try { json = JSON.parse(stdout); } catch { /* not json */ }
      resolve({ code: code ?? -1, stdout, stderr, json, progress: [] });
    });
  });
}

const argvOf = (file: string) => readFileSync(file, 'utf8').split('\0').slice(0, -1);
const logged = (s: Sandbox, prefix: string) => readdirSync(s.log).filter((f) => f.startsWith(prefix)).sort();
const sbatchCalls = (s: Sandbox) => logged(s, 'sbatch-argv-').map((f) => argvOf(join(s.log, f)));

/** Runs a batch script with bash in the sandbox (as a compute node would), returning the argv its `node` got. */
function runScript(s: Sandbox, script: string, taskId = '0'): string[] {
  const out = join(s.log, `node-argv-${Date.now()}-${Math.random()}`);
  const r = spawnSync('bash', [script], { cwd: s.root, env: { PATH: `${s.bin}:/usr/bin:/bin`, SLURM_ARRAY_TASK_ID: taskId, FAKE_NODE_ARGV: out }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return argvOf(out);
}

/** Every saved script run with bash; no injected command may have created x anywhere in the sandbox. */
function expectNoInjection(s: Sandbox): void {
  for (const f of logged(s, 'sbatch-script-')) spawnSync('bash', [join(s.log, f)], { cwd: s.root, env: { PATH: `${s.bin}:/usr/bin:/bin`, SLURM_ARRAY_TASK_ID: '0', FAKE_NODE_ARGV: join(s.log, 'ignored') } });
  const found: string[] = [];
  const walk = (d: string) => { for (const e of readdirSync(d, { withFileTypes: true })) { if (e.name === 'x') found.push(join(d, e.name)); if (e.isDirectory()) walk(join(d, e.name)); } };
  walk(s.root);
  expect(found).toEqual([]);
}

let sample: { image: string; labels: string; truth: string };
beforeAll(async () => {
  sample = (await cli(['sample', '--out', tempDir('stackseg-slurm-safety-sample-'), '--size', '32x32x4'])).json;
});

/** Copies the sample image and labels into dir under a given image name. */
function hostileStack(dir: string, name: string): { image: string; labels: string } {
  mkdirSync(dir, { recursive: true });
  const image = join(dir, name), labels = join(dir, `${name.replace(/\.tif$/, '')}.labels.tif`);
  copyFileSync(sample.image, image);
  copyFileSync(sample.labels, labels);
  return { image, labels };
}

const runArgs = (s: Sandbox, image: string, labels: string) =>
  ['run', '--image', image, '--labels', labels, '--model', 'rf', '--set', 'trees=2', '--runner', 'slurm', '--chunks', '2', '--detach', '--node-path', s.node];

async function submitted(s: Sandbox): Promise<string> {
  const job = join(s.root, 'job');
  const r = await slurmCli(s, [...runArgs(s, sample.image, sample.labels), '--out', job]);
  expect(r.code, r.stderr).toBe(0);
  return job;
}

function editJson(file: string, edit: (j: any) => void): void {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  edit(j);
  writeFileSync(file, JSON.stringify(j));
}

describe('Slurm runner safety (fake sbatch, scripts run with bash)', () => {
  it('refuses an image path with a newline, naming the path, before anything is submitted', async () => {
    const s = sandbox();
    const { image, labels } = hostileStack(join(s.root, 'data'), 'nl\n$(touch x)y.tif');
    const r = await slurmCli(s, runArgs(s, image, labels));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/image path ".*nl\\n\$\(touch x\)y\.tif" contains a newline/);
    expect(r.stderr).toMatch(/rename that file or folder/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(sbatchCalls(s)).toEqual([]);
    expectNoInjection(s);
  });

  it('runs an image named with $(touch x), spaces and quotes safely; the paths reach sbatch and node unchanged', async () => {
    const s = sandbox();
    const dir = join(s.root, `data with 'single' "double" $(touch x) 50% \``);
    const { image, labels } = hostileStack(dir, `a b'c"$(touch x) %j.tif`);
    const job = join(dir, `job $(touch x) 'q' 10%`);
    const r = await slurmCli(s, [...runArgs(s, image, labels), '--out', job]);
    expect(r.code, r.stderr).toBe(0);
    const calls = sbatchCalls(s);
    expect(calls).toHaveLength(2); // training, then the chunk array: no merge step
    const slurm = join(job, 'slurm'), pattern = slurm.replace(/%/g, '%%');
    const [train, seg] = calls;
    // Each path is one argv element, its % doubled (sbatch's filename pattern), and the script comes after "--".
    expect(train).toContain(`--output=${pattern}/train-%j.out`);
    expect(train.slice(-2)).toEqual(['--', join(slurm, 'train.sbatch')]);
    expect(seg).toContain(`--output=${pattern}/segment-%A_%a.out`);
    expect(seg).toContain('--array=0,1');
    expect(seg).toContain('--dependency=afterok:123');
    expect(seg.slice(-2)).toEqual(['--', join(slurm, 'segment.sbatch')]);
    for (const f of logged(s, 'sbatch-script-')) expect(readFileSync(join(s.log, f), 'utf8')).not.toMatch(/^#SBATCH/m);

    const trainArgv = runScript(s, join(slurm, 'train.sbatch'));
    expect(trainArgv[0]).toBe(CLI);
    expect(trainArgv[trainArgv.indexOf('--image') + 1]).toBe(image);
    expect(trainArgv[trainArgv.indexOf('--labels') + 1]).toBe(labels);
    expect(trainArgv[trainArgv.indexOf('--out') + 1]).toBe(job);
    const segArgv = runScript(s, join(slurm, 'segment.sbatch'), '1');
    expect(segArgv.slice(1)).toEqual(['chunk', '--job', job, '--chunk', '1', '--progress', 'json']);
    expect(runScript(s, join(slurm, 'segment.sbatch'), '0').slice(1)).toEqual(['chunk', '--job', job, '--chunk', '0', '--progress', 'json']);
    expectNoInjection(s);
  });

  it('retry refuses a slurm.json whose chunks were edited to $(touch x), naming the file and field, and submits nothing', async () => {
    const s = sandbox();
    const job = await submitted(s);
    const state = join(job, 'slurm', 'slurm.json');
    editJson(state, (j) => { j.chunks = [['$(touch x)', 16]]; });
    const r = await slurmCli(s, ['retry', '--job', job, '--detach', '--node-path', s.node]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${state}: slurm.json field "chunks[0]"`);
    expect(r.stderr).toMatch(/no Slurm command is run from it/);
    expect(sbatchCalls(s)).toHaveLength(2);
    expect(logged(s, 'scancel-argv-')).toEqual([]);
    expectNoInjection(s);
  });

  it('cancel refuses a trainId of --user=root: scancel never runs and the job is not marked cancelled', async () => {
    const s = sandbox();
    const job = await submitted(s);
    editJson(join(job, 'slurm', 'slurm.json'), (j) => { j.trainId = '--user=root'; });
    const r = await slurmCli(s, ['cancel', '--job', job]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/slurm\.json: slurm\.json field "trainId" is "--user=root", not a numeric Slurm job id/);
    expect(logged(s, 'scancel-argv-')).toEqual([]);
    expect(JSON.parse(readFileSync(join(job, 'job.json'), 'utf8')).status).not.toBe('cancelled');
  });

  it('cancel passes scancel only the numeric ids, after "--"', async () => {
    const s = sandbox();
    const job = await submitted(s);
    const r = await slurmCli(s, ['cancel', '--job', job]);
    expect(r.code, r.stderr).toBe(0);
    const calls = logged(s, 'scancel-argv-').map((f) => argvOf(join(s.log, f)));
    expect(calls).toEqual([['--', '123', '124']]);
  });

  it('retry refuses a job.json whose image path was edited to hold a newline', async () => {
    const s = sandbox();
    const job = await submitted(s);
    editJson(join(job, 'job.json'), (j) => { j.spec.image = '/tmp/a\n$(touch x).tif'; });
    const r = await slurmCli(s, ['retry', '--job', job, '--detach', '--node-path', s.node]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/image path ".*" contains a newline/);
    expect(sbatchCalls(s)).toHaveLength(2);
    expect(logged(s, 'scancel-argv-')).toEqual([]);
    expectNoInjection(s);
  });

  it('partition, account, time and extra sbatch arguments go to sbatch as checked argv elements', async () => {
    const s = sandbox();
    const r = await slurmCli(s, [...runArgs(s, sample.image, sample.labels), '--out', join(s.root, 'ok'),
      '--partition', 'debug,gpu', '--account', 'proj-1.a', '--time', '1-02:00:00', '--sbatch-arg=-C gpu', '--sbatch-arg=--qos high', '--sbatch-arg=--exclusive']);
    expect(r.code, r.stderr).toBe(0);
    const [train] = sbatchCalls(s);
    for (const a of ['--partition=debug,gpu', '--account=proj-1.a', '--time=1-02:00:00', '-Cgpu', '--qos=high', '--exclusive']) expect(train).toContain(a);

    const refused: [string[], RegExp][] = [
      [['--partition', 'debug\n#SBATCH --wrap=touch x'], /Slurm partition .* is not a name/],
      [['--account', 'a b'], /Slurm account "a b" is not a name/],
      [['--time', '1:00:00; touch x'], /time limit .* is not a Slurm time/],
      [['--sbatch-arg', '/tmp/evil.sh'], /is not an sbatch option/],
      [['--sbatch-arg=--wrap=touch x'], /--wrap runs a shell command/],
      [['--sbatch-arg=--wra=touch x'], /--wrap runs a shell command/],
      [['--sbatch-arg=--comment=a\nb'], /control character/],
      [['--node-path', 'node\n$(touch x)'], /node path .* contains a newline/],
    ];
    for (const [extra, message] of refused) {
      const bad = await slurmCli(s, [...runArgs(s, sample.image, sample.labels), '--out', join(s.root, `bad-${Math.random()}`), ...extra]);
      expect(bad.code, extra.join(' ')).not.toBe(0);
      expect(bad.stderr).toMatch(message);
    }
    // sbatch's --output turns its patterns off for a path with a backslash: such a job folder is refused by name.
    const slash = await slurmCli(s, [...runArgs(s, sample.image, sample.labels), '--out', join(s.root, 'back\\slash')]);
    expect(slash.code).not.toBe(0);
    expect(slash.stderr).toMatch(/job folder ".*back\\\\slash" contains a backslash/);
    expect(sbatchCalls(s)).toHaveLength(2);
    expectNoInjection(s);
  });
});

describe('slurm.json checks', () => {
  const good = { format: 'stackseg-slurm', version: 1, depth: 8, chunks: [[0, 4], [4, 8]], trainId: '1', arrayId: '2', mergeId: '3', arrayTasks: [0, 1], history: [{ arrayId: '5', tasks: [1] }] };
  it('accepts what the runner writes and refuses each tampered field by name', () => {
    expect(parseSlurmState(good, '/j/slurm.json')).toEqual(good);
    const cases: [Record<string, unknown>, string][] = [
      [{ chunks: [['$(touch x)', 16]] }, 'chunks[0]'], [{ chunks: [[0, 4], [4, 9]] }, 'chunks[1]'], [{ chunks: [[0, 4], [5, 8]] }, 'chunks[1]'],
      [{ chunks: [[0, 4.5], [4.5, 8]] }, 'chunks[0]'], [{ chunks: [[0, 4]] }, 'chunks'], [{ depth: '8' }, 'depth'],
      [{ arrayId: '2; touch x' }, 'arrayId'], [{ mergeId: 3 }, 'mergeId'], [{ arrayTasks: [0, 2] }, 'arrayTasks[1]'],
      [{ history: [{ arrayId: '-u', tasks: [] }] }, 'history[0].arrayId'], [{ history: [{ arrayId: '5', tasks: ['1'] }] }, 'history[0].tasks[0]'],
      [{ format: 'x' }, 'format'],
    ];
    for (const [patch, field] of cases) {
      expect(() => parseSlurmState({ ...good, ...patch }, '/j/slurm.json'), field).toThrow(`slurm.json field "${field}"`);
    }
  });
});
