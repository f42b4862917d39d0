// Webview-side slice cache and prefetch plan. Pure (no DOM).
// Keeps the most recently used slices (any resolution level, keyed by levelKey) up to a byte budget, so stepping
// back and forth and the prefetched neighbours paint without a round trip to the host.

import { SliceCache } from '../src/shared/lru';
import { LEVEL_STRIDE } from '../src/shared/levels/levelKey';
import type { PixelArray } from '../src/shared/types';

/** Slices (keyed by levelKey, src/shared/levels/levelKey.ts) and the requests for them still in flight. */
export class SliceStore {
  private readonly slices: SliceCache<PixelArray>;
  /** Slices asked of the host and not yet answered: priority and request time (avoids asking twice). */
  readonly inflight = new Map<number, { priority: 'show' | 'prefetch'; since: number }>();

  constructor(maxBytes: number) {
    // The slice just received is stored even when over the budget: it is about to be shown.
    this.slices = new SliceCache(maxBytes, { keepOversize: true });
  }

  get(z: number): PixelArray | undefined {
    return this.slices.get(z);
  }

  has(z: number): boolean {
    return this.slices.has(z);
  }

  /** Stores slice z, evicting least recently used slices but never `keep` (the slice on screen). */
  put(z: number, pixels: PixelArray, keep?: number): void {
    this.inflight.delete(z);
    this.slices.set(z, pixels, keep);
  }

  get size(): number {
    return this.slices.size;
  }

  get byteSize(): number {
    return this.slices.bytes;
  }

  clear(): void {
    this.slices.clear();
    this.inflight.clear();
  }
}

/**
 * Neighbours to prefetch after showing slice z when the user moves by `step` (signed; 0 = no direction yet):
 * `ahead` slices in the direction of travel (a held key or a sweep outruns a short lookahead: each slice costs a
 * decode and a trip through the webview connection), with the nearest `behind` slices on the other side mixed in
 * early (the user may turn back). A big step (PageUp) first asks for the next one or two big steps.
 * Only indices inside 0..depth-1, without z itself or duplicates, nearest first.
 */
export function prefetchPlan(z: number, step: number, depth: number, ahead = 3, behind = 1): number[] {
  const dir = step === 0 ? 1 : step;
  const unit = Math.sign(dir);
  const forward = Array.from({ length: ahead }, (_, k) => z + (k + 1) * unit);
  const back = Array.from({ length: behind }, (_, k) => z - (k + 1) * unit);
  const candidates = [
    ...(Math.abs(dir) > 1 ? [z + dir, z + 2 * dir] : []),
    ...forward.slice(0, 2), ...back.slice(0, 1), ...forward.slice(2), ...back.slice(1),
  ];
  const out: number[] = [];
  for (const c of candidates) {
    if (c >= 0 && c < depth && c !== z && !out.includes(c)) out.push(c);
  }
  return out;
}

/** Bytes of one level worth prefetching ahead of the user (the webview cache holds far more). */
export const PREFETCH_AHEAD_BYTES = 24 * 1024 * 1024;
/** Lookahead bounds in slices, whatever the level size. */
export const MIN_AHEAD = 3;
export const MAX_AHEAD = 32;

/** Slices to prefetch ahead when one level of a slice is `levelBytes` bytes. */
export function prefetchAhead(levelBytes: number): number {
  return Math.max(MIN_AHEAD, Math.min(MAX_AHEAD, Math.floor(PREFETCH_AHEAD_BYTES / Math.max(1, levelBytes))));
}

/**
 * Bytes of prefetches in flight at once. Over Remote-SSH or code-server they share one ordered connection with
 * the slice the user is waiting for: every prefetch already sent delays a `show` behind it. About three 512 KB
 * previews keep the host decoding while earlier ones travel; the next goes when one lands.
 */
export const PREFETCH_BYTES_IN_FLIGHT = 1.5 * 1024 * 1024;
/** Prefetches in flight at most, however small (each costs the host a decode of the full slice). */
export const MAX_PREFETCH_IN_FLIGHT = 4;

