// One open stack viewer (a custom editor's webview panel): owns its slice server, plane server, live preview,
// segmentation overlay and the mirroring of labels into the webview, and registers every disposable so that closing
// the panel releases them all. Messages from the webview are dispatched in editorMessages.ts. The provider
// (stackEditorProvider.ts) only creates sessions and handles the custom-document API.

import * as vscode from 'vscode';
import { encodeRle } from '../shared/labels/rle';
import { WorkerLevels } from '../core/levels/client';
import { CachedLevels, type LevelReader } from '../core/levels/levels';
import { parseWebviewMessage, type HostToWebview, type PreparedStep } from '../shared/protocol';
import { orderedPoster, packBytes, packedSlice } from '../host/packedPost';
import { exactBuffer, SliceServer } from '../host/sliceServer';
import { PlaneServer } from '../host/planeServer';
import { LabelsDiskSync } from './labelsDiskSync';
import { LivePreviewSession } from '../host/livePreviewSession';
import { zRatioOf } from '../core/features/volumeChunks';
import { defaultParams } from '../shared/models/registry';
import { SegmentationOverlay } from '../host/segmentationOverlay';
import { describeOpenError, type StackDocument, type LabelsChange } from './stackDocument';
import type { NextStep } from '../host/undoHistory';
import { makeNonce, renderWebviewHtml } from '../host/webviewHtml';
import type { LabelViewInfo } from './labelView';
import { walkthroughEvent } from './walkthrough';
import { dispatchWebviewMessage } from './editorMessages';

const MB = 1024 * 1024;

/** Bytes of decoded slices a stack's reader keeps (setting stackseg.cacheMegabytes, at least 16 MB). */
export function cacheBytesOf(uri: vscode.Uri): number {
  const megabytes = vscode.workspace.getConfiguration('stackseg', uri).get<number>('cacheMegabytes', 512);
  return Math.max(16, Number.isFinite(megabytes) ? megabytes : 512) * MB;
}

/** What a session needs from the provider that created it. */
export interface SessionHost {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  /** A content-change event for the document (sets VS Code's dirty marker). */
  contentChanged(document: StackDocument): void;
  /** A label view's "show over the stack" button (labelView.ts). */
  showOverStack(fsPath: string, view: LabelViewInfo): void;
  /** The panel was closed and the session disposed. */
  ended(session: EditorSession): void;
}

