// Issue 11: one progress line for every view (jobProgress) and Evaluate's class-mapping proposal (evalMapping).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStack } from '../../src/core/tiff';
import { detectValues, formatPairs, mappingProblem, proposeMapping } from '../../src/host/jobs/evalMapping';
import { jobProgress } from '../../src/host/jobs/progressText';

const CLASSES = [{ index: 1, name: 'background' }, { index: 2, name: 'foam' }];

describe('jobProgress', () => {
  it('formats phase, detail and the phase percent; a run spends half on training', () => {
    expect(jobProgress('run', { phase: 'segment', percent: 62.5, message: 'slice 20/32' })).toEqual({ text: 'segment slice 20/32 · 63 %', overall: 81.25 });
    expect(jobProgress('run', { phase: 'train', percent: 40, message: 'epoch 4/10' })).toEqual({ text: 'train epoch 4/10 · 40 %', overall: 20 });
    expect(jobProgress('segment', { phase: 'segment', percent: 50 }).overall).toBe(50);
    expect(jobProgress('train', { phase: 'train', percent: 0 }).text).toBe('train · 0 %');
    expect(jobProgress('run', undefined).text).toBe('starting');
    expect(jobProgress('run', { phase: 'done', percent: 130 }).text).toBe('done · 100 %');
  });
});

describe('proposeMapping', () => {
  it('maps mask {1,2} to truth {0,1} by the class names (background -> 0)', () => {
    const p = proposeMapping([1, 2], [0, 1], CLASSES);
    expect(p.kind).toBe('proposed');
    if (p.kind === 'proposed') expect(formatPairs(p.pairs)).toBe('1=0, 2=1');
    // Background as class 2: 2 -> 0, the other class to the other value.
    const q = proposeMapping([1, 2], [0, 1], [{ index: 1, name: 'foam' }, { index: 2, name: 'Background' }]);
    expect(q.kind === 'proposed' && formatPairs(q.pairs)).toBe('1=1, 2=0');
  });

  it('maps in order without a background class, compares equal sets as they are, asks when sizes differ, refuses a constant truth', () => {
    const p = proposeMapping([1, 2, 3], [0, 1, 2], [{ index: 1, name: 'a' }]);
    expect(p.kind === 'proposed' && formatPairs(p.pairs)).toBe('1=0, 2=1, 3=2');
    expect(proposeMapping([1, 2], [1, 2], CLASSES).kind).toBe('same');
    const ask = proposeMapping([1, 2, 3], [0, 1], CLASSES);
    expect(ask.kind).toBe('ask');
    expect(ask.kind === 'ask' && ask.why).toMatch(/1 \(background\), 2 \(foam\), 3.*\{0, 1\}/);
    const refuse = proposeMapping([1, 2], [0], CLASSES, { mask: 'the mask', truth: 'blank.tif' });
    expect(refuse.kind === 'refuse' && refuse.message).toMatch(/blank\.tif holds only the value 0/);
  });

  it('an empty mapping is refused when the sets differ (no silent F1 0.000)', () => {
    const p = proposeMapping([1, 2], [0, 1], CLASSES);
    expect(mappingProblem('', p, [1, 2], [0, 1])).toMatch(/different values/);
    expect(mappingProblem('1=0, 2=1', p, [1, 2], [0, 1])).toBeUndefined();
    expect(mappingProblem('3=1', p, [1, 2], [0, 1])).toMatch(/mask holds \{1, 2\}/);
    expect(mappingProblem('2:1', p, [1, 2], [0, 1])).toMatch(/not prediction=truth/);
    expect(mappingProblem('', proposeMapping([1, 2], [1, 2], CLASSES), [1, 2], [1, 2])).toBeUndefined();
  });
});

describe('detectValues', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-values-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('finds the distinct values of a few slices and refuses float stacks', async () => {
    const mask = join(dir, 'mask.tif');
    await writeStack(mask, { width: 4, height: 2, depth: 3, dtype: 'uint8', getSlice: (z) => Uint8Array.from({ length: 8 }, (_, i) => (i + z) % 2 + 1) });
    expect((await detectValues(mask)).values).toEqual([1, 2]);
    const img = join(dir, 'img.tif');
    await writeStack(img, { width: 4, height: 2, depth: 1, dtype: 'float32', getSlice: () => new Float32Array(8) });
    await expect(detectValues(img)).rejects.toThrow(/float32/);
  });
});
