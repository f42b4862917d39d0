// Atomic file output: write to a temporary name in the same folder, then rename, so a crash never leaves a
// half-written file under the final name.

import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StackSegError } from '../shared/errors';
import type { FileFingerprint } from '../shared/jobs/spec';

export function tempNameFor(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempNameFor(path);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await fs.readFile(path, 'utf8')) as T;
}

export type { FileFingerprint };

export async function fingerprint(path: string): Promise<FileFingerprint> {
  const st = await fs.stat(path);
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 1 << 20 }).on('data', (b) => hash.update(b)).on('end', resolve).on('error', reject);
  });
  return { path, size: st.size, mtime: st.mtime.toISOString(), sha256: hash.digest('hex') };
}

export async function exists(path: string): Promise<boolean> {
  try { await fs.access(path); return true; } catch { return false; }
}

/** `1.5 MB`-style size for messages. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Free bytes for an unprivileged writer on the disk holding path (or its nearest existing parent). */
export async function freeSpace(path: string): Promise<number | undefined> {
  try {
    const st = await fs.statfs(await nearestExisting(path));
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

/** The deepest existing folder on the way to path (path itself when it exists). */
export async function nearestExisting(path: string): Promise<string> {
  let p = resolve(path);
  for (;;) {
    try { await fs.stat(p); return p; } catch { /* go up */ }
    const up = dirname(p);
    if (up === p) return p;
    p = up;
  }
}

/** realpath of path, also when its tail does not exist yet (the existing part resolved, the rest appended). */
export async function realpathLoose(path: string): Promise<string> {
  const abs = resolve(path);
  const base = await nearestExisting(abs);
  let real = base;
  try { real = await fs.realpath(base); } catch { /* keep as is */ }
  return join(real, relative(base, abs));
}

/** child equals parent or lies below it (both absolute, already resolved). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const NOT_WRITABLE = new Set(['EACCES', 'EROFS', 'EPERM']);
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

export function isNotWritable(e: unknown): boolean { return NOT_WRITABLE.has((e as NodeJS.ErrnoException)?.code ?? ''); }
export function isDiskFull(e: unknown): boolean { return DISK_FULL.has((e as NodeJS.ErrnoException)?.code ?? ''); }

/**
 * A write failure as one clear message naming the file: a full disk says how much space is left, a read-only
 * folder says so. Other errors (and StackSegErrors) are returned unchanged.
 */
export async function writeFailure(e: unknown, file: string, hintNotWritable = 'choose a writable folder'): Promise<unknown> {
  if (e instanceof StackSegError) {
    // A StackSegError wrapping an errno (e.g. the TIFF writer's "cannot create the output file (ENOSPC)").
    const m = /\((E[A-Z]+)\)/.exec(e.what);
    if (!m || (!DISK_FULL.has(m[1]) && !NOT_WRITABLE.has(m[1]))) return e;
    e = Object.assign(new Error(e.what), { code: m[1] });
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && DISK_FULL.has(code)) {
    const free = await freeSpace(dirname(file));
    return new StackSegError(`the disk is full while writing this file (${code}; ${free === undefined ? 'free space unknown' : `${formatBytes(free)} free`})`, {
      file, hint: 'free some space or write the job elsewhere with --out',
    });
  }
  if (code && NOT_WRITABLE.has(code)) return new StackSegError(`not writable (${code})`, { file, hint: hintNotWritable });
  if (code === 'EISDIR') return new StackSegError('a folder is in the way of this file', { file, hint: 'choose another file name' });
  return e;
}

/**
 * mkdir -p that reports the real reason: Node's recursive mkdir says ENOENT on a read-only file system, so the
 * missing folders are created one by one. Returns the first folder it created (undefined: all existed).
 */
export async function mkdirs(path: string): Promise<string | undefined> {
  const abs = resolve(path);
  const base = await nearestExisting(abs);
  if (base === abs) {
    if (!(await fs.stat(abs)).isDirectory()) throw Object.assign(new Error(`${abs} is not a folder`), { code: 'ENOTDIR', path: abs });
    return undefined;
  }
  let first: string | undefined;
  let p = base;
  for (const part of relative(base, abs).split(sep)) {
    p = join(p, part);
    try {
      await fs.mkdir(p);
      first ??= p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process made it: fine
    }
  }
  return first;
}
