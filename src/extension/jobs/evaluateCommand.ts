// Job -> Evaluate: the ground truth (<stem>.truth.tif beside the stack offered first), the class mapping (detected
// value sets; a proposal when mask and truth differ, or one clear refusal), then `stackseg eval` in a worker.
// The truth and mapping chosen are remembered per stack (workspaceState) and offered again next time.

import { existsSync, promises as fs } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../../shared/jobs/spec';
import { loadRecord, stackStem } from '../../core/jobs/store';
import { resolveSidecarsSync } from '../../core/labels/sidecars';
import { DEFAULT_CLASSES, parseSettings, type LabelClass } from '../../shared/labels/classes';
import { detectValues, formatPairs, mappingProblem, parseMapping, proposeMapping } from '../../host/jobs/evalMapping';
import type { JobManager } from './jobManager';
import { showJobReport } from './jobReport';
import { WorkerProcess } from '../../host/jobs/workerProcess';
import { walkthroughEvent } from '../walkthrough';

const MEMORY_KEY = 'stackseg.evaluation';
export interface EvaluationMemory { truth: string; mapping: string }

export function rememberedEvaluation(context: vscode.ExtensionContext, image: string): EvaluationMemory | undefined {
  return context.workspaceState.get<Record<string, EvaluationMemory>>(MEMORY_KEY, {})[image];
}

async function remember(context: vscode.ExtensionContext, image: string, m: EvaluationMemory): Promise<void> {
  const all = { ...context.workspaceState.get<Record<string, EvaluationMemory>>(MEMORY_KEY, {}), [image]: m };
  await context.workspaceState.update(MEMORY_KEY, all);
}

async function classesOf(image: string): Promise<readonly LabelClass[]> {
  const file = resolveSidecarsSync(image).settings;
  try { return parseSettings(await fs.readFile(file, 'utf8'), file).classes; } catch { return DEFAULT_CLASSES; }
}

/** Asks for the truth file: the stack's <stem>.truth.tif first, then the last one used, then any file. */
async function pickTruth(image: string, last?: string): Promise<string | undefined> {
  const beside = `${stackStem(image)}.truth.tif`;
  type Item = vscode.QuickPickItem & { path?: string };
  const items: Item[] = [];
  if (existsSync(beside)) items.push({ label: basename(beside), description: 'beside the stack', detail: beside, path: beside });
  if (last && last !== beside && existsSync(last)) items.push({ label: basename(last), description: 'used last time', detail: last, path: last });
  items.push({ label: '$(folder-opened) Choose a ground-truth file…' });
  let path: string | undefined;
  if (items.length > 1) {
    const pick = await vscode.window.showQuickPick(items, { title: `Ground truth for ${basename(image)}`, placeHolder: 'a stack of integer classes, the same size as the image' });
    if (!pick) return undefined;
    path = pick.path;
  }
  if (!path) path = (await vscode.window.showOpenDialog({ title: 'Ground-truth stack', canSelectMany: false, filters: { 'TIFF stacks': ['tif', 'tiff'] } }))?.[0]?.fsPath;
  return path;
}

export async function evaluateJob(context: vscode.ExtensionContext, jobs: JobManager, dir: string, truthArg?: string, classArg?: string): Promise<Record<string, unknown> | undefined> {
  const record: JobRecord = await loadRecord(dir);
  const image = record.spec.image;
  const memory = rememberedEvaluation(context, image);
  const truth = truthArg ?? (await pickTruth(image, memory?.truth));
  if (!truth) return undefined;
  const maskPath = record.outputs.mask ?? `${dir}/mask.tif`;
  let classes = classArg;
  if (classes === undefined) {
    // Detect the values of both stacks (a few slices) and refuse clearly when they cannot be compared.
    let mask, gt;
    try {
      [mask, gt] = await Promise.all([detectValues(maskPath), detectValues(truth)]);
    } catch (e) {
      void vscode.window.showErrorMessage(`StackSeg cannot evaluate: ${(e as Error).message}.`);
      return undefined;
    }
    if (mask.width !== gt.width || mask.height !== gt.height || mask.depth !== gt.depth) {
      void vscode.window.showErrorMessage(`StackSeg cannot evaluate: ${basename(truth)} is ${gt.width} x ${gt.height} x ${gt.depth}, the segmentation is ${mask.width} x ${mask.height} x ${mask.depth}. Choose the ground truth of ${basename(image)}.`);
      return undefined;
    }
    const proposal = proposeMapping(mask.values, gt.values, await classesOf(image), { mask: 'the mask', truth: basename(truth) });
    if (proposal.kind === 'refuse') { void vscode.window.showErrorMessage(`StackSeg cannot evaluate: ${proposal.message}`); return undefined; }
    const remembered = memory && memory.truth === truth && !mappingProblem(memory.mapping, proposal, mask.values, gt.values) ? memory.mapping : undefined;
    const value = remembered ?? (proposal.kind === 'proposed' ? formatPairs(proposal.pairs) : '');
    const prompt = proposal.kind === 'same'
      ? `The mask and the truth hold the same values ${proposal.values.join(', ')}: leave empty to compare them as they are.`
      : `${proposal.why}${remembered ? ' Your last mapping is filled in.' : ''}`;
    classes = await vscode.window.showInputBox({
      title: 'Class mapping (prediction=truth)', value, prompt,
      placeHolder: proposal.kind === 'same' ? 'empty: compare equal values' : 'pairs like 1=0, 2=1',
      validateInput: (v) => mappingProblem(v, proposal, mask.values, gt.values),
    });
    if (classes === undefined) return undefined;
  }
  await remember(context, image, { truth, mapping: classes });
  const args = ['eval', '--job', dir, '--truth', truth, ...parseMapping(classes).flatMap(([p, t]) => ['--class', `${p}=${t}`])];
  const result = await new WorkerProcess(jobs.cliPath, args).done;
  if (result.code !== 0) { void vscode.window.showErrorMessage(`Evaluation failed: ${result.lastError ?? `exit ${result.code}`}`); return undefined; }
  const report = JSON.parse(result.stdout);
  walkthroughEvent('evaluated');
  const f1 = Object.entries(report.classF1 as Record<string, number | null>).map(([t, v]) => `class ${t}: F1 ${v?.toFixed(4) ?? '—'}`).join(', ');
  void vscode.window.showInformationMessage(`Evaluation of ${basename(dir)} against ${basename(truth)} (${classes || 'equal values'}): ${f1}`, 'Open Report').then((a) => a && showJobReport(dir));
  jobs.refresh();
  return report;
}
