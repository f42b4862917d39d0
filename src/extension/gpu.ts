// What MSDNet jobs will run on, on the extension host's machine (local, or the Remote-SSH node), and
// "StackSeg: Set Up GPU Backend" as a checklist: NVIDIA driver (nvidia-smi), Python, torch, CUDA visible from torch,
// GPU name — each missing item with the step that fixes it. The status bar shows the engine the next job uses
// (chooseMsdnetEngine's auto order: torch + CUDA, then tfjs-node-gpu, then the native CPU path).
// tfjs-node-gpu stays an option for nodes with CUDA 11.2 + cuDNN 8.1 (it binds libtensorflow 2.9).

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { probePython, resetPythonProbes, type PythonInfo } from '../core/models/msdnet/python';
import { choosePython, onPythonChange, type PythonChoice } from './pythonEnv';

const run = promisify(execFile);
export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu@4.22.0';

export interface GpuStatus {
  /** e.g. "NVIDIA H100 80GB HBM3, 81559 MiB, driver 550.54" — undefined without a working nvidia-smi. */
  gpu?: string;
  gpuProblem?: string;
  /** Folder whose node_modules holds tfjs-node-gpu, when installed. */
  modulesDir?: string;
  python: PythonChoice;
  torch?: PythonInfo;
  torchProblem?: string;
  /** What the next MSDNet job runs on, in words. */
  next: string;
}

export function gpuModulesDir(context: vscode.ExtensionContext): string {
  return join(context.globalStorageUri.fsPath, 'gpu-backend');
}

export async function detectGpu(context: vscode.ExtensionContext): Promise<GpuStatus> {
  const python = await choosePython();
  const status: GpuStatus = { python, next: '' };
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { timeout: 5000 });
    const [name, mem, driver] = stdout.trim().split('\n')[0].split(',').map((s) => s.trim());
    status.gpu = `${name}, ${mem}, driver ${driver}`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    status.gpuProblem = err.code === 'ENOENT' ? 'nvidia-smi not found: no NVIDIA driver on this machine' : `nvidia-smi failed: ${err.message.split('\n')[0]}`;
  }
  resetPythonProbes(); // the user may just have installed torch
  try {
    status.torch = await probePython(pythonEnv(python));
  } catch (e) {
    status.torchProblem = (e as Error).message;
  }
  const dir = gpuModulesDir(context);
  if (existsSync(join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'package.json'))) status.modulesDir = join(dir, 'node_modules');
  status.next = status.torch?.cudaAvailable ? `torch CUDA (${status.torch.devices[0] ?? 'GPU'})`
    : status.gpu && status.modulesDir ? 'GPU (tfjs-node-gpu)' : 'native CPU';
  return status;
}

function pythonEnv(python: PythonChoice): NodeJS.ProcessEnv {
  return python.path ? { ...process.env, STACKSEG_PYTHON: python.path } : process.env;
}

/** Environment for worker processes: the chosen Python (STACKSEG_PYTHON) and tfjs-node-gpu from global storage. */
export function workerEnv(status: GpuStatus | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (status?.python.path) env.STACKSEG_PYTHON = status.python.path;
  if (status?.modulesDir) {
    const sep = process.platform === 'win32' ? ';' : ':';
    env.NODE_PATH = [status.modulesDir, process.env.NODE_PATH].filter(Boolean).join(sep);
  }
  return env;
}

interface CheckItem extends vscode.QuickPickItem { fix?: () => Thenable<unknown> | void }

