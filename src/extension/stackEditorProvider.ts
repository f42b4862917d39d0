// Custom editor for *.tif / *.tiff: opens a StackDocument and shows it in the viewer webview.
// Editable (CustomEditorProvider): labels painted in the webview arrive as one message per stroke and become
// undoable edits; save writes <stem>.labels.tif + <stem>.stackseg.json, never the image.
// The provider handles the custom-document API and creates one EditorSession (editorSession.ts) per open editor.

import * as vscode from 'vscode';
import type { HostToWebview } from '../shared/protocol';
import type { StackSegApi } from './api';
import { saveQuestions } from './labelsDiskSync';
import { StackDocument } from './stackDocument';
import { labelViewOf, showOverStack } from './labelView';
import { cacheBytesOf, EditorSession, type SessionHost } from './editorSession';

export class StackEditorProvider implements vscode.CustomEditorProvider<StackDocument> {
  static readonly viewType = 'stackseg.stackEditor';

  private readonly editors = new Map<string, EditorSession>();
  private readonly onDidChangeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<StackDocument> | vscode.CustomDocumentContentChangeEvent<StackDocument>>();
  readonly onDidChangeCustomDocument = this.onDidChangeEmitter.event;

  /** What every session may ask of the provider. */
  private readonly sessionHost: SessionHost;

  constructor(context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {
    this.sessionHost = {
      extensionUri: context.extensionUri,
      log,
      contentChanged: (document) => this.onDidChangeEmitter.fire({ document }),
      showOverStack: (fsPath, v) => void showOverStack(this, fsPath, v),
      ended: (session) => { if (this.editors.get(session.key) === session) this.editors.delete(session.key); },
    };
  }

  static register(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): { provider: StackEditorProvider; registration: vscode.Disposable } {
    const provider = new StackEditorProvider(context, log);
    const registration = vscode.window.registerCustomEditorProvider(StackEditorProvider.viewType, provider, {
      supportsMultipleEditorsPerDocument: false,
    });
    return { provider, registration };
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext, _token: vscode.CancellationToken): Promise<StackDocument> {
    // A labels/truth/mask file opened on its own is a read-only label view: no labels of its own to paint or save.
    const document = await StackDocument.create(uri, cacheBytesOf(uri), openContext.backupId, { labels: !labelViewOf(uri.fsPath) });
    if (document.errorMessage) this.log.warn(`Cannot view ${uri.toString(true)}: ${document.errorMessage}`);
    else this.log.info(`Opened ${uri.toString(true)}: ${JSON.stringify(document.viewerInfo())}${openContext.backupId ? ' (restored unsaved labels from a backup)' : ''}`);
    for (const w of document.warnings) {
      this.log.warn(w);
      void vscode.window.showWarningMessage(w);
    }
    const conflict = document.labelsConflict;
    if (conflict) {
      const message = `${conflict.message}. The labels start empty; the old file is kept and is not overwritten without asking.`;
      this.log.warn(message);
      void vscode.window.showWarningMessage(message, 'Start empty', 'Close editor').then((choice) => {
        if (choice === 'Close editor') void this.closeTabsOf(uri);
      });
    }
    document.onDidEdit((e) => this.onDidChangeEmitter.fire(e));
    return document;
  }

  // ------------------------------------------------------------ save, revert, backup (VS Code calls these)

  async saveCustomDocument(document: StackDocument, _cancellation: vscode.CancellationToken): Promise<void> {
    await document.save(saveQuestions(document));
    this.log.info(`Saved labels of ${document.uri.fsPath} in ${document.labels?.lastSaveMs.toFixed(0)} ms`);
    for (const w of document.labels?.saveWarnings ?? []) this.log.warn(w);
  }

  async saveCustomDocumentAs(document: StackDocument, destination: vscode.Uri, _cancellation: vscode.CancellationToken): Promise<void> {
    await document.save(saveQuestions(document), destination);
  }

  async revertCustomDocument(document: StackDocument, _cancellation: vscode.CancellationToken): Promise<void> {
    await document.revert();
  }

  backupCustomDocument(document: StackDocument, context: vscode.CustomDocumentBackupContext, _cancellation: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  private async closeTabsOf(uri: vscode.Uri): Promise<void> {
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        if (tab.input instanceof vscode.TabInputCustom && tab.input.uri.toString() === uri.toString()) await vscode.window.tabGroups.close(tab);
      }
    }
  }

