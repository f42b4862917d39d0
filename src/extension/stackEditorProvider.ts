// Custom editor for *.tif / *.tiff: opens a StackDocument and shows it in the viewer webview.
// Editable (CustomEditorProvider): labels painted in the webview arrive as one message per stroke and become
// undoable edits; save writes <stem>.labels.tif + <stem>.stackseg.json, never the image.

import * as vscode from 'vscode';
import { encodeRle } from '../shared/labels/rle';
import { WorkerLevels } from '../core/levels/client';
import { CachedLevels } from '../core/levels/levels';
import { parseWebviewMessage, type HostToWebview, type PreparedStep } from '../shared/protocol';
import type { StackSegApi } from './api';
import { orderedPoster, packBytes, packedSlice } from '../host/packedPost';
import { exactBuffer, SliceServer } from '../host/sliceServer';
import { PlaneServer } from '../host/planeServer';
import { cropBox } from '../shared/pixelBox';
import { LabelsDiskSync, saveQuestions } from './labelsDiskSync';
import { LivePreviewSession } from '../host/livePreviewSession';
import { SegmentationOverlay } from '../host/segmentationOverlay';
import { describeOpenError, StackDocument, type LabelsChange } from './stackDocument';
import type { NextStep } from '../host/undoHistory';
import { makeNonce, renderWebviewHtml } from '../host/webviewHtml';
import { labelViewInit, labelViewOf, showOverStack } from './labelView';
import { strokeApplied, walkthroughEvent } from './walkthrough';

const MB = 1024 * 1024;

/** Bytes of decoded slices a stack's reader keeps (setting stackseg.cacheMegabytes, at least 16 MB). */
function cacheBytesOf(uri: vscode.Uri): number {
  const megabytes = vscode.workspace.getConfiguration('stackseg', uri).get<number>('cacheMegabytes', 512);
  return Math.max(16, Number.isFinite(megabytes) ? megabytes : 512) * MB;
}

/** Per open editor: what tests and commands can ask about. */
interface EditorEntry {
  document: StackDocument;
  panel: vscode.WebviewPanel;
  lastShown?: number;
  timings: { z: number; readMs: number; postMs: number; bytes: number }[];
  waiters: { z: number; resolve: () => void }[];
  /** Slices whose labels this webview holds (sent with the image, then kept in sync by patches). */
  sentLabels: Set<number>;
  /** Posts in order; a promise is a message still being packed (packedPost.ts). */
  post(msg: HostToWebview | Promise<HostToWebview>): Thenable<unknown>;
  /** Stroke messages received since the webview said `ready` (tags live-preview results). */
  strokes: number;
  preview?: LivePreviewSession;
  /** A job's mask shown over the image (stackseg.showSegmentation). */
  segmentation?: SegmentationOverlay;
  /** Channel and time point the viewer shows (the live preview reads them); absent: 0, 0. */
  plane?: { c: number; t: number };
  /** 3 views: the XZ/YZ planes of this webview (planeServer.ts). */
  planes?: PlaneServer;
}

export class StackEditorProvider implements vscode.CustomEditorProvider<StackDocument> {
  static readonly viewType = 'stackseg.stackEditor';

