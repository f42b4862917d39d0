// When MSDNet training stops and at which learning rate, shared by the native/tfjs loop (msdnet.ts) and the torch
// backend (python/stackseg_msdnet.py's Schedule mirrors this class line by line: keep them in step).
//  - cosine (or constant) learning rate over the planned epochs (`epochs`, an upper bound);
//  - time budget (`maxSeconds`, 0 = none): from epoch 5 on, the plan is the epochs that fit the budget at the recent
//    seconds per epoch (at most `epochs`), so the cosine still ends near 0; a hard stop at the budget, checked
//    after every step (overBudget), so a long epoch ends early (its loss is the mean over the steps it made);
//  - plateau (`plateau`): once the mean loss of the last window (max(20, epochs/10) epochs) is less than 1 %
//    below that of the window before (earliest at 60 epochs), the learning rate anneals from where it is to 0 over
//    half a window more (cosine), then training stops. Stopping at once left the weights at ~80 % of the peak rate,
//    where the last steps move them most: seeds differed by .002 foam F1 on noisy slices (docs/models.md).
// And the per-step plan (which slice, which flip/rotation) from the seed, as msdnet.ts draws it.

import { mulberry32 } from '../../random';
import { TRANSFORMS } from './symmetry';

export interface ScheduleParams { epochs: number; learningRate: number; lrSchedule: 'constant' | 'cosine'; maxSeconds?: number; plateau?: boolean }
export type StopReason = 'epochs' | 'time budget' | 'plateau';

export class EpochSchedule {
  readonly maxEpochs: number;
  planned: number;
  reason: StopReason = 'epochs';
  private readonly losses: number[] = [];
  private readonly elapsed: number[] = [];

  constructor(private readonly p: ScheduleParams) {
    this.maxEpochs = this.planned = p.epochs;
  }

  /** Set on a plateau: the epoch the anneal starts at, the rate then, and the most epochs it takes. */
  private anneal?: { from: number; lr: number; epochs: number };

  lr(epoch: number): number {
    const a = this.anneal;
    if (a) return a.lr * 0.5 * (1 + Math.cos((Math.PI * (epoch - a.from + 0.5)) / (this.planned - a.from)));
    return this.p.lrSchedule === 'cosine' ? this.p.learningRate * 0.5 * (1 + Math.cos((Math.PI * epoch) / this.planned)) : this.p.learningRate;
  }

  /**
   * True once the time budget is spent: training stops after the current step, not the current epoch (an epoch
   * of several 2048² slices on a CPU takes minutes, far past a budget of 120 s).
   */
  overBudget(elapsedSeconds: number): boolean {
    const budget = this.p.maxSeconds ?? 0;
    return budget > 0 && elapsedSeconds >= budget;
  }

  /** Records an epoch's loss; true when training should stop after it. */
  afterEpoch(loss: number, elapsedSeconds: number): boolean {
    this.losses.push(loss);
    this.elapsed.push(elapsedSeconds);
    const e = this.losses.length;
    if (e >= this.planned) return true;
    const budget = this.p.maxSeconds ?? 0;
    if (budget > 0) {
      if (elapsedSeconds >= budget) { this.reason = 'time budget'; return true; }
      if (e >= 5) {
        // Seconds per epoch over the last (up to) 10 epochs, the first (warm-up) left out.
        // Re-planned every epoch, both ways: a load spike on a shared machine must not cut training for good.
        const k = Math.min(10, e - 1), rate = (elapsedSeconds - this.elapsed[e - 1 - k]) / k;
        const fit = rate > 0 ? e + Math.floor((budget - elapsedSeconds) / rate) : this.maxEpochs;
        const most = this.anneal ? this.anneal.from + this.anneal.epochs : this.maxEpochs;
        this.planned = Math.max(e + 1, Math.min(most, fit));
        if (!this.anneal) this.reason = this.planned < this.maxEpochs ? 'time budget' : 'epochs';
      }
    }
    if (this.p.plateau && !this.anneal) {
      const window = Math.max(20, Math.floor(this.maxEpochs / 10));
      if (e >= Math.max(60, 2 * window)) {
        const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
        const recent = mean(this.losses.slice(-window)), before = mean(this.losses.slice(-2 * window, -window));
        if (before - recent < 0.01 * before) {
          this.reason = 'plateau';
          const epochs = Math.max(1, Math.floor(window / 2));
          this.anneal = { from: e, lr: this.lr(e), epochs };
          this.planned = Math.min(this.planned, e + epochs);
        }
      }
    }
    return false;
  }
}

