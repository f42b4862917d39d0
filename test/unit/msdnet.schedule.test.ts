// MSDNet's epoch schedule (msdnet/schedule.ts): cosine over the planned epochs, the time budget, the plateau stop,
// and the step plan drawn as msdnet.ts draws it. The torch script's copy is checked against this one in
// test/integration/torch.test.ts.
import { describe, expect, it } from 'vitest';
import { batchNormRegion, cropGrid, EpochSchedule, stepPlan, trainingPlan } from '../../src/core/models/msdnet/schedule';
import { croppedDihedral, dihedral } from '../../src/core/models/msdnet/augment';
import { TRANSFORMS } from '../../src/core/models/msdnet/symmetry';
import { trainMsdnet } from '../../src/core/models/msdnet/msdnet';
import { mulberry32 } from '../../src/core/random';

describe('EpochSchedule', () => {
  it('cosine from the learning rate to 0 over the epochs; stops after the last', () => {
    const s = new EpochSchedule({ epochs: 4, learningRate: 0.01, lrSchedule: 'cosine' });
    expect([0, 1, 2, 3].map((e) => s.lr(e))).toEqual([0.01, 0.01 * 0.5 * (1 + Math.SQRT1_2), 0.005, 0.01 * 0.5 * (1 - Math.SQRT1_2)].map((v) => expect.closeTo(v, 12)));
    expect([1, 2, 3].map((e) => s.afterEpoch(1, e))).toEqual([false, false, false]);
    expect(s.afterEpoch(1, 4)).toBe(true);
    expect(s.reason).toBe('epochs');
  });

  it('shrinks the plan to the time budget from the recent seconds per epoch (the first epoch left out)', () => {
    const s = new EpochSchedule({ epochs: 400, learningRate: 0.01, lrSchedule: 'cosine', maxSeconds: 60 });
    // epoch 1 takes 10 s (warm-up), then 1 s each: after epoch 5, 14 s spent, 395 left at 1 s -> 46 more fit.
    const times = [10, 11, 12, 13, 14];
    times.forEach((t) => expect(s.afterEpoch(1, t)).toBe(false));
    expect(s.planned).toBe(5 + 46);
    expect(s.reason).toBe('time budget');
    expect(s.lr(50)).toBeLessThan(0.0001);
    // The load goes away: 0.1 s per epoch from now on -> the plan grows back, up to the epochs asked for.
    for (let e = 6; e <= 15; e++) s.afterEpoch(1, 14 + 0.1 * (e - 5));
    expect(s.planned).toBe(400);
    expect(s.reason).toBe('epochs');
  });

  it('stops on a plateau of the loss, not while it still falls', () => {
    const falling = new EpochSchedule({ epochs: 1000, learningRate: 0.01, lrSchedule: 'cosine', plateau: true });
    for (let e = 1; e <= 300; e++) expect(falling.afterEpoch(1 / e, e)).toBe(false);
    const flat = new EpochSchedule({ epochs: 400, learningRate: 0.01, lrSchedule: 'cosine', plateau: true });
    let stoppedAt = 0;
    for (let e = 1; e <= 400 && !stoppedAt; e++) if (flat.afterEpoch(0.1 + 0.001 * Math.sin(e), e)) stoppedAt = e;
    // window max(20, 400/10) = 40: the first check at 2 windows (80), then 20 epochs of anneal
    expect(stoppedAt).toBe(100);
    expect(flat.reason).toBe('plateau');
  });

  it('anneals from the rate at the plateau to ~0 over half a window, then stops', () => {
    const s = new EpochSchedule({ epochs: 400, learningRate: 0.01, lrSchedule: 'cosine', plateau: true });
    for (let e = 1; e <= 80; e++) expect(s.afterEpoch(0.1, e)).toBe(false);
    const atPlateau = 0.01 * 0.5 * (1 + Math.cos((Math.PI * 80) / 400));
    expect(s.planned).toBe(100);
    const lrs = Array.from({ length: 20 }, (_, i) => s.lr(80 + i));
    expect(lrs[0]).toBeCloseTo(atPlateau, 4);
    expect(lrs[19]).toBeLessThan(atPlateau * 0.01);
    lrs.slice(1).forEach((v, i) => expect(v).toBeLessThan(lrs[i]));
    // a loss that falls again does not restart anything
    for (let e = 81; e < 100; e++) expect(s.afterEpoch(1 / e, e)).toBe(false);
    expect(s.afterEpoch(0.01, 100)).toBe(true);
  });

  it('the time budget shortens the anneal and its cosine still ends near 0', () => {
    const s = new EpochSchedule({ epochs: 400, learningRate: 0.01, lrSchedule: 'cosine', plateau: true, maxSeconds: 90 });
    for (let e = 1; e <= 80; e++) expect(s.afterEpoch(0.1, e)).toBe(false); // 1 s per epoch: 10 more fit at 80
    expect(s.planned).toBe(90);
    expect(s.lr(89)).toBeLessThan(s.lr(80) * 0.02);
  });
});

