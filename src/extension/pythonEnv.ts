// The Python the torch backend of MSDNet runs with, as the issue orders it: the interpreter selected in VS Code's
// Python extension (its environments API, when that extension is installed), then the `stackseg.python` setting,
// then python3 on PATH (decided by the CLI). The choice reaches the CLI worker as STACKSEG_PYTHON.

import * as vscode from 'vscode';

export interface PythonChoice { path?: string; source: string }

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string } | undefined;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch {
    return undefined; // a broken Python extension must not stop StackSeg
  }
}

export async function choosePython(resource?: vscode.Uri): Promise<PythonChoice> {
  const api = await pythonExtensionApi();
  const active = api?.environments?.getActiveEnvironmentPath(resource ?? vscode.workspace.workspaceFolders?.[0]?.uri);
  if (active?.path) return { path: active.path, source: 'the Python extension\'s selected interpreter' };
  const setting = vscode.workspace.getConfiguration('stackseg').get<string>('python')?.trim();
  if (setting) return { path: setting, source: 'the stackseg.python setting' };
  return { source: `${process.platform === 'win32' ? 'python' : 'python3'} on PATH` };
}

/** Calls `listener` when the selected interpreter or the setting changes. */
export async function onPythonChange(listener: () => void): Promise<vscode.Disposable> {
  const subs: vscode.Disposable[] = [vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('stackseg.python')) listener(); })];
  const api = await pythonExtensionApi();
  const ev = api?.environments?.onDidChangeActiveEnvironmentPath;
  if (ev) subs.push(ev(() => listener()));
  return vscode.Disposable.from(...subs);
}
