// MSDNet on two stack channels (`--set channel=all`) on torch (python/stackseg_msdnet.py) against the native path:
// the same forward outputs on the same weights with per-channel normalisation (alone and with 2.5-D context), the
// same training, and each engine segments the other's model. Needs a Python with torch; skipped with the reason.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMsdnet, MsdnetModel } from '../../src/core/models/msdnet/msdnet';
import { type MsdnetArch } from '../../src/core/models/msdnet/network';
import { plainSpec, rawInputPlanes } from '../../src/core/models/msdnet/inputPlanes';
import { resetPythonProbes } from '../../src/core/models/msdnet/python';
import { TorchPredictor } from '../../src/core/models/msdnet/torchBackend';
import { initBackend } from '../../src/core/models/tfBackend';
import { mulberry32 } from '../../src/core/random';
import { tempDir } from './helpers';
import { classMajor, findTorchPython, expectSameLosses, jitteredWeights, maxDiff, trainBothEngines } from './torchHelpers';

const PY = findTorchPython();
if (!PY) console.log('torch channel tests skipped: no Python with torch and numpy (install python3-torch)');
const withTorch = PY ? describe : describe.skip;
const rand = mulberry32(17);

/** Random weights for C stack channels x K slices, with two different per-channel normalisations. */
function randomModel(C: number, K: number): MsdnetModel {
  const arch: MsdnetArch = { layers: 5, width: 2, dilations: [1, 2, 3], inChannels: C * K, classes: 3 };
  const w = jitteredWeights(arch, rand);
  const channels = [{ low: 10, high: 250 }, { low: -1, high: 3 }].slice(0, C);
  return new MsdnetModel(arch, w, [1, 2, 5], { ...channels[0], channels }, true, 'wasm');
}

/** A slice of 2 channels: channel 0 in 0..255, channel 1 in -1..3. */
const twoChannels = (n: number) => Float32Array.from({ length: 2 * n }, (_, i) => (i < n ? 255 * rand() : -1 + 4 * rand()));


withTorch('MSDNet on two channels: torch against the native path', () => {
  beforeAll(async () => {
    process.env.STACKSEG_PYTHON = PY;
    resetPythonProbes();
    await initBackend('wasm');
  });

  for (const K of [1, 3]) {
    it(`forward outputs agree to 1e-4 (2 channels x ${K} slice${K > 1 ? 's' : ''}, per-channel normalisation)`, async () => {
      const model = randomModel(2, K);
      const dir = join(tempDir(), 'model');
      await model.save(dir);
      const width = 23, height = 19, n = width * height;
      const slices = Array.from({ length: K }, () => twoChannels(n));
      const centre = slices[(K - 1) / 2];
      const ours = await model.predict(centre, width, height, K > 1 ? { context: slices } : {});
      const { predictor } = await TorchPredictor.start(dir, 'cpu');
      try {
        const theirs = await predictor.predict(centre, width, height, 3, true, true, rawInputPlanes(centre, K > 1 ? slices : undefined, 2, plainSpec((K - 1) / 2), width, height));
        expect(maxDiff(classMajor(ours.probs, 3), theirs.probs!)).toBeLessThan(1e-4);
      } finally {
        await predictor.close();
        model.dispose();
      }
    });
  }

  it('trains like the native path on 2 channels and each engine segments the other\'s model', async () => {
    const width = 40, height = 36, n = width * height;
    const image = new Float32Array(2 * n), labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const a = (i % width) > width / 2 ? 1 : 0, b = Math.floor(i / width) > height / 2 ? 1 : 0;
      image[i] = 60 + 100 * a + 20 * (rand() - 0.5);
      image[n + i] = 0.5 * b + 0.1 * (rand() - 0.5);
      if (rand() < 0.15) labels[i] = 1 + (a ^ b);
    }
    const s = { image, labels, width, height };
    const params = { epochs: 4, seed: 3, bnRecompute: true, pseudoLabels: 'off' as const, layers: 5, width: 1, dilations: [1, 2, 3] };
    const { native, torch } = await trainBothEngines([s], params);
    try {
      expect(torch.arch.inChannels).toBe(2);
      expect(torch.normalization.channels).toEqual(native.normalization.channels);
      expectSameLosses(torch, native);
      const fromTorch = await loadMsdnet(torch.modelDir, 'wasm');
      const a = await native.predict(image, width, height), b = await fromTorch.predict(image, width, height);
      expect(maxDiff(a.probs, b.probs)).toBeLessThan(1e-3);
      const dir = join(tempDir(), 'model');
      await native.save(dir);
      const { predictor } = await TorchPredictor.start(dir, 'cpu');
      const c = await predictor.predict(image, width, height, 2, true, true, rawInputPlanes(image, undefined, 2, plainSpec(0), width, height));
      await predictor.close();
      expect(maxDiff(classMajor(a.probs, 2), c.probs!)).toBeLessThan(1e-4);
      fromTorch.dispose();
    } finally {
      native.dispose();
    }
  });
});