/** Prefetches allowed in flight when one is `levelBytes` bytes: at least 1. */
export function prefetchSlots(levelBytes: number): number {
  return Math.max(1, Math.min(MAX_PREFETCH_IN_FLIGHT, Math.floor(PREFETCH_BYTES_IN_FLIGHT / Math.max(1, levelBytes))));
}

/** A prefetch unanswered this long no longer holds the budget (a lost reply must not stop prefetching). */
export const PREFETCH_STALE_MS = 5000;

/**
 * Next slice to prefetch: the first planned one neither stored nor requested; undefined when `slots` prefetches
 * are already in flight. `key` maps a slice index to its store key (see levelKey); `covered` says a slice needs
 * no prefetch (by default: its key is stored).
 */
export function nextPrefetch(
  plan: number[], store: Pick<SliceStore, 'has' | 'inflight'>, now: number,
  key: (z: number) => number = (z) => z, covered: (z: number) => boolean = (z) => store.has(key(z)), slots = 2,
): number | undefined {
  let prefetching = 0;
  for (const r of store.inflight.values()) if (r.priority === 'prefetch' && now - r.since < PREFETCH_STALE_MS) prefetching++;
  if (prefetching >= slots) return undefined;
  return plan.find((z) => !covered(z) && !store.inflight.has(key(z)));
}

/** Clamps a requested slice index into the stack. */
export function clampSlice(z: number, depth: number): number {
  if (depth <= 0) return 0;
  return Math.min(depth - 1, Math.max(0, Math.round(z)));
}

/**
 * Slices whose display level is brought while the user rests on slice z (webview/controller.ts prefetchDisplay):
 * `ahead` in the direction of travel `step`, the one behind after the first two ahead; inside 0..depth-1. None
 * before the user moved (step 0): one who opened a stack and paints on its first slice has no direction, and over a
 * slow link each level would hold the live preview's results back behind a megabyte.
 */
export function displayPrefetchPlan(z: number, step: number, depth: number, ahead = 2): number[] {
  if (step === 0) return [];
  const unit = Math.sign(step);
  const forward = Array.from({ length: ahead }, (_, k) => z + (k + 1) * unit);
  return [...forward.slice(0, 2), z - unit, ...forward.slice(2)].filter((k) => k >= 0 && k < depth);
}

/**
 * Bytes of display levels brought ahead. While the user looks at a refined slice the link is idle: a reader who
 * steps about once a second builds a lead of several slices, so a burst of quick steps after it shows refined
 * frames at once (over a slow link each level is most of a second; back-to-back stepping beyond the lead stays bound
 * by the bytes of one level). The levels are fetched one at a time (displayPrefetchInFlight).
 */
export const DISPLAY_AHEAD_BYTES = 12 * 1024 * 1024;
export const MIN_DISPLAY_AHEAD = 2;
export const MAX_DISPLAY_AHEAD = 6;

/** Slices ahead whose display level is prefetched when one is `levelBytes` (raw) bytes: 6 of a 2048² uint16 slice at level 2. */
export function displayAhead(levelBytes: number): number {
  return Math.max(MIN_DISPLAY_AHEAD, Math.min(MAX_DISPLAY_AHEAD, Math.floor(DISPLAY_AHEAD_BYTES / Math.max(1, levelBytes))));
}

/**
 * Whether a display-level prefetch (a level finer than `coarse`, see levelKey) is still in flight: they go one at a
 * time, so a jump elsewhere waits behind one at most. Unanswered for PREFETCH_STALE_MS: no longer counted.
 */
export function displayPrefetchInFlight(inflight: SliceStore['inflight'], coarse: number, now: number): boolean {
  for (const [key, r] of inflight) if (r.priority === 'prefetch' && key % LEVEL_STRIDE < coarse && now - r.since < PREFETCH_STALE_MS) return true;
  return false;
}
