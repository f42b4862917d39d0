// The "Get started with StackSeg" walkthrough (package.json contributes.walkthroughs). Each step completes on the
// real event: the code that sees the event calls walkthroughEvent(...), which sets the context key
// `stackseg.walkthrough.<event>` that the step's completionEvents (`onContext:...`) wait for. VS Code remembers a
// completed step itself, so a key only needs setting once per window.

import * as vscode from 'vscode';

/** The walkthrough's id in package.json; open it with `workbench.action.openWalkthrough` and WALKTHROUGH_REF. */
export const WALKTHROUGH_ID = 'gettingStarted';
/** `<publisher>.<name>#<walkthrough id>`, what workbench.action.openWalkthrough takes. */
export const WALKTHROUGH_REF = `stackseg.stackseg#${WALKTHROUGH_ID}`;

/** Events a step waits for; the context key is `stackseg.walkthrough.<event>`. */
export const WALKTHROUGH_EVENTS = ['stackOpened', 'painted', 'paintedTwoClasses', 'livePreviewOn', 'jobSucceeded', 'overlayShown', 'evaluated'] as const;
export type WalkthroughEvent = (typeof WALKTHROUGH_EVENTS)[number];

export const contextKey = (e: WalkthroughEvent) => `stackseg.walkthrough.${e}`;

const done = new Set<WalkthroughEvent>();

/** Marks `event` as happened in this window (idempotent; never throws). */
export function walkthroughEvent(event: WalkthroughEvent): void {
  if (done.has(event)) return;
  done.add(event);
  void vscode.commands.executeCommand('setContext', contextKey(event), true).then(undefined, () => done.delete(event));
}

/** Events a stroke completes, from the stack's labelled classes after it: [class index, pixel count] pairs. */
export function paintEvents(classCounts: readonly (readonly [number, number])[]): WalkthroughEvent[] {
  const painted = classCounts.filter(([, n]) => n > 0).length;
  return painted >= 2 ? ['painted', 'paintedTwoClasses'] : painted === 1 ? ['painted'] : [];
}

/** After a stroke: the stack's label counts decide which painting steps are done. */
export function strokeApplied(classCounts: readonly (readonly [number, number])[]): void {
  for (const e of paintEvents(classCounts)) walkthroughEvent(e);
}

/** For tests: the events seen in this window. */
export function walkthroughEventsSeen(): WalkthroughEvent[] {
  return [...done];
}
