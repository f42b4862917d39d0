// The Jobs view and job commands against an edited job.json and an untrusted workspace, with a minimal stand-in for
// the `vscode` module: the tooltip shows job.json's text as text (no links, command links, HTML or table cells), and
// Cancel Job on a Slurm job runs no scancel in an untrusted workspace.

import { describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../../src/shared/jobs/spec';

const host = vi.hoisted(() => ({ trusted: true, errors: [] as string[], commands: new Map<string, (...a: any[]) => unknown>(), cancelled: [] as string[] }));

vi.mock('vscode', () => {
  class MarkdownString {
    isTrusted?: boolean;
    supportHtml?: boolean;
    constructor(public value = '', public supportThemeIcons = false) {}
    appendMarkdown(s: string) { this.value += s; return this; }
    appendText(s: string) { this.value += s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&'); return this; }
  }
  class EventEmitter { event = () => ({ dispose() {} }); fire() {} dispose() {} }
  const Uri = { file: (fsPath: string) => ({ fsPath }) };
  return {
    MarkdownString, EventEmitter, Uri,
    TreeItem: class { constructor(public label: string) {} },
    ThemeIcon: class { static File = {}; constructor(public id: string) {} },
    ThemeColor: class { constructor(public id: string) {} },
    TreeItemCollapsibleState: { None: 0, Expanded: 2 },
    TabInputCustom: class {},
    ViewColumn: { Beside: -2, Active: -1 },
    workspace: { get isTrusted() { return host.trusted; }, getConfiguration: () => ({ get: (_k: string, d: unknown) => d }) },
    window: {
      showErrorMessage: async (m: string) => { host.errors.push(m); return undefined; },
      showInformationMessage: async () => undefined, showWarningMessage: async () => undefined,
      tabGroups: { activeTabGroup: { activeTab: undefined } },
    },
    commands: { registerCommand: (id: string, fn: (...a: any[]) => unknown) => { host.commands.set(id, fn); return { dispose() {} }; }, executeCommand: async () => undefined },
  };
});

vi.mock('../../src/core/jobs/runners/slurm', () => ({ cancelSlurmJob: async (dir: string) => { host.cancelled.push(dir); return {}; } }));

const hostile = '**bold** [link](command:stackseg.deleteJob?%5B%22%2F%22%5D) <img src=x onerror=alert(1)> | cell $(zap) &amp;\nrow';

function record(): JobRecord {
  return {
    id: `id ${hostile}`, dir: '/j', status: 'failed', runner: 'slurm', created: new Date(0).toISOString(),
    spec: { kind: 'run', model: 'threshold', params: { method: 'fixed', value: `1 ${hostile}` } as any, image: `/data/${hostile}.tif`, labels: `/data/${hostile}.labels.tif` },
    outputs: { log: '/j/log.txt' }, timings: { total: 2 }, error: `error ${hostile}`,
  } as unknown as JobRecord;
}

describe('Jobs view tooltip', () => {
  it('shows every job.json text as plain text: no link, command link, HTML, icon or extra table cell', async () => {
    const { jobTooltip } = await import('../../src/extension/jobs/jobsView');
    const md = jobTooltip(record(), 'failed') as unknown as { value: string; isTrusted?: boolean; supportHtml?: boolean; supportThemeIcons?: boolean };
    // Each character Markdown could act on arrives backslash-escaped.
    expect(md.value).not.toMatch(/(?<!\\)\[link(?<!\\)\]/);
    expect(md.value).not.toMatch(/(?<!\\)<img/);
    expect(md.value).not.toMatch(/(?<!\\)\*\*bold/);
    expect(md.value).not.toMatch(/(?<!\\)\$\(zap/);
    expect(md.value).not.toMatch(/(?<!\\)&amp;/);
    // Rows: the header line, the separator and one row per field; a hostile "|" or newline adds no cell and no row.
    const rows = md.value.split('\n').filter((l) => l.startsWith('|'));
    for (const row of rows) expect(row.replace(/\\\|/g, '').split('|').length, row).toBe(4);
    expect(rows.some((r) => r.includes('cell'))).toBe(true);
    expect(md.value).not.toMatch(/^row/m);
    expect(md.isTrusted).toBe(false);
    expect(md.supportHtml).toBe(false);
    expect(md.supportThemeIcons).toBe(false);
  });
});

describe('Cancel Job in an untrusted workspace', () => {

  async function cancelCommand() {
    const { registerJobCommands } = await import('../../src/extension/jobs/jobCommands');
    const jobs = { cancel: () => false, runningJobs: () => [], listAll: async () => [] };
    registerJobCommands({ subscriptions: [] } as any, jobs as any);
    return host.commands.get('stackseg.cancelJob')!;
  }

  it('refuses to run scancel for a Slurm job, saying why; cancels it once the workspace is trusted', async () => {
    host.trusted = false;
    const cancel = await cancelCommand();
    await cancel('/work/job');
    expect(host.cancelled).toEqual([]);
    expect(host.errors.join('\n')).toMatch(/untrusted workspace/);
    host.trusted = true;
    host.errors.length = 0;
    await cancel('/work/job');
    expect(host.cancelled).toEqual(['/work/job']);
    expect(host.errors).toEqual([]);
  });
});