  private readonly editors = new Map<string, EditorEntry>();
  private readonly onDidChangeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<StackDocument> | vscode.CustomDocumentContentChangeEvent<StackDocument>>();
  readonly onDidChangeCustomDocument = this.onDidChangeEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {}

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
    const webview = panel.webview;
    const root = this.context.extensionUri;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')],
    };
    webview.html = renderWebviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'media', 'viewer.css')).toString(),
      nonce: makeNonce(),
      title: document.viewerInfo()?.fileName ?? 'StackSeg',
    });

    const key = document.uri.toString();
    const post = orderedPoster((msg) => webview.postMessage(msg), (e) => this.log.error(`postMessage failed: ${String(e)}`));
    const entry: EditorEntry = { document, panel, waiters: [], timings: [], sentLabels: new Set(), post, strokes: 0 };
    this.editors.set(key, entry);
    const labels = document.labels;
    if (labels?.restoredFromBackup) {
      // VS Code 1.100 (code-server) reopens a custom document from its backup without the dirty marker; then the
      // restored strokes could be closed away unsaved. A content-change event sets it (cleared by save/revert).
      labels.restoredFromBackup = false;
      setTimeout(() => this.onDidChangeEmitter.fire({ document }), 0);
    }

    const source = document.source;
    // Slices are decoded and reduced in a worker thread with its own reader and caches (stackseg.cacheMegabytes);
    // the document's reader then holds no pixels. In-thread only if the bundle lacks the worker.
    const workerLevels = source && WorkerLevels.create(vscode.Uri.joinPath(root, 'dist', 'levelWorker.js').fsPath, source.info, { cacheBytes: cacheBytesOf(document.uri) });
    if (source && !workerLevels) this.log.warn('dist/levelWorker.js is missing: slices are decoded on the extension host thread');
    const levels = source && (workerLevels ?? new CachedLevels(source));
    const server = source && levels && new SliceServer(levels, {
      slice: (z, pixels, readMs, shape) => {
        // The reader hands out a fresh array per call, so its buffer can go to the webview as is.
        const t0 = performance.now();
        if (labels && !entry.sentLabels.has(z)) {
          // Labels travel with the first copy of the slice; later changes reach the webview as patches.
          entry.sentLabels.add(z);
          const slice = labels.volume.slice(z);
          if (slice) void post(packBytes({ type: 'labels', z, rle: exactBuffer(encodeRle(slice)) }, ['rle']));
        }
        const data = shape.packed ? exactBuffer(shape.packed) : exactBuffer(pixels);
        // Resolves when VS Code has handed the message on: the server bounds the bytes in flight by it.
        const plane = shape.c || shape.t ? { c: shape.c, t: shape.t } : {};
        const msg = { type: 'slice', z, width: shape.width, height: shape.height, dtype: source.info.dtype, data, level: shape.level, ...plane } as const;
        return post(shape.packed ? packedSlice(msg, shape.packed) : msg).then(() => {
          entry.timings.push({ z, readMs, postMs: performance.now() - t0, bytes: data.byteLength });
          if (entry.timings.length > 200) entry.timings.splice(0, 100);
        });
      },
      link: (state) => void post({ type: 'link', ...state }),
      skipped: (z, level, p) => void post({ type: 'sliceSkipped', z, level, ...(p?.c || p?.t ? p : {}) }),
      error: (z, e, p) => {
        const message = describeOpenError(e, document.uri.fsPath);
        this.log.warn(`Slice ${z} of ${key}: ${message}`);
        void post({ type: 'sliceError', z, message, ...(p?.c || p?.t ? p : {}) });
      },
    });
    // 3 views: XZ/YZ planes cut from level-f slices in the same worker (planeServer.ts).
    entry.planes = source && levels ? new PlaneServer(levels, source.info, () => labels?.volume, {
      post: (m) => post(m),
      error: (axis, index, e) => this.log.warn(`${axis.toUpperCase()} plane ${index} of ${key}: ${describeOpenError(e, document.uri.fsPath)}`),
    }) : undefined;
    /** The plane a webview stroke being applied came from (its view shows it already). */
    let planeStrokeFrom: { axis: 'xz' | 'yz'; index: number } | undefined;
    const depth = source?.info.depth ?? 0;
    const limits = { depth, width: source?.info.width ?? 0, height: source?.info.height ?? 0, channels: source?.info.channels, frames: source?.info.frames };
    const sendClasses = () => { if (labels) void post({ type: 'classes', classes: labels.settings.classes, display: labels.settings.display }); };
    const sendStats = () => { if (labels) void post({ type: 'labelStats', counts: labels.volume.classCounts(), annotated: labels.volume.annotatedSlices() }); };

    if (source && labels) {
      const workerPath = vscode.Uri.joinPath(root, 'dist', 'previewWorker.js').fsPath;
      entry.preview = new LivePreviewSession(workerPath, {
        width: source.info.width,
        height: source.info.height,
        // The channel and time point the viewer shows (channel 0 in its composite): one plane, never mixed.
        readSlice: (z) => levels!.readLevel(z, 1, entry.plane?.c ?? 0, entry.plane?.t ?? 0).then((l) => l.data),
        labelsOf: (z) => labels.volume.sliceOrZeros(z),
        strokes: () => entry.strokes,
        result: (r) => void post(packBytes({ type: 'livePreview', z: r.z, data: exactBuffer(r.labels), width: r.width, height: r.height, factor: r.factor, strokes: r.strokes, ms: r.ms }, ['data'])),
        state: (st) => { void post({ type: 'livePreviewState', ...st }); if (st.enabled) walkthroughEvent('livePreviewOn'); },
      });
    }

    const subscriptions: vscode.Disposable[] = [];
    // Another program rewriting the labels files: reload when clean, ask when dirty (labelsDiskSync.ts).
    if (labels) {
      const diskSync = new LabelsDiskSync(document, panel, this.log);
      subscriptions.push(diskSync, panel.onDidChangeViewState((e) => { if (e.webviewPanel.active) diskSync.poke(); }));
    }
    subscriptions.push(document.onDidChangeLabels((change) => {
      this.mirrorLabels(entry, change);
      entry.planes?.labelsChanged(change.reset ? 'all' : change.writes, planeStrokeFrom);
      // Renames and recolours do not change what the forest learns.
      if (change.reset || change.writes.length > 0 || !change.classesChanged) entry.preview?.labelsChanged();
    }));
    subscriptions.push(webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = parseWebviewMessage(raw, limits);
      if (!parsed.ok) {
        this.log.warn(`Ignored a message from the viewer of ${key}: ${parsed.reason}`);
        return;
      }
      const msg = parsed.message;
      switch (msg.type) {
        case 'ready': {
          const info = document.viewerInfo();
          entry.sentLabels.clear(); // a (re)loaded webview holds no labels yet
          entry.planes?.close(); // nor plane labels
          entry.strokes = 0;
          sendClasses();
          sendStats();
          const labelView = labelViewOf(document.uri.fsPath);
          if (info) { void post({ type: 'init', info, initialSlice: 0, ...(labelView ? { labelView: labelViewInit(labelView) } : {}) }); walkthroughEvent('stackOpened'); }
          else void post({ type: 'error', message: document.errorMessage ?? 'This file cannot be shown.' });
          this.sendUndoState(entry); // after init: the webview checks its boxes against the stack's size
          entry.preview?.resend();
          entry.segmentation?.forget();
          return;
        }
        case 'requestSlice':
          server?.request(msg.z, msg.priority, msg.level ?? 1, msg.c ?? 0, msg.t ?? 0);
          return;
        case 'requestPixels': {
          // The exact readout: a small box of level 1, never the whole slice (over Remote-SSH 8 MB for 2048² uint16).
          if (!source || !levels) return;
          const box = { x: msg.x, y: msg.y, width: msg.width, height: msg.height };
          const plane = msg.c || msg.t ? { c: msg.c, t: msg.t } : {};
          levels.readLevel(msg.z, 1, msg.c ?? 0, msg.t ?? 0).then(
            (l) => void post({ type: 'pixels', z: msg.z, ...box, dtype: source.info.dtype, data: exactBuffer(cropBox(l.data, l.width, box)), ...plane }),
            (e) => this.log.warn(`Pixels of slice ${msg.z} of ${key}: ${describeOpenError(e, document.uri.fsPath)}`),
          );
          return;
        }
        case 'sliceShown': {
          entry.lastShown = msg.z;
          server?.focus(msg.z);
          const plane = { c: msg.c ?? 0, t: msg.t ?? 0 };
          if (plane.c !== (entry.plane?.c ?? 0) || plane.t !== (entry.plane?.t ?? 0)) {
            entry.plane = plane;
            entry.preview?.imageChanged(); // the preview trains on the shown channel: read it again
          }
          entry.preview?.sliceShown(msg.z);
          if (entry.segmentation) void entry.segmentation.show(msg.z);
          const done = entry.waiters.filter((w) => w.z === msg.z);
          entry.waiters = entry.waiters.filter((w) => w.z !== msg.z);
          for (const w of done) w.resolve();
          return;
        }
        case 'stroke': {
          entry.strokes++;
          if (!labels) return;
          try {
            const result = labels.stroke(msg.z, { x: msg.x, y: msg.y, width: msg.width, height: msg.height }, msg.rle, msg.tool);
            if (result) { document.pushEdit(result, false); if (msg.tool !== 'eraser') strokeApplied(labels.volume.classCounts()); }
            if (result) entry.planes?.labelsChanged(result.writes);
          } catch (e) {
            // Corrupt payload: nothing was applied; resend the slice so the webview drops what it drew.
            this.log.warn(`Ignored a stroke from the viewer of ${key}: ${e instanceof Error ? e.message : String(e)}`);
            this.resendLabels(entry, msg.z);
          }
          return;
        }
        case 'setClasses': {
          if (!labels) return;
          try {
            const result = labels.setClasses(msg.classes);
            if (result) document.pushEdit(result, true);
          } catch (e) {
            void vscode.window.showWarningMessage(e instanceof Error ? e.message : String(e));
            sendClasses();
          }
          return;
        }
        case 'deleteClass':
          void this.deleteClass(document, msg.index);
          return;
        case 'setDisplay':
          document.setDisplay(msg.display);
          return;
        case 'setLivePreview':
          entry.preview?.setEnabled(msg.enabled);
          return;
        case 'setSegmentationView':
          if (!entry.segmentation) return;
          entry.segmentation.view = msg.view;
          if (entry.lastShown !== undefined) void entry.segmentation.show(entry.lastShown);
          return;
        case 'resyncLabels':
          this.resendLabels(entry, msg.z, true);
          return;
        case 'showOverStack': {
          const v = labelViewOf(document.uri.fsPath);
          if (v) void showOverStack(this, document.uri.fsPath, v);
          return;
        }
        case 'requestPlane':
          void entry.planes?.request(msg.axis, msg.index, msg.level, msg.c ?? 0, msg.t ?? 0);
          return;
        case 'closePlanes':
          entry.planes?.close();
          return;
        case 'planeStroke': {
          entry.strokes++;
          if (!labels) return;
          try {
            const result = labels.planeStroke(msg.axis, msg.index, { x: msg.x, y: msg.y, width: msg.width, height: msg.height }, msg.rle, msg.tool);
            planeStrokeFrom = { axis: msg.axis, index: msg.index };
            // Echoed: the slices it crossed that the webview holds get patches (the XY view shows the stroke).
            if (result) { document.pushEdit(result, true); if (msg.tool !== 'eraser') strokeApplied(labels.volume.classCounts()); }
          } catch (e) {
            this.log.warn(`Ignored a plane stroke from the viewer of ${key}: ${e instanceof Error ? e.message : String(e)}`);
            entry.planes?.labelsChanged('all'); // the plane view drops what it drew
          } finally {
            planeStrokeFrom = undefined;
          }
          return;
        }
        case 'openModelPanel':
          // The StackSeg view container (package.json viewsContainers.activitybar id "stackseg"): Model and Jobs.
          void vscode.commands.executeCommand('workbench.view.extension.stackseg');
          return;
      }
    }));
    panel.onDidDispose(() => {
      server?.dispose();
      entry.planes?.dispose();
      entry.preview?.dispose();
      entry.segmentation?.dispose(false);
      for (const s of subscriptions) s.dispose();
      if (this.editors.get(key) === entry) this.editors.delete(key);
    });
  }

  /** Mirrors label changes in the webview: patches for slices it holds, then classes and counts. */
  private mirrorLabels(entry: EditorEntry, change: LabelsChange): void {
    const labels = entry.document.labels;
    if (!labels) return;
    if (change.reset) {
      // Only the slices the webview holds: the others get their labels with the image (a labelled slice not in
      // memory is decoded from the file to be sent; sending every one would decode the whole labels file).
      const held = [...entry.sentLabels];
      entry.sentLabels.clear();
      void entry.post({ type: 'labelsReset' });
      for (const z of held) {
        if (labels.volume.hasLabels(z)) this.resendLabels(entry, z);
        else entry.sentLabels.add(z); // all zeros there after the reset
      }
      if (entry.lastShown !== undefined) entry.sentLabels.add(entry.lastShown);
    }
    // Tags undo/redo patches with the edit, so a webview that painted this step on the key press skips them.
    const step = change.step?.id !== undefined ? { id: change.step.id, direction: change.step.direction } : undefined;
    for (const w of change.writes) {
      // A slice the webview has not been sent yet gets its labels with the image later.
      if (!entry.sentLabels.has(w.z)) continue;
      const timing = change.timing && { ...change.timing, postedAt: performance.timeOrigin + performance.now() };
      void entry.post(packBytes({ type: 'labelPatch', z: w.z, ...w.box, rle: exactBuffer(w.rle), from: w.from && exactBuffer(w.from), timing, step }, ['rle', 'from']));
    }
    // After the patches: `applied` tells the webview this step is complete (confirm or roll back what it painted).
    this.sendUndoState(entry, step);
    if (change.classesChanged || change.reset) void entry.post({ type: 'classes', classes: labels.settings.classes, display: labels.settings.display });
    void entry.post({ type: 'labelStats', counts: labels.volume.classCounts(), annotated: labels.volume.annotatedSlices() });
  }

  /** Sends the whole label slice z (all zeros as one run when unpainted); `replace` overwrites the webview's copy. */
  private resendLabels(entry: EditorEntry, z: number, replace = false): void {
    const labels = entry.document.labels;
    if (!labels) return;
    entry.sentLabels.add(z);
    void entry.post(packBytes({ type: 'labels', z, rle: exactBuffer(encodeRle(labels.volume.sliceOrZeros(z))), ...(replace ? { replace } : {}) }, ['rle']));
  }

  /** What the next undo and redo of the document will write (the webview paints them on the key press). */
  private sendUndoState(entry: EditorEntry, applied?: { id: number; direction: 'undo' | 'redo' }): void {
    const next = entry.document.history.next();
    const prepared = (s: NextStep | undefined): PreparedStep | undefined => s && {
      id: s.id, direction: s.direction,
      writes: s.writes.map((w) => ({ z: w.z, ...w.box, rle: exactBuffer(w.rle), from: exactBuffer(w.from ?? new Uint8Array(0)) })),
    };
    void entry.post({ type: 'undoState', applied, undo: prepared(next.undo), redo: prepared(next.redo) });
  }

  private async deleteClass(document: StackDocument, k: number): Promise<void> {
    const labels = document.labels;
    if (!labels) return;
    const used = labels.volume.classCount(k);
    if (used > 0) {
      const slices = labels.volume.annotatedSlices().length;
      const choice = await vscode.window.showWarningMessage(
        `Class "${labels.className(k)}" labels ${used.toLocaleString('en-US')} pixels. Delete the class and erase those pixels?`,
        { modal: true, detail: `Labels on up to ${slices} slice(s) are erased. Undo (Ctrl+Z) brings them back.` }, 'Delete class and pixels');
      if (choice !== 'Delete class and pixels') {
        const entry = this.find(document.uri.toString());
        if (entry) void entry.post({ type: 'classes', classes: labels.settings.classes, display: labels.settings.display });
        return;
      }
    }
    const result = labels.deleteClass(k);
    if (result) document.pushEdit(result, true);
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
    const e = this.find(uri);
    const info = e?.document.viewerInfo();
    if (!e || !info) return false;
    e.segmentation?.dispose(maskPath === undefined);
    e.segmentation = undefined;
    if (maskPath === undefined) return true;
    e.segmentation = new SegmentationOverlay(maskPath, source, info, e.post, (m) => {
      this.log.warn(m);
      void vscode.window.showWarningMessage(m);
    }, uncertaintyPath);
    if (view && (view === 'classes' || uncertaintyPath)) e.segmentation.view = view;
    if (e.lastShown !== undefined) void e.segmentation.show(e.lastShown);
    walkthroughEvent('overlayShown');
    return true;
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
        if (e.lastShown === z) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`slice ${z} of ${uri} was not shown within ${timeoutMs} ms`)), timeoutMs);
          e.waiters.push({ z, resolve: () => { clearTimeout(timer); resolve(); } });
        });
      },
    };
  }

  /** Accepts a Uri string in any of the usual spellings (encoded or not) or a plain file path. */
  private find(uri: string): EditorEntry | undefined {
    const direct = this.editors.get(uri);
    if (direct) return direct;
    const parsed = uri.includes('://') || uri.startsWith('file:') ? vscode.Uri.parse(uri) : vscode.Uri.file(uri);
    return this.editors.get(parsed.toString());
  }
}