describe('trainingPlan', () => {
  it('draws the shuffled order and flips as msdnet.ts does', () => {
    const plan = trainingPlan(3, 2, 5, true);
    const rand = mulberry32(6);
    const expected: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const i of [0, 1, 2].sort(() => rand() - 0.5)) expected.push(i, Math.floor(rand() * 8));
    }
    expect(Array.from(plan)).toEqual(expected);
    expect(Array.from(trainingPlan(2, 3, 5, false)).filter((_, j) => j % 2 === 1)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('time budget within an epoch', () => {
  it('overBudget is true once maxSeconds have passed (never without a budget)', () => {
    const s = new EpochSchedule({ epochs: 10, learningRate: 0.01, lrSchedule: 'cosine', maxSeconds: 60 });
    expect([0, 59.9, 60, 61].map((t) => s.overBudget(t))).toEqual([false, false, true, true]);
    expect(new EpochSchedule({ epochs: 10, learningRate: 0.01, lrSchedule: 'cosine' }).overBudget(1e9)).toBe(false);
  });

  it('a spent budget ends training after the current step, not after the epoch (native training)', async () => {
    const W = 48, rand = mulberry32(3);
    const slices = Array.from({ length: 6 }, () => {
      const image = Float32Array.from({ length: W * W }, () => rand());
      const labels = new Uint8Array(W * W);
      for (let i = 0; i < W * W; i += 7) labels[i] = image[i] > 0.5 ? 2 : 1;
      return { image, labels, width: W, height: W };
    });
    const model = await trainMsdnet(slices, { layers: 3, epochs: 5, maxSeconds: 1e-6, seed: 1 });
    expect(model.trainingInfo).toMatchObject({ steps: 1, stopped: 'time budget' }); // 1 of the first epoch's 6 steps
    expect(model.trainingInfo!.losses).toHaveLength(1);
    expect(Number.isFinite(model.trainingInfo!.losses[0])).toBe(true);
    const full = await trainMsdnet(slices, { layers: 3, epochs: 2, maxSeconds: 0, seed: 1 });
    expect(full.trainingInfo).toMatchObject({ steps: 12, stopped: 'epochs' });
    model.dispose(); full.dispose();
  });
});

describe('training on crops (cropSize)', () => {
  it('slices that fit draw exactly as before; larger ones tile into crops that cover the slice once an epoch, at a random shift', () => {
    expect(cropGrid(256, 256, 256)).toEqual({ width: 256, height: 256, count: 1, crops: false });
    expect(cropGrid(2048, 300, 256)).toEqual({ width: 256, height: 256, count: 8 * 2, crops: true });
    expect(cropGrid(2048, 2048, 0).crops).toBe(false);
    const fit = stepPlan([{ width: 64, height: 64 }, { width: 64, height: 64 }], 3, 5, TRANSFORMS.all, 64);
    expect(Array.from(fit.plan).filter((_, j) => j % 4 < 2)).toEqual(Array.from(trainingPlan(2, 3, 5, true)));
    const sizes = [{ width: 100, height: 40 }, { width: 30, height: 30 }];
    const { plan, stepsPerEpoch } = stepPlan(sizes, 400, 1, TRANSFORMS.all, 32);
    expect(stepsPerEpoch).toBe(4 * 2 + 1);
    const seen = new Set<string>();
    for (let e = 0; e < 400; e++) {
      // each epoch: 8 crops of slice 0 that cover each of its pixels exactly once, and slice 1 whole
      const cover = new Uint8Array(100 * 40);
      let crops = 0;
      for (let j = e * 36; j < e * 36 + 36; j += 4) {
        const [i, , x, y] = plan.subarray(j, j + 4);
        if (i === 1) { expect([x, y]).toEqual([0, 0]); continue; }
        crops++;
        // the grid's overhang (4 x 32 - 100 = 28 across, 2 x 32 - 40 = 24 down) is split at random between the ends
        expect(x).toBeGreaterThanOrEqual(-28); expect(x).toBeLessThanOrEqual(99);
        expect(y).toBeGreaterThanOrEqual(-24); expect(y).toBeLessThanOrEqual(39);
        seen.add(`${x},${y}`);
        for (let py = Math.max(0, y); py < Math.min(40, y + 32); py++) for (let px = Math.max(0, x); px < Math.min(100, x + 32); px++) cover[py * 100 + px]++;
      }
      expect(crops).toBe(8);
      expect(cover.every((c) => c === 1)).toBe(true);
    }
    expect(seen.size).toBeGreaterThan(100); // the grid moves from epoch to epoch
  });

  it('croppedDihedral reads the crop, flipped/rotated, straight from the slice', () => {
    const W = 7, H = 5, x0 = 2, y0 = 1, cw = 4, ch = 3;
    for (let k = 0; k < 8; k++) {
      const t = croppedDihedral(k, cw, ch, x0, y0, W), d = dihedral(k, cw, ch);
      expect([t.width, t.height]).toEqual([d.width, d.height]);
      t.map.forEach((src, i) => {
        const m = d.map[i];
        expect(src).toBe((y0 + Math.floor(m / cw)) * W + x0 + (m % cw));
        expect(src).toBeLessThan(W * H);
      });
    }
  });

  it("BatchNorm is re-measured on the centre of a cropped slice (at most 2 x cropSize, 1024) or of a slice above 1024²", () => {
    expect(batchNormRegion(2048, 300, 256)).toEqual({ x: 768, y: 0, width: 512, height: 300 });
    expect(batchNormRegion(200, 200, 256)).toEqual({ x: 0, y: 0, width: 200, height: 200 });
    expect(batchNormRegion(1024, 1024, 0)).toEqual({ x: 0, y: 0, width: 1024, height: 1024 });
    expect(batchNormRegion(2048, 2048, 0)).toEqual({ x: 512, y: 512, width: 1024, height: 1024 });
    expect(batchNormRegion(4096, 4096, 2048)).toEqual({ x: 1536, y: 1536, width: 1024, height: 1024 });
  });

  it('native training on crops: steps per epoch tile the slice; a strokes-only crop with no stroke is skipped', async () => {
    const W = 48, rand = mulberry32(9);
    const image = Float32Array.from({ length: W * W }, (_, i) => ((i % W) > W / 2 ? 1 : 0) + 0.1 * rand());
    const labels = new Uint8Array(W * W);
    for (let y = 0; y < 8; y++) for (let x = 0; x < W; x++) labels[y * W + x] = x > W / 2 ? 2 : 1; // strokes in the top rows only
    const slices = [{ image, labels, width: W, height: W }];
    const model = await trainMsdnet(slices, { layers: 3, epochs: 20, seed: 2, cropSize: 16, pseudoLabels: 'off', bnRecompute: true });
    // 9 crops an epoch; those below row 8 hold no stroke and teach nothing, so fewer steps than 9 x 20 have a loss
    const info = model.trainingInfo!;
    expect(info.losses).toHaveLength(20);
    info.losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    const { labels: out } = await model.predict(image, W, W, { tta: false });
    expect(out.filter((v, i) => v === ((i % W) > W / 2 ? 2 : 1)).length / out.length).toBeGreaterThan(0.95); // learnt the halves, rows 8-47 too
    expect(info.steps).toBeGreaterThan(20);
    expect(info.steps).toBeLessThan(9 * 20);
    const whole = await trainMsdnet(slices, { layers: 3, epochs: 2, seed: 2, cropSize: 0, pseudoLabels: 'off' });
    expect(whole.trainingInfo!.steps).toBe(2);
    model.dispose(); whole.dispose();
  });
});
