// Pixel-level helpers for MSDNet: the 8 flips/rotations of a slice (training augmentation, BatchNorm statistics,
// test-time averaging) and percentile input normalisation.

/** One of the 8 symmetries of the square: `map[dst] = src` pixel index, and the transformed size. */
export interface Dihedral { map: Int32Array; width: number; height: number }

const cache = new Map<string, Dihedral>();

/** k in 0..7: bit 2 mirrors left-right, bits 0-1 rotate by k%4 quarter turns (clockwise), applied after the mirror. */
export function dihedral(k: number, width: number, height: number): Dihedral {
  const key = `${k},${width},${height}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let w = width, h = height;
  let map = Int32Array.from({ length: w * h }, (_, i) => i);
  if (k & 4) {
    const m = new Int32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = map[y * w + (w - 1 - x)];
    map = m;
  }
  for (let r = 0; r < (k & 3); r++) {
    // clockwise quarter turn: new size h x w, dst(x', y') = src(x = y', y = h - 1 - x')
    const m = new Int32Array(w * h);
    const nw = h, nh = w;
    for (let y = 0; y < nh; y++) for (let x = 0; x < nw; x++) m[y * nw + x] = map[(h - 1 - x) * w + y];
    map = m; w = nw; h = nh;
  }
  const out = { map, width: w, height: h };
  if (cache.size > 64) cache.clear();
  cache.set(key, out);
  return out;
}

/**
 * dihedral(k) of the crop cw x ch at (x0, y0) of a slice `width` wide: its map indexes the whole slice, so
 * applyMapChannels and transformTargets read the crop straight from the slice.
 */
export function croppedDihedral(k: number, cw: number, ch: number, x0: number, y0: number, width: number): Dihedral {
  const t = dihedral(k, cw, ch), map = new Int32Array(t.map.length);
  for (let i = 0; i < map.length; i++) { const m = t.map[i], y = (m / cw) | 0; map[i] = (y0 + y) * width + x0 + (m - y * cw); }
  return { map, width: t.width, height: t.height };
}

export function applyMap<T extends Float32Array | Uint8Array>(src: T, t: Dihedral): T {
  const out = new (src.constructor as { new(n: number): T })(t.map.length);
  for (let i = 0; i < out.length; i++) out[i] = src[t.map[i]];
  return out;
}

/** applyMap of an image with `channels` interleaved values per pixel ([pixel * channels + c], 2.5-D inputs). */
export function applyMapChannels(src: Float32Array, t: Dihedral, channels: number): Float32Array {
  if (channels === 1) return applyMap(src, t);
  const out = new Float32Array(t.map.length * channels);
  for (let i = 0; i < t.map.length; i++) {
    const s = t.map[i] * channels, d = i * channels;
    for (let c = 0; c < channels; c++) out[d + c] = src[s + c];
  }
  return out;
}

/** Planes of one size interleaved per pixel: out[pixel * planes.length + c] = planes[c][pixel]. */
export function interleave(planes: Float32Array[]): Float32Array {
  if (planes.length === 1) return planes[0];
  const C = planes.length, n = planes[0].length, out = new Float32Array(n * C);
  for (let c = 0; c < C; c++) { const p = planes[c]; for (let i = 0; i < n; i++) out[i * C + c] = p[i]; }
  return out;
}

/** Adds a transformed per-pixel vector field (channels interleaved) back in the original orientation. */
export function accumulateInverse(dst: Float32Array, transformed: Float32Array, t: Dihedral, channels: number): void {
  for (let i = 0; i < t.map.length; i++) {
    const s = t.map[i] * channels, d = i * channels;
    for (let c = 0; c < channels; c++) dst[s + c] += transformed[d + c];
  }
}

/** low/high map to 0/1. Several stack channels (inputPlanes.ts): one per channel in `channels`, channel 0's repeated above. */
export interface Normalization { low: number; high: number; channels?: { low: number; high: number }[] }

/** The 1st and 99th percentiles of the pixels (a strided sample of at most ~1M values). */
export function percentileNormalization(images: Float32Array[], lowPct = 1, highPct = 99): Normalization {
  const total = images.reduce((s, a) => s + a.length, 0);
  const stride = Math.max(1, Math.floor(total / 1_000_000));
  const sample: number[] = [];
  for (const a of images) for (let i = 0; i < a.length; i += stride) if (Number.isFinite(a[i])) sample.push(a[i]);
  if (sample.length === 0) return { low: 0, high: 1 };
  const sorted = Float64Array.from(sample).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))];
  const low = at(lowPct);
  let high = at(highPct);
  if (!(high > low)) high = low + 1; // constant image: avoid dividing by zero
  return { low, high };
}

export function normalize(image: Float32Array, n: Normalization): Float32Array {
  const scale = 1 / (n.high - n.low);
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = (image[i] - n.low) * scale;
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}
