// Channels and time points in the viewer's slice path: (z, level, plane) keys on both sides, the level readers and
// the slice server reading (z, c, t) of an ImageJ hyperstack written by the project's writer, and the webview's
// composite (per-channel window and colour, added) and channel state.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerLevels } from '../../src/core/levels/client';
import { CachedLevels } from '../../src/core/levels/levels';
import { levelKey as hostKey, planeIndex } from '../../src/shared/levels/levelKey';
import { downsampleMean } from '../../src/shared/pyramid';
import { openStack, writeStack } from '../../src/core/tiff';
import { SliceServer } from '../../src/host/sliceServer';
import { ChannelView, storePlane } from '../../webview/channels';
import { compositeInto, defaultChannelColors, parseHexColor, PlaneAssembler } from '../../webview/composite';
import { formatInfo, formatPixelStatus } from '../../webview/format';
import { levelKey as webviewKey } from '../../src/shared/levels/levelKey';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-viewch-'));
const workerPath = join(dir, 'levelWorker.js');
const W = 21, H = 13, Z = 3, C = 2, T = 2;
/** Plane (z, c, t): distinct per channel (c * 20000) and time point (t * 7000). */
const plane = (z: number, c: number, t: number) => Uint16Array.from({ length: W * H }, (_, i) => c * 20000 + t * 7000 + z * 300 + (i % 250));
const hyper = join(dir, 'hyper.tif');

