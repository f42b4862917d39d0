// The labels of one open stack: the label volume, the classes and display settings, the journal for backups, and
// the file names beside the image. Turns webview strokes and class changes into LabelEdits and applies undo/redo.
// Imports nothing from vscode (unit-tested); StackDocument wires it to VS Code's edit/undo/save machinery.

import { promises as fs } from 'node:fs';
import { StackSegError } from '../core/errors';
import { normalizeClasses, type DisplaySettings, type LabelClass, type StackSettings } from '../core/labels/classes';
import { applyEdit, applyWrite, clearClassPatches, EditJournal, strokePatch, parseBackup, serializeBackup, type BoxWrite, type Direction, type LabelEdit } from '../core/labels/edits';
import { labelPaths, readLabelsFile, readSettingsFile, writeLabelsFile, writeSettingsFile, type Dims } from '../core/labels/labelFile';
import { LabelVolume, type Box } from '../core/labels/labelVolume';
import { decodeRuns } from '../core/labels/rle';
import type { PaintTool } from '../protocol';

/** The labels file on disk could not be used: the user started empty and it must not be overwritten silently. */
export interface LabelsConflict {
  path: string;
  message: string;
}

export interface LoadResult {
  labels: DocumentLabels;
  /** One line each: unreadable sidecar, backup that could not be applied. */
  warnings: string[];
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
  /** Unsaved labels were restored from a hot-exit backup (the document must show as dirty). */
  restoredFromBackup = false;

  private constructor(
    readonly imagePath: string,
    readonly volume: LabelVolume,
    public settings: StackSettings,
    private previousSettingsJson: Record<string, unknown> | undefined,
  ) {}

  /** Reads `<stem>.labels.tif` and `<stem>.stackseg.json` (and a backup's journal, when VS Code restores one). */
  static async load(imagePath: string, dims: Dims, backupText?: string, backupName = 'backup'): Promise<LoadResult> {
    const paths = labelPaths(imagePath);
    const warnings: string[] = [];
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
    const labels = new DocumentLabels(imagePath, volume, settingsRead.settings, settingsRead.previous);
    labels.conflict = conflict;
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
    return labelPaths(this.imagePath);
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
   * Writes labels and settings beside `imagePath` (default: this image). When the labels file there is one that
   * was not loaded (conflict), `confirmOverwrite` must say yes; the old file is then kept as `.bak`.
   */
  async save(confirmOverwrite: (conflict: LabelsConflict) => Promise<boolean>, imagePath = this.imagePath): Promise<void> {
    const t0 = performance.now();
    const paths = labelPaths(imagePath);
    const conflict = imagePath === this.imagePath ? this.conflict : undefined;
    if (conflict && await exists(conflict.path)) {
      if (!(await confirmOverwrite(conflict))) {
        throw new StackSegError('labels not saved: the existing labels file was kept', { file: conflict.path, hint: 'use Save As to write the labels beside a copy of the image, or move the old file away' });
      }
      await fs.copyFile(conflict.path, `${conflict.path}.bak`);
    }
    // Settings first (small); the labels writer renames its temporary file only once every page is written.
    await writeSettingsFile(paths.settings, this.settings, this.previousSettingsJson);
    await writeLabelsFile(paths.labels, this.volume);
    if (imagePath === this.imagePath) {
      this.conflict = undefined;
      this.journal.reset();
    }
    this.lastSaveMs = performance.now() - t0;
  }

  /** Reloads labels and settings from disk (Revert). Returns warnings. */
  async revert(): Promise<string[]> {
    const fresh = await DocumentLabels.load(this.imagePath, this.volume);
    this.volume.clear();
    for (const { z } of fresh.labels.volume.annotatedSlices()) this.volume.setSlice(z, fresh.labels.volume.slice(z)!);
    this.settings = fresh.labels.settings;
    this.previousSettingsJson = fresh.labels.previousSettingsJson;
    this.conflict = fresh.labels.conflict;
    this.journal.reset();
    return fresh.warnings;
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
