// Every message from the Model panel webview is checked like the viewer's (src/shared/protocol/validate.ts):
// object, known type, no extra keys, typed fields.
import { describe, expect, it } from 'vitest';
import { parseModelPanelMessage } from '../../src/shared/modelPanelProtocol';

function reason(raw: unknown): string {
  const r = parseModelPanelMessage(raw);
  return r.ok ? '' : r.reason;
}

describe('parseModelPanelMessage', () => {
  it('accepts ready, cancel and start', () => {
    expect(parseModelPanelMessage({ type: 'ready' })).toEqual({ ok: true, message: { type: 'ready' } });
    expect(parseModelPanelMessage({ type: 'cancel', dir: '/jobs/a' })).toEqual({ ok: true, message: { type: 'cancel', dir: '/jobs/a' } });
    const start = { type: 'start', kind: 'segment', model: 'rf', params: { trees: '50' }, modelFrom: '/jobs/a' };
    expect(parseModelPanelMessage(start)).toEqual({ ok: true, message: start });
  });

  it('refuses non-objects and unknown types, own keys only', () => {
    for (const raw of [null, undefined, 3, 'ready', [], [{ type: 'ready' }]]) expect(reason(raw)).toMatch(/must be an object/);
    expect(reason({})).toMatch(/unknown message type/);
    expect(reason({ type: 'deleteFile' })).toMatch(/unknown message type "deleteFile"/);
    for (const type of ['toString', '__proto__', 7]) expect(reason({ type })).toMatch(/unknown message type/);
  });

  it('refuses extra keys and wrong field types', () => {
    expect(reason({ type: 'ready', path: '/etc/passwd' })).toBe('extra keys');
    expect(reason({ type: 'cancel', dir: '/a', force: true })).toBe('extra keys');
    for (const dir of [undefined, 3, null, 'x'.repeat(4097)]) expect(reason({ type: 'cancel', dir })).toBe('cancel needs a dir string');
    const start = { type: 'start', kind: 'train', model: 'kmeans', params: {} };
    expect(reason({ ...start, kind: 'delete' })).toMatch(/kind must be one of train, run, segment/);
    expect(reason({ ...start, model: 'svm' })).toMatch(/model must be one of/);
    for (const params of [null, [], 'a=1']) expect(reason({ ...start, params })).toBe('params must be an object');
    expect(reason({ ...start, params: { a: 1 } })).toBe('params must map names to strings');
    expect(reason({ ...start, params: { ['k'.repeat(65)]: '1' } })).toBe('params must map names to strings');
    expect(reason({ ...start, params: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, '1'])) })).toBe('params must map names to strings');
    expect(reason({ ...start, modelFrom: 3 })).toBe('modelFrom must be a string');
  });
});
