// Strip tables that disagree with RowsPerStrip (issue 10 item 8): the rows are read from the strips the writer really
// wrote when they hold the page, otherwise one clear error, never rows of zeros.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { StackSegError } from '../../src/shared/errors';
import { openStack } from '../../src/core/tiff';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-strips-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One 8-bit page, little-endian, with the given strips (placed `gap` bytes apart) and RowsPerStrip tag.
 * counts: StripByteCounts (default: the strips' lengths).
 */
function stripTiff(width: number, height: number, rowsPerStrip: number, strips: Uint8Array[], o: { compression?: number; gap?: number; counts?: number[] } = {}): Buffer {
  const counts = o.counts ?? strips.map((s) => s.length);
  const gap = o.gap ?? 0;
  const nTags = 9;
  const ifdAt = 8, ifdBytes = 2 + nTags * 12 + 4;
  const offsetsAt = ifdAt + ifdBytes, countsAt = offsetsAt + 4 * strips.length;
  let at = countsAt + 4 * counts.length;
  const stripAt = strips.map((s) => { const p = at; at += s.length + gap; return p; });
  const buf = Buffer.alloc(at);
  buf.write('II', 0, 'latin1'); buf.writeUInt16LE(42, 2); buf.writeUInt32LE(ifdAt, 4);
  const tags: Array<[number, number, number, number]> = [ // tag, type, count, value
    [256, 4, 1, width], [257, 4, 1, height], [258, 3, 1, 8], [259, 3, 1, o.compression ?? 1], [262, 3, 1, 1],
    [273, 4, strips.length, strips.length === 1 ? stripAt[0] : offsetsAt], [277, 3, 1, 1], [278, 4, 1, rowsPerStrip],
    [279, 4, counts.length, counts.length === 1 ? counts[0] : countsAt],
  ];
  buf.writeUInt16LE(nTags, ifdAt);
  tags.forEach(([tag, type, count, value], k) => {
    const e = ifdAt + 2 + k * 12;
    buf.writeUInt16LE(tag, e); buf.writeUInt16LE(type, e + 2); buf.writeUInt32LE(count, e + 4);
    if (type === 3) buf.writeUInt16LE(value, e + 8); else buf.writeUInt32LE(value, e + 8);
  });
  stripAt.forEach((p, i) => buf.writeUInt32LE(p, offsetsAt + 4 * i));
  counts.forEach((c, i) => buf.writeUInt32LE(c, countsAt + 4 * i));
  strips.forEach((s, i) => buf.set(s, stripAt[i]));
  return buf;
}

const W = 16, H = 64;
const pixels = Uint8Array.from({ length: W * H }, (_, i) => 1 + (i % 251));

async function readSlice(path: string): Promise<Uint8Array> {
  const src = await openStack(path);
  try { return (await src.readSlice(0)) as Uint8Array; } finally { await src.close(); }
}

async function refusal(path: string): Promise<StackSegError> {
  try { await readSlice(path); } catch (e) { expect(e).toBeInstanceOf(StackSegError); return e as StackSegError; }
  throw new Error(`${path} was read without an error`);
}

describe('strip count vs RowsPerStrip', () => {
  it('reads a deflate page written as one strip that says RowsPerStrip 1 (was 63 of 64 rows zero)', async () => {
    const path = join(dir, 'one-strip-rps1.tif');
    writeFileSync(path, stripTiff(W, H, 1, [deflateSync(pixels)], { compression: 8 }));
    expect(Array.from(await readSlice(path))).toEqual(Array.from(pixels));
  });

  it('reads k uncompressed strips of ceil(height / k) rows when RowsPerStrip says otherwise', async () => {
    const path = join(dir, 'four-strips-rps1.tif');
    const strips = [0, 1, 2, 3].map((k) => pixels.subarray(k * 16 * W, (k + 1) * 16 * W));
    writeFileSync(path, stripTiff(W, H, 1, strips, { gap: 7 }));
    expect(Array.from(await readSlice(path))).toEqual(Array.from(pixels));
  });

  it('refuses strips that cannot hold the page, naming the page, the counts and what to do', async () => {
    const path = join(dir, 'three-row-strips.tif');
    const strips = [0, 1, 2].map((k) => pixels.subarray(k * W, (k + 1) * W)); // 3 strips of one row for 64 rows
    writeFileSync(path, stripTiff(W, H, 1, strips, { gap: 5 }));
    const e = await refusal(path);
    expect(e.message).toMatch(/page 0 has 3 strips, but its height 64 and RowsPerStrip 1 need 64/);
    expect(e.message).toContain(path);
    expect(e.hint).toMatch(/re-save/);
  });

  it('refuses a compressed strip that decodes to fewer rows than the page needs (was rows of zeros)', async () => {
    const path = join(dir, 'short-deflate.tif');
    writeFileSync(path, stripTiff(W, H, H, [deflateSync(pixels.subarray(0, W))], { compression: 8 }));
    expect((await refusal(path)).message).toMatch(/strip 0 of page 0 decodes to 16 bytes where its 64 rows need 1024/);
  });

  it('refuses StripOffsets and StripByteCounts of different lengths', async () => {
    const path = join(dir, 'counts-mismatch.tif');
    const strips = [pixels.subarray(0, 32 * W), pixels.subarray(32 * W)];
    writeFileSync(path, stripTiff(W, H, 32, strips, { counts: [32 * W] }));
    expect((await refusal(path)).message).toMatch(/2 StripOffsets but 1 StripByteCounts/);
  });
});
