// Custom editor for *.tif / *.tiff: opens a StackDocument and shows it in the viewer webview.
// Read-only for now (CustomReadonlyEditorProvider); labels, edits and save come with the annotation issue.

import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebview } from '../protocol';
import type { StackSegApi } from './api';
import { exactBuffer, SliceServer } from './sliceServer';
import { describeOpenError, StackDocument } from './stackDocument';
import { makeNonce, renderWebviewHtml } from './webviewHtml';

const MB = 1024 * 1024;

/** Per open editor: what tests and commands can ask about. */
interface EditorEntry {
  document: StackDocument;
  panel: vscode.WebviewPanel;
  lastShown?: number;
  timings: { z: number; readMs: number; postMs: number; bytes: number }[];
  waiters: { z: number; resolve: () => void }[];
}

export class StackEditorProvider implements vscode.CustomReadonlyEditorProvider<StackDocument> {
  static readonly viewType = 'stackseg.stackEditor';

  private readonly editors = new Map<string, EditorEntry>();

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {}

  static register(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): { provider: StackEditorProvider; registration: vscode.Disposable } {
    const provider = new StackEditorProvider(context, log);
    const registration = vscode.window.registerCustomEditorProvider(StackEditorProvider.viewType, provider, {
      supportsMultipleEditorsPerDocument: false,
    });
    return { provider, registration };
  }

  async openCustomDocument(uri: vscode.Uri, _openContext: vscode.CustomDocumentOpenContext, _token: vscode.CancellationToken): Promise<StackDocument> {
    const megabytes = vscode.workspace.getConfiguration('stackseg', uri).get<number>('cacheMegabytes', 512);
    const cacheBytes = Math.max(16, Number.isFinite(megabytes) ? megabytes : 512) * MB;
    const document = await StackDocument.create(uri, cacheBytes);
    if (document.errorMessage) this.log.warn(`Cannot view ${uri.toString(true)}: ${document.errorMessage}`);
    else this.log.info(`Opened ${uri.toString(true)}: ${JSON.stringify(document.viewerInfo())}`);
    return document;
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
    const entry: EditorEntry = { document, panel, waiters: [], timings: [] };
    this.editors.set(key, entry);
    const post = (msg: HostToWebview) => webview.postMessage(msg).then(undefined, (e) => this.log.error(`postMessage failed: ${String(e)}`));

    const source = document.source;
    const server = source && new SliceServer(source, {
      slice: (z, pixels, readMs) => {
        // The reader hands out a fresh array per call, so its buffer can go to the webview as is.
        const t0 = performance.now();
        const data = exactBuffer(pixels);
        void post({ type: 'slice', z, width: source.info.width, height: source.info.height, dtype: source.info.dtype, data }).then(() => {
          entry.timings.push({ z, readMs, postMs: performance.now() - t0, bytes: data.byteLength });
          if (entry.timings.length > 200) entry.timings.splice(0, 100);
        });
      },
      error: (z, e) => {
        const message = describeOpenError(e, document.uri.fsPath);
        this.log.warn(`Slice ${z} of ${key}: ${message}`);
        void post({ type: 'sliceError', z, message });
      },
    });
    const depth = source?.info.depth ?? 0;

    const subscriptions: vscode.Disposable[] = [];
    subscriptions.push(webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = parseWebviewMessage(raw, { depth });
      if (!parsed.ok) {
        this.log.warn(`Ignored a message from the viewer of ${key}: ${parsed.reason}`);
        return;
      }
      const msg = parsed.message;
      switch (msg.type) {
        case 'ready': {
          const info = document.viewerInfo();
          if (info) void post({ type: 'init', info, initialSlice: 0 });
          else void post({ type: 'error', message: document.errorMessage ?? 'This file cannot be shown.' });
          return;
        }
        case 'requestSlice':
          server?.request(msg.z, msg.priority);
          return;
        case 'sliceShown': {
          entry.lastShown = msg.z;
          const done = entry.waiters.filter((w) => w.z === msg.z);
          entry.waiters = entry.waiters.filter((w) => w.z !== msg.z);
          for (const w of done) w.resolve();
          return;
        }
      }
    }));
    panel.onDidDispose(() => {
      server?.dispose();
      for (const s of subscriptions) s.dispose();
      if (this.editors.get(key) === entry) this.editors.delete(key);
    });
  }

  // ------------------------------------------------------------ API for tests in the extension host

  api(): StackSegApi {
    return {
      openEditors: () => [...this.editors.keys()],
      lastSliceShown: (uri) => this.find(uri)?.lastShown,
      sliceTimings: (uri) => [...(this.find(uri)?.timings ?? [])],
      errorShown: (uri) => this.find(uri)?.document.errorMessage,
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
