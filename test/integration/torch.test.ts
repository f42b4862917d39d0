// The torch backend of MSDNet (python/stackseg_msdnet.py) against the native path: the same forward outputs on the
// same weights, the same training, one model folder both ways, a real CLI job on foam, and one clear message for
// each missing piece. Needs a Python with torch (Debian python3-torch in CI); skipped with the reason otherwise.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMsdnet, MsdnetModel } from '../../src/core/models/msdnet/msdnet';
import { type MsdnetArch } from '../../src/core/models/msdnet/network';
import { resetPythonProbes } from '../../src/core/models/msdnet/python';
import { EpochSchedule } from '../../src/core/models/msdnet/schedule';
import { TorchPredictor } from '../../src/core/models/msdnet/torchBackend';
import { initBackend } from '../../src/core/models/tfBackend';
import { readStack } from '../../src/core/tiff';
import { writeStack } from '../../src/core/tiff/writer';
import { mulberry32 } from '../../src/core/random';
import { cli, FOAM, hasFoam, ROOT, tempDir } from './helpers';
import { classMajor, expectSameLosses, jitteredWeights, maxDiff, trainBothEngines } from './torchHelpers';

/** The first Python that imports torch: STACKSEG_TEST_PYTHON, STACKSEG_PYTHON, /usr/bin/python3, python3. */
function findTorchPython(): { python?: string; why: string } {
  const tried: string[] = [];
  for (const p of [process.env.STACKSEG_TEST_PYTHON, process.env.STACKSEG_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!p) continue;
    const r = spawnSync(p, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return { python: p, why: '' };
    tried.push(`${p}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { why: `no Python with torch and numpy (install python3-torch): ${tried.join('; ')}` };
}

const found = findTorchPython();
if (!found.python) console.log(`torch backend tests skipped: ${found.why}`);
const withTorch = found.python ? describe : describe.skip;
const PY = found.python ?? '';

const rand = mulberry32(11);
const arch: MsdnetArch = { layers: 6, width: 2, dilations: [1, 2, 3], inChannels: 1, classes: 3 };

/** Random weights with non-trivial biases, BatchNorm parameters and running statistics (inChannels: 2.5-D; transforms: tta's). */
function randomModel(inChannels = 1, transforms?: number[]): MsdnetModel {
  const a = { ...arch, inChannels };
  const w = jitteredWeights(a, rand);
  return new MsdnetModel(a, w, [1, 2, 5], { low: 10, high: 250 }, true, 'wasm', undefined, undefined, transforms);
}

/** A two-class slice (bright disc on a ramp, noise) with sparse strokes. */
function toySlice(width: number, height: number) {
  const image = new Float32Array(width * height), labels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = y * width + x, inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2;
    image[i] = (inside ? 160 : 60) + 0.2 * x + 20 * (rand() - 0.5);
    if (rand() < 0.15) labels[i] = inside ? 2 : 1;
  }
  return { image, labels, width, height };
}

withTorch('torch backend against the native path', () => {
  beforeAll(async () => {
    process.env.STACKSEG_PYTHON = PY;
    resetPythonProbes();
    await initBackend('wasm');
  });

  it('forward outputs on the same weights agree to 1e-4 (torch CPU vs tfjs/native, 8-fold TTA, non-square)', async () => {
    const model = randomModel();
    const dir = join(tempDir(), 'model');
    await model.save(dir);
    const width = 37, height = 29;
    const image = Float32Array.from({ length: width * height }, () => 255 * rand());
    const ours = await model.predict(image, width, height);
    const { predictor } = await TorchPredictor.start(dir, 'cpu');
    try {
      const theirs = await predictor.predict(image, width, height, 3, true, true);
      expect(maxDiff(classMajor(ours.probs, 3), theirs.probs!)).toBeLessThan(1e-4);
      const plain = await predictor.predict(image, width, height, 3, false, true);
      const oursPlain = await model.predict(image, width, height, { tta: false });
      expect(maxDiff(classMajor(oursPlain.probs, 3), plain.probs!)).toBeLessThan(1e-4);
      expect(Array.from(theirs.index, (c) => [1, 2, 5][c])).toEqual(Array.from(ours.labels));
    } finally {
      await predictor.close();
      model.dispose();
    }
  });

  it('2.5-D (3 input slices): torch forward agrees with tfjs/native to 1e-4', async () => {
    const model = randomModel(3);
    const dir = join(tempDir(), 'model');
    await model.save(dir);
    const width = 23, height = 19;
    const planes = [0, 1, 2].map(() => Float32Array.from({ length: width * height }, () => 255 * rand()));
    const ours = await model.predict(planes[1], width, height, { context: planes });
    const { predictor } = await TorchPredictor.start(dir, 'cpu');
    try {
      const theirs = await predictor.predict(planes[1], width, height, 3, true, true, planes);
      expect(maxDiff(classMajor(ours.probs, 3), theirs.probs!)).toBeLessThan(1e-4);
    } finally {
      await predictor.close();
      model.dispose();
    }
  });

  it('augment=half-turn: TTA over k = 0, 2 (read from model.json) agrees with tfjs/native to 1e-4, square and not', async () => {
    for (const [width, height] of [[37, 29], [24, 24]]) {
      const model = randomModel(1, [0, 2]);
      const dir = join(tempDir(), 'model');
      await model.save(dir);
      expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).modelTopology.transforms).toEqual([0, 2]);
      const image = Float32Array.from({ length: width * height }, () => 255 * rand());
      const ours = await model.predict(image, width, height);
      const all8 = await randomModelLike(model).predict(image, width, height);
      expect(maxDiff(ours.probs, all8.probs)).toBeGreaterThan(1e-3); // the group matters for these weights
      const { predictor } = await TorchPredictor.start(dir, 'cpu');
      try {
        const theirs = await predictor.predict(image, width, height, 3, true, true);
        expect(maxDiff(classMajor(ours.probs, 3), theirs.probs!)).toBeLessThan(1e-4);
      } finally {
        await predictor.close();
        model.dispose();
      }
    }
  });

  it('augment=half-turn trains like the native path (plan, BatchNorm recompute over k = 0, 2, non-square)', async () => {
    const s = toySlice(36, 28);
    const params = { epochs: 4, seed: 5, bnRecompute: true, pseudoLabels: 'off' as const, layers: 5, width: 1, dilations: [1, 2, 3], augment: 'half-turn' as const };
    const { native, torch } = await trainBothEngines([s], params);
    try {
      expectSameLosses(torch, native);
      const fromTorch = await loadMsdnet(torch.modelDir, 'wasm');
      expect(fromTorch.transforms).toEqual([0, 2]);
      const a = await native.predict(s.image, s.width, s.height), b = await fromTorch.predict(s.image, s.width, s.height);
      expect(maxDiff(a.probs, b.probs)).toBeLessThan(1e-3);
      fromTorch.dispose();
    } finally {
      native.dispose();
    }
  });

  it('cropSize: trains on the same random crops as the native path (losses, BatchNorm on the centre, non-square)', async () => {
    const s = toySlice(52, 37);
    const params = { epochs: 3, seed: 4, bnRecompute: true, pseudoLabels: true, layers: 5, width: 1, dilations: [1, 2, 3], cropSize: 16 };
    const { native, torch } = await trainBothEngines([s], params);
    try {
      expect(native.trainingInfo!.steps).toBe(3 * 4 * 3); // 4 x 3 crops of 16 tile 52 x 37, 3 epochs
      expect(torch.trainingInfo.steps).toBe(native.trainingInfo!.steps);
      expectSameLosses(torch, native);
      const fromTorch = await loadMsdnet(torch.modelDir, 'wasm');
      const a = await native.predict(s.image, s.width, s.height), b = await fromTorch.predict(s.image, s.width, s.height);
      expect(maxDiff(a.probs, b.probs)).toBeLessThan(1e-3);
      fromTorch.dispose();
    } finally {
      native.dispose();
    }
  });

  it('trains like the native path (same losses, weights) and each engine segments the other\'s model', async () => {
    const s = toySlice(48, 40);
    const params = { epochs: 4, seed: 3, bnRecompute: true, pseudoLabels: true, layers: 5, width: 1, dilations: [1, 2, 3] };
    const { native, torch } = await trainBothEngines([s], params);
    try {
      expect(torch.trainingInfo.losses).toHaveLength(4);
      expectSameLosses(torch, native);
      const fromTorch = await loadMsdnet(torch.modelDir, 'wasm'); // torch's folder read by the native path
      const a = await native.predict(s.image, s.width, s.height), b = await fromTorch.predict(s.image, s.width, s.height);
      expect(maxDiff(a.probs, b.probs)).toBeLessThan(1e-3);
      const dir = join(tempDir(), 'model');
      await native.save(dir); // the native folder read by torch
      const { predictor } = await TorchPredictor.start(dir, 'cpu');
      const c = await predictor.predict(s.image, s.width, s.height, 2, true, true);
      await predictor.close();
      expect(maxDiff(classMajor(a.probs, 2), c.probs!)).toBeLessThan(1e-4);
      fromTorch.dispose();
    } finally {
      native.dispose();
    }
  });
});

/** The same weights averaged over all 8 transforms. */
function randomModelLike(m: MsdnetModel): MsdnetModel {
  return new MsdnetModel(m.arch, m.weights, m.classValues, m.normalization, true, 'wasm');
}

withTorch('torch script schedule', () => {
  it('stops and plans epochs exactly as msdnet/schedule.ts (budget and plateau)', () => {
    const cases = [
      { params: { epochs: 400, learningRate: 0.01, lrSchedule: 'cosine' as const, maxSeconds: 60, plateau: true }, loss: (e: number) => 1 / e, time: (e: number) => 9 + e * 0.9 },
      { params: { epochs: 300, learningRate: 0.02, lrSchedule: 'cosine' as const, maxSeconds: 0, plateau: true }, loss: (e: number) => 0.1 + 0.001 * Math.sin(e), time: (e: number) => e },
      { params: { epochs: 50, learningRate: 0.01, lrSchedule: 'constant' as const }, loss: () => 1, time: (e: number) => e },
      // a plateau at 80 whose anneal the budget cuts short
      { params: { epochs: 400, learningRate: 0.01, lrSchedule: 'cosine' as const, maxSeconds: 100, plateau: true }, loss: (e: number) => 0.1 + 0.001 * Math.sin(e), time: (e: number) => 1.2 * e },
    ];
    for (const c of cases) {
      const ts = new EpochSchedule(c.params);
      const ours: Array<[number, boolean, number]> = [];
      const seq: Array<[number, number]> = [];
      for (let e = 1; e <= c.params.epochs; e++) {
        seq.push([c.loss(e), c.time(e)]);
        const lr = ts.lr(e - 1), stop = ts.afterEpoch(c.loss(e), c.time(e));
        ours.push([lr, stop, ts.planned]);
        if (stop) break;
      }
      const code = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('m', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
r = json.loads(sys.argv[2]); s = m.Schedule(r); out = []
for e, (loss, t) in enumerate(r['seq']):
    lr = s.lr(e); stop = s.after_epoch(loss, t); out.append([lr, stop, s.planned])
    if stop: break
print(json.dumps({'out': out, 'reason': s.reason, 'over': [s.over_budget(t) for t in (0, 59.9, 60, 61)]}))`;
      const r = spawnSync(PY, ['-c', code, join(ROOT, 'python/stackseg_msdnet.py'), JSON.stringify({ ...c.params, seq })], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout);
      expect(theirs.reason).toBe(ts.reason);
      expect(theirs.over).toEqual([0, 59.9, 60, 61].map((t) => ts.overBudget(t))); // the budget's step-level stop
      expect(theirs.out.length).toBe(ours.length);
      theirs.out.forEach(([lr, stop, planned]: [number, boolean, number], i: number) => {
        expect(lr).toBeCloseTo(ours[i][0], 12);
        expect([stop, planned]).toEqual([ours[i][1], ours[i][2]]);
      });
    }
  });
});

