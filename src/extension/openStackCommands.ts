// Opening stacks that are not one file: "Open Folder as Stack" (a folder of single-image TIFFs, or a Zarr store)
// and the choice of an HDF5 dataset. Custom editors open URIs, not only files: the viewer is opened with
// `vscode.openWith` on the folder's own URI, and on `file:///…/scan.h5:/entry/data` for a dataset. So the
// document's fsPath is always the spec that openSource, the CLI and the jobs take, and the sidecars follow from it
// (`recon.labels.tif`, `scan.entry_data.labels.tif`).

import * as vscode from 'vscode';
import { listHdf5Datasets, parseSpec } from '../core/io';

const VIEW_TYPE = 'stackseg.stackEditor';

export function registerOpenStackCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('stackseg.openFolderAsStack', (uri?: vscode.Uri) => openFolderAsStack(uri)),
    vscode.commands.registerCommand('stackseg.openHdf5Dataset', (uri?: vscode.Uri, dataset?: string) => openHdf5Dataset(uri, dataset)),
  );
}

async function openFolderAsStack(uri?: vscode.Uri): Promise<void> {
  const target = uri ?? (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title: 'Folder of TIFF slices, or a .zarr store' }))?.[0];
  if (!target) return;
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
}

/** Lists the file's 3D datasets (quick pick unless `dataset` is given) and opens the chosen one in the viewer. */
async function openHdf5Dataset(uri?: vscode.Uri, dataset?: string): Promise<void> {
  const file = uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, title: 'HDF5 file', filters: { HDF5: ['h5', 'hdf5', 'hdf', 'nxs', 'he5', 'cxi'] } }))?.[0];
  if (!file) return;
  const p = parseSpec(file.fsPath);
  const path = p.format === 'hdf5' ? p.file : file.fsPath;
  let chosen = dataset;
  if (!chosen) {
    let entries;
    try {
      entries = (await listHdf5Datasets(path)).entries;
    } catch (e) {
      void vscode.window.showErrorMessage(`StackSeg: ${path}: cannot list the datasets (${(e as Error).message})`);
      return;
    }
    if (entries.length === 0) {
      void vscode.window.showErrorMessage(`StackSeg: ${path} has no 3D dataset (slices × rows × columns).`);
      return;
    }
    const pick = await vscode.window.showQuickPick(
      entries.map((e) => ({ label: e.path, description: `${e.shape.join(' × ')}  ${e.dtype}` })),
      { title: `Open a 3D dataset of ${path.split(/[\\/]/).pop()}`, placeHolder: 'dataset (slices × rows × columns)' },
    );
    if (!pick) return;
    chosen = pick.label;
  }
  const target = file.with({ path: `${vscode.Uri.file(path).path}:${chosen}` });
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
  // The tab of the bare file (which only said "pick a dataset") has done its job.
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputCustom && tab.input.uri.toString() === vscode.Uri.file(path).toString()) void vscode.window.tabGroups.close(tab);
    }
  }
}

/**
 * For a bare HDF5 file whose dataset cannot be chosen without asking (several 3D datasets, no /exchange/data):
 * starts the quick pick and returns the message the viewer shows meanwhile. Undefined: open it as it is.
 */
export async function hdf5NeedsPick(uri: vscode.Uri): Promise<string | undefined> {
  const p = parseSpec(uri.fsPath);
  if (p.format !== 'hdf5' || p.dataset) return undefined;
  let listed;
  try { listed = await listHdf5Datasets(p.file); } catch { return undefined; /* openSource says what is wrong */ }
  if (listed.hasDefault || listed.entries.length <= 1) return undefined;
  void vscode.commands.executeCommand('stackseg.openHdf5Dataset', uri);
  const shown = listed.entries.slice(0, 6).map((e) => `${e.path} (${e.shape.join('×')} ${e.dtype})`).join(', ');
  return `${p.file}: ${listed.entries.length} 3D datasets and no /exchange/data — pick one in the list at the top of the window, or run "StackSeg: Open HDF5 Dataset". Datasets: ${shown}`;
}
