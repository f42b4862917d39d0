// The labels of one open stack: the label volume, the classes and display settings, the journal for backups, and
// the file names beside the image. Turns webview strokes and class changes into LabelEdits and applies undo/redo.
// Remembers what it last read or wrote on disk (DiskStamp), so a save never silently replaces another program's
// write: the caller's SaveQuestions decide. Labels and json are written as one unit with .bak generations.
// Imports nothing from vscode (unit-tested); StackDocument wires it to VS Code's edit/undo/save machinery.

import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { StackSegError } from '../shared/errors';
import { normalizeClasses, type DisplaySettings, type LabelClass, type StackSettings } from '../shared/labels/classes';
import { applyEdit, applyWrite, clearClassPatches, EditJournal, strokePatch, parseBackup, serializeBackup, type BoxWrite, type Direction, type LabelEdit } from '../core/labels/edits';
import { readLabelsFile, readSettingsFile, writeLabelsFile, type Dims } from '../core/labels/labelFile';
import { IMAGE_KEY, resolveSidecars, type SidecarPaths } from '../core/labels/sidecars';
import { changedSince, fillHash, nodeOps, stampOf, writePair, type DiskStamp, type PairWriteOps } from '../core/labels/sidecarWrite';
import { serializeSettings } from '../shared/labels/classes';
import { LabelPages } from '../core/labels/labelPages';
import { LabelVolume, type Box } from '../core/labels/labelVolume';
import { planeStrokePatches } from '../core/labels/planeEdits';
import type { PlaneAxis } from '../shared/levels/planes';
import { decodeRle, decodeRuns } from '../shared/labels/rle';
import type { PaintTool } from '../shared/protocol';

/** The labels file on disk could not be used: the user started empty and it must not be overwritten silently. */
export interface LabelsConflict {
  path: string;
  message: string;
}

export interface LoadResult {
  labels: DocumentLabels;
  /** One line each: unreadable sidecar, backup that could not be applied, labels kept under this image's own name. */
  warnings: string[];
}

/** What a save asks the user (StackDocument answers with VS Code dialogs; tests answer directly). */
export interface SaveQuestions {
  /** The labels file there was not loaded (wrong size, unreadable): replace it (its old version is kept as .bak)? */
  replaceUnloaded(conflict: LabelsConflict): Promise<boolean>;
  /** Another program changed `files` since they were read or saved: overwrite, save as a copy (labels path), or stop. */
  changedOnDisk(files: string[]): Promise<'overwrite' | 'cancel' | { copyTo: string }>;
  /** Save As: `files` already exist beside the target image. Replace them (old versions kept as .bak)? */
  replaceExisting(files: string[]): Promise<boolean>;
}

/** Answers for callers that never ask (benchmarks): overwrite everything. */
export const OVERWRITE: SaveQuestions = {
  replaceUnloaded: async () => true,
  changedOnDisk: async () => 'overwrite',
  replaceExisting: async () => true,
};

/** `x/a-mine.labels.tif` -> `x/a-mine.stackseg.json` (a labels copy takes its classes along). */
export function copySettingsPath(labelsPath: string): string {
  return labelsPath.replace(/(\.labels)?(\.ome)?\.tiff?$/i, '') + '.stackseg.json';
}

export interface EditResult {
  edit: LabelEdit;
  writes: BoxWrite[];
}

export class DocumentLabels {
  readonly journal = new EditJournal();
  /** Set when the existing labels file was not loaded (wrong size, unreadable); cleared after it was replaced. */
  conflict: LabelsConflict | undefined;
  lastSaveMs = 0;
  /** Backup-rotation problems of the last write (the save itself succeeded). */
  saveWarnings: string[] = [];
  /** Unsaved labels were restored from a hot-exit backup (the document must show as dirty). */
  restoredFromBackup = false;

