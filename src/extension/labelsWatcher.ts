// Watches one stack's labels + settings files for writes by other programs. Inside a workspace folder VS Code's
// file watcher is used (vscode.workspace.createFileSystemWatcher on the exact paths); outside, fs.watch on the
// folder (a file watch would lose track when a writer renames a new file over the old one). Events are debounced:
// writers often create, write and rename in several steps. What changed is decided by the caller (DiskStamps), so
// our own saves and no-op touches are not reported as changes.

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';

export class LabelsWatcher implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];
  private fsWatcher: FSWatcher | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watched = '';
  private disposed = false;

  constructor(private readonly onEvent: () => void, private readonly debounceMs = 300) {}

  /** (Re)targets the watch at `paths` (all in one folder: an image's labels and settings files). */
  watch(paths: readonly string[]): void {
    const key = paths.join('\n');
    if (this.disposed || key === this.watched) return;
    this.stop();
    this.watched = key;
    if (paths.length === 0) return;
    const dir = dirname(paths[0]);
    const names = new Set(paths.map((p) => basename(p)));
    const inWorkspace = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(paths[0])) !== undefined;
    if (inWorkspace && [...names].every((n) => !/[*?{}[\]]/.test(n))) {
      for (const name of names) {
        const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), name));
        this.disposables.push(w, w.onDidChange(() => this.fire()), w.onDidCreate(() => this.fire()), w.onDidDelete(() => this.fire()));
      }
      return;
    }
    try {
      this.fsWatcher = watch(dir, { persistent: false }, (_event, file) => {
        // Some platforms give no name: then any change in the folder is checked (cheap: two stats).
        if (!file || names.has(file.toString())) this.fire();
      });
      this.fsWatcher.on('error', () => this.stop());
    } catch {
      // Folder not watchable (gone, too many watches): the checks on focus and on save still run.
    }
  }

  /** Schedules a check (also used when the editor gets focus). */
  fire(): void {
    if (this.disposed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onEvent();
    }, this.debounceMs);
  }

  private stop(): void {
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stop();
  }
}
