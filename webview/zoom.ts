// Zoom and pan math for the image canvas. Pure (no DOM).
// A view maps image pixel coordinates to viewport CSS pixels: screen = image * scale + (tx, ty).

export interface View {
  scale: number;
  tx: number;
  ty: number;
}

export const MIN_SCALE = 1 / 64;
export const MAX_SCALE = 64;

export function clampScale(s: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));
}

/** Whole image visible and centred, with `margin` CSS pixels on the tighter side. */
export function fitView(imageW: number, imageH: number, viewW: number, viewH: number, margin = 8): View {
  const availW = Math.max(1, viewW - 2 * margin);
  const availH = Math.max(1, viewH - 2 * margin);
  const scale = clampScale(Math.min(availW / imageW, availH / imageH));
  return centred(imageW, imageH, viewW, viewH, scale);
}

/** One image pixel per device pixel, centred on the current view's centre (or the image centre). */
export function oneToOneView(imageW: number, imageH: number, viewW: number, viewH: number, devicePixelRatio = 1, current?: View): View {
  const scale = clampScale(1 / devicePixelRatio);
  if (!current) return centred(imageW, imageH, viewW, viewH, scale);
  return zoomAbout(current, scale / current.scale, viewW / 2, viewH / 2);
}

function centred(imageW: number, imageH: number, viewW: number, viewH: number, scale: number): View {
  return { scale, tx: (viewW - imageW * scale) / 2, ty: (viewH - imageH * scale) / 2 };
}

/** Multiplies the scale by `factor` keeping the image point under (px, py) fixed on screen. */
export function zoomAbout(v: View, factor: number, px: number, py: number): View {
  const scale = clampScale(v.scale * factor);
  const k = scale / v.scale;
  return { scale, tx: px - (px - v.tx) * k, ty: py - (py - v.ty) * k };
}

export function pan(v: View, dx: number, dy: number): View {
  return { scale: v.scale, tx: v.tx + dx, ty: v.ty + dy };
}

/** Image pixel (integer column/row) under a viewport point, or undefined outside the image. */
export function imagePixelAt(v: View, sx: number, sy: number, imageW: number, imageH: number): { x: number; y: number } | undefined {
  const x = Math.floor((sx - v.tx) / v.scale);
  const y = Math.floor((sy - v.ty) / v.scale);
  if (x < 0 || y < 0 || x >= imageW || y >= imageH) return undefined;
  return { x, y };
}

/** Zoom factor for one wheel event; pixel deltas (trackpads) zoom smoothly, line/page deltas in steps. */
export function wheelZoomFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 40 : deltaMode === 2 ? deltaY * 800 : deltaY;
  return Math.exp(-pixels * 0.0025);
}

/**
 * Turns wheel deltas into whole slice steps. A mouse-wheel notch (a line/page delta, or a pixel delta of at
 * least `notch` px, as Chromium reports 53-120 px per notch) is one slice; small trackpad deltas accumulate
 * until they add up to `notch` px. Returns the steps to take now and the remainder for the next event.
 */
export function wheelSliceSteps(accumulated: number, deltaY: number, deltaMode: number, notch = 40): { steps: number; rest: number } {
  if (deltaY === 0) return { steps: 0, rest: accumulated };
  if (deltaMode !== 0 || Math.abs(deltaY) >= notch) return { steps: Math.sign(deltaY), rest: 0 };
  // Leftovers from the other direction are dropped when the user reverses.
  const total = Math.sign(accumulated) === -Math.sign(deltaY) ? deltaY : accumulated + deltaY;
  const steps = Math.trunc(total / notch) + 0; // + 0 turns -0 into 0
  return { steps, rest: total - steps * notch };
}
