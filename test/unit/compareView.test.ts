// Compare Jobs command arguments: Jobs-view rows (the clicked one and the multi-selection), a stack row (all its
// jobs), folder strings or a list of them; duplicates once.
import { describe, expect, it, vi } from 'vitest';

vi.mock('vscode', () => ({ Uri: class { constructor(readonly fsPath: string) {} } }));
import { dirsFromArgs } from '../../src/extension/jobs/compareView';

const job = (dir: string) => ({ kind: 'job', record: { dir } });

describe('dirsFromArgs', () => {
  it('takes the multi-selection over the clicked row, a stack row as all its jobs, strings as folders', () => {
    expect(dirsFromArgs(job('/a'), [job('/a'), job('/b')])).toEqual(['/a', '/b']);
    expect(dirsFromArgs(job('/a'))).toEqual(['/a']);
    expect(dirsFromArgs(job('/a'), [])).toEqual(['/a']);
    expect(dirsFromArgs({ kind: 'stack', image: '/s.tif', jobs: [{ dir: '/x' }, { dir: '/y' }] })).toEqual(['/x', '/y']);
    expect(dirsFromArgs(['/p', '/q', '/p'])).toEqual(['/p', '/q']);
    expect(dirsFromArgs('/one')).toEqual(['/one']);
    expect(dirsFromArgs(undefined)).toEqual([]);
    expect(dirsFromArgs({ kind: 'other' }, [42, null])).toEqual([]);
  });
});
