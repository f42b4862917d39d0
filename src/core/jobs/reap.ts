// A local job whose process died without finishing (SIGKILL, out of memory, power loss) would say "running"
// forever. `stackseg status` checks the pid recorded in job.json on this host; a dead one marks the job failed and
// removes the temporary files and the lock it left.

import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { jobLogPath, removeTempFiles } from './jobPaths';
import { JobLock, pidAlive } from './lock';
import { SpaceReserve } from './outputs';
import type { JobRecord } from '../../shared/jobs/spec';
import { loadRecord, saveRecord } from './store';

/** True when the record says running/queued on this host but its process is gone. */
export function isDeadLocalJob(r: JobRecord): boolean {
  return r.runner === 'local' && (r.status === 'running' || r.status === 'queued') && Number.isInteger(r.pid) && r.host === hostname() && !pidAlive(r.pid!);
}

/**
 * Marks a dead local job failed and cleans up after it; returns the record (unchanged when it is not dead). Done
 * under the folder's lock, re-reading job.json there: a job that finished meanwhile is never marked failed.
 */
export async function reapDeadJob(record: JobRecord): Promise<JobRecord> {
  if (!isDeadLocalJob(record)) return record;
  let lock: JobLock;
  try {
    lock = await JobLock.acquire(record.dir); // takes over the dead process's stale lock
  } catch {
    return record; // a live process holds the folder, or it cannot be written: report as is
  }
  try {
    const r = await loadRecord(record.dir);
    if (!isDeadLocalJob(r)) return r;
    r.status = 'failed';
    r.error = `process ${r.pid} ended without finishing`;
    r.finished = new Date().toISOString();
    const removed = await removeTempFiles(r.dir);
    await fs.rm(join(r.dir, SpaceReserve.NAME), { force: true });
    const line = `${r.finished} ${r.error}${removed.length ? `; removed ${removed.join(', ')}` : ''}\n`;
    await jobLogPath(r).then((log) => fs.appendFile(log, line)).catch(() => undefined); // an edited outputs.log is not followed
    await saveRecord(r);
    return r;
  } finally {
    await lock.release();
  }
}
