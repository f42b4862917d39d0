// Each malformed file gives one StackSegError that names the file, the problem and (where it applies) the page.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackSegError } from '../../src/shared/errors';
import { openStack } from '../../src/core/tiff';
import { buildTiff, writeBadTiffs } from '../fixtures/badTiffs';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-badtiff-'));
const bad = writeBadTiffs(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openError(path: string): Promise<StackSegError> {
  try {
    const stack = await openStack(path);
    await stack.close();
  } catch (e) {
    expect(e).toBeInstanceOf(StackSegError);
    return e as StackSegError;
  }
  throw new Error(`expected ${path} to be refused`);
}

describe('bad TIFF files are refused with a clear message', () => {
  const cases: Array<[name: string, pattern: RegExp, page?: number]> = [
    ['wrongMagic', /not a TIFF file \(wrong magic/],
    ['tooShort', /not a TIFF file/],
    ['truncatedHeader', /not a TIFF file/],
    ['zeroPages', /no pages/],
    ['differentSizes', /page 2 is 16x8 but page 0 is 8x8/, 2],
    ['differentTypes', /page 1 has a different sample type \(16-bit unsigned int\) than page 0 \(8-bit unsigned int\)/, 1],
    ['hugeDimensions', /2147483648x2147483647 pixels, too large/, 0],
    ['jpeg', /unsupported compression JPEG \(7\)/, 0],
    ['loop', /directory loop/, 2],
    ['float24', /24-bit floating-point samples, which StackSeg does not read/, 0],
    ['signed12', /12-bit signed integer samples/, 0],
    ['lerc', /unsupported compression LERC \(34887\)/, 0],
    ['truncated', /truncated file/],
  ];
  it.each(cases)('%s', async (name, pattern, page) => {
    const err = await openError(bad[name]);
    expect(err.message).toMatch(pattern);
    expect(err.file).toBe(bad[name]);
    expect(err.message).toContain(bad[name]);
    expect(err.hint ?? '').not.toBe('');
    if (page !== undefined) expect(err.page).toBe(page);
  });

  it('names a missing file', async () => {
    const err = await openError(join(dir, 'missing.tif'));
    expect(err.message).toMatch(/file not found/);
  });

  it('refuses slice indices out of range and reads after close', async () => {
    const path = join(dir, 'ok.tif');
    writeFileSync(path, buildTiff([{ width: 4, height: 4, data: new Uint8Array(16).fill(9) }]));
    const stack = await openStack(path);
    expect(Array.from(await stack.readSlice(0))).toEqual(new Array(16).fill(9));
    await expect(stack.readSlice(1)).rejects.toThrow(/slice 1 is out of range \(the stack has 1 slices\)/);
    await stack.close();
    await expect(stack.readSlice(0)).rejects.toThrow(/closed/);
  });

  it('a truncated pixel block that passes the directory check is reported when the slice is read', async () => {
    // Declares fewer strip bytes than width*height: the directory is consistent but the page is short.
    const path = join(dir, 'short.tif');
    writeFileSync(path, buildTiff([{ width: 64, height: 64, data: new Uint8Array(10) }]));
    const stack = await openStack(path);
    await expect(stack.readSlice(0)).rejects.toThrow(/truncated file: pixel data of page 0/);
    await stack.close();
  });
});

describe('corrupted files never escape as anything but StackSegError', () => {
  it('random byte flips in the directories of a valid stack', async () => {
    const { writeStack } = await import('../../src/core/tiff');
    const { readFileSync } = await import('node:fs');
    const good = join(dir, 'good.tif');
    const pixels = (z: number) => Uint16Array.from({ length: 24 * 16 }, (_, i) => (i * 31 + z) & 0xffff);
    await writeStack(good, { width: 24, height: 16, depth: 4, dtype: 'uint16', getSlice: pixels }, { compression: 'deflate' });
    const original = readFileSync(good);
    let seed = 12345;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const path = join(dir, 'fuzz.tif');
    const outcomes = { ok: 0, refused: 0 };
    for (let trial = 0; trial < 300; trial++) {
      const bytes = Buffer.from(original);
      // Flip bytes in the header/first directory, or anywhere in the file.
      for (let k = 0; k < 1 + rand(3); k++) bytes[trial % 2 ? rand(200) : rand(bytes.length)] = rand(256);
      writeFileSync(path, bytes);
      try {
        const stack = await openStack(path);
        try {
          for (let z = 0; z < stack.info.depth; z++) await stack.readSlice(z);
        } finally {
          await stack.close();
        }
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof StackSegError)) throw new Error(`trial ${trial}: ${String(e)}`);
        expect(e.file).toBe(path);
        outcomes.refused++;
      }
    }
    expect(outcomes.refused).toBeGreaterThan(20);
  });
});
