// "StackSeg: Open Sample Stack": writes the bundled demo (src/core/sample.ts, the same files as `stackseg sample`)
// into the workspace's stackseg-sample/ folder, or a folder the user picks when no folder is open, then opens
// sample.tif in the viewer. Existing files are never overwritten: a second run just opens what is there.

import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_CLASSES } from '../shared/labels/classes';
import { writeJsonAtomic } from '../core/fsutil';
import { makeSample } from '../core/sample';
import { writeStack } from '../core/tiff/writer';

export const SAMPLE_FOLDER = 'stackseg-sample';

/** Writes the sample files that do not exist yet into `dir`; returns the image path and what was written. */
export async function writeSampleFiles(dir: string): Promise<{ image: string; written: string[] }> {
  await fs.mkdir(dir, { recursive: true });
  const paths = { image: join(dir, 'sample.tif'), labels: join(dir, 'sample.labels.tif'), truth: join(dir, 'sample.truth.tif'), settings: join(dir, 'sample.stackseg.json') };
  const missing = Object.values(paths).filter((p) => !existsSync(p));
  if (missing.length === 0) return { image: paths.image, written: [] };
  // Deterministic (seed 1): files written now match any already there.
  const width = 160, height = 160, depth = 16, n = width * height;
  const s = makeSample({ width, height, depth, seed: 1 });
  const slab = <T extends Float32Array | Uint8Array>(a: T) => (z: number) => a.subarray(z * n, (z + 1) * n) as T;
  const written: string[] = [];
  const write = async (path: string, fn: () => Promise<void>) => { if (!existsSync(path)) { await fn(); written.push(path); } };
  await write(paths.image, () => writeStack(paths.image, { width, height, depth, dtype: 'float32', getSlice: slab(s.image) }));
  await write(paths.labels, () => writeStack(paths.labels, { width, height, depth, dtype: 'uint8', getSlice: slab(s.labels) }));
  await write(paths.truth, () => writeStack(paths.truth, { width, height, depth, dtype: 'uint8', getSlice: slab(s.truth) }));
  await write(paths.settings, () => writeJsonAtomic(paths.settings, { format: 'stackseg-settings', version: 1, classes: DEFAULT_CLASSES.map((k, i) => ({ ...k, name: i === 0 ? 'background' : 'foam' })) }));
  return { image: paths.image, written };
}

/** The command: `target` (a folder path, for tests and the walkthrough) skips the folder question. */
export async function openSample(target?: string): Promise<string | undefined> {
  let dir = typeof target === 'string' ? target : undefined;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!dir && folder && ['file', 'vscode-remote'].includes(folder.uri.scheme)) dir = join(folder.uri.fsPath, SAMPLE_FOLDER);
  if (!dir) {
    const picked = await vscode.window.showOpenDialog({ title: 'Folder for the StackSeg sample stack', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Write sample here' });
    if (!picked?.[0]) return undefined;
    dir = picked[0].fsPath;
  }
  let result: { image: string; written: string[] };
  try {
    result = await writeSampleFiles(dir);
  } catch (e) {
    void vscode.window.showErrorMessage(`StackSeg: cannot write the sample into ${dir}: ${(e as Error).message}. Choose a writable folder.`);
    return undefined;
  }
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(result.image), 'stackseg.stackEditor');
  const next = 'Paint with the Brush (B), then open the StackSeg sidebar to train.';
  void vscode.window.showInformationMessage(result.written.length
    ? `StackSeg sample written to ${dir}: sample.tif (160 x 160 x 16 foam), its labels and ground truth. ${next}`
    : `Opened the StackSeg sample in ${dir} (existing files kept). ${next}`);
  return result.image;
}
