// Palette and Jobs-view commands (category "StackSeg"): Train Model, Segment Stack, Train and Segment, Cancel Job,
// Open Job Output, Evaluate Against Ground Truth (evaluateCommand.ts), Show Log, Delete Job, Open Job Report.

import { existsSync, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { JobKind, JobRecord, JobSpec } from '../../shared/jobs/spec';
import { resolveSidecarsSync } from '../../core/labels/sidecars';
import { MODELS, MODEL_KINDS, describeParam, resolveParams, type ModelKind, type ModelParams } from '../../shared/models/registry';
import type { JobManager } from './jobManager';
import { labelViewOf } from '../labelView';
import { evaluateJob } from './evaluateCommand';
import { showJobReport } from './jobReport';
import { parseSets } from '../../shared/models/registry';

/** A command argument from the Jobs view (tree node), a job folder string, or nothing (ask). */
type JobArg = { kind: 'job'; record: JobRecord } | string | undefined;
const dirOf = (a: JobArg): string | undefined => (typeof a === 'string' ? a : a?.kind === 'job' ? a.record.dir : undefined);

export function activeStackUri(arg?: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri && /\.tiff?$/i.test(arg.fsPath)) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.viewType === 'stackseg.stackEditor') return input.uri;
  return undefined;
}

export function registerJobCommands(context: vscode.ExtensionContext, jobs: JobManager): void {
  const reg = (id: string, fn: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  const startFromPalette = async (kind: JobKind, arg?: unknown, preset?: { model: ModelKind; params: ModelParams; modelFrom?: string }) => {
    const uri = activeStackUri(arg);
    if (!uri) return void vscode.window.showWarningMessage('Open a TIFF stack in the StackSeg viewer first (or run this from a .tif in the Explorer).');
    const image = uri.fsPath;
    const asLabels = labelViewOf(image);
    if (asLabels) return void vscode.window.showWarningMessage(`${basename(image)} holds ${asLabels.kind === 'labels' ? 'labels' : asLabels.kind === 'truth' ? 'ground truth' : 'a job output'}, not an image: open ${basename(asLabels.stack)} to train or segment.`);
    let spec: JobSpec;
    if (kind === 'segment') {
      const from = preset?.modelFrom ?? (await pickJob(jobs, 'Model to segment with', (r) => !!r.outputs.model && r.status !== 'failed'))?.dir;
      if (!from) return;
      const trained = JSON.parse(await fs.readFile(join(from, 'job.json'), 'utf8')) as JobRecord;
      spec = { kind, model: trained.spec.model, params: trained.spec.params, image, modelFrom: from };
    } else {
      const model = preset?.model ?? (await pickModel());
      if (!model) return;
      const params = preset?.params ?? (await editParams(model));
      if (!params) return;
      const labels = resolveSidecarsSync(image).labels;
      if (MODELS[model].supervised && !existsSync(labels)) {
        return void vscode.window.showErrorMessage(`${MODELS[model].title} needs labels: ${labels} does not exist. Paint strokes of at least two classes and save (Ctrl+S) first.`);
      }
      spec = { kind, model, params, image, labels: existsSync(labels) ? labels : undefined };
    }
    return jobs.start(spec);
  };

  reg('stackseg.trainModel', (arg?: unknown, preset?: never) => startFromPalette('train', arg, preset));
  reg('stackseg.segmentStack', (arg?: unknown, preset?: never) => startFromPalette('segment', arg, preset));
  reg('stackseg.trainAndSegment', (arg?: unknown, preset?: never) => startFromPalette('run', arg, preset));
  // A batch: one trained model on many stacks (files, or every stack in a folder); arguments for tests.
  reg('stackseg.segmentBatch', async (modelArg?: string, imagesArg?: string[]) => {
    const from = modelArg ?? (await pickJob(jobs, 'Model to segment the stacks with', (r) => !!r.outputs.model && r.status === 'succeeded'))?.dir;
    if (!from) return;
    let images = imagesArg;
    if (!images) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: true, canSelectFolders: false, filters: { 'TIFF stacks': ['tif', 'tiff'] }, title: 'Stacks to segment (one job each)' });
      images = picked?.map((u) => u.fsPath).filter((p) => !/\.(labels|truth|mask|uncertainty)\.tiff?$/i.test(p));
    }
    if (!images?.length) return;
    return jobs.startBatch(from, images);
  });
  /** For the model panel and tests: start a job with a full spec (validated like any webview input). */
  reg('stackseg.startJob', (spec: JobSpec) => jobs.start({ ...spec, params: resolveParams(spec.model, spec.params) }));

  // From a Jobs-view row (inline or context menu) the row's job is cancelled at once; from the palette, ask which.
  reg('stackseg.cancelJob', async (arg?: JobArg) => {
    let dir = dirOf(arg);
    if (!dir) {
      const running = jobs.runningJobs();
      if (running.length === 0) return void vscode.window.showInformationMessage('No StackSeg job is running.');
      const pick = await vscode.window.showQuickPick(running.map((j) => ({ label: `${j.spec.model} ${j.spec.kind}`, description: j.dir, dir: j.dir })), { title: 'Cancel which job?' });
      dir = pick?.dir;
    }
    if (dir && !jobs.cancel(dir)) {
      // Not a job running here, so a Slurm job: cancelling it runs scancel, a program (a local job is only signalled).
      if (!vscode.workspace.isTrusted) return void vscode.window.showErrorMessage('StackSeg does not run scancel in an untrusted workspace: trust the workspace (Manage Workspace Trust) to cancel this Slurm job, or run scancel yourself.');
      const { cancelSlurmJob } = await import('../../core/jobs/runners/slurm');
      await cancelSlurmJob(dir).catch((e) => vscode.window.showErrorMessage(`Cannot cancel ${dir}: ${(e as Error).message}`));
    }
  });

  reg('stackseg.openJobOutput', async (arg?: JobArg) => {
    const dir = dirOf(arg) ?? (await pickJob(jobs, 'Open the mask of which job?', (r) => !!r.outputs.mask))?.dir;
    if (!dir) return;
    const mask = join(dir, 'mask.tif');
    if (!existsSync(mask)) return void vscode.window.showWarningMessage('This job has no mask (yet).');
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(mask), 'stackseg.stackEditor');
  });

  reg('stackseg.showJobLog', async (arg?: JobArg) => {
    const dir = dirOf(arg) ?? (await pickJob(jobs, 'Show the log of which job?', () => true))?.dir;
    if (!dir) return;
    const slurmDir = join(dir, 'slurm');
    const files = [join(dir, 'log.txt'), ...(existsSync(slurmDir) ? (await fs.readdir(slurmDir)).filter((f) => f.endsWith('.out')).map((f) => join(slurmDir, f)) : [])];
    const file = files.length === 1 ? files[0] : (await vscode.window.showQuickPick(files, { title: 'Job log or Slurm output' }));
    if (file) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  });

  reg('stackseg.deleteJob', async (arg?: JobArg) => {
    const dir = dirOf(arg);
    if (!dir) return;
    const ok = await vscode.window.showWarningMessage(`Delete job folder ${dir} with its model, mask and metrics?`, { modal: true }, 'Delete');
    if (ok === 'Delete') await jobs.delete(dir).catch((e) => vscode.window.showErrorMessage((e as Error).message));
  });

  reg('stackseg.openJobReport', async (arg?: JobArg) => {
    const dir = dirOf(arg) ?? (await pickJob(jobs, 'Report of which job?', () => true))?.dir;
    if (dir) await showJobReport(dir);
  });

  reg('stackseg.evaluateJob', async (arg?: JobArg, truthArg?: string, classArg?: string) => {
    if (!vscode.workspace.isTrusted) return void vscode.window.showErrorMessage('StackSeg does not run jobs in an untrusted workspace.');
    const dir = dirOf(arg) ?? (await pickJob(jobs, 'Evaluate which segmentation?', (r) => !!r.outputs.mask))?.dir;
    if (!dir) return;
    return evaluateJob(context, jobs, dir, truthArg, classArg);
  });
}

