// The `stackseg` arguments that pick the runner from the settings (stackseg.runner, stackseg.slurm.*): the same for
// every job kind and batch, from the palette, the Model panel and tasks.

import * as vscode from 'vscode';

export function runnerArgs(image: string, runner?: 'local' | 'slurm'): string[] {
  const cfg = vscode.workspace.getConfiguration('stackseg', vscode.Uri.file(image));
  if ((runner ?? cfg.get<string>('runner', 'local')) !== 'slurm') return [];
  const s = (k: string) => cfg.get<string>(`slurm.${k}`, '');
  const out = ['--runner', 'slurm', '--chunks', String(cfg.get<number>('slurm.chunks', 4))];
  if (s('partition')) out.push('--partition', s('partition'));
  if (s('account')) out.push('--account', s('account'));
  if (s('timeLimit')) out.push('--time', s('timeLimit'));
  if (s('nodePath')) out.push('--node-path', s('nodePath'));
  const gpus = cfg.get<number>('slurm.gpus', 0);
  if (gpus > 0) out.push('--gpus', String(gpus));
  // One element, --sbatch-arg=VALUE: the CLI's parser refuses a separate value that starts with "-" (every sbatch option).
  for (const a of cfg.get<string[]>('slurm.extraArgs', [])) out.push(`--sbatch-arg=${a}`);
  return out;
}