  /** The fs calls of a save (tests inject failures). */
  writeOps: PairWriteOps = nodeOps;
  /** What the labels and settings files were when last read or written here (null: absent). */
  private stamps: { labels: DiskStamp | null; settings: DiskStamp | null } = { labels: null, settings: null };
  /** The save in progress: disk checks wait for it, so our own write is never taken for another program's. */
  private saving: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly imagePath: string,
    readonly volume: LabelVolume,
    public settings: StackSettings,
    private previousSettingsJson: Record<string, unknown> | undefined,
    /** This image's labels + settings files (sidecars.ts: a.tif and a.tiff do not share them). */
    public sidecars: SidecarPaths,
  ) {}

  /** Reads the labels and settings files (and a backup's journal, when VS Code restores one). */
  static async load(imagePath: string, dims: Dims, backupText?: string, backupName = 'backup'): Promise<LoadResult> {
    const paths = await resolveSidecars(imagePath);
    const warnings: string[] = [];
    if (paths.notice) warnings.push(paths.notice);
    // Stamped before reading: a write that lands during the read shows up as a change later.
    const stamps = { labels: await stampOf(paths.labels), settings: await stampOf(paths.settings) };
    const settingsRead = await readSettingsFile(paths.settings);
    if (settingsRead.warning) warnings.push(settingsRead.warning);
    let volume = new LabelVolume(dims.width, dims.height, dims.depth);
    let conflict: LabelsConflict | undefined;
    if (await exists(paths.labels)) {
      try {
        volume = await readLabelsFile(paths.labels, dims);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        conflict = { path: paths.labels, message };
      }
    }
    const labels = new DocumentLabels(imagePath, volume, settingsRead.settings, settingsRead.previous, paths);
    labels.conflict = conflict;
    labels.setStamps(stamps);
    if (backupText !== undefined) {
      try {
        const backup = parseBackup(backupText, backupName, dims);
        for (const w of backup.writes) applyWrite(volume, w);
        labels.journal.record(backup.writes);
        labels.settings = backup.settings;
        labels.restoredFromBackup = true;
      } catch (e) {
        warnings.push(e instanceof Error ? e.message : String(e));
      }
    }
    return { labels, warnings };
  }

  get paths(): { labels: string; settings: string } {
    return { labels: this.sidecars.labels, settings: this.sidecars.settings };
  }

  private setStamps(stamps: { labels: DiskStamp | null; settings: DiskStamp | null }): void {
    this.stamps = stamps;
    // Hashes let a touch or a same-bytes rewrite pass as unchanged; read in the background, off the save's time.
    void fillHash(this.sidecars.labels, stamps.labels).then(() => fillHash(this.sidecars.settings, stamps.settings));
  }

  /** The labels/settings files another program created, changed or deleted since they were read or saved here. */
  async changedOnDisk(): Promise<string[]> {
    await this.saving.catch(() => undefined);
    return this.diskChanges();
  }

  private async diskChanges(): Promise<string[]> {
    const out: string[] = [];
    if (await changedSince(this.sidecars.labels, this.stamps.labels)) out.push(this.sidecars.labels);
    if (await changedSince(this.sidecars.settings, this.stamps.settings)) out.push(this.sidecars.settings);
    return out;
  }

  /** Identifies what is on disk now (size, mtime, inode of both files): a prompt is shown once per disk state. */
  async diskKey(): Promise<string> {
    const st = await Promise.all([stampOf(this.sidecars.labels), stampOf(this.sidecars.settings)]);
    return JSON.stringify(st);
  }

  className(index: number): string {
    return this.settings.classes.find((c) => c.index === index)?.name ?? `class ${index}`;
  }

  /** A finished stroke from the webview: becomes one edit (undefined when it changed nothing). Applied here. */
  stroke(z: number, box: Box, rle: Uint8Array, tool: PaintTool, mainValue: () => number | undefined = () => undefined): EditResult | undefined {
    const patch = strokePatch(this.volume, z, box, rle); // throws on corrupt data: nothing applied
    if (!patch) return undefined;
    const value = mainValue() ?? firstLabel(patch.after, patch.box.width * patch.box.height);
    const verb = { brush: 'Paint', eraser: 'Erase', fill: 'Fill', lasso: 'Lasso fill' }[tool];
    const label = tool === 'eraser' ? `Erase labels (slice ${z + 1})` : `${verb} ${this.className(value)} (slice ${z + 1})`;
    const edit: LabelEdit = { label, patches: [patch] };
    return { edit, writes: this.apply(edit, 'redo') };
  }

  /**
   * A finished stroke in an orthogonal plane (XZ at y = index, YZ at x = index; `box` in plane coordinates): one edit
   * whose patches are a row (XZ) or column (YZ) of every slice it crossed. Undefined when it changed nothing.
   */
  planeStroke(axis: PlaneAxis, index: number, box: Box, rle: Uint8Array, tool: PaintTool): EditResult | undefined {
    const values = decodeRle(rle, box.width * box.height); // throws on corrupt data: nothing applied
    const patches = planeStrokePatches(this.volume, axis, index, box, values);
    if (patches.length === 0) return undefined;
    const value = firstLabel(rle, box.width * box.height);
    const verb = { brush: 'Paint', eraser: 'Erase', fill: 'Fill', lasso: 'Lasso fill' }[tool];
    const what = tool === 'eraser' ? 'Erase labels' : `${verb} ${this.className(value)}`;
    const zs = patches.map((p) => p.z);
    const where = `${axis.toUpperCase()} plane ${axis === 'xz' ? 'y' : 'x'} = ${index}, slices ${Math.min(...zs) + 1}–${Math.max(...zs) + 1}`;
    const edit: LabelEdit = { label: `${what} (${where})`, patches };
    return { edit, writes: this.apply(edit, 'redo') };
  }

  /** New class list (add/rename/recolour). Classes that disappear must go through deleteClass. */
  setClasses(classes: LabelClass[]): EditResult | undefined {
    const after = normalizeClasses(classes);
    const before = this.settings.classes;
    if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
    const gone = before.filter((c) => !after.some((a) => a.index === c.index) && this.volume.classCount(c.index) > 0);
    if (gone.length > 0) throw new StackSegError(`class ${gone[0].name} still labels ${this.volume.classCount(gone[0].index)} pixels`, { hint: 'delete it with its pixels instead' });
    const label = describeClassChange(before, after);
    const edit: LabelEdit = { label, patches: [], classes: { before, after } };
    return { edit, writes: this.apply(edit, 'redo') };
  }

  /** Removes class k and (when any) its pixels, as one edit. */
  deleteClass(k: number): EditResult | undefined {
    const before = this.settings.classes;
    if (!before.some((c) => c.index === k)) return undefined;
    const edit: LabelEdit = {
      label: `Delete class ${this.className(k)}`,
      patches: clearClassPatches(this.volume, k),
      classes: { before, after: before.filter((c) => c.index !== k) },
    };
    return { edit, writes: this.apply(edit, 'redo') };
  }

  /** Applies an edit (undo or redo); returns the writes for the webviews and records them for backups. */
  apply(edit: LabelEdit, direction: Direction): BoxWrite[] {
    const writes = applyEdit(this.volume, edit, direction);
    if (edit.classes) this.settings = { ...this.settings, classes: direction === 'redo' ? edit.classes.after : edit.classes.before };
    this.journal.record(writes);
    return writes;
  }

  setDisplay(display: DisplaySettings): void {
    this.settings = { ...this.settings, display };
  }

  /**
   * Ctrl+S: writes labels and settings (one unit, .bak generations). Never silently replaces a labels file that was
   * not loaded (conflict) or files another program changed since they were read or saved: `ask` decides.
   */
  async save(ask: SaveQuestions): Promise<void> {
    const run = this.saveHere(ask);
    this.saving = run;
    await run;
  }

  private async saveHere(ask: SaveQuestions): Promise<void> {
    const conflict = this.conflict;
    let checkMs = 0;
    if (conflict && await exists(conflict.path)) {
      if (!(await ask.replaceUnloaded(conflict))) {
        throw new StackSegError('labels not saved: the existing labels file was kept', { file: conflict.path, hint: 'use Save As to write the labels beside a copy of the image, or move the old file away' });
      }
    } else {
      const t0 = performance.now();
      const changed = await this.diskChanges();
      checkMs = performance.now() - t0;
      if (changed.length > 0) {
        const answer = await ask.changedOnDisk(changed);
        if (answer === 'cancel') {
          throw new StackSegError('labels not saved: another program changed this file since it was loaded; it was kept', { file: changed[0], hint: 'reload it from disk, or save again and choose Overwrite (its version is kept as .bak)' });
        }
        if (answer !== 'overwrite') {
          await this.saveCopy(answer.copyTo);
          throw new StackSegError(`not saved over the file another program changed; your labels were saved to ${answer.copyTo}`, { file: changed[0], hint: 'the editor still holds your labels: reload from disk to see the other version' });
        }
      }
    }
    const t1 = performance.now();
    await this.writeTo(this.sidecars, basename(this.imagePath), true);
    this.conflict = undefined;
    this.journal.reset();
    this.setStamps({ labels: await stampOf(this.sidecars.labels), settings: await stampOf(this.sidecars.settings) });
    // The disk check and the write (not the time a question waited for the user).
    this.lastSaveMs = checkMs + performance.now() - t1;
  }

  /**
   * Save As: writes the labels beside `imagePath` (a copy of the image made by `copyImage`, after the questions).
   * Asks before replacing labels or settings files that exist there.
   */
  async saveAs(imagePath: string, ask: SaveQuestions, copyImage: () => Promise<void>): Promise<void> {
    const target = await resolveSidecars(imagePath);
    const existing: string[] = [];
    for (const p of [target.labels, target.settings]) if (await exists(p)) existing.push(p);
    if (existing.length > 0 && !(await ask.replaceExisting(existing))) {
      throw new StackSegError('not saved: the labels files there were kept', { file: existing[0], hint: 'choose another name, or move those files away' });
    }
    await copyImage();
    await this.writeTo(target, basename(imagePath));
  }

  /** Writes the labels to `labelsPath` and the settings beside it (copySettingsPath); the document stays as it is. */
  async saveCopy(labelsPath: string): Promise<void> {
    const settings = copySettingsPath(labelsPath);
    if (labelsPath === this.sidecars.labels || settings === this.sidecars.settings || labelsPath === this.imagePath) {
      throw new StackSegError('a copy must not replace the image or its own labels files', { file: labelsPath, hint: 'choose another name' });
    }
    await this.writeTo({ labels: labelsPath, settings }, basename(this.imagePath));
  }

  /**
   * Writes labels + settings as one unit. `rebase` (Save): the new labels file backs the volume afterwards; it is
   * opened under its temporary name, so the handle follows the rename and reads exactly the bytes written.
   */
  private async writeTo(paths: { labels: string; settings: string }, imageBase: string, rebase = false): Promise<void> {
    const json = serializeSettings(this.settings, { ...(this.previousSettingsJson ?? {}), [IMAGE_KEY]: imageBase });
    let written: LabelPages | undefined;
    try {
      const result = await writePair([
        {
          path: paths.labels,
          write: async (tmp) => {
            const index = await writeLabelsFile(tmp, this.volume);
            written?.close();
            written = rebase ? LabelPages.withIndex(tmp, index) : undefined;
          },
        },
        { path: paths.settings, write: (tmp) => fs.writeFile(tmp, json) },
      ], this.writeOps);
      this.saveWarnings = result.warnings;
    } catch (e) {
      written?.close();
      throw e;
    }
    if (written) {
      written.path = paths.labels;
      this.volume.rebase(written);
    }
  }

  /** Closes the labels file the volume reads from (the document is closed). */
  dispose(): void {
    this.volume.close();
  }

  /** Reloads labels and settings from disk (Revert). Returns warnings. */
  async revert(): Promise<string[]> {
    const fresh = await DocumentLabels.load(this.imagePath, this.volume);
    this.volume.adopt(fresh.labels.volume); // backed by the file just read; nothing decoded
    this.settings = fresh.labels.settings;
    this.previousSettingsJson = fresh.labels.previousSettingsJson;
    this.conflict = fresh.labels.conflict;
    this.sidecars = fresh.labels.sidecars;
    this.stamps = fresh.labels.stamps; // hashed in the background by load
    this.journal.reset();
    return fresh.warnings.filter((w) => w !== fresh.labels.sidecars.notice); // told once, at open
  }

  /** Backup text: dimensions, classes, display and the journal of writes since the last read/save. */
  backupText(): string {
    const { width, height, depth } = this.volume;
    return serializeBackup({ width, height, depth, settings: this.settings, writes: [...this.journal.entries] });
  }
}

function describeClassChange(before: LabelClass[], after: LabelClass[]): string {
  const added = after.find((a) => !before.some((b) => b.index === a.index));
  if (added) return `Add class ${added.name}`;
  const changed = after.find((a) => {
    const b = before.find((x) => x.index === a.index);
    return b && (b.name !== a.name || b.color !== a.color);
  });
  if (changed) {
    const b = before.find((x) => x.index === changed.index)!;
    return b.name !== changed.name ? `Rename class ${b.name} to ${changed.name}` : `Recolour class ${changed.name}`;
  }
  return 'Change classes';
}

/** The first non-zero value of an RLE box (0 when there is none): the class a stroke painted. */
function firstLabel(rle: Uint8Array, n: number): number {
  const runs = decodeRuns(rle, n);
  for (let k = 0; k < runs.count; k++) if (runs.values[k] !== 0) return runs.values[k];
  return 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}
