// The notification when a job ends: what happened and the next step as buttons. A segmentation offers
// "Show Segmentation" (its mask over the stack) and "Open Report"; a failed job offers "Open Log".

import * as vscode from 'vscode';
import type { JobRecord } from '../../shared/jobs/spec';
import { MODELS } from '../../shared/models/registry';
import { formatDuration } from './jobsView';

/** The last notifications shown, newest last (for tests in the extension host). */
export const jobNotifications: { dir: string; status: string; message: string; actions: string[] }[] = [];

export function finishedMessage(r: JobRecord): { message: string; actions: string[]; level: 'info' | 'error' | 'none' } {
  const what = `${MODELS[r.spec.model]?.title ?? r.spec.model} ${r.spec.kind === 'run' ? 'train and segment' : r.spec.kind}`;
  const stack = r.spec.image.split(/[\\/]/).pop();
  if (r.status === 'failed') return { message: `StackSeg: ${what} on ${stack} failed: ${r.error ?? 'see the log'}`, actions: ['Open Log'], level: 'error' };
  if (r.status === 'cancelled') return { message: `StackSeg: ${what} on ${stack} was cancelled.`, actions: [], level: 'none' };
  if (r.status !== 'succeeded') return { message: '', actions: [], level: 'none' };
  const f1 = r.summary?.meanF1;
  const took = formatDuration(r.timings.total);
  const message = `StackSeg: ${what} on ${stack} finished${took ? ` in ${took}` : ''}${f1 != null ? ` (mean F1 ${f1.toFixed(3)})` : ''}.`;
  return { message, actions: r.outputs.mask ? ['Show Segmentation', 'Open Report'] : ['Open Report'], level: 'info' };
}

export function notifyFinished(r: JobRecord): void {
  const { message, actions, level } = finishedMessage(r);
  if (level === 'none') return;
  jobNotifications.push({ dir: r.dir, status: r.status, message, actions });
  if (jobNotifications.length > 20) jobNotifications.shift();
  const shown = level === 'error' ? vscode.window.showErrorMessage(message, ...actions) : vscode.window.showInformationMessage(message, ...actions);
  void shown.then((a) => {
    if (a === 'Show Segmentation') void vscode.commands.executeCommand('stackseg.showSegmentation', r.dir);
    else if (a === 'Open Report') void vscode.commands.executeCommand('stackseg.openJobReport', r.dir);
    else if (a === 'Open Log') void vscode.commands.executeCommand('stackseg.showJobLog', r.dir);
  });
}
