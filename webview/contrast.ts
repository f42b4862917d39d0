// The display window (window/level) of the viewer: automatic on the first slice, then kept while stepping (like
// ImageJ) so brightness does not jump from slice to slice; the min/max boxes and the histogram show it.

import type { DType, PixelArray } from '../src/shared/types';
import { formatLevel } from './format';
import { drawHistogram } from './histogramView';
import type { DisplayWindow } from './lut';
import { autoWindow, computeHistogram, type Histogram } from './stats';
import type { ViewerDom } from './ui';

export class Contrast {
  window: DisplayWindow = { min: 0, max: 1 };
  private windowSet = false;
  /** Level the automatic first window was computed from; a finer level recomputes it (until the user sets one). */
  private autoWindowLevel: number | undefined;
  private histogram: { z: number; level: number; h: Histogram } | undefined;
  private histogramTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly dom: ViewerDom, private readonly dtype: () => DType, private readonly changed: (w: DisplayWindow) => void) {}

  /** Before painting level `level` of slice z: the automatic window of the first slice (again from a finer level). */
  beforePaint(z: number, level: number, pixels: PixelArray): void {
    if (!this.windowSet || (this.autoWindowLevel !== undefined && level < this.autoWindowLevel)) {
      this.set(autoWindow(this.histogramOf(z, level, pixels)), false);
      this.autoWindowLevel = level;
    }
  }

  /** `byUser`: the user's (or auto-contrast's) window, which stays; it repaints. */
  set(w: DisplayWindow, byUser = true): void {
    if (!Number.isFinite(w.min) || !Number.isFinite(w.max)) return;
    if (byUser) this.autoWindowLevel = undefined;
    this.window = { min: Math.min(w.min, w.max), max: Math.max(w.min, w.max) };
    this.windowSet = true;
    const dtype = this.dtype();
    this.dom.levelMin.value = formatLevel(this.window.min, dtype);
    this.dom.levelMax.value = formatLevel(this.window.max, dtype);
    if (byUser) this.changed(this.window);
  }

  /**
   * Another channel or time point is shown: forget the histogram (it was of other pixels) and take that channel's
   * window, or compute one automatically on the next paint when it has none yet.
   */
  switchImage(w: DisplayWindow | undefined): void {
    this.histogram = undefined;
    if (w) this.set(w, false);
    else {
      this.windowSet = false;
      this.autoWindowLevel = undefined;
    }
  }

  auto(z: number, level: number, pixels: PixelArray): void {
    this.set(autoWindow(this.histogramOf(z, level, pixels)));
  }

  /** Reads the min/max inputs (after the user typed in them). */
  fromInputs(): void {
    const min = Number(this.dom.levelMin.value);
    const max = Number(this.dom.levelMax.value);
    if (this.dom.levelMin.value.trim() === '' || this.dom.levelMax.value.trim() === '' || !Number.isFinite(min) || !Number.isFinite(max)) {
      this.set(this.window, false); // put the last good values back
      return;
    }
    this.set({ min, max });
  }

  /** Histogram of the finest level of z at hand (a coarse level's block means: close, a little narrower). */
  private histogramOf(z: number, level: number, pixels: PixelArray): Histogram {
    if (this.histogram?.z !== z || this.histogram.level !== level) this.histogram = { z, level, h: computeHistogram(pixels, this.dtype()) };
    return this.histogram.h;
  }

  /** The histogram costs a pass over the slice: drawn when stepping pauses, not on every key repeat. */
  scheduleHistogram(shown: () => { z: number; level: number; pixels: PixelArray } | undefined): void {
    clearTimeout(this.histogramTimer);
    this.histogramTimer = setTimeout(() => {
      const s = shown();
      if (s) drawHistogram(this.dom.histogram, this.histogramOf(s.z, s.level, s.pixels), this.window);
    }, 80);
  }
}