async function pickModel(): Promise<ModelKind | undefined> {
  const items = MODEL_KINDS.map((k) => ({ label: MODELS[k].title, description: k, detail: MODELS[k].description, model: k }));
  const pick = await vscode.window.showQuickPick(items, { title: 'StackSeg: model' });
  return pick?.model;
}

async function editParams(model: ModelKind): Promise<ModelParams | undefined> {
  const help = MODELS[model].params.map((p) => p.key).join(', ');
  const text = await vscode.window.showInputBox({
    title: `${MODELS[model].title} parameters`, prompt: `key=value pairs separated by ";" (empty = defaults). Keys: ${help}`,
    placeHolder: MODELS[model].params.slice(0, 3).map(describeParam).join('; '),
    validateInput: (v) => { try { resolveParams(model, parsePairs(v)); return undefined; } catch (e) { return (e as Error).message; } },
  });
  return text === undefined ? undefined : resolveParams(model, parsePairs(text));
}

/** "trees=50; depth=10" (the input box's form) as the CLI's --set pairs: one key=value parser for both. */
export function parsePairs(text: string): Map<string, string> {
  return parseSets(text.split(';').map((s) => s.trim()).filter(Boolean));
}

async function pickJob(jobs: JobManager, title: string, filter: (r: JobRecord) => boolean): Promise<JobRecord | undefined> {
  const all = (await jobs.listAll()).filter(filter);
  if (all.length === 0) { void vscode.window.showInformationMessage('No matching StackSeg job.'); return undefined; }
  const pick = await vscode.window.showQuickPick(all.map((r) => ({ label: `${r.spec.model} · ${r.spec.kind} · ${r.status}`, description: r.id, detail: r.spec.image, r })), { title });
  return pick?.r;
}
