// Writes a labels file and its settings json as one unit, keeping backups of what they replace.
//  1. Every file is written to a temporary name beside its target and fsynced. A failure here (full disk) removes
//     the temporaries and leaves the old files untouched; the error names the file and the free space.
//  2. Each existing target gets a second name (hard link, or a copy where links are not supported): its backup.
//  3. The temporaries are renamed over the targets. When a later rename fails, the targets already replaced get
//     their old file back (renamed from its backup name), so a failure leaves the old pair.
//  4. Backups rotate: `<file>.bak` is the version before this save, `.bak.1` the one before, `.bak.2` the oldest
//     (BAK_GENERATIONS = 3); older ones are deleted.
// Node only (fs); no vscode. The fs calls go through `PairWriteOps` so tests can inject failures.

import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { basename, dirname } from 'node:path';
import { StackSegError } from '../../shared/errors';

export const BAK_GENERATIONS = 3;

/** `a.labels.tif` -> [`a.labels.tif.bak`, `a.labels.tif.bak.1`, `a.labels.tif.bak.2`] (newest first). */
export function bakNames(path: string, generations = BAK_GENERATIONS): string[] {
  return Array.from({ length: generations }, (_, k) => (k === 0 ? `${path}.bak` : `${path}.bak.${k}`));
}

export interface PairFile {
  path: string;
  /** Writes the whole file at `tmp` (a fresh name in the same folder). */
  write(tmp: string): Promise<void>;
}

