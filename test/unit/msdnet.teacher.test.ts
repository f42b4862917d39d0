// pseudoLabels=teacher: the Random Forest trained on the same strokes labels the unlabelled pixels (soft targets),
// and MSDNet learns from them (msdnet/teacher.ts, msdnet/pseudo.ts trainingTargets).

import { describe, expect, it } from 'vitest';
import { trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { autoTeacherSlices, MsdnetSegmenter, resolveAutoInputs } from '../../src/core/models/msdnet/msdnetSegmenter';
import { inputSpec } from '../../src/core/models/msdnet/inputPlanes';
import { trainingTargets } from '../../src/core/models/msdnet/pseudo';
import { neighbourSlices, runTeacher } from '../../src/core/models/msdnet/teacher';
import { resolveParams } from '../../src/shared/models/registry';
import type { TrainInput } from '../../src/core/models/segmenter';
import { mulberry32 } from '../../src/core/random';

const N = 40;

/** Disks of class 7 (bright) on class 3 (dark), drifting with z; strokes away from the edges on slice `labelled` only. */
function diskStack(depth: number, labelled: number, noise = 10) {
  const r = mulberry32(5);
  const images: Float32Array[] = [], truths: Uint8Array[] = [];
  const labels = new Uint8Array(N * N);
  for (let z = 0; z < depth; z++) {
    const image = new Float32Array(N * N), truth = new Uint8Array(N * N);
    const disks = [[12 + z * 0.5, 13, 7], [27, 26 - z * 0.5, 6]];
    for (let y = 0; y < N; y++) {
      for (let x = 0; x < N; x++) {
        const d = Math.min(...disks.map(([cx, cy, rad]) => Math.hypot(x - cx, y - cy) - rad));
        image[y * N + x] = (d < 0 ? 100 : 20) + noise * (r() - 0.5);
        truth[y * N + x] = d < 0 ? 7 : 3;
        if (z === labelled && d < -2.5 && (x + y) % 2 === 0) labels[y * N + x] = 7;
        if (z === labelled && d > 3 && (x * 3 + y) % 5 === 0) labels[y * N + x] = 3;
      }
    }
    images.push(image); truths.push(truth);
  }
  return { images, truths, labels };
}

function trainInput(stack: ReturnType<typeof diskStack>, labelled: number, overrides: Record<string, string>): TrainInput {
  return {
    width: N, height: N, slices: [{ z: labelled, image: stack.images[labelled], labels: stack.labels }], sample: new Float32Array(0),
    norm: { kind: 'percentile', lowPercentile: 1, highPercentile: 99, low: 20, high: 100 }, params: resolveParams('msdnet', overrides),
    volume: { depth: stack.images.length, read: async (z) => stack.images[z] }, onProgress: () => undefined,
  };
}

describe('trainingTargets', () => {
  it('painted pixels: their class weight; unlabelled: the teacher probabilities x weight, mapped by class value', () => {
    const classIndex = new Int16Array(256).fill(-1);
    classIndex[3] = 0; classIndex[7] = 1;
    const labels = Uint8Array.from([3, 0, 7, 0]);
    // The teacher lists its classes as [7, 3]: class-major probabilities.
    const teacher = { classes: [7, 3], probs: Float32Array.from([0.1, 0.8, 0.9, 0.3, /* class 3: */ 0.9, 0.2, 0.1, 0.7]) };
    const { targets, denominator } = trainingTargets(labels, classIndex, [1, 2], 2, teacher, 0.5);
    expect(Array.from(targets)).toEqual([1, 0, 0.5 * 0.2, 0.5 * 2 * 0.8, 0, 2, 0.5 * 0.7, 0.5 * 2 * 0.3].map(Math.fround));
    expect(denominator).toBeCloseTo(1 + 0.1 + 0.8 + 2 + 0.35 + 0.3, 5);
    const plain = trainingTargets(labels, classIndex, [1, 2], 2);
    expect(Array.from(plain.targets)).toEqual([1, 0, 0, 0, 0, 2, 0, 0]);
    expect(plain.denominator).toBe(3);
  });
});

describe('Random Forest teacher', () => {
  it('labels the unlabelled pixels of the labelled slice and its neighbours with the right classes', async () => {
    const stack = diskStack(6, 2);
    expect(neighbourSlices([2], 6, 1)).toEqual([1, 3]);
    expect(neighbourSlices([0, 1], 6, 2)).toEqual([2, 3]);
    const taught = await runTeacher(trainInput(stack, 2, { pseudoLabels: 'teacher', teacherSlices: '1' }));
    expect(taught.input.slices.map((s) => s.z)).toEqual([2, 1, 3]);
    expect(taught.input.slices[1].labels.every((l) => l === 0)).toBe(true);
    const slices = taught.attach(taught.input.slices);
    for (const s of slices) {
      const t = s.teacher!;
      expect([...t.classes].sort()).toEqual([3, 7]);
      let right = 0, unlabelled = 0;
      for (let i = 0; i < N * N; i++) {
        if (s.labels[i]) continue;
        unlabelled++;
        const best = t.probs[i] >= t.probs[N * N + i] ? t.classes[0] : t.classes[1];
        if (best === stack.truths[s.z][i]) right++;
        expect(t.probs[i] + t.probs[N * N + i]).toBeCloseTo(1, 4);
      }
      expect(right / unlabelled, `slice ${s.z}`).toBeGreaterThan(0.97);
    }
    expect(taught.report).toMatchObject({ model: 'rf', dims: '2d', slices: [1, 2, 3] });
    // teacherDepth reaches the forest: its report names it (the default is 6, shallower than rf's own 8)
    expect(taught.report!.params).toBe('rf defaults, depth 6');
    expect((await runTeacher(trainInput(stack, 2, { pseudoLabels: 'teacher', teacherSlices: '0', teacherDepth: '3' }))).report!.params).toBe('rf defaults, depth 3');
    expect(taught.report!.seconds).toBeGreaterThan(0);
  });

  it('is not run for pseudoLabels=fill or off', async () => {
    const stack = diskStack(3, 0);
    for (const mode of ['fill', 'off']) {
      const input = trainInput(stack, 0, { pseudoLabels: mode, teacherSlices: '1' });
      const taught = await runTeacher(input);
      expect(taught.input).toBe(input);
      expect(taught.report).toBeUndefined();
    }
  });
});

describe('MSDNet trained with a teacher', () => {
  it('follows the teacher where the strokes say nothing', async () => {
    // A third, unpainted object (intensity 50, nearer the background's 20 than class 7's 100) that the teacher calls 7.
    const s = diskStack(1, 0, 0);
    const image = s.images[0], object: number[] = [];
    for (let y = 30; y < 38; y++) for (let x = 2; x < 10; x++) { image[y * N + x] = 50; s.labels[y * N + x] = 0; object.push(y * N + x); }
    const probs = new Float32Array(2 * N * N);
    for (let i = 0; i < N * N; i++) { const seven = s.truths[0][i] === 7 || object.includes(i); probs[i] = seven ? 0.05 : 0.95; probs[N * N + i] = 1 - probs[i]; }
    const slice = { image, labels: s.labels, width: N, height: N, teacher: { classes: [3, 7], probs } };
    const sevens = async (pseudoLabels: string) => {
      const model = await trainMsdnet([slice], { epochs: 150, layers: 6, seed: 1, tta: false, pseudoLabels });
      const { labels } = await model.predict(image, N, N);
      model.dispose();
      return object.filter((i) => labels[i] === 7).length / object.length;
    };
    expect(await sevens('teacher')).toBeGreaterThan(0.9);
    expect(await sevens('off')).toBeLessThan(0.5); // the strokes alone call it background: the teacher made the difference
  });

  it('records the teacher in the training report (metrics.json)', async () => {
    const stack = diskStack(4, 1);
    const input = trainInput(stack, 1, { pseudoLabels: 'teacher', teacherSlices: '1', epochs: '30', layers: '5', backend: 'native', maxSeconds: '0' });
    const model = await MsdnetSegmenter.train(input);
    const report = model.trainingReport() as { teacher?: Record<string, unknown>; steps?: number };
    expect(report.teacher).toMatchObject({ model: 'rf', params: 'rf defaults, depth 6', dims: '2d', slices: [0, 1, 2] });
    expect(report.steps).toBe(30 * 3); // the labelled slice and its two teacher-labelled neighbours, every epoch
    const { labels } = await model.predict(stack.images[3], N, N, false);
    const accuracy = labels.reduce((n, l, i) => n + (l === stack.truths[3][i] ? 1 : 0), 0) / labels.length;
    expect(accuracy).toBeGreaterThan(0.95);
    await model.dispose?.();
  });
});

describe('contextSlices, teacherSlices, inputSigmas = -1 (auto, the defaults)', () => {
  it('is 3 slices each side with 8 teacher slices and 1,2 smoothed planes on a noisy stack of at least 8 slices, else one slice; explicit values stay', () => {
    expect(resolveParams('msdnet', {})).toMatchObject({ contextSlices: -1, teacherSlices: -1, inputSigmas: [-1], inputSmoothing: '3d' });
    const decide = (depth: number, noise: number, overrides: Record<string, string> = {}) => {
      const { input, report } = resolveAutoInputs(trainInput(diskStack(depth, 1, noise), 1, overrides));
      const { contextSlices: k, teacherSlices, inputSigmas } = input.params;
      return { k, teacherSlices, inputSigmas, report };
    };
    expect(decide(8, 60)).toMatchObject({ k: 3, teacherSlices: 8, inputSigmas: [1, 2], report: { contextSlices: 3, teacherSlices: 8, inputSigmas: [1, 2], contextReason: expect.stringMatching(/noise .* >= 0.2/) } });
    expect(decide(8, 2)).toMatchObject({ k: 0, teacherSlices: 2, inputSigmas: [0], report: { contextSlices: 0, contextReason: expect.stringMatching(/noise .* < 0.2/) } });
    expect(decide(4, 60)).toMatchObject({ k: 0, report: { contextReason: 'auto: 4 slices < 8' } });
    expect(decide(8, 60, { contextSlices: '0' })).toEqual({ k: 0, teacherSlices: 2, inputSigmas: [0], report: { teacherSlices: 2, inputSigmas: [0] } });
    expect(decide(8, 2, { contextSlices: '2' })).toMatchObject({ k: 2, teacherSlices: 6, inputSigmas: [1, 2] });
    expect(decide(8, 60, { teacherSlices: '1', inputSigmas: '0' })).toEqual({ k: 3, teacherSlices: 1, inputSigmas: [0], report: expect.not.objectContaining({ teacherSlices: expect.anything() }) });
    expect(inputSpec({ contextSlices: 1, inputSigmas: [-1] }).sigmas).toEqual([]); // unresolved auto: none
  });
});

describe('pseudoLabels in older job records', () => {
  it('reads true/false (before teacher|fill|off) as fill/off, and refuses other values', () => {
    expect(resolveParams('msdnet', { pseudoLabels: true }).pseudoLabels).toBe('fill');
    expect(resolveParams('msdnet', { pseudoLabels: false }).pseudoLabels).toBe('off');
    expect(resolveParams('msdnet', new Map([['pseudoLabels', 'true']])).pseudoLabels).toBe('fill');
    expect(resolveParams('msdnet', {}).pseudoLabels).toBe('teacher');
    expect(() => resolveParams('msdnet', { pseudoLabels: 'maybe' })).toThrow(/teacher\|fill\|off/);
  });
});

describe('teacherSlices=-1 on large slices', () => {
  it('2 + 2k where the training data fits 1.5 GB, fewer (with the reason) where it would not', () => {
    expect(autoTeacherSlices(3, 2, 1, 256 * 256)).toEqual({ slices: 8 });
    expect(autoTeacherSlices(0, 0, 1, 2048 * 2048)).toEqual({ slices: 2 });
    const big = autoTeacherSlices(3, 2, 1, 2048 * 2048);
    expect(big.slices).toBe(1);
    expect(big.reason).toMatch(/not 8: 17 training slices of 4194304 pixels would hold 5\.\d GB/);
    expect(autoTeacherSlices(3, 2, 3, 2048 * 2048).slices).toBe(0);
  });
});
