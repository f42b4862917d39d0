// One open stack file. Owns the SliceSource (lazy reader + decoded-slice cache), or the one clear message
// when the file cannot be read. A later issue adds labels, edits and undo here (CustomDocument -> editable).

import * as vscode from 'vscode';
import { openStack } from '../core/tiff/index';
import { StackSegError } from '../core/errors';
import type { SliceSource } from '../core/types';
import type { ViewerStackInfo } from '../protocol';

export type StackOpenResult = { ok: true; source: SliceSource } | { ok: false; message: string };

export class StackDocument implements vscode.CustomDocument {
  private readonly onDidDisposeEmitter = new vscode.EventEmitter<void>();
  /** Fires once when VS Code releases the document (last editor closed). */
  readonly onDidDispose = this.onDidDisposeEmitter.event;
  private disposed = false;

  private constructor(readonly uri: vscode.Uri, private readonly opened: StackOpenResult) {}

  /** Opens the stack; never throws: a bad file gives a document that carries the error message instead. */
  static async create(uri: vscode.Uri, cacheBytes: number): Promise<StackDocument> {
    return new StackDocument(uri, await openSource(uri, cacheBytes));
  }

  get source(): SliceSource | undefined {
    return this.opened.ok ? this.opened.source : undefined;
  }

  /** The message to show instead of the image, when the file cannot be viewed. */
  get errorMessage(): string | undefined {
    return this.opened.ok ? undefined : this.opened.message;
  }

  viewerInfo(): ViewerStackInfo | undefined {
    const s = this.source;
    if (!s) return undefined;
    const { width, height, depth, dtype } = s.info;
    return { width, height, depth, dtype, fileName: baseName(this.uri) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.source?.close().catch(() => undefined);
    this.onDidDisposeEmitter.fire();
    this.onDidDisposeEmitter.dispose();
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
    return { ok: true, source: await openStack(uri.fsPath, { cacheBytes }) };
  } catch (e) {
    return { ok: false, message: describeOpenError(e, uri.fsPath) };
  }
}