/** A slice's training crop: its size and how many crops make one epoch's share of it (msdnet `cropSize`). */
export interface CropGrid { width: number; height: number; count: number; crops: boolean }

/**
 * Slices larger than `cropSize` (0 = never) train on cropSize x cropSize crops that tile the slice once an epoch
 * (drawEpoch): a step costs the same on 256² and 2048² slices, so a CPU makes thousands of steps in the time budget
 * where whole 2048² slices gave it two (docs/models.md, "Training on crops").
 */
export function cropGrid(width: number, height: number, cropSize: number): CropGrid {
  if (!(cropSize > 0) || (width <= cropSize && height <= cropSize)) return { width, height, count: 1, crops: false };
  const cw = Math.min(width, cropSize), ch = Math.min(height, cropSize);
  return { width: cw, height: ch, count: Math.ceil(width / cw) * Math.ceil(height / ch), crops: true };
}

/**
 * The region of a slice BatchNorm statistics are re-estimated on: the whole slice, or its centre, at most 2 x cropSize
 * each way for a slice that trains on crops, and at most 1024 each way for any slice of more than 1024² pixels (8
 * passes of each whole 2048² slice would take a CPU minutes, and one pass of it aborts tfjs-wasm).
 */
export function batchNormRegion(width: number, height: number, cropSize: number): { x: number; y: number; width: number; height: number } {
  const crops = cropGrid(width, height, cropSize).crops;
  if (!crops && width * height <= 1 << 20) return { x: 0, y: 0, width, height };
  const side = crops ? Math.min(2 * cropSize, 1024) : 1024;
  const w = Math.min(width, side), h = Math.min(height, side);
  return { x: (width - w) >> 1, y: (height - h) >> 1, width: w, height: h };
}

/** The part of a crop inside the slice: where a crop step takes its loss. */
export function cropCore(step: { x: number; y: number }, grid: CropGrid, width: number, height: number): { x: number; y: number; width: number; height: number } {
  const x = Math.max(0, step.x), y = Math.max(0, step.y);
  return { x, y, width: Math.min(width, step.x + grid.width) - x, height: Math.min(height, step.y + grid.height) - y };
}

/**
 * The input a crop step reads: its core (cropCore, where the loss is taken) widened by `halo` (the receptive radius)
 * on each side, within the slice. Every core pixel then sees what it sees in the whole slice, so training on crops
 * learns what inference on whole slices asks.
 */
export function cropInputRegion(core: { x: number; y: number; width: number; height: number }, width: number, height: number, halo: number): { x: number; y: number; width: number; height: number } {
  const x = Math.max(0, core.x - halo), y = Math.max(0, core.y - halo);
  return { x, y, width: Math.min(width, core.x + core.width + halo) - x, height: Math.min(height, core.y + core.height + halo) - y };
}

/** One training step: slice index, flip/rotation k, crop origin (0, 0 without crops; may lie left of or above the slice, cropCore). */
export interface Step { slice: number; k: number; x: number; y: number }

