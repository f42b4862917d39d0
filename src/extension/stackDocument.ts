// One open stack file. Owns the SliceSource (lazy reader + decoded-slice cache), or the one clear message
// when the file cannot be read, and the labels painted on it (DocumentLabels): every stroke, class change and
// deletion becomes one edit that VS Code's undo/redo, dirty marker, save, revert and hot-exit backups act on.
// The image file itself is never written.

import * as vscode from 'vscode';
import { openSource as openAnySource } from '../core/io';
import { hdf5NeedsPick } from './openStackCommands';
import { StackSegError } from '../shared/errors';
import type { BoxWrite, LabelEdit } from '../core/labels/edits';
import type { SliceSource } from '../shared/types';
import type { ViewerStackInfo } from '../shared/protocol';
import { DocumentLabels, type EditResult, type LabelsConflict, type SaveQuestions } from '../host/documentLabels';
import { UndoHistory } from '../host/undoHistory';

export type StackOpenResult = { ok: true; source: SliceSource } | { ok: false; message: string };

/** What changed in the labels, for the webview of this document. */
export interface LabelsChange {
  /** Box writes to mirror in the webview (undo, redo, deletion); a stroke's own writes are not echoed. */
  writes: BoxWrite[];
  classesChanged: boolean;
  /** Everything was reloaded (revert). */
  reset?: boolean;
  /** Undo/redo: when VS Code called it (epoch ms) and how long applying took (perf probe). */
  timing?: { startedAt: number; applyMs: number };
  /** Undo/redo: the edit's id in `history` (undefined when the mirror lost track) and the direction. */
  step?: { id: number | undefined; direction: 'undo' | 'redo' };
}

export class StackDocument implements vscode.CustomDocument {
  private readonly onDidDisposeEmitter = new vscode.EventEmitter<void>();
  /** Fires once when VS Code releases the document (last editor closed). */
  readonly onDidDispose = this.onDidDisposeEmitter.event;
  private readonly onDidEditEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<StackDocument>>();
  /** One event per edit, carrying undo/redo: the provider forwards it to VS Code (dirty marker, undo stack). */
  readonly onDidEdit = this.onDidEditEmitter.event;
  private readonly onDidChangeLabelsEmitter = new vscode.EventEmitter<LabelsChange>();
  readonly onDidChangeLabels = this.onDidChangeLabelsEmitter.event;
  private disposed = false;
  /** ms of the last undo or redo applied on the host (test API). */
  lastUndoMs = 0;
  /** Mirror of VS Code's undo stack: tells the webview what the next undo/redo will apply. */
  readonly history = new UndoHistory();
  /**
   * Bumped when the labels are reloaded after another program changed them: edits made before no longer describe
   * the content (their undo would paste old pixels over the other version), so VS Code's undo of them does nothing.
   */
  private epoch = 0;
  private readonly editEpochs = new WeakMap<LabelEdit, number>();

  private constructor(
    readonly uri: vscode.Uri,
    private readonly opened: StackOpenResult,
    /** Undefined when the image cannot be read. */
    readonly labels: DocumentLabels | undefined,
    /** Messages to show once (unreadable sidecar, backup not applied, labels file not loaded). */
    readonly warnings: string[],
  ) {}

