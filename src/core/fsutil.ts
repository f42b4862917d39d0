// Atomic file output: write to a temporary name in the same folder, then rename, so a crash never leaves a
// half-written file under the final name.

import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

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

/** Size, mtime and a content hash, so a job records exactly which inputs it saw. */
export interface FileFingerprint { path: string; size: number; mtime: string; sha256: string }

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
