// Tasks of type "stackseg": training and segmentation from tasks.json and "Run Task". Executed as a process
// (the extension host's Node running the bundled CLI), never through a shell.

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { jobArgs } from '../../core/jobs/runners/args';
import { runnerArgs } from './runnerArgs';
import type { JobSpec } from '../../shared/jobs/spec';
import { defaultJobDir } from '../../core/jobs/store';
import { resolveSidecarsSync } from '../../core/labels/sidecars';
import { MODEL_KINDS, resolveParams, type ModelKind } from '../../shared/models/registry';

export interface StacksegTaskDefinition extends vscode.TaskDefinition {
  type: 'stackseg';
  command: 'run' | 'train' | 'segment';
  image: string;
  labels?: string;
  model?: ModelKind;
  params?: Record<string, string | number | boolean>;
  /** For command "segment": the job folder with the trained model. */
  job?: string;
  truth?: string;
  classMap?: Record<string, number>;
  /** For command "segment": more stacks, folders or globs; a batch (one job per stack). */
  images?: string[];
  /** Where it runs; default the stackseg.runner setting. */
  runner?: 'local' | 'slurm';
}

export class StacksegTaskProvider implements vscode.TaskProvider {
  static readonly type = 'stackseg';

  constructor(private readonly cliPath: string, private readonly openStacks: () => string[]) {}

  provideTasks(): vscode.Task[] {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return [];
    return this.openStacks().filter((image) => existsSync(resolveSidecarsSync(image).labels)).map((image) =>
      this.build({ type: 'stackseg', command: 'run', image, labels: resolveSidecarsSync(image).labels, model: 'rf' }, folder));
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as StacksegTaskDefinition;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    return folder ? this.build(def, folder, task.name) : undefined;
  }

  /** Validates the definition (same rules as the CLI) and makes a process task; invalid definitions fail clearly. */
  build(def: StacksegTaskDefinition, folder: vscode.WorkspaceFolder, name?: string): vscode.Task {
    const abs = (p?: string) => (p === undefined ? undefined : isAbsolute(p) ? p : join(folder.uri.fsPath, p));
    const model = def.model ?? 'rf';
    let args: string[];
    let problem: string | undefined;
    try {
      if (!MODEL_KINDS.includes(model)) throw new Error(`unknown model "${model}" (valid: ${MODEL_KINDS.join(', ')})`);
      const spec: JobSpec = {
        kind: def.command, model, params: resolveParams(model, def.params ?? {}), image: abs(def.image)!,
        labels: abs(def.labels), truth: abs(def.truth), modelFrom: abs(def.job),
        classMap: def.classMap ? Object.fromEntries(Object.entries(def.classMap).map(([k, v]) => [Number(k), v])) : undefined,
      };
      if (spec.kind === 'segment' && !spec.modelFrom) throw new Error('a "segment" task needs "job" (the folder of a trained model)');
      if (def.runner !== undefined && def.runner !== 'local' && def.runner !== 'slurm') throw new Error(`unknown runner "${def.runner}" (valid: local, slurm)`);
      if (def.images !== undefined && (def.command !== 'segment' || !Array.isArray(def.images))) throw new Error('"images" is a list of stacks, folders or globs for a "segment" task');
      args = def.images?.length
        ? ['segment', '--job', spec.modelFrom!, '--image', spec.image, ...def.images.flatMap((i) => ['--images', abs(String(i))!]), '--progress', 'json']
        : jobArgs(spec, defaultJobDir(spec));
      args.push(...runnerArgs(spec.image, def.runner));
    } catch (e) {
      problem = (e as Error).message;
      args = [];
    }
    const execution = problem
      ? new vscode.ProcessExecution(process.execPath, ['-e', `console.error(${JSON.stringify(`stackseg task: ${problem}`)}); process.exit(2)`], { env: { ELECTRON_RUN_AS_NODE: '1' } })
      : new vscode.ProcessExecution(process.execPath, [this.cliPath, ...args], { env: { ELECTRON_RUN_AS_NODE: '1' } });
    const label = name ?? `${def.command} ${model}: ${def.image.split(/[\\/]/).pop()}`;
    const task = new vscode.Task(def, folder, label, 'stackseg', execution, []);
    task.group = def.command === 'segment' ? vscode.TaskGroup.Test : vscode.TaskGroup.Build;
    task.detail = problem ? `invalid: ${problem}` : `stackseg ${args.slice(0, 6).join(' ')} …`;
    return task;
  }
}
