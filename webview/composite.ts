// Composite view of a multi-channel slice: each channel through its own display window, tinted with its colour,
// and the tints added (clamped at white), as ImageJ's "Composite" mode and Fiji's default green/magenta/... LUTs.
// Pure (no DOM) so the mixing is unit-tested. A composite slice is stored as one typed array holding the C channel
// planes one after the other (plane c at c * n), so the slice store's byte budget counts it like any slice.

import type { DType, PixelArray } from '../src/shared/types';
import { lutDomain, windowGray, type DisplayWindow } from './lut';

export type Rgb = [number, number, number];

/** Default colours by channel count, like Fiji: 2 -> green, magenta; 3 -> red, green, blue; more cycle on. */
const PALETTE_2 = ['#00ff00', '#ff00ff'];
const PALETTE_N = ['#ff0000', '#00ff00', '#0000ff', '#00ffff', '#ff00ff', '#ffff00', '#ffffff'];

export function defaultChannelColors(channels: number): string[] {
  const palette = channels === 2 ? PALETTE_2 : PALETTE_N;
  return Array.from({ length: channels }, (_, c) => palette[c % palette.length]);
}

/** '#rrggbb' (or '#rgb') as [r, g, b] 0..255; undefined for anything else. */
export function parseHexColor(s: string): Rgb | undefined {
  const m = /^#([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(s.trim());
  if (!m) return undefined;
  const h = m[1].length === 3 ? m[1].split('').map((ch) => ch + ch).join('') : m[1];
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export interface CompositeChannel {
  color: Rgb;
  window: DisplayWindow;
  /** Hidden channels add nothing. */
  visible: boolean;
}

const OPAQUE = 0xff000000;

/** Gray level 0..255 of every value of a LUT dtype's domain under `w` (one table read per pixel after this). */
function grayTable(dtype: DType, w: DisplayWindow): Uint8Array | undefined {
  const d = lutDomain(dtype);
  if (!d) return undefined;
  const t = new Uint8Array(d.size);
  for (let i = 0; i < d.size; i++) t[i] = windowGray(i + d.offset, w);
  return t;
}

/**
 * Writes packed RGBA words (R,G,B,A byte order, as ImageCanvas's ImageData) for `n` pixels of a composite:
 * `planes` holds the channels one after the other (channel c at c * n). Each channel's gray level under its window
 * is scaled by its colour and the channels are summed per colour component, clamped at 255.
 */
export function compositeInto(planes: PixelArray, n: number, dtype: DType, channels: readonly CompositeChannel[], out: Uint32Array): void {
  if (planes.length < n * channels.length) throw new RangeError(`composite of ${channels.length} channels needs ${n * channels.length} values, got ${planes.length}`);
  if (out.length < n) throw new RangeError(`output holds ${out.length} pixels, slice has ${n}`);
  const r = new Uint16Array(n), g = new Uint16Array(n), b = new Uint16Array(n);
  const domain = lutDomain(dtype);
  channels.forEach((ch, c) => {
    if (!ch.visible) return;
    const [cr, cg, cb] = ch.color;
    // gray * colour / 255 for every gray level: per pixel one gray lookup and three table reads.
    const tr = new Uint8Array(256), tg = new Uint8Array(256), tb = new Uint8Array(256);
    for (let v = 0; v < 256; v++) { tr[v] = Math.round((v * cr) / 255); tg[v] = Math.round((v * cg) / 255); tb[v] = Math.round((v * cb) / 255); }
    const base = c * n;
    const table = grayTable(dtype, ch.window);
    if (table && domain) {
      const off = domain.offset;
      for (let i = 0; i < n; i++) {
        const v = table[planes[base + i] - off];
        r[i] += tr[v]; g[i] += tg[v]; b[i] += tb[v];
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = windowGray(planes[base + i], ch.window);
        r[i] += tr[v]; g[i] += tg[v]; b[i] += tb[v];
      }
    }
  });
  for (let i = 0; i < n; i++) {
    const R = r[i] > 255 ? 255 : r[i], G = g[i] > 255 ? 255 : g[i], B = b[i] > 255 ? 255 : b[i];
    out[i] = (OPAQUE | (B << 16) | (G << 8) | R) >>> 0;
  }
}

/** The C planes of one slice level, gathered as they arrive, then joined into one array for the store. */
export class PlaneAssembler {
  private readonly parts = new Map<number, (PixelArray | undefined)[]>();

  constructor(private readonly channels: number, private readonly maxPending = 64) {}

  /** Adds channel c of the composite stored under `key`; returns the joined planes once every channel is in. */
  add(key: number, c: number, pixels: PixelArray): PixelArray | undefined {
    let have = this.parts.get(key);
    if (!have) {
      if (this.parts.size >= this.maxPending) this.parts.delete(this.parts.keys().next().value as number); // oldest first
      have = new Array<PixelArray | undefined>(this.channels).fill(undefined);
      this.parts.set(key, have);
    }
    have[c] = pixels;
    if (have.some((p) => p === undefined)) return undefined;
    this.parts.delete(key);
    const n = pixels.length;
    const joined = new (pixels.constructor as new (len: number) => PixelArray)(n * this.channels);
    have.forEach((p, k) => joined.set(p as never, k * n));
    return joined;
  }

  /** Channels of `key` still missing (all of them when none arrived). */
  missing(key: number): number[] {
    const have = this.parts.get(key);
    return Array.from({ length: this.channels }, (_, c) => c).filter((c) => !have?.[c]);
  }

  clear(): void { this.parts.clear(); }
}

/** Plane c of a joined composite array (a view, no copy). */
export function planeOf(joined: PixelArray, c: number, n: number): PixelArray {
  return joined.subarray(c * n, (c + 1) * n) as PixelArray;
}