beforeAll(async () => {
  await esbuild.build({ entryPoints: [resolve(__dirname, '../../src/core/levels/worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'warning' });
  // ImageJ's page order: channel fastest, then slice, then frame.
  await writeStack(hyper, {
    width: W, height: H, depth: Z * C * T, dtype: 'uint16',
    getSlice: (p) => plane(Math.floor(p / C) % Z, p % C, Math.floor(p / (C * Z))),
  }, { hyperstack: { channels: C, frames: T } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('(z, level, plane) keys', () => {
  it('plane 0 keeps the one-channel keys; the host and the webview compute the same key', () => {
    expect(hostKey(7, 4)).toBe(7 * 128 + 4);
    expect(hostKey(7, 4, 0)).toBe(webviewKey(7, 4));
    for (const [z, f, p] of [[0, 1, 1], [5, 64, 3], [16_000_000, 2, 4_000_000]]) expect(hostKey(z, f, p)).toBe(webviewKey(z, f, p));
  });

  it('distinct for every (z, level, c, t) of a stack, and exact far beyond real sizes', () => {
    const seen = new Set<number>();
    for (let t = 0; t < 3; t++) for (let c = 0; c < 4; c++) for (let z = 0; z < 50; z++) for (let f = 1; f <= 64; f *= 2) seen.add(hostKey(z, f, planeIndex(c, t, 4)));
    expect(seen.size).toBe(3 * 4 * 50 * 7);
    const big = hostKey(2 ** 24 - 1, 64, 2 ** 22 - 1);
    expect(Number.isSafeInteger(big)).toBe(true);
    expect(big).not.toBe(hostKey(2 ** 24 - 2, 64, 2 ** 22 - 1));
  });

  it('the webview keys a composite past every real plane, one per time point', () => {
    const planes = new Set<number>();
    for (let t = 0; t < T; t++) { for (let c = 0; c < C; c++) planes.add(storePlane(c, t, C, T)); planes.add(storePlane(undefined, t, C, T)); }
    expect(planes.size).toBe(C * T + T);
    expect(storePlane(1, 1, C, T)).toBe(planeIndex(1, 1, C)); // one channel: the host's plane number
  });
});

describe('level readers and the slice server read (z, c, t)', () => {
  it('CachedLevels and WorkerLevels: each plane, at every level, as the reader reads it', async () => {
    const stack = await openStack(hyper);
    expect([stack.info.depth, stack.info.channels, stack.info.frames]).toEqual([Z, C, T]);
    const inThread = new CachedLevels(stack);
    const worker = WorkerLevels.create(workerPath, stack.info)!;
    try {
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) for (let z = 0; z < Z; z++) {
        for (const f of [1, 2, 8]) {
          const want = f === 1 ? plane(z, c, t) : downsampleMean(plane(z, c, t), W, H, 'uint16', f).data;
          expect((await inThread.readLevel(z, f, c, t)).data).toEqual(want);
          expect((await worker.readLevel(z, f, c, t)).data).toEqual(want);
        }
      }
      // Cached reduced levels of one plane are never served for another.
      expect((await inThread.readLevel(1, 2, 1, 0)).data).not.toEqual((await inThread.readLevel(1, 2, 0, 0)).data);
      await expect(worker.readLevel(0, 1, 2, 0)).rejects.toThrow(/channel 2 is out of range/);
    } finally {
      await worker.close();
      await stack.close();
    }
  });

  it('SliceServer: planes of one slice are separate requests, served with their c and t', async () => {
    const stack = await openStack(hyper);
    const sent: { z: number; c: number; t: number; first: number }[] = [];
    const server = new SliceServer(new CachedLevels(stack), {
      slice: (z, pixels, _ms, shape) => { sent.push({ z, c: shape.c, t: shape.t, first: pixels[0] }); },
      error: (z, e) => { throw new Error(`slice ${z}: ${String(e)}`); },
    });
    server.request(1, 'show', 1, 0, 0);
    server.request(1, 'show', 1, 1, 0);
    server.request(1, 'show', 1, 1, 1);
    server.request(1, 'show', 1, 1, 1); // a duplicate is not served twice
    for (let i = 0; i < 50 && sent.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.sort((a, b) => a.c - b.c || a.t - b.t)).toEqual([
      { z: 1, c: 0, t: 0, first: plane(1, 0, 0)[0] },
      { z: 1, c: 1, t: 0, first: plane(1, 1, 0)[0] },
      { z: 1, c: 1, t: 1, first: plane(1, 1, 1)[0] },
    ]);
    server.dispose();
    await stack.close();
  });
});

describe('composite', () => {
  it('default colours: green/magenta for two channels, red/green/blue... for more', () => {
    expect(defaultChannelColors(2)).toEqual(['#00ff00', '#ff00ff']);
    expect(defaultChannelColors(3)).toEqual(['#ff0000', '#00ff00', '#0000ff']);
    expect(defaultChannelColors(9)).toHaveLength(9);
    expect(parseHexColor('#ff8000')).toEqual([255, 128, 0]);
    expect(parseHexColor('#0f0')).toEqual([0, 255, 0]);
    expect(parseHexColor('red')).toBeUndefined();
  });

  /** RGBA bytes of pixel i of packed words. */
  const rgb = (out: Uint32Array, i: number) => [out[i] & 255, (out[i] >>> 8) & 255, (out[i] >>> 16) & 255, out[i] >>> 24];

  it('each channel through its own window and colour, added and clamped', () => {
    // 3 pixels x 2 channels (planes one after the other): channel 0 green over 0..100, channel 1 magenta over 0..1000.
    const planes = Uint16Array.from([0, 50, 100, /* ch1 */ 1000, 0, 500]);
    const out = new Uint32Array(3);
    const channels = [
      { color: [0, 255, 0] as [number, number, number], window: { min: 0, max: 100 }, visible: true },
      { color: [255, 0, 255] as [number, number, number], window: { min: 0, max: 1000 }, visible: true },
    ];
    compositeInto(planes, 3, 'uint16', channels, out);
    expect(rgb(out, 0)).toEqual([255, 0, 255, 255]); // only channel 1, full
    expect(rgb(out, 1)).toEqual([0, 128, 0, 255]); // only channel 0, half
    expect(rgb(out, 2)).toEqual([128, 255, 128, 255]); // both: white-ish green
    // Two full channels of the same colour clamp at 255; a hidden channel adds nothing.
    const same = [{ ...channels[0], color: [200, 200, 200] as [number, number, number] }, { ...channels[1], color: [200, 200, 200] as [number, number, number] }];
    compositeInto(Uint16Array.from([100, 1000]), 1, 'uint16', same, out);
    expect(rgb(out, 0).slice(0, 3)).toEqual([255, 255, 255]);
    compositeInto(planes, 3, 'uint16', [channels[0], { ...channels[1], visible: false }], out);
    expect(rgb(out, 0)).toEqual([0, 0, 0, 255]);
    expect(rgb(out, 2)).toEqual([0, 255, 0, 255]);
  });

  it('float data (no lookup table) mixes the same way; NaN adds nothing', () => {
    const out = new Uint32Array(2);
    compositeInto(Float32Array.from([0.5, NaN, 1, 0.25]), 2, 'float32', [
      { color: [255, 0, 0], window: { min: 0, max: 1 }, visible: true },
      { color: [0, 0, 255], window: { min: 0, max: 0.5 }, visible: true },
    ], out);
    expect(rgb(out, 0)).toEqual([128, 0, 255, 255]);
    expect(rgb(out, 1)).toEqual([0, 0, 128, 255]);
  });

  it('PlaneAssembler joins the channels of one key once all are in, in channel order', () => {
    const a = new PlaneAssembler(3);
    expect(a.missing(5)).toEqual([0, 1, 2]);
    expect(a.add(5, 2, Uint8Array.from([7, 8]))).toBeUndefined();
    expect(a.add(5, 0, Uint8Array.from([1, 2]))).toBeUndefined();
    expect(a.missing(5)).toEqual([1]);
    expect(a.add(5, 1, Uint8Array.from([4, 5]))).toEqual(Uint8Array.from([1, 2, 4, 5, 7, 8]));
    expect(a.missing(5)).toEqual([0, 1, 2]);
  });
});

describe('ChannelView', () => {
  it('opens as a composite; keys, requests and arrivals follow the mode and the time point', () => {
    const cv = new ChannelView({ channels: 2, frames: 3, channelColors: ['#ff0000', 'bogus'] });
    expect(cv.colors).toEqual(['#ff0000', '#ff00ff']); // a colour from the file, a default for a bad one
    expect(cv.composite).toBe(true);
    expect(cv.readChannel).toBe(0);
    expect(cv.planesFor(4, 2)).toEqual([{}, { c: 1, t: 0 }]);
    const compositeKey = cv.key(4, 2);
    // Channel 1 first: nothing to store yet, and only channel 0 is still to ask for.
    expect(cv.accept(4, 2, 1, 0, Uint16Array.from([9]))).toBeUndefined();
    expect(cv.planesFor(4, 2)).toEqual([{}]);
    expect(cv.accept(4, 2, 0, 0, Uint16Array.from([3]))).toEqual({ key: compositeKey, pixels: Uint16Array.from([3, 9]) });
    // A plane of another time point is stored on its own.
    expect(cv.accept(4, 2, 1, 2, Uint16Array.from([1]))).toEqual({ key: webviewKey(4, 2, planeIndex(1, 2, 2)), pixels: Uint16Array.from([1]) });
    cv.select(1);
    expect(cv.readChannel).toBe(1);
    expect(cv.planesFor(4, 2)).toEqual([{ c: 1, t: 0 }]);
    expect(cv.key(4, 2)).toBe(webviewKey(4, 2, planeIndex(1, 0, 2)));
    cv.setTime(2);
    expect(cv.planesFor(4, 2)).toEqual([{ c: 1, t: 2 }]);
    expect(cv.describe()).toBe('Channel 2 / 2 · Time 3 / 3');
    cv.setTime(99);
    expect(cv.time).toBe(2);
  });

  it('the status line says how many channels and time points', () => {
    expect(formatInfo({ width: 64, height: 32, depth: 5, dtype: 'uint16' })).toBe('64 × 32 × 5 uint16');
    expect(formatInfo({ width: 64, height: 32, depth: 5, dtype: 'uint16', channels: 2, frames: 7 })).toBe('64 × 32 × 5 uint16, 2 channels, 7 time points');
    expect(formatInfo({ width: 64, height: 32, depth: 5, dtype: 'uint8', frames: 3 })).toBe('64 × 32 × 5 uint8, 3 time points');
    expect(formatPixelStatus(3, 4, [120, 45], 'uint16')).toBe('x 3, y 4: 120 | 45');
  });
});

describe('OME Channel Color', () => {
  it('gives the viewer one colour per channel from the signed RGBA integers, or none', async () => {
    const { omeColors } = await import('../../src/core/tiff/axes');
    // -16776961 = 0xFF0000FF (red, opaque); 16711935 = 0x00FF00FF (green); -1 = white.
    const body = '<Pixels SizeC="3"><Channel ID="c0" Color="-16776961"/><Channel ID="c1" Color="16711935"/><Channel ID="c2" Color="-1"/>';
    expect(omeColors(body, 3)).toEqual(['#ff0000', '#00ff00', '#ffffff']);
    expect(omeColors(body, 2)).toBeUndefined(); // not one per channel
    expect(omeColors('<Channel ID="a"/><Channel ID="b" Color="255"/>', 2)).toBeUndefined(); // one without a colour
  });
});

describe('view state: channel and time point', () => {
  it('keeps a valid channel (or the composite) and time point, drops the rest', async () => {
    const { parseViewState } = await import('../../webview/viewState');
    expect(parseViewState({ z: 2, channel: 'composite', time: 1 })).toEqual({ z: 2, channel: 'composite', time: 1 });
    expect(parseViewState({ channel: 1, time: 0 })).toEqual({ channel: 1, time: 0 });
    expect(parseViewState({ channel: -1, time: 1.5 })).toEqual({});
    expect(parseViewState({ channel: 'red', time: '2' })).toEqual({});
  });
});

describe('ImageJ LUT colours', () => {
  const PY = '/usr/bin/python3';
  const hasTifffile = (() => { try { execFileSync(PY, ['-c', 'import tifffile, numpy'], { stdio: 'pipe' }); return true; } catch { return false; } })();

  it.skipIf(!hasTifffile)('a hyperstack saved with red and cyan LUTs gives the viewer those colours', async () => {
    const path = join(dir, 'luts.tif');
    execFileSync(PY, ['-c', `
import numpy as np, tifffile, sys
ramp = np.arange(256, dtype=np.uint8)
red = np.stack([ramp, ramp * 0, ramp * 0])
cyan = np.stack([ramp * 0, ramp, ramp])
data = np.arange(3 * 2 * 8 * 8, dtype=np.uint16).reshape(3, 2, 8, 8)
tifffile.imwrite(sys.argv[1], data, imagej=True, metadata={'axes': 'ZCYX', 'LUTs': [red, cyan]})
`, path]);
    const stack = await openStack(path);
    try {
      expect([stack.info.depth, stack.info.channels]).toEqual([3, 2]);
      expect(stack.info.channelColors).toEqual(['#ff0000', '#00ffff']);
    } finally {
      await stack.close();
    }
    // The writer's own hyperstack has no LUTs: the viewer's defaults.
    const plain = await openStack(hyper);
    expect(plain.info.channelColors).toBeUndefined();
    await plain.close();
  });

  it('all-gray LUTs or no IJ metadata give no colours', async () => {
    const { imagejLutColors } = await import('../../src/core/tiff/imagej');
    expect(imagejLutColors(undefined)).toBeUndefined();
    const gray = [...'IJIJ'].map((ch) => ch.charCodeAt(0)).concat([0x6c, 0x75, 0x74, 0x73, 0, 0, 0, 1], Array.from({ length: 768 }, (_, i) => i % 256));
    expect(imagejLutColors({ counts: [12, 768], data: gray })).toBeUndefined();
    const green = gray.slice(0, 12).concat(Array.from({ length: 768 }, (_, i) => (i >= 256 && i < 512 ? i - 256 : 0)));
    expect(imagejLutColors({ counts: [12, 768], data: green })).toEqual(['#00ff00']);
  });
});
