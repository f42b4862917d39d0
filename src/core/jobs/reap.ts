// A local job whose process died without finishing (SIGKILL, out of memory, power loss) would say "running"
// forever. `stackseg status` checks the pid recorded in job.json on this host; a dead one marks the job failed and
// removes the temporary files and the lock it left.

import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { jobLogPath, removeTempFiles } from './jobPaths';
import { LOCK_NAME, lockHolder, pidAlive } from './lock';
import { SpaceReserve } from './outputs';
import type { JobRecord } from './spec';
import { saveRecord } from './store';

/** True when the record says running/queued on this host but its process is gone. */
export function isDeadLocalJob(r: JobRecord): boolean {
  return r.runner === 'local' && (r.status === 'running' || r.status === 'queued') && Number.isInteger(r.pid) && r.host === hostname() && !pidAlive(r.pid!);
}

/** Marks a dead local job failed and cleans up after it; returns the record (unchanged when it is not dead). */
export async function reapDeadJob(record: JobRecord): Promise<JobRecord> {
  if (!isDeadLocalJob(record)) return record;
  record.status = 'failed';
  record.error = `process ${record.pid} ended without finishing`;
  record.finished = new Date().toISOString();
  const removed = await removeTempFiles(record.dir);
  if (!(await lockHolder(record.dir))) {
    await fs.rm(join(record.dir, SpaceReserve.NAME), { force: true });
    await fs.rm(join(record.dir, LOCK_NAME), { force: true });
  }
  const line = `${record.finished} ${record.error}${removed.length ? `; removed ${removed.join(', ')}` : ''}\n`;
  await jobLogPath(record).then((log) => fs.appendFile(log, line)).catch(() => undefined); // an edited outputs.log is not followed
  await saveRecord(record);
  return record;
}
