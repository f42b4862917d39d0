// The Blosc decoder (src/core/io/blosc.ts) against the C library: python3-numcodecs writes Blosc frames of every
// kind StackSeg meets (type sizes 1..8, shuffle on and off, stored frames, leftover blocks, forced small blocks) and
// the raw bytes they hold; the JavaScript decoder must give the same bytes, and leave the frames it does not
// implement (bitshuffle, other inner compressors) to numcodecs by returning undefined.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bloscDecode, BloscError, bloscOptions } from '../../src/core/io/blosc';
// @ts-expect-error plain ESM script without types
import { buildWasm, embeddedWasm } from '../../scripts/build-wasm.mjs';
import { installFastCodecs } from '../../src/core/io/zarrCodecs';

const PYTHON = '/usr/bin/python3';
const MAKE = `
import json, os, sys, numpy as np
from numcodecs import blosc
out = sys.argv[1]
rng = np.random.default_rng(7)
cases = []
def add(name, arr, cname='lz4', clevel=5, shuffle=blosc.SHUFFLE, blocksize=0):
    raw = np.ascontiguousarray(arr).tobytes()
    frame = blosc.Blosc(cname, clevel, shuffle, blocksize).encode(np.ascontiguousarray(arr))
    open(os.path.join(out, name + '.blosc'), 'wb').write(frame)
    open(os.path.join(out, name + '.raw'), 'wb').write(raw)
    stored = frame[2] & 2 != 0  # a frame Blosc could not shrink is stored as is, whatever its settings
    cases.append({'name': name, 'handled': cname == 'lz4' and shuffle != blosc.BITSHUFFLE or stored})
yy, xx = np.mgrid[0:300, 0:347]
img = ((xx * 37 + yy * 11) % 4096).astype(np.uint16) + rng.integers(0, 256, (300, 347)).astype(np.uint16)
add('u16_shuffle', img)
add('u16_noshuffle', img, shuffle=blosc.NOSHUFFLE)
add('u8', (img & 255).astype(np.uint8))
add('f32', img.astype(np.float32) / 7)
add('f64_smallblocks', img.astype(np.float64), blocksize=4096)
add('i32_leftover', rng.integers(-2**31, 2**31 - 1, 100003, dtype=np.int32), blocksize=65536)
add('u16_zeros', np.zeros((64, 513), np.uint16))
add('u16_stored', img, clevel=0)
add('tiny', np.arange(20, dtype=np.uint16))
add('u16_clevel9', img, clevel=9)
add('u16_bitshuffle', img, shuffle=blosc.BITSHUFFLE)
add('u16_bitshuffle_smooth', (img >> 8).astype(np.uint16), shuffle=blosc.BITSHUFFLE)
add('u16_zstd', img, cname='zstd')
add('u16_blosclz', img, cname='blosclz')
json.dump(cases, open(os.path.join(out, 'cases.json'), 'w'))
`;

function make(): { dir: string; cases: { name: string; handled: boolean }[] } | string {
  try {
    execFileSync(PYTHON, ['-c', 'import numcodecs.blosc, numpy'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} with numcodecs is not available (apt-get install python3-numcodecs)`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stackseg-blosc-'));
  execFileSync(PYTHON, ['-c', MAKE, dir], { stdio: 'pipe' });
  return { dir, cases: JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) };
}

const made = make();
const skip = typeof made === 'string' ? made : undefined;
if (skip) console.warn(`skipping Blosc comparisons: ${skip}`);
const fx = typeof made === 'string' ? { dir: '', cases: [] } : made;
afterAll(() => { if (fx.dir) rmSync(fx.dir, { recursive: true, force: true }); });

const bytes = (f: string) => new Uint8Array(readFileSync(join(fx.dir, f)));

describe.skipIf(!!skip)('Blosc frames decode as the C library wrote them', () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const frame = bytes(`${c.name}.blosc`), raw = bytes(`${c.name}.raw`);
    // The WebAssembly LZ4 and the JavaScript one alike.
    for (const wasm of [true, false]) {
      bloscOptions.wasm = wasm;
      const got = bloscDecode(frame);
      if (!c.handled) {
        expect(got).toBeUndefined();
      } else {
        expect(got, `wasm ${wasm}`).toBeDefined();
        expect(Buffer.compare(Buffer.from(got!), Buffer.from(raw)), `wasm ${wasm}`).toBe(0);
      }
    }
    bloscOptions.wasm = true;
    // Through the codec zarrita uses: handled or not, the bytes are right (numcodecs decodes the rest).
    const registry = new Map<string, () => unknown>([['blosc', () => import('numcodecs/blosc').then((m) => m.default)]]);
    installFastCodecs(registry);
    const Codec = await registry.get('numcodecs.blosc')!() as { fromConfig(c: object): { decode(b: Uint8Array): Promise<Uint8Array> } };
    const viaCodec = await Codec.fromConfig({}).decode(frame);
    expect(Buffer.compare(Buffer.from(viaCodec), Buffer.from(raw))).toBe(0);
  });

  it.each([true, false])('refuses a damaged frame with an error instead of wrong bytes (wasm %s)', (wasm) => {
    bloscOptions.wasm = wasm;
    const frame = bytes('u16_zeros.blosc');
    expect(() => bloscDecode(frame.subarray(0, frame.length - 3))).toThrow(BloscError);
    const start = new DataView(frame.buffer, frame.byteOffset).getInt32(16, true);
    const badSize = frame.slice();
    badSize.fill(0x7f, start, start + 4); // a split longer than the frame
    expect(() => bloscDecode(badSize)).toThrow(/out of range/);
    const badStream = frame.slice();
    badStream.fill(0xff, start + 4); // an LZ4 stream of endless literals
    expect(() => bloscDecode(badStream)).toThrow(BloscError);
    bloscOptions.wasm = true;
  });
});

describe('lz4.wat build', () => {
  it('the embedded module equals a fresh wabt build of lz4.wat', async () => {
    expect(embeddedWasm('lz4')).toBe(await buildWasm('lz4'));
  });
});
