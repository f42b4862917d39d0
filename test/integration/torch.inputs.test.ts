// MSDNet with fixed Gaussian-smoothed inputs (`--set inputSigmas=1,2 inputSmoothing=...`) on torch
// (python/stackseg_msdnet.py) against the native path: the same forward outputs on the same weights (TS builds the
// planes for both), and a torch-trained model records its inputs so that the native path rebuilds them.
// Needs a Python with torch; skipped with the reason.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMsdnet, MsdnetModel } from '../../src/core/models/msdnet/msdnet';
import { type MsdnetArch } from '../../src/core/models/msdnet/network';
import { planesPerChannel, rawInputPlanes, type InputSpec } from '../../src/core/models/msdnet/inputPlanes';
import { resetPythonProbes } from '../../src/core/models/msdnet/python';
import { TorchPredictor } from '../../src/core/models/msdnet/torchBackend';
import { initBackend } from '../../src/core/models/tfBackend';
import { mulberry32 } from '../../src/core/random';
import { tempDir } from './helpers';
import { classMajor, findTorchPython, expectSameLosses, jitteredWeights, maxDiff, trainBothEngines } from './torchHelpers';

const PY = findTorchPython();
if (!PY) console.log('torch smoothed-input tests skipped: no Python with torch and numpy (install python3-torch)');
const withTorch = PY ? describe : describe.skip;
const rand = mulberry32(29);

/** Random weights for C stack channels read through `spec`, with per-channel normalisations. */
function randomModel(C: number, spec: InputSpec): MsdnetModel {
  const arch: MsdnetArch = { layers: 5, width: 2, dilations: [1, 2, 3], inChannels: C * planesPerChannel(spec), classes: 3 };
  const w = jitteredWeights(arch, rand);
  const channels = [{ low: 10, high: 250 }, { low: -1, high: 3 }].slice(0, C);
  return new MsdnetModel(arch, w, [1, 2, 5], C > 1 ? { ...channels[0], channels } : channels[0], true, 'wasm', undefined, spec);
}

const slice = (C: number, n: number) => Float32Array.from({ length: C * n }, (_, i) => (i < n ? 255 * rand() : -1 + 4 * rand()));

withTorch('MSDNet smoothed inputs: torch against the native path', () => {
  beforeAll(async () => {
    process.env.STACKSEG_PYTHON = PY;
    resetPythonProbes();
    await initBackend('wasm');
  });

  const cases: Array<[number, InputSpec]> = [
    [1, { contextSlices: 0, sigmas: [1, 2], smoothing: '2d' }],
    [1, { contextSlices: 1, sigmas: [1, 2], smoothing: '3d' }],
    [2, { contextSlices: 1, sigmas: [1, 2, 4], smoothing: '3d-only' }],
  ];
  for (const [C, spec] of cases) {
    it(`forward outputs agree to 1e-4 (${C} channel${C > 1 ? 's' : ''}, ${JSON.stringify(spec)})`, async () => {
      const model = randomModel(C, spec);
      const dir = join(tempDir(), 'model');
      await model.save(dir);
      const width = 23, height = 19, n = width * height, K = 2 * spec.contextSlices + 1;
      const slices = Array.from({ length: K }, () => slice(C, n));
      const centre = slices[spec.contextSlices];
      const context = K > 1 ? slices : undefined;
      const ours = await model.predict(centre, width, height, { context });
      const { predictor } = await TorchPredictor.start(dir, 'cpu');
      try {
        const theirs = await predictor.predict(centre, width, height, 3, true, true, rawInputPlanes(centre, context, C, spec, width, height));
        expect(maxDiff(classMajor(ours.probs, 3), theirs.probs!)).toBeLessThan(1e-4);
      } finally {
        await predictor.close();
        model.dispose();
      }
    });
  }

  it('trains like the native path with smoothed inputs; the torch model records them and segments natively', async () => {
    const width = 32, height = 28, n = width * height;
    const planes = [0, 1, 2].map(() => Float32Array.from({ length: n }, (_, i) => ((i % width) > width / 2 ? 160 : 60) + 40 * (rand() - 0.5)));
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (rand() < 0.15) labels[i] = (i % width) > width / 2 ? 2 : 1;
    const s = { image: planes[1], labels, width, height, context: planes };
    const params = { epochs: 4, seed: 3, bnRecompute: true, pseudoLabels: 'off' as const, layers: 5, width: 1, dilations: [1, 2, 3],
      contextSlices: 1, inputSigmas: [1, 2], inputSmoothing: '3d' as const };
    const { native, torch } = await trainBothEngines([s], params);
    try {
      expect(torch.arch.inChannels).toBe(5);
      expectSameLosses(torch, native);
      const fromTorch = await loadMsdnet(torch.modelDir, 'wasm');
      expect(fromTorch.inputs).toEqual({ contextSlices: 1, sigmas: [1, 2], smoothing: '3d' });
      const a = await native.predict(planes[1], width, height, { context: planes }), b = await fromTorch.predict(planes[1], width, height, { context: planes });
      expect(maxDiff(a.probs, b.probs)).toBeLessThan(1e-3);
      fromTorch.dispose();
    } finally {
      native.dispose();
    }
  });
});
