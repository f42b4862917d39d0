// The parameter checks the CLI, the model panel and the host share (registry.resolveParams).

import { describe, expect, it } from 'vitest';
import { MODEL_KINDS, MODELS, resolveParams } from '../../src/shared/models/registry';

describe('resolveParams', () => {
  it('accepts every default as the model panel sends it (strings from its form fields)', () => {
    for (const kind of MODEL_KINDS) {
      const fields: Record<string, string> = {};
      for (const p of MODELS[kind].params) fields[p.key] = Array.isArray(p.default) ? p.default.join(',') : String(p.default);
      expect(() => resolveParams(kind, fields), kind).not.toThrow();
    }
  });

  it('accepts typed values from a job record', () => {
    expect(resolveParams('msdnet', { dilations: [1, 2, 4], epochs: 3, augment: false })).toMatchObject({ dilations: [1, 2, 4], epochs: 3, augment: 'off' });
  });

  it('refuses keys a plain object would hide or inherit', () => {
    expect(() => resolveParams('rf', JSON.parse('{"__proto__": "1"}'))).toThrow(/unknown parameter "__proto__"/);
    expect(() => resolveParams('rf', new Map([['constructor', '1']]))).toThrow(/unknown parameter "constructor"/);
    expect(() => resolveParams('rf', { hasOwnProperty: '1' })).toThrow(/unknown parameter "hasOwnProperty"/);
  });

  it('names the parameter, the expected type and range, and an example', () => {
    expect(() => resolveParams('msdnet', { dilations: [1, 2.5] })).toThrow(/msdnet\.dilations=1,2\.5: item 2 \(2\.5\) is not an integer — expected dilations \(integers, 1\.\.64.*e\.g\. dilations=1,2,3,4,5,6/);
    expect(() => resolveParams('rf', { depth: '' })).toThrow(/rf\.depth=: empty value/);
    expect(() => resolveParams('rf', { trees: true as unknown as string })).toThrow(/not a number/);
    expect(() => resolveParams('rf', { features: 'raw,' })).toThrow(/empty item/);
  });
});
