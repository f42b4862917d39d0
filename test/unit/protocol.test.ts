import { describe, expect, it } from 'vitest';
import { parseWebviewMessage } from '../../src/shared/protocol';
import { PIXEL_ARRAYS, isDType } from '../../src/shared/types';

const limits = { depth: 32 };

function reason(raw: unknown, l = limits): string {
  const r = parseWebviewMessage(raw, l);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(raw)}`);
  return r.reason;
}

describe('parseWebviewMessage', () => {
  it('accepts the well-formed messages and returns clean copies', () => {
    expect(parseWebviewMessage({ type: 'ready' }, limits)).toEqual({ ok: true, message: { type: 'ready' } });
    expect(parseWebviewMessage({ type: 'requestSlice', z: 31, priority: 'prefetch' }, limits))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 31, priority: 'prefetch' } });
    expect(parseWebviewMessage({ type: 'requestSlice', z: 0, priority: 'show' }, limits))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 0, priority: 'show' } });
    expect(parseWebviewMessage({ type: 'sliceShown', z: 3 }, limits)).toEqual({ ok: true, message: { type: 'sliceShown', z: 3 } });
  });

  it('requestSlice: an optional resolution level, a power of two 1..64', () => {
    expect(parseWebviewMessage({ type: 'requestSlice', z: 2, priority: 'prefetch', level: 4 }, limits))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 2, priority: 'prefetch', level: 4 } });
    expect(parseWebviewMessage({ type: 'requestSlice', z: 2, priority: 'show', level: 1 }, limits))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 2, priority: 'show', level: 1 } });
    expect(parseWebviewMessage({ type: 'requestSlice', z: 2, priority: 'show', level: 64 }, limits).ok).toBe(true);
    for (const level of [0, 3, 6, 128, -2, 1.5, NaN, '4', null, true, {}]) {
      expect(reason({ type: 'requestSlice', z: 2, priority: 'show', level })).toMatch(/level must be a power of two 1\.\.64/);
    }
    expect(reason({ type: 'requestSlice', z: 2, priority: 'show', level: 2, factor: 2 })).toMatch(/unexpected field\(s\) factor/);
  });

  it('requestSlice / sliceShown: an optional channel and time point inside the stack', () => {
    const hyper = { depth: 32, channels: 3, frames: 2 };
    expect(parseWebviewMessage({ type: 'requestSlice', z: 2, priority: 'show', level: 4, c: 2, t: 1 }, hyper))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 2, priority: 'show', level: 4, c: 2, t: 1 } });
    expect(parseWebviewMessage({ type: 'requestSlice', z: 2, priority: 'prefetch', c: 1 }, hyper))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 2, priority: 'prefetch', c: 1, t: 0 } });
    // Channel 0 at time point 0 reads as before: no fields.
    expect(parseWebviewMessage({ type: 'requestSlice', z: 2, priority: 'show', c: 0, t: 0 }, hyper))
      .toEqual({ ok: true, message: { type: 'requestSlice', z: 2, priority: 'show' } });
    expect(parseWebviewMessage({ type: 'sliceShown', z: 3, c: 1, t: 1 }, hyper)).toEqual({ ok: true, message: { type: 'sliceShown', z: 3, c: 1, t: 1 } });
    expect(reason({ type: 'requestSlice', z: 2, priority: 'show', c: 3 }, hyper)).toMatch(/channel 3 is outside 0\.\.2/);
    expect(reason({ type: 'requestSlice', z: 2, priority: 'show', t: 2 }, hyper)).toMatch(/time point 2 is outside 0\.\.1/);
    expect(reason({ type: 'sliceShown', z: 2, c: -1 }, hyper)).toMatch(/channel -1 is outside/);
    for (const c of [1.5, '1', null, NaN]) expect(reason({ type: 'requestSlice', z: 2, priority: 'show', c }, hyper)).toMatch(/channel must be an integer/);
    // A one-channel stack (no channels in the limits) takes only channel 0.
    expect(reason({ type: 'requestSlice', z: 2, priority: 'show', c: 1 })).toMatch(/channel 1 is outside 0\.\.0/);
    expect(reason({ type: 'sliceShown', z: 2, t: 1 })).toMatch(/time point 1 is outside 0\.\.0/);
  });

  it('rejects non-objects and unknown types', () => {
    for (const raw of [null, undefined, 3, 'ready', [], [{ type: 'ready' }]]) expect(reason(raw)).toMatch(/must be an object/);
    expect(reason({})).toMatch(/unknown message type/);
    expect(reason({ type: 'deleteFile' })).toMatch(/unknown message type "deleteFile"/);
    expect(reason({ type: 'toString' })).toMatch(/unknown message type/);
    expect(reason({ type: '__proto__' })).toMatch(/unknown message type/);
    expect(reason({ type: 7 })).toMatch(/unknown message type 7/);
  });

  it('rejects non-integer and out-of-range slice indices', () => {
    for (const z of [1.5, NaN, Infinity, '3', null, undefined, true]) {
      expect(reason({ type: 'requestSlice', z, priority: 'show' })).toMatch(/must be an integer/);
      expect(reason({ type: 'sliceShown', z })).toMatch(/must be an integer/);
    }
    expect(reason({ type: 'requestSlice', z: 32, priority: 'show' })).toMatch(/outside 0\.\.31/);
    expect(reason({ type: 'requestSlice', z: -1, priority: 'show' })).toMatch(/outside/);
    expect(reason({ type: 'sliceShown', z: 1e9 })).toMatch(/outside/);
    // No stack open (bad file): every index is out of range.
    expect(reason({ type: 'requestSlice', z: 0, priority: 'show' }, { depth: 0 })).toMatch(/outside/);
  });

  it('rejects bad priorities and unexpected fields', () => {
    expect(reason({ type: 'requestSlice', z: 1, priority: 'urgent' })).toMatch(/priority/);
    expect(reason({ type: 'requestSlice', z: 1 })).toMatch(/priority/);
    expect(reason({ type: 'ready', path: '/etc/passwd' })).toMatch(/unexpected field\(s\) path/);
    expect(reason({ type: 'sliceShown', z: 1, extra: 1 })).toMatch(/unexpected/);
  });

  it('setSegmentationView: accepts classes or uncertainty, rejects anything else', () => {
    expect(parseWebviewMessage({ type: 'setSegmentationView', view: 'uncertainty' }, limits)).toEqual({ ok: true, message: { type: 'setSegmentationView', view: 'uncertainty' } });
    expect(parseWebviewMessage({ type: 'setSegmentationView', view: 'classes' }, limits)).toEqual({ ok: true, message: { type: 'setSegmentationView', view: 'classes' } });
    for (const view of ['heat', 1, null, undefined]) expect(reason({ type: 'setSegmentationView', view })).toMatch(/view must be/);
    expect(reason({ type: 'setSegmentationView', view: 'classes', z: 1 })).toMatch(/unexpected field\(s\) z/);
  });

  it('setLivePreview: accepts a boolean toggle, rejects anything else', () => {
    expect(parseWebviewMessage({ type: 'setLivePreview', enabled: true }, limits)).toEqual({ ok: true, message: { type: 'setLivePreview', enabled: true } });
    expect(parseWebviewMessage({ type: 'setLivePreview', enabled: false }, limits)).toEqual({ ok: true, message: { type: 'setLivePreview', enabled: false } });
    for (const enabled of [1, 'true', null, undefined, {}]) expect(reason({ type: 'setLivePreview', enabled })).toMatch(/enabled must be a boolean/);
    expect(reason({ type: 'setLivePreview', enabled: true, z: 3 })).toMatch(/unexpected field\(s\) z/);
  });

  it('openModelPanel (the next-step hint link): no fields; a command name cannot ride along', () => {
    expect(parseWebviewMessage({ type: 'openModelPanel' }, limits)).toEqual({ ok: true, message: { type: 'openModelPanel' } });
    expect(reason({ type: 'openModelPanel', command: 'workbench.action.terminal.new' })).toMatch(/unexpected field\(s\) command in openModelPanel/);
  });

  it('3 views: requestPlane, planeStroke and closePlanes are checked against the stack (XZ: width x depth, YZ: depth x height)', () => {
    const l = { depth: 10, width: 64, height: 48 };
    expect(parseWebviewMessage({ type: 'requestPlane', axis: 'xz', index: 47, level: 4 }, l))
      .toEqual({ ok: true, message: { type: 'requestPlane', axis: 'xz', index: 47, level: 4 } });
    expect(parseWebviewMessage({ type: 'requestPlane', axis: 'yz', index: 63, level: 1, c: 0, t: 0 }, l))
      .toEqual({ ok: true, message: { type: 'requestPlane', axis: 'yz', index: 63, level: 1 } });
    expect(reason({ type: 'requestPlane', axis: 'xy', index: 0, level: 1 }, l)).toMatch(/axis must be "xz" or "yz"/);
    expect(reason({ type: 'requestPlane', axis: 'xz', index: 48, level: 1 }, l)).toMatch(/xz plane index must be an integer 0..47, got 48/);
    expect(reason({ type: 'requestPlane', axis: 'yz', index: 64, level: 1 }, l)).toMatch(/0..63, got 64/);
    expect(reason({ type: 'requestPlane', axis: 'yz', index: 1, level: 3 }, l)).toMatch(/level must be a power of two/);
    expect(reason({ type: 'requestPlane', axis: 'yz', index: 1, level: 2, c: 1 }, l)).toMatch(/channel 1 is outside 0..0/);
    const rle = new Uint8Array([5, 2]);
    expect(parseWebviewMessage({ type: 'planeStroke', axis: 'xz', index: 3, x: 60, y: 8, width: 4, height: 2, rle, tool: 'brush' }, l))
      .toEqual({ ok: true, message: { type: 'planeStroke', axis: 'xz', index: 3, x: 60, y: 8, width: 4, height: 2, rle, tool: 'brush' } });
    expect(reason({ type: 'planeStroke', axis: 'xz', index: 3, x: 60, y: 9, width: 4, height: 2, rle, tool: 'brush' }, l)).toMatch(/not inside the 64 x 10 xz plane/);
    expect(parseWebviewMessage({ type: 'planeStroke', axis: 'yz', index: 3, x: 6, y: 40, width: 4, height: 8, rle, tool: 'eraser' }, l).ok).toBe(true);
    expect(reason({ type: 'planeStroke', axis: 'yz', index: 3, x: 8, y: 0, width: 4, height: 8, rle, tool: 'brush' }, l)).toMatch(/not inside the 10 x 48 yz plane/);
    expect(reason({ type: 'planeStroke', axis: 'yz', index: 3, x: 0, y: 0, width: 4, height: 8, rle: [5, 2], tool: 'brush' }, l)).toMatch(/rle must be a non-empty binary buffer/);
    expect(reason({ type: 'planeStroke', axis: 'yz', index: 3, x: 0, y: 0, width: 4, height: 8, rle, tool: 'knife' }, l)).toMatch(/unknown tool/);
    expect(parseWebviewMessage({ type: 'closePlanes' }, l)).toEqual({ ok: true, message: { type: 'closePlanes' } });
    expect(reason({ type: 'closePlanes', axis: 'xz' }, l)).toMatch(/unexpected field\(s\) axis/);
  });
});

describe('dtype helpers', () => {
  it('maps every dtype to a typed array of the right width', () => {
    expect(PIXEL_ARRAYS.uint16.BYTES_PER_ELEMENT).toBe(2);
    expect(PIXEL_ARRAYS.float64.BYTES_PER_ELEMENT).toBe(8);
    expect(isDType('int8')).toBe(true);
    expect(isDType('rgb')).toBe(false);
    expect(isDType('constructor')).toBe(false);
  });
});

describe('packed host messages (packedProblem)', () => {
  const data = new ArrayBuffer(16);
  it('accepts the packable binary fields of known messages', async () => {
    const { packedProblem } = await import('../../src/shared/protocol');
    expect(packedProblem({ type: 'packed', fields: ['data'], message: { type: 'slice', data } })).toBeUndefined();
    expect(packedProblem({ type: 'packed', fields: ['rle', 'from'], message: { type: 'labelPatch', rle: data, from: new Uint8Array(4) } })).toBeUndefined();
  });
  it('refuses other messages, other fields, non-binary fields and an empty list, saying which', async () => {
    const { packedProblem } = await import('../../src/shared/protocol');
    expect(packedProblem({ type: 'packed', fields: ['message'], message: { type: 'error', message: 'x' } })).toMatch(/"error" message cannot be packed/);
    expect(packedProblem({ type: 'packed', fields: ['z'], message: { type: 'slice', z: 1 } })).toMatch(/field "z" of slice/);
    expect(packedProblem({ type: 'packed', fields: ['data'], message: { type: 'slice', data: 'abc' } })).toMatch(/not binary/);
    expect(packedProblem({ type: 'packed', fields: [], message: { type: 'slice', data } })).toMatch(/non-empty/);
    expect(packedProblem({ type: 'packed', fields: ['data'] })).toMatch(/without an inner message/);
  });
});
