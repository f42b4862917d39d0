// Brush-size slider on a logarithmic scale: 1-200 px over ~150 px of screen put the sizes that matter most (foam
// walls, 1-6 px) in the slider's first pixels. On a log scale every doubling of the size gets the same travel,
// so 1 -> 2 px is as far as 100 -> 200 px. Pure (no DOM), unit-tested.

/** Slider positions 0..SLIDER_STEPS (fine enough that every integer size up to ~40 px has its own position). */
export const SLIDER_STEPS = 1000;

/** Brush diameter (integer px, min..max) at slider position `pos`. */
export function brushFromSlider(pos: number, min = 1, max = 200): number {
  const t = Math.min(1, Math.max(0, pos / SLIDER_STEPS));
  return Math.min(max, Math.max(min, Math.round(Math.exp(Math.log(min) + t * (Math.log(max) - Math.log(min))))));
}

/** Slider position showing brush diameter `px` (the inverse of brushFromSlider for integer sizes). */
export function sliderFromBrush(px: number, min = 1, max = 200): number {
  const v = Math.min(max, Math.max(min, px));
  return Math.round((SLIDER_STEPS * (Math.log(v) - Math.log(min))) / (Math.log(max) - Math.log(min)));
}

/** The next brush size for `[` (down) and `]` (up): 1 px steps up to 10 px, then 20 % steps. */
export function stepBrush(px: number, up: boolean): number {
  if (up) return px < 10 ? px + 1 : Math.round(px * 1.2);
  return px <= 10 ? px - 1 : Math.round(px / 1.2);
}