  async resolveCustomEditor(document: StackDocument, panel: vscode.WebviewPanel, _token: vscode.CancellationToken): Promise<void> {
    const session = new EditorSession(this.sessionHost, document, panel);
    this.editors.set(session.key, session);
  }

  /** Command stackseg.toggleLivePreview: on/off for the active stack viewer. */
  toggleLivePreview(): void {
    const entry = [...this.editors.values()].find((e) => e.panel.active);
    if (!entry?.preview) {
      void vscode.window.showInformationMessage('Live preview works in a StackSeg stack viewer: open a .tif stack, paint two classes, then toggle it.');
      return;
    }
    entry.preview.setEnabled(!entry.preview.isEnabled);
  }

  /**
   * Shows the mask at `maskPath` over the viewer of `uri` (replacing any shown), or hides it when `maskPath` is
   * undefined. False when no viewer of `uri` is open.
   */
  setSegmentation(uri: string, maskPath: string | undefined, source = '', uncertaintyPath?: string, view?: 'classes' | 'uncertainty'): boolean {
    return this.find(uri)?.setSegmentation(maskPath, source, uncertaintyPath, view) ?? false;
  }

  /** The mask shown over the viewer of `uri`, if any. */
  segmentationShown(uri: string): { maskPath: string; source: string; lastSlice?: number; view: string } | undefined {
    const s = this.find(uri)?.segmentation;
    return s && { maskPath: s.maskPath, source: s.source, lastSlice: s.lastPosted, view: s.view };
  }

  // ------------------------------------------------------------ API for tests in the extension host

  api(): StackSegApi {
    return {
      openEditors: () => [...this.editors.keys()],
      lastSliceShown: (uri) => this.find(uri)?.lastShown,
      shownPlane: (uri) => this.find(uri)?.plane ?? (this.find(uri) ? { c: 0, t: 0 } : undefined),
      sliceTimings: (uri) => [...(this.find(uri)?.timings ?? [])],
      errorShown: (uri) => this.find(uri)?.document.errorMessage,
      labelState: (uri) => {
        const d = this.find(uri)?.document;
        const l = d?.labels;
        if (!d || !l) return undefined;
        return {
          classes: l.settings.classes, counts: l.volume.classCounts(), annotated: l.volume.annotatedSlices(),
          lastSaveMs: l.lastSaveMs, lastUndoMs: d.lastUndoMs, conflict: l.conflict?.message, warnings: d.warnings,
        };
      },
      segmentationState: (uri) => this.segmentationShown(uri),
      showSlice: (uri, z) => {
        const e = this.find(uri);
        if (!e) return false;
        void e.panel.webview.postMessage({ type: 'goToSlice', z } satisfies HostToWebview);
        return true;
      },
      waitForSlice: (uri, z, timeoutMs = 10_000) => {
        const e = this.find(uri);
        if (!e) return Promise.reject(new Error(`no StackSeg viewer is open for ${uri}`));
        return e.waitForSlice(z, timeoutMs, uri);
      },
    };
  }

  /** Accepts a Uri string in any of the usual spellings (encoded or not) or a plain file path. */
  private find(uri: string): EditorSession | undefined {
    const direct = this.editors.get(uri);
    if (direct) return direct;
    const parsed = uri.includes('://') || uri.startsWith('file:') ? vscode.Uri.parse(uri) : vscode.Uri.file(uri);
    return this.editors.get(parsed.toString());
  }
}