/** The fs calls a pair write makes (tests replace some to inject failures). */
export interface PairWriteOps {
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  rm(path: string): Promise<void>;
  fsync(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeOps: PairWriteOps = {
  rename: (a, b) => fs.rename(a, b),
  link: (a, b) => fs.link(a, b),
  copyFile: (a, b) => fs.copyFile(a, b),
  rm: (p) => fs.rm(p, { force: true }),
  async fsync(p) {
    const h = await fs.open(p, 'r');
    try { await h.sync(); } finally { await h.close(); }
  },
  exists: (p) => fs.access(p).then(() => true, () => false),
};

export interface PairWriteResult {
  /** Backup rotation problems (the save itself succeeded). */
  warnings: string[];
}

function tempName(path: string, tag: string): string {
  return `${path}.${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Free space of the disk holding `path`, in words ("1.2 GB free"); undefined when statfs is not available. */
export async function freeSpace(path: string): Promise<string | undefined> {
  try {
    const s = await fs.statfs(dirname(path));
    const bytes = Number(s.bavail) * Number(s.bsize);
    const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
    let v = bytes, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return `${u === 0 ? v : v.toFixed(1)} ${units[u]} free`;
  } catch {
    return undefined;
  }
}

/** One message naming the file that could not be written and the free space on its disk. */
export async function writeError(path: string, e: unknown, old: boolean): Promise<StackSegError> {
  if (e instanceof StackSegError && e.file === path) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const detail = code ?? (e instanceof Error ? e.message : String(e));
  const free = await freeSpace(path);
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  const readOnly = code === 'EROFS' || code === 'EACCES' || code === 'EPERM';
  const what = `cannot be written (${full ? `${detail}: the disk is full` : detail}${free ? `; ${free}` : ''})`;
  const hint = `${old ? 'the files saved before are unchanged' : 'nothing was written'}; ${full ? 'free some space and save again' : readOnly ? 'the folder is not writable: use Save As to save elsewhere' : 'save again'}`;
  return new StackSegError(what, { file: path, hint, code: code ?? 'write-failed' });
}

/**
 * Writes `files` as one unit (see the top of this file). Throws StackSegError naming the file when anything fails;
 * the targets then hold what they held before.
 */
export async function writePair(files: readonly PairFile[], ops: PairWriteOps = nodeOps, generations = BAK_GENERATIONS): Promise<PairWriteResult> {
  const temps: string[] = [];
  const keeps: (string | undefined)[] = [];
  const cleanup = async () => {
    for (const t of [...temps, ...keeps]) if (t) await ops.rm(t).catch(() => undefined);
  };
  const olds = await Promise.all(files.map((f) => ops.exists(f.path)));
  const anyOld = olds.some(Boolean);
  // 1. temporaries, written and fsynced
  for (const f of files) {
    const tmp = tempName(f.path, 'tmp');
    temps.push(tmp);
    try {
      await f.write(tmp);
      await ops.fsync(tmp);
    } catch (e) {
      await cleanup();
      throw await writeError(f.path, e, anyOld);
    }
  }
  // 2. a second name for each old file: the rollback source, then its newest backup
  for (let k = 0; k < files.length; k++) {
    if (!olds[k]) { keeps.push(undefined); continue; }
    const keep = tempName(files[k].path, 'bak.tmp');
    keeps.push(keep);
    try {
      await ops.link(files[k].path, keep).catch(() => ops.copyFile(files[k].path, keep));
    } catch (e) {
      await cleanup();
      throw await writeError(keep, e, anyOld);
    }
  }
  // 3. renames; roll back the ones done when a later one fails
  for (let k = 0; k < files.length; k++) {
    try {
      await ops.rename(temps[k], files[k].path);
      temps[k] = '';
    } catch (e) {
      const failed = await writeError(files[k].path, e, anyOld);
      for (let j = k - 1; j >= 0; j--) {
        try {
          if (keeps[j]) { await ops.rename(keeps[j]!, files[j].path); keeps[j] = undefined; } else await ops.rm(files[j].path);
        } catch (r) {
          await cleanup();
          throw new StackSegError(`${failed.what}; restoring ${basename(files[j].path)} failed too (${(r as NodeJS.ErrnoException).code ?? String(r)})`, {
            file: files[k].path, hint: `the file before this save is ${keeps[j] ?? 'gone'}; copy it back by hand`,
          });
        }
      }
      await cleanup();
      throw failed;
    }
  }
  await syncDir(files[0]?.path);
  // 4. rotate: keep -> .bak -> .bak.1 -> .bak.2 -> deleted
  const warnings: string[] = [];
  for (let k = 0; k < files.length; k++) {
    const keep = keeps[k];
    if (!keep) continue;
    const baks = bakNames(files[k].path, generations);
    try {
      // The oldest generation is renamed away and deleted in the background: unlinking a large file takes a while.
      const oldest = baks[baks.length - 1];
      if (await ops.exists(oldest)) {
        const trash = tempName(oldest, 'old');
        await ops.rename(oldest, trash);
        void ops.rm(trash).catch(() => undefined);
      }
      for (let g = baks.length - 2; g >= 0; g--) {
        if (await ops.exists(baks[g])) await ops.rename(baks[g], baks[g + 1]);
      }
      await ops.rename(keep, baks[0]);
      keeps[k] = undefined;
    } catch (e) {
      warnings.push(`${files[k].path}: saved, but its backup could not be kept (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      await ops.rm(keep).catch(() => undefined);
    }
  }
  return { warnings };
}

/** Makes the renames durable (best effort: some file systems refuse fsync on a folder). */
async function syncDir(path: string | undefined): Promise<void> {
  if (!path) return;
  try {
    const h = await fs.open(dirname(path), 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch { /* not supported here */ }
}

// ------------------------------------------------------------------ what is on disk (change detection)

/** A file as last read or written: null when it did not exist. */
export interface DiskStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  /** sha256 of the content, filled in the background; undefined until then (or when it changed while hashing). */
  sha256?: string;
}

export async function stampOf(path: string): Promise<DiskStamp | null> {
  try {
    const s = await fs.stat(path);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return null;
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 1 << 20 }).on('data', (b) => hash.update(b)).on('end', resolve).on('error', reject);
  });
  return hash.digest('hex');
}

const sameQuick = (a: DiskStamp, b: DiskStamp) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Fills `stamp.sha256` when the file still is the one stamped (run in the background after a read or save). */
export async function fillHash(path: string, stamp: DiskStamp | null): Promise<void> {
  if (!stamp) return;
  try {
    const sha = await hashFile(path);
    const now = await stampOf(path);
    if (now && sameQuick(now, stamp)) stamp.sha256 = sha;
  } catch { /* gone or unreadable: the next check sees it */ }
}

/** True when `path` no longer holds what `stamp` describes (created, deleted, or other content). */
export async function changedSince(path: string, stamp: DiskStamp | null): Promise<boolean> {
  const now = await stampOf(path);
  if (!now || !stamp) return now !== stamp;
  if (sameQuick(now, stamp)) return false;
  // Touched or rewritten with the same bytes (e.g. a checkout): the content decides, when its hash is known.
  if (stamp.sha256 === undefined || now.size !== stamp.size) return true;
  try { return (await hashFile(path)) !== stamp.sha256; } catch { return true; }
}
