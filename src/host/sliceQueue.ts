// Which queued slice request the host serves next. Pure (no vscode, no I/O) so the order is unit-tested.
// Over Remote-SSH or code-server every byte posted to the webview shares one ordered connection, so the order in
// which the host starts work is the order the webview gets it; nothing can overtake a slice once posted.
// The order, relative to the focus (the slice the user looks at, and the direction they move in):
//   0. the focus slice at the preview level (or coarser): the user is waiting for it;
//   1. the previews of the next slices (NEAR_COST: two ahead in the direction of travel, one behind): a held key
//      reaches them within a few frames;
//   2. the focus slice at a finer level (the display level after a stepping pause, the exact readout): the user
//      paused there and waits for it; further prefetches would delay it by a trip through the connection each;
//   3. the other previews, nearest first in the direction of travel (behind counts double);
//   4. the rest (finer levels of other slices), newest first.
// Within a class a `show` goes before a prefetch.
// Finer levels of slices the user has left are stale: dropped, not served (see staleRequests).

import type { SlicePriority } from '../shared/protocol';

export interface SliceRequest {
  z: number;
  level: number;
  /** Channel and time point (absent: 0). The order only looks at z: every plane of the focus slice is the focus. */
  c?: number;
  t?: number;
  priority: SlicePriority;
  /** Arrival order (larger = newer). */
  seq: number;
}

export interface Focus {
  /** Slice the user looks at (last `show` request or `sliceShown`); -1 before any. */
  z: number;
  /** Direction of the last move: -1, 0 (none yet) or 1. */
  dir: number;
}

/** Prefetches further than this from the focus are dropped when the focus moves (the user went elsewhere). */
export const MAX_PREFETCH_DISTANCE = 48;

/** Distance cost (slices ahead, or twice the slices behind) up to which a preview goes before the focus's finer level. */
export const NEAR_COST = 2;

/** Sort key of a request: smaller goes first. */
export function requestRank(r: SliceRequest, focus: Focus, previewLevel: number): number {
  const coarse = r.level >= previewLevel;
  const asked = r.priority === 'show' ? 0 : 1;
  if (r.z === focus.z) return (coarse ? 0 : 2e6) + asked;
  if (coarse) {
    const d = r.z - focus.z;
    const ahead = focus.dir === 0 || Math.sign(d) === focus.dir;
    const cost = ahead ? Math.abs(d) : 2 * Math.abs(d);
    return (cost <= NEAR_COST ? 1e6 : 3e6) + cost * 2 + asked;
  }
  return 4e6;
}

/** Index in `queue` of the request to serve next, or -1 when empty. Ties: the newest request first. */
export function pickNext(queue: readonly SliceRequest[], focus: Focus, previewLevel: number): number {
  let best = -1;
  let bestRank = Infinity;
  for (let i = 0; i < queue.length; i++) {
    const rank = requestRank(queue[i], focus, previewLevel);
    if (rank < bestRank || (rank === bestRank && queue[i].seq > queue[best].seq)) {
      best = i;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Requests no longer worth serving once the focus is `focus`: finer-than-preview levels of other slices (the
 * refinement or exact readout of a slice the user stepped away from), and prefetches far from the focus.
 */
export function staleRequests(queue: readonly SliceRequest[], focus: Focus, previewLevel: number): SliceRequest[] {
  if (focus.z < 0) return [];
  return queue.filter((r) => r.z !== focus.z
    && (r.level < previewLevel || (r.priority === 'prefetch' && Math.abs(r.z - focus.z) > MAX_PREFETCH_DISTANCE)));
}

/** The focus after the user is seen on slice z. */
export function moveFocus(focus: Focus, z: number): Focus {
  if (z === focus.z) return focus;
  return { z, dir: focus.z < 0 ? 0 : Math.sign(z - focus.z) };
}