/** The checklist, in order; an item that is not ok says what fixes it and offers the step. */
export function checklist(s: GpuStatus): CheckItem[] {
  const ok = (label: string, detail: string): CheckItem => ({ label: `$(pass) ${label}`, detail });
  const missing = (label: string, detail: string, fix?: () => Thenable<unknown> | void): CheckItem => ({ label: `$(error) ${label}`, detail, fix });
  const py = s.python.path ?? s.python.source;
  const items: CheckItem[] = [];
  items.push(s.gpu ? ok('NVIDIA driver', s.gpu)
    : missing('NVIDIA driver', `${s.gpuProblem}. Install the NVIDIA driver so that nvidia-smi runs, or open the folder on a GPU node with Remote-SSH, or train on Slurm with --gpus 1.`));
  const noPython = s.torchProblem && /Python not found|cannot be run/.test(s.torchProblem);
  items.push(noPython ? missing('Python', `${py} (${s.python.source}) cannot be run. Select an interpreter ("Python: Select Interpreter") or set stackseg.python.`,
    () => vscode.commands.executeCommand('workbench.action.openSettings', 'stackseg.python'))
    : ok('Python', `${s.torch?.executable ?? py} ${s.torch?.version ?? ''} (${s.python.source})`));
  if (!noPython) {
    items.push(s.torch ? ok('torch', `torch ${s.torch.torch}, built for CUDA ${s.torch.cuda ?? 'none (CPU-only build)'}`)
      : missing('torch', `${s.torchProblem?.split(' — ')[0]}. Run in a terminal: ${py} -m pip install torch numpy (or load your cluster's PyTorch module and select that Python). Click to copy the command.`,
        () => vscode.env.clipboard.writeText(`${py} -m pip install torch numpy`)));
  }
  if (s.torch) {
    const fixCuda = s.torch.cuda === null
      ? `This torch is a CPU-only build: install a CUDA build, e.g. ${py} -m pip install torch --index-url https://download.pytorch.org/whl/cu124`
      : `torch was built for CUDA ${s.torch.cuda} but sees no GPU: check nvidia-smi, CUDA_VISIBLE_DEVICES and that the driver supports CUDA ${s.torch.cuda}.`;
    items.push(s.torch.cudaAvailable ? ok('CUDA visible from torch', `CUDA ${s.torch.cuda}, ${s.torch.devices.length} GPU(s)`) : missing('CUDA visible from torch', fixCuda));
    items.push(s.torch.devices.length ? ok('GPU', s.torch.devices.map((d, i) => `cuda:${i} ${d}`).join(', '))
      : missing('GPU', s.torch.mps ? 'no CUDA GPU; Apple MPS is available (--set device=mps)' : 'no GPU visible from torch: MSDNet trains on the CPU'));
  }
  items.push({ label: `$(info) Next MSDNet job: ${s.next}`, detail: 'backend=auto: torch with CUDA, then tfjs-node-gpu, then the native CPU path; recorded in each job.json (runtime)' });
  if (s.gpu && !s.modulesDir && !s.torch?.cudaAvailable) {
    items.push({ label: '$(cloud-download) Install tfjs-node-gpu instead (optional)', detail: `only for nodes with CUDA 11.2 + cuDNN 8.1 (it binds libtensorflow 2.9); ${TFJS_NODE_GPU}` });
  }
  return items;
}

export class GpuStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('stackseg.backend', vscode.StatusBarAlignment.Right, 100);
  private readonly subs: vscode.Disposable[] = [];
  status: GpuStatus | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.item.name = 'StackSeg Backend';
    this.item.command = 'stackseg.setupGpuBackend';
    void onPythonChange(() => void this.refresh()).then((d) => this.subs.push(d));
  }

  async refresh(): Promise<GpuStatus> {
    this.status = await detectGpu(this.context);
    const s = this.status;
    const gpu = s.next !== 'native CPU';
    this.item.text = `$(${gpu ? 'zap' : 'chip'}) MSDNet: ${s.next}`;
    const md = new vscode.MarkdownString(`**Next MSDNet job runs on:** ${s.next}\n\n`);
    for (const c of checklist(s).slice(0, -1)) md.appendMarkdown(`- ${c.label.replace(/^\$\((pass|error)\) /, (_, k) => (k === 'pass' ? '✓ ' : '✗ '))}: ${c.detail}\n`);
    md.appendMarkdown('\nClick for the GPU set-up checklist. Random Forest, K-means and threshold always run on the CPU.');
    this.item.tooltip = md;
    this.item.show();
    return s;
  }

  dispose(): void { this.item.dispose(); for (const d of this.subs) d.dispose(); }
}

export async function setUpGpuBackend(context: vscode.ExtensionContext, bar: GpuStatusBar): Promise<void> {
  const status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'StackSeg: checking the GPU backend' }, () => bar.refresh());
  const items = checklist(status);
  const pick = await vscode.window.showQuickPick(items, { title: `StackSeg GPU backend — next MSDNet job: ${status.next}`, placeHolder: 'Pick a missing item for its fix', matchOnDetail: true });
  if (!pick) return;
  if (pick.label.includes('Install tfjs-node-gpu')) return installTfjsNodeGpu(context, bar);
  await pick.fix?.();
}

async function installTfjsNodeGpu(context: vscode.ExtensionContext, bar: GpuStatusBar): Promise<void> {
  const dir = gpuModulesDir(context);
  mkdirSync(dir, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `StackSeg: installing ${TFJS_NODE_GPU}` }, () =>
      run(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, TFJS_NODE_GPU], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const text = `${err.stderr ?? ''}\n${err.message}`;
    const why = err.code === 'ENOENT' ? 'npm is not installed on this machine'
      : /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo/.test(text) ? 'this machine cannot reach the internet (tfjs-node-gpu downloads libtensorflow from storage.googleapis.com during install)'
      : /CUDA|cudnn|libcudart/i.test(text) ? 'CUDA 11.2 / cuDNN 8 libraries were not found (tfjs-node-gpu 4.x needs them)'
      : text.trim().split('\n').slice(-3).join(' ');
    void vscode.window.showErrorMessage(`StackSeg could not install tfjs-node-gpu: ${why}. The torch backend (Python + PyTorch with CUDA) is the recommended GPU path.`);
    return;
  }
  const s = await bar.refresh();
  void vscode.window.showInformationMessage(`tfjs-node-gpu installed. Next MSDNet job: ${s.next}.`);
}
