// Model panel tiers: each model shows 2-4 essential parameters, every parameter has a one-line hint, and the
// random forest's pseudo-label knobs sit under Advanced behind the one `fill` switch.
import { describe, expect, it } from 'vitest';
import { PARAM_UI, paramUi } from '../../src/shared/models/paramTiers';
import { MODELS, MODEL_KINDS } from '../../src/shared/models/registry';

describe('parameter tiers and hints', () => {
  it.each(MODEL_KINDS)('%s: every registry parameter has a tier and a one-line hint, and nothing else is listed', (kind) => {
    const keys = MODELS[kind].params.map((p) => p.key);
    expect(Object.keys(PARAM_UI[kind]).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      const { hint } = paramUi(kind, key);
      expect(hint.length, `${kind}.${key}`).toBeGreaterThan(10);
      expect(hint.length, `${kind}.${key}: "${hint}"`).toBeLessThanOrEqual(110);
      expect(hint).not.toMatch(/\n/);
    }
  });

  it.each(MODEL_KINDS)('%s shows 2 to 4 essential parameters', (kind) => {
    const essential = MODELS[kind].params.filter((p) => paramUi(kind, p.key).tier === 'essential');
    expect(essential.length).toBeGreaterThanOrEqual(2);
    expect(essential.length).toBeLessThanOrEqual(4);
  });

  it('random forest: one pseudo-label switch (fill) is essential, its knobs are advanced', () => {
    expect(paramUi('rf', 'fill').tier).toBe('essential');
    const knobs = MODELS.rf.params.filter((p) => p.key.startsWith('fill') && p.key !== 'fill');
    expect(knobs.map((p) => p.key)).toEqual(expect.arrayContaining(['fillWeight', 'fillBand', 'fillSigma', 'fillTrees']));
    for (const p of knobs) expect(paramUi('rf', p.key).tier).toBe('advanced');
  });

  it('the features hint is short', () => {
    expect(paramUi('rf', 'features').hint.length).toBeLessThan(60);
  });
});
