// The job folder lock: while a job writes into a folder it holds <dir>/.lock, created with O_EXCL and holding its
// pid, host and start time, so a second job in the same folder is refused instead of mixing outputs with the first.
// A lock left by a dead process on this host is taken over by renaming it aside, never by delete-then-create, and
// only under a second O_EXCL file (<lock>.takeover), so two takers can never move each other's fresh lock.

import { readFileSync, unlinkSync, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StackSegError } from '../../shared/errors';

export const LOCK_NAME = '.lock';

export interface LockInfo { pid: number; host: string; started: string; nonce: string }

/** A lock whose content is unreadable this long after it was made is a crash between create and write. */
const HALF_WRITTEN_MS = 10_000;

/** Nonces of the locks this process holds (a lock with our pid but another nonce is a reused pid's). */
const ours = new Set<string>();

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLock(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as LockInfo;
    return Number.isInteger(v.pid) && typeof v.host === 'string' && typeof v.nonce === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

async function readRaw(path: string): Promise<string | undefined> {
  try { return await fs.readFile(path, 'utf8'); } catch { return undefined; }
}

export class JobLock {
  private released = false;
  private readonly onExit = () => this.releaseSync();

  private constructor(readonly dir: string, readonly info: LockInfo) {
    process.once('exit', this.onExit);
  }

  get path(): string { return join(this.dir, LOCK_NAME); }

  /** Takes the folder's lock or throws one clear message naming the job that holds it. */
  static async acquire(dir: string): Promise<JobLock> {
    const path = join(dir, LOCK_NAME);
    const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), nonce: Math.random().toString(36).slice(2, 12) };
    ours.add(info.nonce); // before the file exists: this process's other acquirers must see it as live
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        if (await createExclusive(path, info)) return new JobLock(dir, info);
        const raw = await readRaw(path);
        if (raw === undefined) continue; // released meanwhile: try again
        if (!(await isStale(path, raw))) throw busy(dir, parseLock(raw));
        if (!(await takeOver(path, raw, info))) await new Promise((r) => setTimeout(r, 20)); // another taker is at it
      }
      throw busy(dir, parseLock((await readRaw(path)) ?? ''));
    } catch (e) {
      ours.delete(info.nonce);
      throw e;
    }
  }

  /** Removes the lock if it is still this process's. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    ours.delete(this.info.nonce);
    process.off('exit', this.onExit);
    const raw = await readRaw(this.path);
    if (raw !== undefined && parseLock(raw)?.nonce === this.info.nonce) await fs.rm(this.path, { force: true });
  }

  private releaseSync(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (parseLock(readFileSync(this.path, 'utf8'))?.nonce === this.info.nonce) unlinkSync(this.path);
    } catch { /* gone already */ }
  }
}

/** O_EXCL create with our info; false when the file exists. */
async function createExclusive(path: string, info: LockInfo): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await fs.open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(JSON.stringify(info) + '\n');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return true;
}

/**
 * Moves the stale lock whose content is `raw` aside. Only the holder of <lock>.takeover (itself O_EXCL) does so,
 * after re-reading the lock: nobody else removes a lock that is not theirs, so a fresh lock is never moved.
 * Returns false when another process holds the takeover.
 */
async function takeOver(path: string, raw: string, info: LockInfo): Promise<boolean> {
  const mutex = `${path}.takeover`;
  if (!(await createExclusive(mutex, info))) {
    await clearAbandoned(mutex);
    return false;
  }
  try {
    if ((await readRaw(path)) !== raw) return true; // changed meanwhile: look again
    const aside = `${path}.stale-${info.nonce}`;
    await fs.rename(path, aside);
    await fs.rm(aside, { force: true });
    return true;
  } finally {
    await fs.rm(mutex, { force: true });
  }
}

/** A takeover file left by a taker that died mid-takeover (dead pid, or older than 30 s) is removed. */
async function clearAbandoned(mutex: string): Promise<void> {
  const raw = await readRaw(mutex);
  const st = await fs.stat(mutex).catch(() => undefined);
  if (raw === undefined || !st) return;
  const held = parseLock(raw);
  const dead = held ? held.host === hostname() && held.pid !== process.pid && !pidAlive(held.pid) : false;
  if (dead || Date.now() - st.mtimeMs > 30_000) await fs.rm(mutex, { force: true });
}

/** A lock is stale when its process is gone: same host and no such pid (or our own pid with another nonce). */
async function isStale(path: string, raw: string): Promise<boolean> {
  const held = parseLock(raw);
  if (!held) {
    const st = await fs.stat(path).catch(() => undefined);
    return !!st && Date.now() - st.mtimeMs > HALF_WRITTEN_MS;
  }
  if (held.host !== hostname()) return false;
  if (held.pid === process.pid) return !ours.has(held.nonce); // a pid reused after a restart (containers)
  return !pidAlive(held.pid);
}

/** The lock holder, if it is this host's and alive; undefined when free or stale. */
export async function lockHolder(dir: string): Promise<LockInfo | undefined> {
  const path = join(dir, LOCK_NAME);
  const raw = await readRaw(path);
  if (raw === undefined || (await isStale(path, raw))) return undefined;
  return parseLock(raw) ?? { pid: 0, host: '?', started: '?', nonce: '' };
}

function busy(dir: string, held: LockInfo | undefined): StackSegError {
  const who = held ? `pid ${held.pid} on ${held.host}, started ${held.started}` : 'a process that is still starting';
  const other = held && held.host !== hostname();
  return new StackSegError(`another StackSeg job (${who}) is writing into this folder`, {
    file: dir,
    hint: other
      ? `wait for it, or choose another --out folder; if no job runs on ${held!.host} any more, delete ${join(dir, LOCK_NAME)}`
      : 'wait for it to finish, or choose another --out folder',
  });
}
