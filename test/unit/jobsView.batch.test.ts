// The Jobs view groups a batch: one row per batch (model, stacks, how they stand) with its stacks' jobs beneath,
// each with its own progress; jobs outside batches stay under their stack. A minimal stand-in for `vscode`.

import { describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../../src/shared/jobs/spec';

vi.mock('vscode', () => {
  class EventEmitter { event = () => ({ dispose() {} }); fire() {} dispose() {} }
  class MarkdownString { value = ''; appendMarkdown(s: string) { this.value += s; return this; } }
  return {
    EventEmitter, MarkdownString, Uri: { file: (fsPath: string) => ({ fsPath }) },
    TreeItem: class { constructor(public label: string, public collapsibleState?: number) {} },
    ThemeIcon: class { static File = {}; constructor(public id: string) {} },
    ThemeColor: class { constructor(public id: string) {} },
    TreeItemCollapsibleState: { None: 0, Expanded: 2 },
  };
});

const { JobsTreeProvider } = await import('../../src/extension/jobs/jobsView');

function job(dir: string, image: string, status: JobRecord['status'], batch?: string): JobRecord {
  return {
    format: 'stackseg-job', version: 1, id: dir.split('/').pop()!, dir, status, created: dir, timings: {}, runner: 'slurm', inputs: {},
    versions: { stackseg: '0', node: '', platform: '' }, outputs: { log: `${dir}/log.txt` },
    spec: { kind: 'segment', model: 'rf', params: { trees: 5, depth: 8 }, image, modelFrom: '/m/model', ...(batch ? { batch } : {}) },
  };
}

describe('Jobs view: batches', () => {
  it('one batch row with its 3 stacks beneath (each its own status and progress); other jobs by stack', async () => {
    const records = [
      job('/d/a.stackseg/1', '/d/a.tif', 'succeeded', '/m/b1'),
      job('/d/b.stackseg/1', '/d/b.tif', 'running', '/m/b1'),
      job('/d/c.stackseg/1', '/d/c.tif', 'failed', '/m/b1'),
      job('/d/a.stackseg/2', '/d/a.tif', 'succeeded'),
    ];
    const manager = {
      onDidChange: () => ({ dispose() {} }), listAll: async () => records,
      isRunning: (d: string) => d === '/d/b.stackseg/1', progressText: () => 'slice 3/5',
    };
    const tree = new JobsTreeProvider(manager as never);
    const top = await tree.getChildren();
    expect(top.map((n: any) => n.kind)).toEqual(['batch', 'stack']);
    const batch = tree.getTreeItem(top[0]) as any;
    expect(batch.label).toBe('Batch · Random Forest · 3 stacks');
    expect(batch.description).toBe('1/3 done · 1 running · 1 failed · slurm');
    const rows = (await tree.getChildren(top[0])).map((n) => tree.getTreeItem(n) as any);
    expect(rows.map((r) => r.label)).toEqual(['a.tif', 'b.tif', 'c.tif']);
    expect(rows[1].description).toMatch(/^slice 3\/5/);
    expect(rows[2].description).toMatch(/^failed/);
    // The stack row holds only the job outside the batch (row ids stay unique).
    expect((await tree.getChildren(top[1])).map((n: any) => n.record.dir)).toEqual(['/d/a.stackseg/2']);
    tree.dispose();
  });
});
