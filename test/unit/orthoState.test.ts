// 3 views: on/off and the crosshair survive a tab switch or reload through the webview's view state.
import { describe, expect, it } from 'vitest';
import { parseViewState } from '../../webview/viewState';

describe('view state of the 3 views', () => {
  it('keeps ortho: true and an integer crosshair; drops anything else', () => {
    expect(parseViewState({ ortho: true, cross: { x: 12, y: 0 } })).toEqual({ ortho: true, cross: { x: 12, y: 0 } });
    expect(parseViewState({ ortho: 'yes', cross: { x: 1.5, y: 2 } })).toEqual({});
    expect(parseViewState({ ortho: false, cross: { x: -1, y: 2 } })).toEqual({});
    expect(parseViewState({ cross: [3, 4] })).toEqual({});
  });
});
