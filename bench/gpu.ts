// StackSeg side of bench/gpu.mjs (bundled there): MSDNet seconds per epoch, torch (CUDA when present, and CPU) vs the
// native CPU path in the same run, and torch segmentation of a 2048x2048xN stack including the TIFF read.
// Options: --sizes 256,1024 (torch CPU vs native CPU) --big 2048 --depth 100 --epochs 6 --full (run the CPU-only
// 2048 rows even without CUDA) --python PATH
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseMsdnetEngine, TorchMsdnetSegmenter } from '../src/core/models/msdnet/msdnetTorchSegmenter';
import { trainMsdnet } from '../src/core/models/msdnet/msdnet';
import { saveWeights } from '../src/core/models/msdnet/io';
import { createWeights, type MsdnetArch } from '../src/core/models/msdnet/network';
import { probePython } from '../src/core/models/msdnet/python';
import { trainTorch } from '../src/core/models/msdnet/torchBackend';
import { initBackend } from '../src/core/models/tfBackend';
import { mulberry32 } from '../src/core/random';
import { openImage } from '../src/core/jobs/inputs';
import { writeSegmentation } from '../src/core/jobs/segmentation';
import { StackWriter } from '../src/core/tiff/writer';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const sizes = arg('--sizes', '256,1024').split(',').map(Number);
const big = Number(arg('--big', '2048'));
const depth = Number(arg('--depth', '100'));
const epochs = Number(arg('--epochs', '6'));
const full = args.includes('--full');
if (arg('--python', '')) process.env.STACKSEG_PYTHON = arg('--python', '');

function slice(size: number) {
  const rand = mulberry32(size);
  const image = Float32Array.from({ length: size * size }, () => rand());
  const labels = Uint8Array.from({ length: size * size }, () => Math.floor(rand() * 3)); // 2/3 labelled, as msdnet_speed
  return { image, labels, width: size, height: size };
}

/** Median of the per-epoch times after the first (warm-up: JIT, CUDA context, cuDNN autotune). */
function median(stamps: number[], t0: number): number {
  const times = stamps.map((t, i) => (t - (i ? stamps[i - 1] : t0)) / 1000).slice(1).sort((a, b) => a - b);
  return times[times.length >> 1];
}

const common = { epochs, bnRecompute: false, pseudoLabels: false, maxSeconds: 0, plateau: false, seed: 0 };

async function native(size: number): Promise<number> {
  const stamps: number[] = [];
  const t0 = performance.now();
  const m = await trainMsdnet([slice(size)], { ...common, backend: 'wasm' }, () => stamps.push(performance.now()));
  m.dispose();
  return median(stamps, t0);
}

async function torch(size: number, device: string): Promise<number> {
  const stamps: number[] = [];
  const t0 = performance.now();
  const t = await trainTorch([slice(size)], { ...common, layers: 12, width: 1, dilations: [1, 2, 3, 4, 5, 6], learningRate: 0.01, optimizer: 'adam',
    lrSchedule: 'cosine', classWeights: 'none', augment: true, tta: true, normalization: 'none', device }, () => stamps.push(performance.now()));
  await fs.rm(t.workDir, { recursive: true, force: true });
  return median(stamps, t0);
}

async function segmentBig(device: string): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'stackseg-bench-gpu-'));
  try {
    const path = join(dir, 'big.tif');
    const w = await StackWriter.create(path, { width: big, height: big, depth, dtype: 'uint16' });
    const rand = mulberry32(1);
    const page = Uint16Array.from({ length: big * big }, () => Math.floor(rand() * 65535));
    for (let z = 0; z < depth; z++) await w.appendSlice(page);
    await w.close();
    await initBackend('wasm');
    const arch: MsdnetArch = { layers: 12, width: 1, dilations: [1, 2, 3, 4, 5, 6], inChannels: 1, classes: 2 };
    const weights = createWeights(arch, 0);
    await saveWeights(join(dir, 'model'), { arch, weights, classValues: [1, 2], normalization: { low: 0, high: 65535 }, tta: true, backend: 'bench' });
    const engine = await chooseMsdnetEngine({ backend: 'torch', device }, 'segment');
    if (engine.engine !== 'torch') return `skipped: ${engine.note}`;
    const seg = await TorchMsdnetSegmenter.load(join(dir, 'model'), { params: {}, norm: {} } as never, engine);
    const image = await openImage(path);
    try {
      const { seconds } = await writeSegmentation(image, seg, [0, depth], join(dir, 'mask.tif'));
      return `${seconds.toFixed(2)} s (${((big * big * depth) / seconds / 1e6).toFixed(1)} Mvoxel/s, 8-fold TTA, TIFF read + write included, ${seg.runtime.device})`;
    } finally {
      await image.close();
      await seg.dispose();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  let cuda = false;
  try {
    const p = await probePython();
    cuda = p.cudaAvailable;
    console.log(`python: ${p.executable} ${p.version}; torch ${p.torch}; CUDA ${p.cuda ?? 'none (CPU-only build)'}; GPUs: ${p.devices.join(', ') || 'none'}`);
    if (!cuda) console.log('no CUDA: torch sees no CUDA GPU here, so the torch rows run on the CPU and the GPU rows are skipped');
  } catch (e) {
    console.log(`torch: unavailable (${(e as Error).message}); only native rows`);
  }
  const row = (label: string, s: number | string) => console.log(`  ${label.padEnd(50)} ${typeof s === 'number' ? `${s.toFixed(3)} s/epoch` : s}`);
  console.log(`MSDNet 12 layers, width 1, one epoch = forward + backward + Adam on one slice (median of ${epochs - 1} epochs after a warm-up)`);
  for (const size of sizes) {
    row(`${size}x${size} native CPU (WebAssembly SIMD, 1 thread)`, await native(size));
    row(`${size}x${size} torch CPU`, await torch(size, 'cpu').catch((e) => `failed: ${(e as Error).message}`));
  }
  if (cuda) {
    row(`${big}x${big} torch CUDA`, await torch(big, 'cuda'));
    row(`${big}x${big} native CPU`, await native(big));
    console.log(`segmentation ${big}x${big}x${depth} torch CUDA: ${await segmentBig('cuda')}`);
  } else if (full) {
    row(`${big}x${big} native CPU`, await native(big));
    row(`${big}x${big} torch CPU`, await torch(big, 'cpu').catch((e) => `failed: ${(e as Error).message}`));
    console.log(`segmentation ${big}x${big}x${depth} torch CPU: ${await segmentBig('cpu').catch((e) => `failed: ${(e as Error).message}`)}`);
  } else {
    console.log(`${big}x${big} torch CUDA vs native CPU, segmentation ${big}x${big}x${depth}: skipped (no CUDA; --full runs them on the CPU)`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
