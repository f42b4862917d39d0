// Which plane(s) of a multi-channel / time-lapse stack the viewer shows: one channel, or the composite of all
// channels, at one time point. Pure state (no DOM; the panel is channelPanel.ts) used by the controller to key its
// slice store and to ask the host for planes. Keys (levelKey's third argument):
//   one channel c at time point t -> planeIndex(c, t, C) (the plane's own number, as on the host);
//   the composite at time point t -> C * T + t (past every real plane: the joined C planes of one slice).
// Labels have no plane: one label volume serves every channel and time point, painted per z.

import type { PixelArray } from '../src/shared/types';
import type { ViewerStackInfo } from '../src/shared/protocol';
import { compositeInto, defaultChannelColors, parseHexColor, PlaneAssembler, planeOf, type CompositeChannel } from './composite';
import type { DisplayWindow } from './lut';
import { levelKey } from '../src/shared/levels/levelKey';
import type { DType } from '../src/shared/types';

export type ChannelMode = 'single' | 'composite';

export interface PlaneFields { c?: number; t?: number }

/** `{c, t}` for a message, without zeros (a one-channel stack's messages stay as they were). */
export function planeFields(c: number, t: number): PlaneFields {
  return c || t ? { c, t } : {};
}

/** Store-key plane of one channel, or of the composite (c undefined). */
export function storePlane(c: number | undefined, t: number, channels: number, frames: number): number {
  return c === undefined ? channels * frames + t : t * channels + c;
}

export class ChannelView {
  readonly channels: number;
  readonly frames: number;
  mode: ChannelMode;
  /** Channel shown in single mode. */
  channel = 0;
  /** Time point shown. */
  time = 0;
  readonly colors: string[];
  /** Per-channel display windows (undefined: automatic on the next paint of that channel). */
  readonly windows: (DisplayWindow | undefined)[];
  readonly visible: boolean[];
  private readonly assembler: PlaneAssembler;

  constructor(info: Pick<ViewerStackInfo, 'channels' | 'frames' | 'channelColors'>) {
    this.channels = Math.max(1, info.channels ?? 1);
    this.frames = Math.max(1, info.frames ?? 1);
    const defaults = defaultChannelColors(this.channels);
    this.colors = defaults.map((d, c) => (info.channelColors?.[c] && parseHexColor(info.channelColors[c]) ? info.channelColors[c] : d));
    this.windows = new Array<DisplayWindow | undefined>(this.channels).fill(undefined);
    this.visible = new Array<boolean>(this.channels).fill(true);
    // Several channels open as a composite, like Fiji's default for hyperstacks; the selector picks one channel.
    this.mode = this.channels > 1 ? 'composite' : 'single';
    this.assembler = new PlaneAssembler(this.channels);
  }

  get composite(): boolean {
    return this.mode === 'composite';
  }

  /** Key plane of what is shown now. */
  get plane(): number {
    return storePlane(this.composite ? undefined : this.channel, this.time, this.channels, this.frames);
  }

  /** Store key of level `level` of slice z as shown now. */
  key(z: number, level: number): number {
    return levelKey(z, level, this.plane);
  }

  /**
   * Store key an answer for (z, level, c, t) counts toward: the composite's key when it is a channel of the shown
   * composite, else the plane's own key.
   */
  keyOf(z: number, level: number, c: number, t: number): number {
    if (this.composite && t === this.time) return levelKey(z, level, storePlane(undefined, t, this.channels, this.frames));
    return levelKey(z, level, storePlane(c, t, this.channels, this.frames));
  }

  /** Planes to ask the host for to show level `level` of slice z: one, or the composite's missing channels. */
  planesFor(z: number, level: number): PlaneFields[] {
    if (!this.composite) return [planeFields(this.channel, this.time)];
    return this.assembler.missing(this.key(z, level)).map((c) => planeFields(c, this.time));
  }

  /**
   * A plane arrived: what to store (key and array), or undefined while a composite still misses channels. A plane
   * of another time point, or a single channel while the composite is shown, is stored under its own key.
   */
  accept(z: number, level: number, c: number, t: number, pixels: PixelArray): { key: number; pixels: PixelArray } | undefined {
    const key = this.keyOf(z, level, c, t);
    if (!this.composite || t !== this.time) return { key, pixels };
    const joined = this.assembler.add(key, c, pixels);
    return joined && { key, pixels: joined };
  }

  /** The channel the live preview and jobs read: the one shown, channel 0 in the composite. */
  get readChannel(): number {
    return this.composite ? 0 : this.channel;
  }

  /** Shows channel c alone (undefined: the composite). */
  select(c: number | undefined): void {
    if (c === undefined) this.mode = 'composite';
    else { this.mode = 'single'; this.channel = Math.min(this.channels - 1, Math.max(0, c)); }
  }

  setTime(t: number): void {
    this.time = Math.min(this.frames - 1, Math.max(0, Math.round(t)));
    this.assembler.clear();
  }

  /** Per-channel settings for compositeInto (a channel without a window yet shows 0..1 until auto sets one). */
  compositeChannels(): CompositeChannel[] {
    return this.colors.map((hex, c) => ({ color: parseHexColor(hex) ?? [255, 255, 255], window: this.windows[c] ?? { min: 0, max: 1 }, visible: this.visible[c] }));
  }

  /** Paints a joined composite array (n pixels per channel) into RGBA words. */
  draw(joined: PixelArray, n: number, dtype: DType, out: Uint32Array): void {
    compositeInto(joined, n, dtype, this.compositeChannels(), out);
  }

  /** Channel c of a joined composite array (n pixels per channel). */
  planeOf(joined: PixelArray, c: number, n: number): PixelArray {
    return planeOf(joined, c, n);
  }

  /** `Channel 2 / 3 · t 1 / 5` for the status line. */
  describe(): string {
    const parts: string[] = [];
    if (this.channels > 1) parts.push(this.composite ? `Composite (${this.channels} channels)` : `Channel ${this.channel + 1} / ${this.channels}`);
    if (this.frames > 1) parts.push(`Time ${this.time + 1} / ${this.frames}`);
    return parts.join(' · ');
  }
}
