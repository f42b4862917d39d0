// How many worker threads a job may use: every core it was given, no more.
//
// API
//   threadBudget(requested?, env?, readFile?): { threads, source }
//        requested > 0 (`--set threads=N`) wins; otherwise the smallest of: os.availableParallelism() (CPU affinity,
//        e.g. taskset or a Slurm cpuset), SLURM_CPUS_PER_TASK, and the cgroup CPU quota (v2 cpu.max, v1
//        cpu.cfs_quota_us / cpu.cfs_period_us), rounded up. `source` says which limit decided (for the job log).
//
// Why: os.availableParallelism() sees the affinity mask but not a container's CPU quota (docker --cpus, Kubernetes
// limits) nor a Slurm allocation without cpusets; threads beyond the quota only add contention.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Hard cap on worker threads (memory: each holds a tile of features). */
export const MAX_THREADS = 64;

type Reader = (path: string) => string;
const readText: Reader = (p) => readFileSync(p, 'utf8');

/** CPUs allowed by the cgroup quota (rounded up), or undefined when there is none or it cannot be read. */
export function cgroupCpuLimit(read: Reader = readText): number | undefined {
  const tryRead = (p: string) => { try { return read(p).trim(); } catch { return undefined; } };
  const v2 = tryRead('/sys/fs/cgroup/cpu.max'); // "max 100000" or "200000 100000"
  if (v2) {
    const [q, p] = v2.split(/\s+/);
    if (q !== 'max' && Number(q) > 0 && Number(p) > 0) return Math.max(1, Math.ceil(Number(q) / Number(p)));
    return undefined;
  }
  const q = Number(tryRead('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')), p = Number(tryRead('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return q > 0 && p > 0 ? Math.max(1, Math.ceil(q / p)) : undefined;
}

export function threadBudget(requested?: number, env: NodeJS.ProcessEnv = process.env, read: Reader = readText): { threads: number; source: string } {
  if (requested !== undefined && Number.isInteger(requested) && requested > 0) return { threads: Math.min(MAX_THREADS, requested), source: 'threads parameter' };
  let threads = availableParallelism(), source = 'cores';
  const slurm = Number(env.SLURM_CPUS_PER_TASK);
  if (Number.isInteger(slurm) && slurm > 0 && slurm < threads) { threads = slurm; source = 'SLURM_CPUS_PER_TASK'; }
  const quota = cgroupCpuLimit(read);
  if (quota !== undefined && quota < threads) { threads = quota; source = 'cgroup CPU quota'; }
  return { threads: Math.max(1, Math.min(MAX_THREADS, threads)), source };
}