/**
 * One epoch's steps, drawn from `rand` as both msdnet.ts and the torch plan draw them: a shuffled order of the
 * slices (each repeated by its crop count), then per cropped slice a grid offset, then per step the flip/rotation
 * k. Slices that fit draw nothing more than before crops existed.
 *
 * A cropped slice's crops tile it exactly once an epoch: the grid of grid.count crops is shifted by a random offset
 * in [0, overhang] each way (overhang = crops x crop size - slice size), so the crops at the ends stick out of the
 * slice by random amounts. Every pixel is in exactly one crop an epoch, its borders too (origins drawn within the
 * slice left the outer crop-width band nearly untrained: hq foam F1 .985 against .990 at cropSize 128), and an
 * epoch's loss covers the whole slice as a whole-slice step does. Crops drawn independently made the epoch loss
 * swing by 3x with which edges they happened to cover, and the plateau rule then fired at its earliest epoch
 * (docs/models.md, "Training on crops"). Where a crop's edge falls does not matter: each crop reads a halo of the
 * receptive radius (cropInputRegion).
 */
export function drawEpoch(sizes: ReadonlyArray<{ width: number; height: number }>, grids: readonly CropGrid[], transforms: readonly number[], rand: () => number): Step[] {
  const units: number[] = [];
  grids.forEach((g, i) => { for (let j = 0; j < g.count; j++) units.push(i); });
  const order = units.sort(() => rand() - 0.5);
  const tiles = grids.map((g, i) => (g.crops ? shiftedTiles(sizes[i], g, rand) : []));
  const next = grids.map(() => 0);
  return order.map((i) => {
    const k = drawTransform(transforms, rand);
    if (!grids[i].crops) return { slice: i, k, x: 0, y: 0 };
    const [x, y] = tiles[i][next[i]++];
    return { slice: i, k, x, y };
  });
}

/** The origins of a grid of crops covering the slice once, shifted left/up by a random amount of its overhang. */
function shiftedTiles(size: { width: number; height: number }, g: CropGrid, rand: () => number): Array<[number, number]> {
  const nx = Math.ceil(size.width / g.width), ny = Math.ceil(size.height / g.height);
  const ox = Math.floor(rand() * (nx * g.width - size.width + 1)), oy = Math.floor(rand() * (ny * g.height - size.height + 1));
  const out: Array<[number, number]> = [];
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out.push([i * g.width - ox, j * g.height - oy]);
  return out;
}

/**
 * The torch script's step plan, as msdnet.ts draws it from mulberry32(seed + 1): [slice, k, x, y] per step, epochs
 * x (steps an epoch) of them.
 */
export function stepPlan(sizes: ReadonlyArray<{ width: number; height: number }>, epochs: number, seed: number,
  transforms: readonly number[], cropSize: number): { plan: Int32Array; stepsPerEpoch: number } {
  const grids = sizes.map((s) => cropGrid(s.width, s.height, cropSize));
  const stepsPerEpoch = grids.reduce((a, g) => a + g.count, 0);
  const rand = mulberry32(seed + 1);
  const plan = new Int32Array(epochs * stepsPerEpoch * 4);
  let j = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const s of drawEpoch(sizes, grids, transforms, rand)) { plan[j++] = s.slice; plan[j++] = s.k; plan[j++] = s.x; plan[j++] = s.y; }
  }
  return { plan, stepsPerEpoch };
}

/**
 * [slice, k] pairs of stepPlan for `slices` slices that fit (no crops); true = all 8 transforms, false = [0].
 */
export function trainingPlan(slices: number, epochs: number, seed: number, transforms: readonly number[] | boolean): Int32Array {
  const ks = transforms === true ? TRANSFORMS.all : transforms === false ? TRANSFORMS.off : transforms;
  const { plan } = stepPlan(Array.from({ length: slices }, () => ({ width: 1, height: 1 })), epochs, seed, ks, 0);
  return plan.filter((_, j) => j % 4 < 2);
}

/**
 * One step's flip/rotation k from `transforms`, as both msdnet.ts and trainingPlan draw it: a single transform
 * draws nothing (as augment=false always did), all 8 draw exactly as before augment=auto.
 */
export function drawTransform(transforms: readonly number[], rand: () => number): number {
  return transforms.length > 1 ? transforms[Math.floor(rand() * transforms.length)] : transforms[0];
}
