// Cache and dedupe keys of resolution levels, shared by the host's level cache (src/core/levels/levels.ts, the
// slice server) and the webview's slice store (webview/sliceStore.ts, webview/channels.ts). Pure.

/** Slices per plane the keys leave room for (2^24); planes up to 2^22 (C x T) keep the keys exact doubles. */
const PLANE_STRIDE = 2 ** 24;

/** Levels per slice the keys leave room for: level f (1..64) is `key % LEVEL_STRIDE`. */
export const LEVEL_STRIDE = 128;

/**
 * Key of level f (1, 2, 4, ... 64) of slice z of plane `plane` (planeIndex(c, t, C) on the host; a channel at a time
 * point, or a composite, in the webview: webview/channels.ts; 0 for a one-channel stack, whose keys stay z * 128 + f).
 * Each level of each plane is cached on its own. Labels have no plane: one label volume serves every channel and
 * time point.
 */
export function levelKey(z: number, f: number, plane = 0): number {
  return (plane * PLANE_STRIDE + z) * LEVEL_STRIDE + f;
}

/** Plane number of channel c at time point t in a stack of `channels` channels (absent: 1). */
export function planeIndex(c: number, t: number, channels = 1): number {
  return t * channels + c;
}
