// Labels + settings written as one unit: temp files, fsync, renames with rollback, .bak generations, full disk.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bakNames, changedSince, fillHash, nodeOps, stampOf, writePair, type PairWriteOps } from '../../src/core/labels/sidecarWrite';

const root = mkdtempSync(join(tmpdir(), 'stackseg-pair-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(): string {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
}

const pair = (dir: string, text: string) => [
  { path: join(dir, 'a.labels.tif'), write: (tmp: string) => fs.writeFile(tmp, `labels ${text}`) },
  { path: join(dir, 'a.stackseg.json'), write: (tmp: string) => fs.writeFile(tmp, `json ${text}`) },
];
const read = (p: string) => readFileSync(p, 'utf8');

describe('writePair', () => {
  it('writes both files and keeps the last 3 versions as .bak, .bak.1, .bak.2', async () => {
    const dir = folder();
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) await writePair(pair(dir, v));
    const labels = join(dir, 'a.labels.tif');
    expect(read(labels)).toBe('labels v5');
    expect(read(join(dir, 'a.stackseg.json'))).toBe('json v5');
    expect(bakNames(labels).map(read)).toEqual(['labels v4', 'labels v3', 'labels v2']);
    expect(bakNames(join(dir, 'a.stackseg.json')).map(read)).toEqual(['json v4', 'json v3', 'json v2']);
    expect(existsSync(`${labels}.bak.3`)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('a failing second rename puts the first file back: the old pair stays, no temp files, the error names the file', async () => {
    const dir = folder();
    await writePair(pair(dir, 'old'));
    await writePair(pair(dir, 'older-bak')); // now .bak holds "old"
    await writePair(pair(dir, 'old'));
    const before = readdirSync(dir).sort().map((f) => [f, read(join(dir, f))]);
    const ops: PairWriteOps = {
      ...nodeOps,
      rename: async (a, b) => {
        if (b.endsWith('a.stackseg.json')) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return nodeOps.rename(a, b);
      },
    };
    await expect(writePair(pair(dir, 'new'), ops)).rejects.toThrow(/a\.stackseg\.json: cannot be written \(EIO/);
    expect(readdirSync(dir).sort().map((f) => [f, read(join(dir, f))])).toEqual(before);
  });

  it('a failing second rename when no pair existed leaves no files', async () => {
    const dir = folder();
    const ops: PairWriteOps = { ...nodeOps, rename: async (a, b) => { if (b.endsWith('.json')) throw Object.assign(new Error('x'), { code: 'EIO' }); return nodeOps.rename(a, b); } };
    await expect(writePair(pair(dir, 'new'), ops)).rejects.toThrow(/nothing was written/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a full disk while writing the labels leaves the old pair and names the file and the free space', async () => {
    const dir = folder();
    await writePair(pair(dir, 'old'));
    const files = pair(dir, 'new');
    files[0].write = async (tmp) => {
      writeFileSync(tmp, 'partial');
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const err = await writePair(files).catch((e: Error) => e);
    expect(String(err)).toMatch(/a\.labels\.tif: cannot be written \(ENOSPC: the disk is full; [\d.]+ \w+ free\) — the files saved before are unchanged/);
    expect(read(join(dir, 'a.labels.tif'))).toBe('labels old');
    expect(read(join(dir, 'a.stackseg.json'))).toBe('json old');
    expect(readdirSync(dir).sort()).toEqual(['a.labels.tif', 'a.stackseg.json']);
  });

  it('a full disk while writing the json (after the labels temp) changes nothing either', async () => {
    const dir = folder();
    await writePair(pair(dir, 'old'));
    const files = pair(dir, 'new');
    files[1].write = async () => { throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); };
    await expect(writePair(files)).rejects.toThrow(/a\.stackseg\.json: cannot be written/);
    expect(read(join(dir, 'a.labels.tif'))).toBe('labels old');
    expect(readdirSync(dir).sort()).toEqual(['a.labels.tif', 'a.stackseg.json']);
  });

  it('works where hard links are refused (copies the old file as its backup)', async () => {
    const dir = folder();
    const ops: PairWriteOps = { ...nodeOps, link: async () => { throw Object.assign(new Error('no links'), { code: 'EPERM' }); } };
    await writePair(pair(dir, 'v1'), ops);
    await writePair(pair(dir, 'v2'), ops);
    expect(read(join(dir, 'a.labels.tif.bak'))).toBe('labels v1');
  });
});

describe('disk stamps', () => {
  it('tell another writer from a touch and from nothing', async () => {
    const dir = folder();
    const p = join(dir, 'x.labels.tif');
    writeFileSync(p, 'one');
    const stamp = await stampOf(p);
    await fillHash(p, stamp);
    expect(stamp?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await changedSince(p, stamp)).toBe(false);
    const later = new Date(Date.now() + 5000);
    await fs.utimes(p, later, later); // touched: same bytes
    expect(await changedSince(p, stamp)).toBe(false);
    writeFileSync(p, 'two'); // same size, other bytes
    expect(await changedSince(p, stamp)).toBe(true);
    expect(await changedSince(join(dir, 'none'), null)).toBe(false);
    expect(await changedSince(p, null)).toBe(true); // created
    rmSync(p);
    expect(await changedSince(p, stamp)).toBe(true); // deleted
  });
});
