// The Model panel (StackSeg sidebar): choose rf / kmeans / threshold / msdnet, edit the registry's parameters with
// validation, and Train / Segment / Train and Segment the stack of the active StackSeg editor — the MLExchange
// app's Model Selection Panel and TRAIN/TEST buttons. Every message from the webview is validated here.

import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { openSource } from '../core/io';
import type { JobSpec } from '../shared/jobs/spec';
import { resolveSidecarsSync } from '../core/labels/sidecars';
import { MODELS, resolveParams } from '../shared/models/registry';
import { parseModelPanelMessage, type HostToModelPanel } from '../shared/modelPanelProtocol';
import { activeStackUri } from './jobs/jobCommands';
import type { JobManager, RunningJob } from './jobs/jobManager';
import { jobProgress } from '../host/jobs/progressText';
import { makeNonce, renderWebviewHtml } from '../host/webviewHtml';

export class ModelPanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'stackseg.model';
  private view: vscode.WebviewView | undefined;
  private stackPath: string | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private trainedDirs = new Set<string>();
  private readonly shapes = new Map<string, { channels: number; frames: number }>();

  constructor(private readonly context: vscode.ExtensionContext, private readonly jobs: JobManager, private readonly log: vscode.LogOutputChannel) {
    this.subs.push(vscode.window.tabGroups.onDidChangeTabs(() => this.trackActiveStack()));
    this.subs.push(vscode.window.tabGroups.onDidChangeTabGroups(() => this.trackActiveStack()));
    this.subs.push(jobs.onDidChange(() => void this.post()));
    this.subs.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.post()));
    this.trackActiveStack();
  }

  private trackActiveStack(): void {
    const uri = activeStackUri();
    // Keep the last stack when focus moves to a non-stack editor, so the panel stays useful beside a report.
    if (uri && uri.fsPath !== this.stackPath && !/\.(labels|truth)\.tiff?$/i.test(uri.fsPath) && !uri.fsPath.endsWith('mask.tif')) {
      this.stackPath = uri.fsPath;
      void this.post();
    }
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const root = this.context.extensionUri;
    view.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')] };
    const nonce = makeNonce();
    const script = view.webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'modelPanel.js')).toString();
    const style = view.webview.asWebviewUri(vscode.Uri.joinPath(root, 'media', 'modelPanel.css')).toString();
    view.webview.html = renderWebviewHtml({ cspSource: view.webview.cspSource, nonce, title: 'Model', scriptUri: script, styleUri: style });
    this.subs.push(view.webview.onDidReceiveMessage((raw) => this.onMessage(raw)));
    view.onDidChangeVisibility(() => view.visible && void this.post());
  }

  private async onMessage(raw: unknown): Promise<void> {
    const parsed = parseModelPanelMessage(raw);
    if (!parsed.ok) { this.log.warn(`Model panel: rejected a message: ${parsed.reason}`); return; }
    const m = parsed.message;
    if (m.type === 'ready') return void this.post();
    if (m.type === 'cancel') { if (!this.jobs.cancel(m.dir)) this.log.warn(`Model panel: no running job ${m.dir}`); return; }
    const image = this.stackPath;
    if (!image) return void vscode.window.showWarningMessage('Open a TIFF stack in the StackSeg viewer first.');
    let spec: JobSpec;
    try {
      if (m.kind === 'segment') {
        // Only a model this panel offered may be used: the webview cannot name arbitrary folders.
        if (!m.modelFrom || !this.trainedDirs.has(m.modelFrom)) throw new Error('choose a trained model from the list');
        const trained = (await this.jobs.listAll()).find((r) => r.dir === m.modelFrom)!;
        spec = { kind: 'segment', model: trained.spec.model, params: trained.spec.params, image, modelFrom: trained.dir, ...this.planeOf(m, trained.spec) };
      } else {
        const labels = resolveSidecarsSync(image).labels;
        if (MODELS[m.model].supervised && !existsSync(labels)) throw new Error(`${MODELS[m.model].title} needs labels: paint strokes of two classes and save (${basename(labels)})`);
        spec = { kind: m.kind, model: m.model, params: resolveParams(m.model, m.params), image, labels: existsSync(labels) ? labels : undefined, ...this.planeOf(m) };
      }
    } catch (e) {
      return void vscode.window.showErrorMessage(`StackSeg: ${(e as Error).message}`);
    }
    await this.jobs.start(spec);
  }

  /**
   * The channel / time point a job on the stack reads: the panel's choice when the stack has several (a
   * multi-channel job without one is refused by the job, never run on channel 0 silently), else the trained model's.
   */
  private planeOf(m: { channel?: number | 'all'; timepoint?: number }, trained?: JobSpec): Pick<JobSpec, 'channel' | 'timepoint'> {
    const shape = this.stackPath ? this.shapes.get(this.stackPath) : undefined;
    const channel = shape && shape.channels > 1 ? m.channel ?? trained?.channel : undefined;
    const timepoint = shape && shape.frames > 1 ? m.timepoint ?? trained?.timepoint : undefined;
    return { ...(channel !== undefined ? { channel } : {}), ...(timepoint !== undefined ? { timepoint } : {}) };
  }

  /** Channels and time points of a stack (its header only; cached per path). */
  private async shapeOf(path: string): Promise<{ channels: number; frames: number } | undefined> {
    const known = this.shapes.get(path);
    if (known) return known;
    try {
      const source = await openSource(path, { cacheBytes: 0 });
      const shape = { channels: source.info.channels ?? 1, frames: source.info.frames ?? 1 };
      await source.close();
      this.shapes.set(path, shape);
      return shape;
    } catch {
      return undefined; // the viewer shows why it cannot be read
    }
  }

  private async post(): Promise<void> {
    if (!this.view) return;
    const image = this.stackPath;
    const shape = image ? await this.shapeOf(image) : undefined;
    const many = shape && (shape.channels > 1 || shape.frames > 1) ? { channels: shape.channels, frames: shape.frames } : {};
    // Every trained model, as the palette's Segment Stack offers: a model trained on one stack segments others.
    const usable = (await this.jobs.listAll()).filter((r) => r.outputs.model && r.status !== 'failed' && r.status !== 'cancelled');
    const trained = [...usable.filter((r) => r.spec.image === image), ...usable.filter((r) => r.spec.image !== image)];
    this.trainedDirs = new Set(trained.map((r) => r.dir));
    const state: HostToModelPanel = {
      type: 'state',
      stack: image ? { name: basename(image), path: image, hasLabels: existsSync(resolveSidecarsSync(image).labels), ...many } : null,
      trusted: vscode.workspace.isTrusted,
      trained: trained.map((r) => ({
        dir: r.dir, label: `${MODELS[r.spec.model].title} · ${r.id}${r.summary?.meanF1 != null ? ` · F1 ${r.summary.meanF1.toFixed(3)}` : ''}`,
        ...(r.spec.image !== image ? { otherStack: basename(r.spec.image) } : {}),
      })),
      running: this.jobs.runningJobs().map((j) => ({ dir: j.dir, label: `${MODELS[j.spec.model].title} ${j.spec.kind}`, ...progressOf(j) })),
    };
    void this.view.webview.postMessage(state);
  }

  dispose(): void { for (const s of this.subs) s.dispose(); }
}

/** The panel shows the same line as the toast and the Jobs view (jobProgress), with the whole job's bar. */
function progressOf(j: RunningJob): { percent: number; message: string } {
  const { text, overall } = jobProgress(j.spec.kind, j.progress);
  return { percent: overall, message: text };
}
