// Keeps an open stack's labels in step with its files on disk, as VS Code's text editor does ("file changed on
// disk"): when another program rewrites the labels or settings file while the stack is open, an editor without
// unsaved changes reloads silently; one with unsaved labels warns once per disk state and offers Reload from Disk /
// Keep Mine / Save Mine as Copy…. Saving never silently replaces such a write (saveQuestions: a modal dialog).

import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { LabelsConflict, SaveQuestions } from '../host/documentLabels';
import { LabelsWatcher } from './labelsWatcher';
import type { StackDocument } from './stackDocument';

const names = (files: readonly string[]) => files.map((f) => basename(f)).join(' and ');

/** The modal questions a save asks (Overwrite / Save Mine as Copy… / Cancel; Replace / Cancel). */
export function saveQuestions(document: StackDocument): SaveQuestions {
  return {
    async replaceUnloaded(c: LabelsConflict) {
      const choice = await vscode.window.showWarningMessage(
        `${c.path} was not loaded (${c.message}). Replace it with the labels painted now? The old file is kept as ${basename(c.path)}.bak.`,
        { modal: true }, 'Replace (keep .bak)');
      return choice === 'Replace (keep .bak)';
    },
    async changedOnDisk(files) {
      const overwrite = 'Overwrite (keep .bak)';
      const copy = 'Save Mine as Copy…';
      const choice = await vscode.window.showWarningMessage(
        `${names(files)} changed on disk since ${basename(document.uri.fsPath)} was opened or saved: another program wrote ${files.length > 1 ? 'them' : 'it'}.`,
        { modal: true, detail: `Overwrite replaces that version with your labels (it is kept as ${basename(files[0])}.bak). Save Mine as Copy… writes your labels under another name and leaves the file alone.` },
        overwrite, copy);
      if (choice === overwrite) return 'overwrite';
      if (choice !== copy) return 'cancel';
      const target = await pickCopyTarget(document);
      return target ? { copyTo: target } : 'cancel';
    },
    async replaceExisting(files) {
      const choice = await vscode.window.showWarningMessage(
        `${names(files)} already ${files.length > 1 ? 'exist' : 'exists'}. Replace ${files.length > 1 ? 'them' : 'it'} with the labels of ${basename(document.uri.fsPath)}?`,
        { modal: true, detail: `The old ${files.length > 1 ? 'versions are' : 'version is'} kept as .bak.` }, 'Replace (keep .bak)');
      return choice === 'Replace (keep .bak)';
    },
  };
}

/** Asks where to write a copy of the labels (default `<stem>-mine.labels.tif` beside the image). */
async function pickCopyTarget(document: StackDocument): Promise<string | undefined> {
  const labels = document.labels;
  if (!labels) return undefined;
  const stem = labels.paths.labels.replace(/\.labels\.tif$/, '');
  const uri = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(`${stem}-mine.labels.tif`),
    filters: { 'Labels (uint8 TIFF)': ['tif', 'tiff'] },
    saveLabel: 'Save Labels Copy',
    title: 'Save your labels as a copy (the settings json goes beside it)',
  });
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}

export class LabelsDiskSync implements vscode.Disposable {
  private readonly watcher: LabelsWatcher;
  private checking = false;
  private again = false;
  /** The disk state last reported to the user (Keep Mine: not asked again until the files change again). */
  private reported: string | undefined;

  constructor(private readonly document: StackDocument, private readonly panel: vscode.WebviewPanel, private readonly log: vscode.LogOutputChannel) {
    this.watcher = new LabelsWatcher(() => void this.check());
    this.rewatch();
  }

  /** Checks the files now (debounced): on watcher events and when the editor gets focus. */
  poke(): void {
    this.watcher.fire();
  }

  private rewatch(): void {
    const p = this.document.labels?.paths;
    if (p) this.watcher.watch([p.labels, p.settings]);
  }

  async check(): Promise<void> {
    const labels = this.document.labels;
    if (!labels) return;
    if (this.checking) { this.again = true; return; }
    this.checking = true;
    try {
      const changed = await labels.changedOnDisk();
      if (changed.length === 0) { this.reported = undefined; return; }
      const key = await labels.diskKey();
      if (key === this.reported) return;
      this.reported = key;
      if (!this.isDirty()) {
        this.log.info(`${names(changed)} changed on disk: reloaded (no unsaved labels)`);
        await this.document.revert();
        this.reported = undefined;
        vscode.window.setStatusBarMessage(`StackSeg: reloaded ${names(changed)} (changed on disk)`, 5000);
        return;
      }
      this.log.warn(`${names(changed)} changed on disk while ${this.document.uri.fsPath} has unsaved labels`);
      void this.askDirty(changed); // not awaited: a notification may wait in the notification centre for long
    } catch (e) {
      this.log.warn(`Checking the labels files on disk failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.checking = false;
      this.rewatch();
      if (this.again) { this.again = false; this.poke(); }
    }
  }

  private async askDirty(changed: string[]): Promise<void> {
    const reload = 'Reload from Disk', keep = 'Keep Mine', copy = 'Save Mine as Copy…';
    const choice = await vscode.window.showWarningMessage(
      `${names(changed)} changed on disk (another program wrote ${changed.length > 1 ? 'them' : 'it'}), and ${basename(this.document.uri.fsPath)} has unsaved labels.`,
      reload, keep, copy);
    if (choice === reload) await this.reloadFromDisk();
    else if (choice === copy) {
      const target = await pickCopyTarget(this.document);
      if (!target || !this.document.labels) return;
      try {
        await this.document.labels.saveCopy(target);
        const again = await vscode.window.showInformationMessage(`Your labels were saved to ${target}. The editor still holds them; Reload from Disk shows the other program's version.`, reload);
        if (again === reload) await this.reloadFromDisk();
      } catch (e) {
        void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
      }
    }
    // Keep Mine (or dismissed): nothing now; Save will ask before replacing the other version.
  }

  /** VS Code's revert (clears the dirty marker) on this editor; a direct reload when it cannot be made active. */
  private async reloadFromDisk(): Promise<void> {
    if (!this.panel.active) {
      this.panel.reveal(this.panel.viewColumn, false);
      const until = Date.now() + 2000;
      while (!this.panel.active && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    }
    if (this.panel.active) await vscode.commands.executeCommand('workbench.action.files.revert');
    else await this.document.revert();
  }

  /** VS Code's own dirty marker of this document's tab. */
  private isDirty(): boolean {
    const key = this.document.uri.toString();
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        if (tab.input instanceof vscode.TabInputCustom && tab.input.uri.toString() === key) return tab.isDirty;
      }
    }
    return (this.document.labels?.journal.entries.length ?? 0) > 0;
  }

  dispose(): void {
    this.watcher.dispose();
  }
}
