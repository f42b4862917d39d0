// Pure logic of the viewer's controls: slice keys (one direction: down/right = next slice), who gets a key when a
// panel control has the focus, the logarithmic brush-size slider, and the view state read back after a tab
// switch or reload.
import { describe, expect, it } from 'vitest';
import { brushFromSlider, SLIDER_STEPS, sliderFromBrush, stepBrush } from '../../webview/brushScale';
import { keyOwner, sliceKey } from '../../webview/keys';
import { parseViewState } from '../../webview/viewState';

describe('slice keys', () => {
  it('down, right and PageDown go forward (like wheel-down); up, left and PageUp go back', () => {
    expect(sliceKey('ArrowDown')).toBe(1);
    expect(sliceKey('ArrowRight')).toBe(1);
    expect(sliceKey('PageDown')).toBe(10);
    expect(sliceKey('ArrowUp')).toBe(-1);
    expect(sliceKey('ArrowLeft')).toBe(-1);
    expect(sliceKey('PageUp')).toBe(-10);
    expect(sliceKey('Home')).toBe('first');
    expect(sliceKey('End')).toBe('last');
    expect(sliceKey('2')).toBeUndefined();
  });
});

describe('key owner', () => {
  it('class keys reach the viewer from a checkbox, a button, a slider, a colour input or the body', () => {
    for (const t of [{ tag: 'INPUT', type: 'checkbox' }, { tag: 'BUTTON' }, { tag: 'INPUT', type: 'range' }, { tag: 'INPUT', type: 'color' }, { tag: 'BODY' }, { tag: 'CANVAS' }, { tag: 'SELECT' }]) {
      expect(keyOwner(t, '2'), JSON.stringify(t)).toBe('viewer');
      expect(keyOwner(t, 'b'), JSON.stringify(t)).toBe('viewer');
    }
  });

  it('typing in a text or number box stays in the box', () => {
    for (const t of [{ tag: 'INPUT', type: 'text' }, { tag: 'INPUT', type: 'number' }, { tag: 'INPUT' }, { tag: 'TEXTAREA' }, { tag: 'DIV', editable: true }]) {
      expect(keyOwner(t, '2')).toBe('native');
      expect(keyOwner(t, 'ArrowDown')).toBe('native');
    }
  });

  it('arrows move another slider or a select natively; the slice slider follows the viewer direction', () => {
    expect(keyOwner({ tag: 'INPUT', type: 'range' }, 'ArrowLeft')).toBe('native');
    expect(keyOwner({ tag: 'SELECT' }, 'ArrowDown')).toBe('native');
    expect(keyOwner({ tag: 'INPUT', type: 'range', sliceSlider: true }, 'ArrowDown')).toBe('viewer');
    expect(keyOwner({ tag: 'INPUT', type: 'checkbox' }, 'ArrowDown')).toBe('viewer');
  });

  it('Space and Enter still activate a focused button or checkbox', () => {
    expect(keyOwner({ tag: 'BUTTON' }, ' ')).toBe('native');
    expect(keyOwner({ tag: 'INPUT', type: 'checkbox' }, 'Enter')).toBe('native');
    expect(keyOwner({ tag: 'CANVAS' }, ' ')).toBe('viewer'); // Space+drag pans
  });
});

describe('brush-size slider (log scale)', () => {
  it('spans 1..200 px and is monotone', () => {
    expect(brushFromSlider(0)).toBe(1);
    expect(brushFromSlider(SLIDER_STEPS)).toBe(200);
    let last = 0;
    for (let p = 0; p <= SLIDER_STEPS; p++) {
      const b = brushFromSlider(p);
      expect(b).toBeGreaterThanOrEqual(last);
      last = b;
    }
  });

  it('every size 1..200 round-trips, and 1-6 px take a third of the slider (50 px of a 147 px slider)', () => {
    for (let px = 1; px <= 200; px++) expect(brushFromSlider(sliderFromBrush(px))).toBe(px);
    // Screen pixels per slider position on a 147 px slider: the travel from 1 to 6 px.
    const travel = ((sliderFromBrush(6) - sliderFromBrush(1)) / SLIDER_STEPS) * 147;
    expect(travel).toBeGreaterThan(45);
    // The old linear slider gave 1-6 px (6-1)/199*147 = 3.7 px of travel.
    // Each size below 10 px gets at least 2.5 screen px of its own (a mouse can hit it).
    for (let px = 1; px < 10; px++) expect(((sliderFromBrush(px + 1) - sliderFromBrush(px)) / SLIDER_STEPS) * 147).toBeGreaterThan(2.5);
  });

  it('[ and ] step by 1 px up to 10 px, then by 20 %', () => {
    expect(stepBrush(1, true)).toBe(2);
    expect(stepBrush(2, false)).toBe(1);
    expect(stepBrush(10, true)).toBe(12);
    expect(stepBrush(12, false)).toBe(10);
  });
});

describe('view state', () => {
  it('keeps the valid fields and drops the rest', () => {
    const s = parseViewState({
      z: 7, window: { min: 0, max: 1 }, view: { scale: 2, cx: 10, cy: 20 }, tool: 'brush', classIndex: 2, brush: 7, fillTolerance: 0.2,
      segmentationOpacity: 1, livePreviewOpacity: 0.3, hint: 'dismissed', junk: 1,
    });
    expect(s).toEqual({ z: 7, window: { min: 0, max: 1 }, view: { scale: 2, cx: 10, cy: 20 }, tool: 'brush', classIndex: 2, brush: 7, fillTolerance: 0.2, segmentationOpacity: 1, livePreviewOpacity: 0.3, hint: 'dismissed' });
  });

  it('a state from an older version or a damaged one gives back only what is valid', () => {
    expect(parseViewState(undefined)).toEqual({});
    expect(parseViewState('x')).toEqual({});
    expect(parseViewState({ z: 3, window: { min: 0, max: 1 } })).toEqual({ z: 3, window: { min: 0, max: 1 } });
    expect(parseViewState({ z: -1, tool: 'spray', classIndex: 0, brush: 0, fillTolerance: 2, segmentationOpacity: NaN, view: { scale: 0, cx: 1, cy: 1 }, hint: 'x' })).toEqual({});
  });
});
