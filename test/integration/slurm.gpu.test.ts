// Slurm with --gpus N: the MSDNet training step asks for the GPUs and runs the torch backend on the node.
// A fake sbatch on PATH records its argv and the script; nothing runs on a cluster.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cli, tempDir } from './helpers';

const SBATCH = `#!/bin/bash
n=$(ls "$FAKE_SLURM_LOG" | grep -c '^sbatch-argv-' || true)
printf '%s\\0' "$@" > "$FAKE_SLURM_LOG/sbatch-argv-$n"
cp -- "\${@: -1}" "$FAKE_SLURM_LOG/sbatch-script-$n"
echo $((123 + n))
`;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('slurm --gpus', () => {
  it('msdnet with --gpus 2: the train step gets --gres=gpu:2 and --set backend=torch', async () => {
    const root = tempDir('stackseg-slurm-gpu-');
    const bin = join(root, 'bin'), log = join(root, 'log');
    mkdirSync(bin); mkdirSync(log);
    for (const [name, text] of Object.entries({ sbatch: SBATCH, squeue: '#!/bin/bash\nexit 0\n', scancel: '#!/bin/bash\nexit 0\n' })) {
      writeFileSync(join(bin, name), text); chmodSync(join(bin, name), 0o755);
    }
    const s = await cli(['sample', '--out', join(root, 'data'), '--size', '32x32x2']);
    expect(s.code, s.stderr).toBe(0);
    const job = join(root, 'job');
    const r = await run(['run', '--image', s.json.image, '--labels', s.json.labels, '--model', 'msdnet', '--runner', 'slurm', '--gpus', '2',
      '--chunks', '1', '--detach', '--out', job], { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_SLURM_LOG: log });
    expect(r.code, r.stderr).toBe(0);
    const argv = readFileSync(join(log, 'sbatch-argv-0'), 'utf8').split('\0');
    expect(argv).toContain('--gres=gpu:2');
    const script = readFileSync(join(log, readdirSync(log).find((f) => f === 'sbatch-script-0')!), 'utf8');
    expect(script).toMatch(/--set'? '?backend=torch/);
    expect(JSON.parse(readFileSync(join(job, 'job.json'), 'utf8')).spec.params.backend).toBe('torch');
  });
});
