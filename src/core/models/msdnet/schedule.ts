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

/**
 * The step plan msdnet.ts draws from mulberry32(seed + 1): per epoch a shuffled slice order, then per step the
 * flip/rotation k drawn from `transforms` (symmetry.ts TRANSFORMS; one transform draws nothing; true = all 8,
 * false = [0]). Returns [slice, k] pairs, epochs * slices of them.
 */
export function trainingPlan(slices: number, epochs: number, seed: number, transforms: readonly number[] | boolean): Int32Array {
  const ks = transforms === true ? TRANSFORMS.all : transforms === false ? TRANSFORMS.off : transforms;
  const rand = mulberry32(seed + 1);
  const out = new Int32Array(epochs * slices * 2);
  let j = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Array.from({ length: slices }, (_, i) => i).sort(() => rand() - 0.5);
    for (const i of order) { out[j++] = i; out[j++] = drawTransform(ks, rand); }
  }
  return out;
}

/**
 * One step's flip/rotation k from `transforms`, as both msdnet.ts and trainingPlan draw it: a single transform
 * draws nothing (as augment=false always did), all 8 draw exactly as before augment=auto.
 */
export function drawTransform(transforms: readonly number[], rand: () => number): number {
  return transforms.length > 1 ? transforms[Math.floor(rand() * transforms.length)] : transforms[0];
}
