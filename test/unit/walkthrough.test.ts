// The walkthrough in package.json and the context keys the extension sets (src/extension/walkthrough.ts): every
// step completes on an event the code can raise, its media exist, and a stroke completes the painting steps only
// once two classes are labelled.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const setContext = vi.fn(() => Promise.resolve());
vi.mock('vscode', () => ({ commands: { executeCommand: (...a: unknown[]) => setContext(...(a as [])) } }));
const { contextKey, paintEvents, strokeApplied, walkthroughEvent, WALKTHROUGH_EVENTS, WALKTHROUGH_ID, WALKTHROUGH_REF } = await import('../../src/extension/walkthrough');

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const walkthrough = pkg.contributes.walkthroughs.find((w: { id: string }) => w.id === WALKTHROUGH_ID);

describe('walkthrough contribution', () => {
  it('is referenced as <publisher>.<name>#<id>', () => {
    expect(WALKTHROUGH_REF).toBe(`${pkg.publisher}.${pkg.name}#${WALKTHROUGH_ID}`);
  });

  it('has the six steps in order: open, paint, live preview, train and segment, show, evaluate', () => {
    expect(walkthrough.steps.map((s: { id: string }) => s.id)).toEqual(['openSample', 'paint', 'livePreview', 'trainAndSegment', 'showSegmentation', 'evaluate']);
  });

  it('completes every step on a command or on a context key the extension sets', () => {
    const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    for (const step of walkthrough.steps) {
      expect(step.completionEvents.length, step.id).toBeGreaterThan(0);
      for (const ev of step.completionEvents as string[]) {
        const [kind, what] = ev.split(/:(.*)/s);
        if (kind === 'onCommand') expect(commands.has(what), ev).toBe(true);
        else {
          expect(kind).toBe('onContext');
          expect(WALKTHROUGH_EVENTS.map(contextKey), ev).toContain(what);
        }
      }
    }
  });

  it('has its media (image with alt text, or markdown) on disk, and each command link names a contributed command or view', () => {
    const views = new Set(Object.values(pkg.contributes.views).flat().map((v: any) => `${v.id}.focus`));
    const commands = new Set([...pkg.contributes.commands.map((c: { command: string }) => c.command), ...views]);
    for (const step of walkthrough.steps) {
      const media: string = step.media.image ?? step.media.markdown;
      expect(existsSync(join(root, media)), media).toBe(true);
      if (step.media.image) expect(step.media.altText, `${step.id} altText`).toBeTruthy();
      for (const m of (step.description as string).matchAll(/\(command:([\w.]+)\)/g)) expect(commands.has(m[1]), m[1]).toBe(true);
    }
  });
});

describe('walkthrough events', () => {
  it('a stroke with one labelled class completes "painted", two classes also "paintedTwoClasses"', () => {
    expect(paintEvents([])).toEqual([]);
    expect(paintEvents([[1, 40]])).toEqual(['painted']);
    expect(paintEvents([[1, 40], [2, 0]])).toEqual(['painted']);
    expect(paintEvents([[1, 40], [3, 7]])).toEqual(['painted', 'paintedTwoClasses']);
  });

  it('sets each context key once', () => {
    setContext.mockClear();
    strokeApplied([[1, 5]]);
    strokeApplied([[1, 9]]);
    strokeApplied([[1, 9], [2, 1]]);
    walkthroughEvent('livePreviewOn');
    walkthroughEvent('livePreviewOn');
    expect(setContext.mock.calls).toEqual([
      ['setContext', 'stackseg.walkthrough.painted', true],
      ['setContext', 'stackseg.walkthrough.paintedTwoClasses', true],
      ['setContext', 'stackseg.walkthrough.livePreviewOn', true],
    ]);
  });
});