  /** Opens the stack and its labels; never throws: a bad file gives a document that carries the error message. */
  static async create(uri: vscode.Uri, cacheBytes: number, backupId?: string, opts: { labels?: boolean } = {}): Promise<StackDocument> {
    const opened = await openSource(uri, cacheBytes);
    // labels: false (a label view): nothing is painted or saved for this file.
    if (!opened.ok || opts.labels === false) return new StackDocument(uri, opened, undefined, []);
    const { width, height, depth } = opened.source.info;
    let backupText: string | undefined;
    const warnings: string[] = [];
    if (backupId) {
      try {
        backupText = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.parse(backupId)));
      } catch (e) {
        warnings.push(`The backup of unsaved labels could not be read (${String(e)}); the labels on disk are shown.`);
      }
    }
    const loaded = await DocumentLabels.load(uri.fsPath, { width, height, depth }, backupText, backupId);
    warnings.push(...loaded.warnings);
    return new StackDocument(uri, opened, loaded.labels, warnings);
  }

  get source(): SliceSource | undefined {
    return this.opened.ok ? this.opened.source : undefined;
  }

  /** The message to show instead of the image, when the file cannot be viewed. */
  get errorMessage(): string | undefined {
    return this.opened.ok ? undefined : this.opened.message;
  }

  get labelsConflict(): LabelsConflict | undefined {
    return this.labels?.conflict;
  }

  viewerInfo(): ViewerStackInfo | undefined {
    const s = this.source;
    if (!s) return undefined;
    const { width, height, depth, dtype, channels = 1, frames = 1, channelColors } = s.info;
    // Channels and time points only when there are several: one-channel stacks keep their old init message.
    return { width, height, depth, dtype, fileName: baseName(this.uri), ...(channels > 1 ? { channels } : {}), ...(frames > 1 ? { frames } : {}), ...(channelColors ? { channelColors } : {}) };
  }

  /** Registers an applied edit with VS Code; `echo` sends its writes to the webview (not for the webview's own strokes). */
  pushEdit(result: EditResult, echo: boolean): void {
    const { edit, writes } = result;
    this.editEpochs.set(edit, this.epoch);
    this.history.push(edit);
    this.onDidChangeLabelsEmitter.fire({ writes: echo ? writes : [], classesChanged: edit.classes !== undefined });
    this.onDidEditEmitter.fire({
      document: this,
      label: edit.label,
      undo: () => this.undoRedo(edit, 'undo'),
      redo: () => this.undoRedo(edit, 'redo'),
    });
  }

  private undoRedo(edit: LabelEdit, direction: 'undo' | 'redo'): void {
    if (!this.labels || this.disposed) return;
    if (this.editEpochs.get(edit) !== this.epoch) return; // made before a reload from disk
    const t0 = performance.now();
    const writes = this.labels.apply(edit, direction);
    this.lastUndoMs = performance.now() - t0;
    const timing = { startedAt: performance.timeOrigin + t0, applyMs: this.lastUndoMs };
    const step = { id: this.history.applied(edit, direction), direction };
    this.onDidChangeLabelsEmitter.fire({ writes, classesChanged: edit.classes !== undefined, timing, step });
  }

  /** Display settings are saved with the classes but are not undoable edits (like a view state). */
  setDisplay(display: { labelOpacity: number; showLabels: boolean }): void {
    this.labels?.setDisplay(display);
  }

  /** Save (target undefined) or Save As (the image is copied to `target`, the labels written beside it). */
  async save(ask: SaveQuestions, target?: vscode.Uri): Promise<void> {
    if (!this.labels) return;
    if (target && target.toString() !== this.uri.toString()) {
      if (target.scheme !== 'file') throw new StackSegError(`cannot save to ${target.toString(true)}`, { hint: 'choose a file on the machine the extension runs on' });
      // Save As: the labels go beside a copy of the image, so the copy opens with them; asks before replacing labels there.
      await this.labels.saveAs(target.fsPath, ask, async () => { await vscode.workspace.fs.copy(this.uri, target, { overwrite: true }); });
      this.history.saved();
      return;
    }
    await this.labels.save(ask);
    this.history.saved();
  }

  /** Reloads labels and settings from disk (Revert, or another program changed them). */
  async revert(): Promise<void> {
    if (!this.labels) return;
    if ((await this.labels.changedOnDisk()).length > 0) {
      this.epoch++;
      this.history.clear();
    }
    const warnings = await this.labels.revert();
    this.history.reverted();
    for (const w of warnings) void vscode.window.showWarningMessage(w);
    const conflict = this.labels.conflict;
    if (conflict) void vscode.window.showWarningMessage(`${conflict.message}. The labels start empty; the file is not overwritten without asking.`);
    this.onDidChangeLabelsEmitter.fire({ writes: [], classesChanged: true, reset: true });
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await vscode.workspace.fs.writeFile(destination, new TextEncoder().encode(this.labels?.backupText() ?? '{}'));
    return {
      id: destination.toString(),
      delete: () => { void vscode.workspace.fs.delete(destination).then(undefined, () => undefined); },
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.source?.close().catch(() => undefined);
    this.labels?.dispose(); // closes the labels file the volume reads slices from
    this.onDidDisposeEmitter.fire();
    this.onDidDisposeEmitter.dispose();
    this.onDidEditEmitter.dispose();
    this.onDidChangeLabelsEmitter.dispose();
  }
}

function baseName(uri: vscode.Uri): string {
  const parts = uri.path.split('/');
  return parts[parts.length - 1] || uri.path;
}

/** Turns anything a reader throws into the one message the user sees. */
export function describeOpenError(e: unknown, fileLabel: string): string {
  if (e instanceof StackSegError) return e.message;
  const text = e instanceof Error ? e.message : String(e);
  return `${fileLabel}: cannot read this file as an image stack (${text}) — check that it is a grayscale TIFF stack; please report the file if it opens in ImageJ/Fiji.`;
}

async function openSource(uri: vscode.Uri, cacheBytes: number): Promise<StackOpenResult> {
  if (uri.scheme !== 'file') {
    return {
      ok: false,
      message: `${uri.toString(true)}: StackSeg reads stacks from the file system of the machine the extension runs on, and this file is on "${uri.scheme}" — copy it into the workspace folder or open the folder through Remote-SSH.`,
    };
  }
  try {
    // An HDF5 file with several 3D datasets and no /exchange/data: the quick pick opens the chosen one in its own tab.
    const pick = await hdf5NeedsPick(uri);
    if (pick) return { ok: false, message: pick };
    return { ok: true, source: await openAnySource(uri.fsPath, { cacheBytes }) };
  } catch (e) {
    return { ok: false, message: describeOpenError(e, uri.fsPath) };
  }
}
