// `npm run bench:gpu`: what this machine offers MSDNet (nvidia-smi, torch and CUDA versions) and how fast it runs:
// seconds per epoch torch CPU vs native CPU at 256² and 1024², torch CUDA vs native CPU at 2048², and torch
// segmentation of 2048x2048x100 (bench/gpu.ts). Runs anywhere: without CUDA it says so and skips the GPU rows.
// Usage: npm run bench:gpu -- [--python /usr/bin/python3] [--sizes 256,1024] [--depth 100] [--epochs 6] [--full]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const smi = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' });
if (smi.error) console.log(`nvidia-smi: not found (${smi.error.code}): no NVIDIA driver on this machine`);
else console.log(`nvidia-smi: ${smi.status === 0 ? smi.stdout.trim().split('\n').join('; ') : `failed: ${(smi.stderr || smi.stdout).trim()}`}`);

await esbuild.build({ entryPoints: ['bench/gpu.ts'], outfile: 'bench/out/gpu.cjs', bundle: true, platform: 'node', format: 'cjs', target: 'node20',
  logLevel: 'warning', external: ['@tensorflow/tfjs-node-gpu'] });
// The Python: --python, STACKSEG_PYTHON, else the first of python3 and /usr/bin/python3 (Debian's python3-torch) with torch.
const argv = process.argv.slice(2);
let python = argv.includes('--python') ? argv[argv.indexOf('--python') + 1] : process.env.STACKSEG_PYTHON;
python ??= ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? 'python3';
// The torch script is found from the source tree (python/), the wasm binaries from node_modules.
const r = spawnSync(process.execPath, ['bench/out/gpu.cjs', ...argv], { stdio: 'inherit',
  env: { ...process.env, STACKSEG_PYTHON: python, STACKSEG_PYTHON_SCRIPT: process.env.STACKSEG_PYTHON_SCRIPT ?? 'python/stackseg_msdnet.py' } });
process.exit(r.status ?? 1);
