// GPU backend on the extension host's machine (local, or the Remote-SSH node): detects an NVIDIA driver
// (nvidia-smi) and an installed @tensorflow/tfjs-node-gpu, shows the MSDNet backend in the status bar, and offers
// "StackSeg: Set Up GPU Backend", which installs tfjs-node-gpu into the extension's global storage where the
// network allows and says clearly why not where it cannot.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';

const run = promisify(execFile);
export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu@4.22.0';

export interface GpuStatus {
  /** e.g. "NVIDIA H100 80GB HBM3, 81559 MiB, driver 550.54" — undefined without a working nvidia-smi. */
  gpu?: string;
  gpuProblem?: string;
  /** Folder whose node_modules holds tfjs-node-gpu, when installed. */
  modulesDir?: string;
}

export function gpuModulesDir(context: vscode.ExtensionContext): string {
  return join(context.globalStorageUri.fsPath, 'gpu-backend');
}

export async function detectGpu(context: vscode.ExtensionContext): Promise<GpuStatus> {
  const status: GpuStatus = {};
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { timeout: 5000 });
    const first = stdout.trim().split('\n')[0];
    const [name, mem, driver] = first.split(',').map((s) => s.trim());
    status.gpu = `${name}, ${mem}, driver ${driver}`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    status.gpuProblem = err.code === 'ENOENT' ? 'nvidia-smi not found: no NVIDIA driver on this machine' : `nvidia-smi failed: ${err.message.split('\n')[0]}`;
  }
  const dir = gpuModulesDir(context);
  if (existsSync(join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'package.json'))) status.modulesDir = join(dir, 'node_modules');
  return status;
}

/** Environment for worker processes so the CLI can load tfjs-node-gpu from global storage. */
export function workerEnv(status: GpuStatus | undefined): NodeJS.ProcessEnv {
  if (!status?.modulesDir) return {};
  const sep = process.platform === 'win32' ? ';' : ':';
  return { NODE_PATH: [status.modulesDir, process.env.NODE_PATH].filter(Boolean).join(sep) };
}

export class GpuStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('stackseg.backend', vscode.StatusBarAlignment.Right, 100);
  status: GpuStatus | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.item.name = 'StackSeg Backend';
    this.item.command = 'stackseg.setupGpuBackend';
  }

  async refresh(): Promise<GpuStatus> {
    this.status = await detectGpu(this.context);
    const s = this.status;
    const backend = s.gpu && s.modulesDir ? 'GPU (tfjs-node-gpu)' : 'CPU (wasm)';
    this.item.text = `$(${s.gpu && s.modulesDir ? 'zap' : 'chip'}) ${backend}`;
    // Screen readers read the text's $(icon) markup aloud unless the item has its own label.
    this.item.accessibilityInformation = { label: `StackSeg backend: ${backend}`, role: 'button' };
    const md = new vscode.MarkdownString(`**StackSeg MSDNet backend:** ${backend}\n\n`);
    md.appendMarkdown(`- GPU: ${s.gpu ?? s.gpuProblem}\n- tfjs-node-gpu: ${s.modulesDir ? s.modulesDir : 'not installed'}\n\n`);
    md.appendMarkdown(s.gpu && !s.modulesDir ? 'Click to install the GPU backend.' : 'Random Forest, K-means and threshold always run on the CPU (worker threads).');
    this.item.tooltip = md;
    this.item.show();
    return s;
  }

  dispose(): void { this.item.dispose(); }
}

export async function setUpGpuBackend(context: vscode.ExtensionContext, bar: GpuStatusBar): Promise<void> {
  const status = await bar.refresh();
  if (!status.gpu) {
    void vscode.window.showWarningMessage(`StackSeg cannot use a GPU here: ${status.gpuProblem}. MSDNet runs on the CPU (wasm backend). On a GPU node, open the folder with Remote-SSH and run this command there.`);
    return;
  }
  if (status.modulesDir) {
    void vscode.window.showInformationMessage(`The GPU backend is installed (${status.modulesDir}). GPU: ${status.gpu}.`);
    return;
  }
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
    void vscode.window.showErrorMessage(`StackSeg could not install the GPU backend: ${why}. MSDNet keeps running on the CPU (wasm).`);
    return;
  }
  await bar.refresh();
  void vscode.window.showInformationMessage(`GPU backend installed. New MSDNet jobs use ${status.gpu}; the backend is recorded in each job.`);
}