/** A Python that runs the script but cannot import torch (sys.modules['torch'] = None), executed without a shell. */
function pythonWithoutTorch(dir: string): string {
  const path = join(dir, 'python-no-torch');
  writeFileSync(path, `#!${PY}\nimport runpy, sys\nsys.modules['torch'] = None\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n`);
  chmodSync(path, 0o755);
  return path;
}

function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  return fn().finally(() => { for (const k of Object.keys(env)) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; } });
}

withTorch('torch backend through the CLI', () => {
  const small = () => ['--set', 'epochs=5', '--set', 'layers=3'];
  let sample: { image: string; labels: string; truth: string };
  beforeAll(async () => {
    const r = await cli(['sample', '--out', tempDir(), '--size', '48x48x2']);
    expect(r.code, r.stderr).toBe(0);
    sample = r.json;
  });

  it('missing Python, missing torch and device=cuda without CUDA each give one clear message', async () => {
    const cases: Array<[Record<string, string>, string[], RegExp]> = [
      [{ STACKSEG_PYTHON: '/nonexistent/python3' }, [], /Python not found: "\/nonexistent\/python3".*Select Interpreter/],
      [{ STACKSEG_PYTHON: pythonWithoutTorch(tempDir()) }, [], /torch is not installed in .*pip install torch/],
      [{ STACKSEG_PYTHON: PY }, ['--set', 'device=cuda'], /device=cuda but torch .* sees no CUDA GPU .*--set device=cpu/],
    ];
    for (const [env, sets, message] of cases) {
      const r = await withEnv(env, () => cli(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'msdnet', '--set', 'backend=torch', ...small(), ...sets, '--out', join(tempDir(), 'job')]));
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/Traceback|at .*\.js:\d+/); // one message, no stack
    }
  });

  it('SIGTERM during torch training cancels the job and ends the Python process', async () => {
    const out = join(tempDir(), 'job');
    let killed = false;
    // Work folders of running `stackseg_msdnet.py train` processes; with `parent`, only that process's children
    // (other test files train torch at the same time).
    const trainDirs = (parent?: number) => spawnSync('ps', ['-eo', 'ppid,args'], { encoding: 'utf8' }).stdout.split('\n')
      .filter((l) => l.includes('stackseg_msdnet.py train') && (parent === undefined || Number(l.trim().split(/\s+/)[0]) === parent))
      .map((l) => l.trim().split(/\s+/).pop()!);
    let running: string[] = [];
    let cliPid = -1;
    const r = await withEnv({ STACKSEG_PYTHON: PY }, () => cli(['train', '--image', sample.image, '--labels', sample.labels, '--model', 'msdnet',
      '--set', 'backend=torch', '--set', 'device=cpu', '--set', 'epochs=100000', '--set', 'plateau=false', '--set', 'maxSeconds=0', '--out', out, '--progress', 'json'],
    { onPid: (pid) => { cliPid = pid; },
      onStderrLine: (line, kill) => { if (!killed && /"epoch":\s*2\b/.test(line)) { killed = true; running = trainDirs(cliPid); kill('SIGTERM'); } } }));
    expect(killed).toBe(true);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'job.json'), 'utf8')).status).toBe('cancelled');
    expect(running.length).toBeGreaterThan(0);
    // The Python process ends (it sees SIGTERM or its closed stdin); on a loaded machine that can take a few seconds.
    for (let i = 0; i < 50 && trainDirs().some((d) => running.includes(d)); i++) await new Promise((res) => setTimeout(res, 200));
    expect(trainDirs().filter((d) => running.includes(d))).toEqual([]);
    for (const d of running) expect(existsSync(d)).toBe(false); // and its work folder is gone
  }, 300_000);

  it.runIf(hasFoam)('a real torch job trains and segments foam (hq) with F1 >= 0.9 and records the runtime', async () => {
    const out = join(tempDir(), 'job');
    // Labels of the stack's depth: the sparse strokes on slice 0, nothing painted elsewhere.
    const sparse = (await readStack(join(FOAM, 'sparse_labels_slice0.tif'))).data as Uint8Array;
    const labels = join(tempDir(), 'hq.labels.tif');
    await writeStack(labels, { width: 256, height: 256, depth: 32, dtype: 'uint8', getSlice: (z) => (z === 0 ? sparse : new Uint8Array(256 * 256)) });
    const r = await withEnv({ STACKSEG_PYTHON: PY }, () => cli(['run', '--image', join(FOAM, 'hq.tif'), '--labels', labels,
      '--model', 'msdnet', '--set', 'backend=torch', '--set', 'device=cpu', '--set', 'epochs=150', '--truth', join(FOAM, 'truth.tif'),
      '--class', '2=1', '--class', '1=0', '--out', out, '--progress', 'json']));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.summary.classF1['1']).toBeGreaterThanOrEqual(0.9);
    const record = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8'));
    expect(record.backend).toBe('torch');
    expect(record.runtime).toMatchObject({ backend: 'torch', device: 'cpu', gpu: null, cuda: null });
    expect(record.runtime.torch).toMatch(/^\d+\.\d+/);
    expect(r.progress.some((p) => p.phase === 'train' && p.epoch >= 1)).toBe(true);
    for (const f of ['model/model.json', 'model/weights.bin', 'model/stackseg.json', 'mask.tif']) expect(existsSync(join(out, f)), f).toBe(true);
    // The torch model segments with the native path too (a laptop without Python).
    const seg = await withEnv({ STACKSEG_PYTHON: '/nonexistent/python3' }, () => cli(['segment', '--job', out, '--image', join(FOAM, 'hq.tif'), '--slices', '0:4', '--out', join(tempDir(), 'mask.tif')]));
    expect(seg.code, seg.stderr).toBe(0);
    expect(seg.json.backend).not.toBe('torch');
  }, 600_000);
});
