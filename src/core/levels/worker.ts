// Worker-thread entry (bundled by esbuild.mjs to dist/levelWorker.js): reads and reduces slices of one stack for
// the viewer's slice server, off the extension host thread. It opens its own read-only reader on the file.
// Protocol (see client.ts): { type: 'open', path, cacheBytes, levelCacheBytes, expect } once, then
// { type: 'level', id, z, f, c?, t? } -> { id, data, width, height, ms, packed? } (buffers transferred; `pack`: also the
// level packed for the webview, codec.ts) | { id, error }; { type: 'plane', id, axis, index, f, c?, t? } -> an XZ/YZ
// plane cut from level-f slices (planes.ts), or { id, stale: true } when a plane of that axis at another index was
// asked for before it was done.
// An error keeps what StackSegError needs to rebuild the same message on the other side.

import { parentPort } from 'node:worker_threads';
import { StackSegError } from '../../shared/errors';
import { openSource } from '../io';
import { deflateRawSync } from 'node:zlib';
import type { DType, PixelArray, SliceSource } from '../../shared/types';
import { pack, transformFor } from '../../shared/levels/codec';
import { CachedLevels } from './levels';
import { readPlane, type PlaneAxis } from '../../shared/levels/planes';

export interface StackShape { width: number; height: number; depth: number; dtype: DType }

export type LevelRequest =
  | { type: 'open'; path: string; cacheBytes: number; levelCacheBytes: number; expect: StackShape }
  | { type: 'level'; id: number; z: number; f: number; c?: number; t?: number; pack?: boolean }
  | { type: 'plane'; id: number; axis: PlaneAxis; index: number; f: number; c?: number; t?: number };

export type WorkerError =
  | { what: string; file?: string; page?: number; hint?: string; code?: string }
  | { message: string };

export type LevelReply =
  | { id: number; data: PixelArray; width: number; height: number; ms: number; packed?: Uint8Array; slices?: number }
  | { id: number; stale: true }
  | { id: number; error: WorkerError };

let levels: Promise<CachedLevels> | undefined;
/** The stack the levels read (XZ planes read a few rows of its slices where the file allows). */
let stack: SliceSource | undefined;

parentPort?.on('message', (m: LevelRequest) => {
  if (m.type === 'open') {
    levels = open(m);
    levels.catch(() => undefined); // reported to each level request
    return;
  }
  if (m.type === 'plane') void servePlane(m);
  else void serve(m);
});

/** Index of the newest plane request per axis: a plane of another index stops at its next slice (the crosshair moved on). */
const latestPlane = new Map<PlaneAxis, number>();

async function servePlane(m: Extract<LevelRequest, { type: 'plane' }>): Promise<void> {
  const t0 = performance.now();
  latestPlane.set(m.axis, m.index);
  try {
    if (!levels) throw new Error('slice reader used before open');
    const l = await levels;
    const s = stack;
    const rows = s?.readRows && ((z: number, y0: number, n: number, c: number, t: number) => s.readRows!(z, y0, n, c, t));
    const plane = await readPlane(l, { ...l.info }, m.axis, m.index, m.f, m.c ?? 0, m.t ?? 0, () => latestPlane.get(m.axis) !== m.index, rows);
    if (!plane) {
      parentPort!.postMessage({ id: m.id, stale: true } satisfies LevelReply);
      return;
    }
    const reply: LevelReply = { id: m.id, data: plane.data, width: plane.width, height: plane.height, slices: plane.slices, ms: performance.now() - t0 };
    parentPort!.postMessage(reply, [plane.data.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: describe(e) } satisfies LevelReply);
  }
}

async function open(m: Extract<LevelRequest, { type: 'open' }>): Promise<CachedLevels> {
  const stack = await openSource(m.path, { cacheBytes: m.cacheBytes });
  const { width, height, depth, dtype } = stack.info;
  const e = m.expect;
  if (width !== e.width || height !== e.height || depth !== e.depth || dtype !== e.dtype) {
    await stack.close();
    throw new StackSegError(`the file changed since it was opened (now ${width} x ${height} x ${depth} ${dtype})`, { file: m.path, hint: 'close the viewer and open the file again' });
  }
  setStack(stack);
  return new CachedLevels(stack, m.levelCacheBytes);
}

async function serve(m: Extract<LevelRequest, { type: 'level' }>): Promise<void> {
  const t0 = performance.now();
  try {
    if (!levels) throw new Error('slice reader used before open');
    const level = await (await levels).readLevel(m.z, m.f, m.c ?? 0, m.t ?? 0);
    // Packed here, off the extension host thread: the bytes that cross the link to the webview (codec.ts).
    const packed = m.pack ? packLevel(level.data, level.width) : undefined;
    const reply: LevelReply = { id: m.id, ...level, ms: performance.now() - t0, ...(packed ? { packed } : {}) };
    parentPort!.postMessage(reply, [level.data.buffer as ArrayBuffer, ...(packed ? [packed.buffer as ArrayBuffer] : [])]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: describe(e) } satisfies LevelReply);
  }
}

function setStack(s: SliceSource): void { stack = s; }

/** Deflate level 1: on CT-like uint16 it gives 95 % of level 6's ratio in a third of the time (bench/level_codec.mjs). */
export function packLevel(data: PixelArray, width: number): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const k = data.BYTES_PER_ELEMENT;
  return pack(bytes, transformFor(k, data instanceof Float32Array || data instanceof Float64Array), k, width, (b) => deflateRawSync(b, { level: 1 }));
}

function describe(e: unknown): WorkerError {
  if (e instanceof StackSegError) return { what: e.what, ...e.options };
  return { message: e instanceof Error ? e.message : String(e) };
}
