// Worker-thread budget: every core the job may use (affinity, SLURM_CPUS_PER_TASK, cgroup quota), or `threads=N`.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupCpuLimit, threadBudget } from '../../src/core/features/threads';
import { resolveParams } from '../../src/shared/models/registry';

const files = (m: Record<string, string>) => (p: string) => { if (p in m) return m[p]; throw new Error('ENOENT'); };
const cores = availableParallelism();

describe('thread budget', () => {
  it('reads the cgroup v2 and v1 CPU quota, rounded up', () => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(1);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBeUndefined();
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });

  it('takes the smallest of cores, SLURM_CPUS_PER_TASK and the quota; threads=N overrides', () => {
    expect(threadBudget(undefined, {}, files({}))).toEqual({ threads: cores, source: 'cores' });
    expect(threadBudget(0, { SLURM_CPUS_PER_TASK: '1' }, files({}))).toEqual({ threads: 1, source: 'SLURM_CPUS_PER_TASK' });
    expect(threadBudget(0, { SLURM_CPUS_PER_TASK: String(cores + 8) }, files({})).threads).toBe(cores);
    expect(threadBudget(0, {}, files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toEqual({ threads: 1, source: 'cgroup CPU quota' });
    expect(threadBudget(3, { SLURM_CPUS_PER_TASK: '1' }, files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toEqual({ threads: 3, source: 'threads parameter' });
    expect(threadBudget(0, { SLURM_CPUS_PER_TASK: 'x' }, files({})).threads).toBe(cores);
  });

  it('is an rf parameter (--set threads=N), 0 by default', () => {
    expect(resolveParams('rf', {}).threads).toBe(0);
    expect(resolveParams('rf', { threads: '2' }).threads).toBe(2);
    expect(() => resolveParams('rf', { threads: '-1' })).toThrow(/threads/);
  });
});