export class EditorSession implements vscode.Disposable {
  readonly key: string;
  readonly webview: vscode.Webview;
  /** Posts in order; a promise is a message still being packed (packedPost.ts). */
  readonly post: (msg: HostToWebview | Promise<HostToWebview>) => Thenable<unknown>;
  lastShown?: number;
  readonly timings: { z: number; readMs: number; postMs: number; bytes: number }[] = [];
  waiters: { z: number; resolve: () => void }[] = [];
  /** Slices whose labels this webview holds (sent with the image, then kept in sync by patches). */
  readonly sentLabels = new Set<number>();
  /** Stroke messages received since the webview said `ready` (tags live-preview results). */
  strokes = 0;
  /** Channel and time point the viewer shows (the live preview reads them); absent: 0, 0. */
  plane?: { c: number; t: number };
  /** The plane a webview stroke being applied came from (its view shows it already). */
  planeStrokeFrom: { axis: 'xz' | 'yz'; index: number } | undefined;
  /** Decoded, reduced slices: in the level worker, or in this thread if the bundle lacks it. */
  readonly levels?: LevelReader;
  readonly server?: SliceServer;
  /** 3 views: the XZ/YZ planes of this webview (planeServer.ts). */
  readonly planes?: PlaneServer;
  readonly preview?: LivePreviewSession;
  /** A job's mask shown over the image (stackseg.showSegmentation). */
  segmentation?: SegmentationOverlay;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(readonly host: SessionHost, readonly document: StackDocument, readonly panel: vscode.WebviewPanel) {
    const webview = (this.webview = panel.webview);
    const root = host.extensionUri;
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
    this.key = document.uri.toString();
    this.post = orderedPoster((msg) => webview.postMessage(msg), (e) => host.log.error(`postMessage failed: ${String(e)}`));
    const labels = document.labels;
    if (labels?.restoredFromBackup) {
      // VS Code 1.100 (code-server) reopens a custom document from its backup without the dirty marker; then the
      // restored strokes could be closed away unsaved. A content-change event sets it (cleared by save/revert).
      labels.restoredFromBackup = false;
      setTimeout(() => host.contentChanged(document), 0);
    }

    const source = document.source;
    if (source) {
      // Slices are decoded and reduced in a worker thread with its own reader and caches (stackseg.cacheMegabytes);
      // the document's reader then holds no pixels. In-thread only if the bundle lacks the worker.
      const workerLevels = WorkerLevels.create(vscode.Uri.joinPath(root, 'dist', 'levelWorker.js').fsPath, source.info, { cacheBytes: cacheBytesOf(document.uri) });
      if (!workerLevels) host.log.warn('dist/levelWorker.js is missing: slices are decoded on the extension host thread');
      const levels = (this.levels = workerLevels ?? new CachedLevels(source));
      this.server = this.sliceServer(levels);
      // 3 views: XZ/YZ planes cut from level-f slices in the same worker (planeServer.ts).
      this.planes = new PlaneServer(levels, source.info, () => labels?.volume, {
        post: (m) => this.post(m),
        error: (axis, index, e) => host.log.warn(`${axis.toUpperCase()} plane ${index} of ${this.key}: ${describeOpenError(e, document.uri.fsPath)}`),
      });
      if (labels) this.preview = this.livePreview(levels);
    }

    // Another program rewriting the labels files: reload when clean, ask when dirty (labelsDiskSync.ts).
    if (labels) {
      const diskSync = new LabelsDiskSync(document, panel, host.log);
      this.disposables.push(diskSync, panel.onDidChangeViewState((e) => { if (e.webviewPanel.active) diskSync.poke(); }));
    }
    this.disposables.push(document.onDidChangeLabels((change) => {
      this.mirrorLabels(change);
      this.planes?.labelsChanged(change.reset ? 'all' : change.writes, this.planeStrokeFrom);
      // Renames and recolours do not change what the forest learns.
      if (change.reset || change.writes.length > 0 || !change.classesChanged) this.preview?.labelsChanged();
    }));
    const info = source?.info;
    const limits = { depth: info?.depth ?? 0, width: info?.width ?? 0, height: info?.height ?? 0, channels: info?.channels, frames: info?.frames };
    this.disposables.push(webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = parseWebviewMessage(raw, limits);
      if (!parsed.ok) host.log.warn(`Ignored a message from the viewer of ${this.key}: ${parsed.reason}`);
      else dispatchWebviewMessage(this, parsed.message);
    }));
    this.disposables.push(panel.onDidDispose(() => this.dispose()));
  }

  private sliceServer(levels: LevelReader): SliceServer {
    const { document, host } = this;
    const labels = document.labels, dtype = document.source!.info.dtype;
    return new SliceServer(levels, {
      slice: (z, pixels, readMs, shape) => {
        // The reader hands out a fresh array per call, so its buffer can go to the webview as is.
        const t0 = performance.now();
        if (labels && !this.sentLabels.has(z)) {
          // Labels travel with the first copy of the slice; later changes reach the webview as patches.
          this.sentLabels.add(z);
          const slice = labels.volume.slice(z);
          if (slice) void this.post(packBytes({ type: 'labels', z, rle: exactBuffer(encodeRle(slice)) }, ['rle']));
        }
        const data = shape.packed ? exactBuffer(shape.packed) : exactBuffer(pixels);
        // Resolves when VS Code has handed the message on: the server bounds the bytes in flight by it.
        const plane = shape.c || shape.t ? { c: shape.c, t: shape.t } : {};
        const msg = { type: 'slice', z, width: shape.width, height: shape.height, dtype, data, level: shape.level, ...plane } as const;
        return this.post(shape.packed ? packedSlice(msg, shape.packed) : msg).then(() => {
          this.timings.push({ z, readMs, postMs: performance.now() - t0, bytes: data.byteLength });
          if (this.timings.length > 200) this.timings.splice(0, 100);
        });
      },
      link: (state) => void this.post({ type: 'link', ...state }),
      skipped: (z, level, p) => void this.post({ type: 'sliceSkipped', z, level, ...(p?.c || p?.t ? p : {}) }),
      error: (z, e, p) => {
        const message = describeOpenError(e, document.uri.fsPath);
        host.log.warn(`Slice ${z} of ${this.key}: ${message}`);
        void this.post({ type: 'sliceError', z, message, ...(p?.c || p?.t ? p : {}) });
      },
    });
  }

  private livePreview(levels: LevelReader): LivePreviewSession {
    const labels = this.document.labels!, info = this.document.source!.info;
    const workerPath = vscode.Uri.joinPath(this.host.extensionUri, 'dist', 'previewWorker.js').fsPath;
    return new LivePreviewSession(workerPath, {
      width: info.width,
      height: info.height,
      // The channel and time point the viewer shows (channel 0 in its composite): one plane, never mixed.
      readSlice: (z) => levels.readLevel(z, 1, this.plane?.c ?? 0, this.plane?.t ?? 0).then((l) => l.data),
      // 3-D preview: the z window at the preview's level, and the rf's default dims rule (auto) on the file's spacing.
      readLevel: (z, f) => levels.readLevel(z, f, this.plane?.c ?? 0, this.plane?.t ?? 0).then((l) => l.data),
      depth: info.depth,
      zRatio: zRatioOf(info, {}),
      dims: String(defaultParams('rf').dims),
      labelsOf: (z) => labels.volume.sliceOrZeros(z),
      strokes: () => this.strokes,
      result: (r) => void this.post(packBytes({ type: 'livePreview', z: r.z, data: exactBuffer(r.labels), width: r.width, height: r.height, factor: r.factor, strokes: r.strokes, ms: r.ms }, ['data'])),
      state: (st) => { void this.post({ type: 'livePreviewState', ...st }); if (st.enabled) walkthroughEvent('livePreviewOn'); },
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.server?.dispose();
    this.planes?.dispose();
    this.preview?.dispose();
    this.segmentation?.dispose(false);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.host.ended(this);
  }

  sendClasses(): void {
    const labels = this.document.labels;
    if (labels) void this.post({ type: 'classes', classes: labels.settings.classes, display: labels.settings.display });
  }

  sendStats(): void {
    const labels = this.document.labels;
    if (labels) void this.post({ type: 'labelStats', counts: labels.volume.classCounts(), annotated: labels.volume.annotatedSlices() });
  }

  /** Mirrors label changes in the webview: patches for slices it holds, then classes and counts. */
  private mirrorLabels(change: LabelsChange): void {
    const labels = this.document.labels;
    if (!labels) return;
    if (change.reset) {
      // Only the slices the webview holds: the others get their labels with the image (a labelled slice not in
      // memory is decoded from the file to be sent; sending every one would decode the whole labels file).
      const held = [...this.sentLabels];
      this.sentLabels.clear();
      void this.post({ type: 'labelsReset' });
      for (const z of held) {
        if (labels.volume.hasLabels(z)) this.resendLabels(z);
        else this.sentLabels.add(z); // all zeros there after the reset
      }
      if (this.lastShown !== undefined) this.sentLabels.add(this.lastShown);
    }
    // Tags undo/redo patches with the edit, so a webview that painted this step on the key press skips them.
    const step = change.step?.id !== undefined ? { id: change.step.id, direction: change.step.direction } : undefined;
    for (const w of change.writes) {
      // A slice the webview has not been sent yet gets its labels with the image later.
      if (!this.sentLabels.has(w.z)) continue;
      const timing = change.timing && { ...change.timing, postedAt: performance.timeOrigin + performance.now() };
      void this.post(packBytes({ type: 'labelPatch', z: w.z, ...w.box, rle: exactBuffer(w.rle), from: w.from && exactBuffer(w.from), timing, step }, ['rle', 'from']));
    }
    // After the patches: `applied` tells the webview this step is complete (confirm or roll back what it painted).
    this.sendUndoState(step);
    if (change.classesChanged || change.reset) this.sendClasses();
    this.sendStats();
  }

  /** Sends the whole label slice z (all zeros as one run when unpainted); `replace` overwrites the webview's copy. */
  resendLabels(z: number, replace = false): void {
    const labels = this.document.labels;
    if (!labels) return;
    this.sentLabels.add(z);
    void this.post(packBytes({ type: 'labels', z, rle: exactBuffer(encodeRle(labels.volume.sliceOrZeros(z))), ...(replace ? { replace } : {}) }, ['rle']));
  }

  /** What the next undo and redo of the document will write (the webview paints them on the key press). */
  sendUndoState(applied?: { id: number; direction: 'undo' | 'redo' }): void {
    const next = this.document.history.next();
    const prepared = (s: NextStep | undefined): PreparedStep | undefined => s && {
      id: s.id, direction: s.direction,
      writes: s.writes.map((w) => ({ z: w.z, ...w.box, rle: exactBuffer(w.rle), from: exactBuffer(w.from ?? new Uint8Array(0)) })),
    };
    void this.post({ type: 'undoState', applied, undo: prepared(next.undo), redo: prepared(next.redo) });
  }

  async deleteClass(k: number): Promise<void> {
    const { document } = this;
    const labels = document.labels;
    if (!labels) return;
    const used = labels.volume.classCount(k);
    if (used > 0) {
      const slices = labels.volume.annotatedSlices().length;
      const choice = await vscode.window.showWarningMessage(
        `Class "${labels.className(k)}" labels ${used.toLocaleString('en-US')} pixels. Delete the class and erase those pixels?`,
        { modal: true, detail: `Labels on up to ${slices} slice(s) are erased. Undo (Ctrl+Z) brings them back.` }, 'Delete class and pixels');
      if (choice !== 'Delete class and pixels') {
        if (!this.disposed) this.sendClasses();
        return;
      }
    }
    const result = labels.deleteClass(k);
    if (result) document.pushEdit(result, true);
  }

  /** Shows the mask at `maskPath` over the image (replacing any shown), or hides it when `maskPath` is undefined. */
  setSegmentation(maskPath: string | undefined, source: string, uncertaintyPath?: string, view?: 'classes' | 'uncertainty'): boolean {
    const info = this.document.viewerInfo();
    if (!info) return false;
    this.segmentation?.dispose(maskPath === undefined);
    this.segmentation = undefined;
    if (maskPath === undefined) return true;
    this.segmentation = new SegmentationOverlay(maskPath, source, info, this.post, (m) => {
      this.host.log.warn(m);
      void vscode.window.showWarningMessage(m);
    }, uncertaintyPath);
    if (view && (view === 'classes' || uncertaintyPath)) this.segmentation.view = view;
    if (this.lastShown !== undefined) void this.segmentation.show(this.lastShown);
    walkthroughEvent('overlayShown');
    return true;
  }

  /** The webview painted slice z: wakes whoever waits for it (tests). */
  wakeWaiters(z: number): void {
    const done = this.waiters.filter((w) => w.z === z);
    this.waiters = this.waiters.filter((w) => w.z !== z);
    for (const w of done) w.resolve();
  }

  /** Resolves when the webview has painted slice z; `uri` names the viewer in the timeout's message. */
  waitForSlice(z: number, timeoutMs: number, uri = this.key): Promise<void> {
    if (this.lastShown === z) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`slice ${z} of ${uri} was not shown within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ z, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}
