// Label files opened on their own (<stem>.labels.tif, <stem>.truth.tif, a job's mask.tif / uncertainty.tif) are not
// image stacks to annotate: they open as a read-only LABEL VIEW (values in class colours, no tools, no Train) with
// "Show over <stack>.tif", which opens the image stack with these values shown over it as a segmentation.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { resolveSidecarsSync } from '../core/labels/sidecars';
import { CLASS_PALETTE, DEFAULT_CLASSES, parseSettings } from '../shared/labels/classes';
import type { LabelViewInit } from '../shared/protocol';
import { overlayMask } from './jobs/showSegmentation';
import type { StackEditorProvider } from './stackEditorProvider';

export interface LabelViewInfo {
  kind: LabelViewInit['kind'];
  /** The image stack these values belong to (may not exist). */
  stack: string;
  /** For a job's mask/uncertainty: the job folder. */
  jobDir?: string;
}

const LABEL_FILE = /\.(labels|truth)\.tiff?$/i;

/** What a file is, by name: undefined for an image stack. */
export function labelViewOf(fsPath: string): LabelViewInfo | undefined {
  const m = LABEL_FILE.exec(fsPath);
  if (m) {
    const stem = fsPath.slice(0, m.index);
    return { kind: m[1].toLowerCase() as 'labels' | 'truth', stack: existsSync(`${stem}.tiff`) && !existsSync(`${stem}.tif`) ? `${stem}.tiff` : `${stem}.tif` };
  }
  const name = basename(fsPath).toLowerCase();
  if (name !== 'mask.tif' && name !== 'uncertainty.tif') return undefined;
  const jobDir = dirname(fsPath);
  let stack: string | undefined;
  try { stack = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8'))?.spec?.image; } catch { /* not a job folder */ }
  if (typeof stack !== 'string') {
    // <stem>.stackseg/<job>/mask.tif without a readable job.json: the stack is <stem>.tif beside the jobs folder.
    const root = dirname(jobDir);
    if (!root.endsWith('.stackseg')) return undefined;
    stack = `${root.slice(0, -'.stackseg'.length)}.tif`;
  }
  return { kind: name === 'mask.tif' ? 'mask' : 'uncertainty', stack, jobDir };
}

/** The init payload: the stack's class colours (its <stem>.stackseg.json, else the defaults). */
export function labelViewInit(v: LabelViewInfo): LabelViewInit {
  if (v.kind === 'uncertainty') return { kind: v.kind, stack: basename(v.stack), classes: [] };
  const file = resolveSidecarsSync(v.stack).settings;
  let classes: { index: number; name: string; color: string }[] = DEFAULT_CLASSES.map((c) => ({ ...c }));
  try { classes = parseSettings(readFileSync(file, 'utf8'), file).classes; } catch { /* defaults */ }
  if (v.kind === 'truth') {
    // Ground truth holds 0..k-1 rather than the label classes 1..k: colour it by value with the palette.
    classes = Array.from({ length: 8 }, (_, i) => ({ index: i + 1, name: `value ${i + 1}`, color: CLASS_PALETTE[i % CLASS_PALETTE.length] }));
  }
  return { kind: v.kind, stack: basename(v.stack), classes };
}

/** "Show over <stack>": opens the image stack and overlays these values (labels are shown there anyway). */
export async function showOverStack(provider: StackEditorProvider, fsPath: string, v: LabelViewInfo): Promise<void> {
  if (!existsSync(v.stack)) {
    void vscode.window.showErrorMessage(`StackSeg: the image stack ${basename(v.stack)} of ${basename(fsPath)} is not in ${dirname(v.stack)}. Open the image stack, then use Show Segmentation.`);
    return;
  }
  if (v.kind === 'labels') {
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(v.stack), 'stackseg.stackEditor');
    return;
  }
  const mask = v.kind === 'uncertainty' ? join(v.jobDir!, 'mask.tif') : fsPath;
  const uncertainty = v.jobDir && existsSync(join(v.jobDir, 'uncertainty.tif')) ? join(v.jobDir, 'uncertainty.tif') : undefined;
  const source = v.jobDir ? `job ${basename(v.jobDir)}` : basename(fsPath);
  await overlayMask(provider, v.stack, mask, source, uncertainty, v.kind === 'uncertainty' ? 'uncertainty' : 'classes');
}
