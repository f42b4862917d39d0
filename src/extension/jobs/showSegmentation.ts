// "StackSeg: Show Segmentation": toggles a finished job's mask over the viewer of the job's input stack.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { jobOutputPath } from '../../core/jobs/jobPaths';
import type { JobRecord } from '../../shared/jobs/spec';
import type { StackEditorProvider } from '../stackEditorProvider';
import type { JobManager } from './jobManager';

/** Jobs-view node, job folder, or nothing (pick one). Toggles: the same job's mask shown again hides it. */
export async function showSegmentation(provider: StackEditorProvider, jobs: JobManager, arg?: unknown): Promise<boolean> {
  let record: JobRecord | undefined;
  const node = arg as { kind?: string; record?: JobRecord } | undefined;
  if (node?.kind === 'job' && node.record) record = node.record;
  else {
    const withMask = (await jobs.listAll()).filter((r) => !!r.outputs.mask && existsSync(join(r.dir, 'mask.tif')));
    if (typeof arg === 'string') record = withMask.find((r) => r.dir === arg);
    else {
      if (withMask.length === 0) { void vscode.window.showInformationMessage('No StackSeg job has a mask yet.'); return false; }
      const pick = await vscode.window.showQuickPick(withMask.map((r) => ({ label: `${r.spec.model} · ${r.spec.kind}`, description: r.id, detail: r.spec.image, r })), { title: 'Show the segmentation of which job?' });
      record = pick?.r;
    }
  }
  if (!record) return false;
  const mask = join(record.dir, 'mask.tif');
  if (!existsSync(mask)) { void vscode.window.showWarningMessage(`Job ${record.id} has no mask (yet).`); return false; }
  // A mask.tif that is a symlink out of the job folder is not shown (job folders are user-editable).
  const inside = await jobOutputPath({ dir: record.dir, outputs: { ...record.outputs, mask } }, 'mask').catch((e: Error) => { void vscode.window.showWarningMessage(e.message); return undefined; });
  if (!inside) return false;
  const uncertainty = existsSync(join(record.dir, 'uncertainty.tif')) ? join(record.dir, 'uncertainty.tif') : undefined;
  const image = vscode.Uri.file(record.spec.image);
  const shown = provider.segmentationShown(image.toString());
  if (shown?.maskPath === mask) return provider.setSegmentation(image.toString(), undefined);
  return overlayMask(provider, record.spec.image, mask, `${record.spec.model} ${record.id}`, uncertainty);
}

/** Opens the viewer of `imagePath` and shows `mask` over it (replacing any shown); `view` picks classes or uncertainty. */
export async function overlayMask(provider: StackEditorProvider, imagePath: string, mask: string, source: string, uncertainty?: string, view?: 'classes' | 'uncertainty'): Promise<boolean> {
  const image = vscode.Uri.file(imagePath);
  await vscode.commands.executeCommand('vscode.openWith', image, 'stackseg.stackEditor');
  // The viewer may just have been created: wait until it registered.
  for (let i = 0; i < 100 && !provider.setSegmentation(image.toString(), mask, source, uncertainty, view); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return !!provider.segmentationShown(image.toString());
}
