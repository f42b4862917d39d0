// Worker-thread entry (bundled by esbuild.mjs to dist/levelWorker.js): reads and reduces slices of one stack for
// the viewer's slice server, off the extension host thread. It opens its own read-only reader on the file.
// Methods (LevelMethods, over src/shared/rpc.ts; see client.ts): `open` (a notification) once, then
// `level` { z, f, c?, t?, pack? } -> { data, width, height, ms, packed? } (buffers transferred; `pack`: also the
// level packed for the webview, codec.ts); `plane` { axis, index, f, c?, t? } -> an XZ/YZ plane cut from level-f
// slices (planes.ts), or undefined when a plane of that axis at another index was asked for before it was done.
// Errors cross as rpc.ts does: a StackSegError is rebuilt with the same message on the other side.

import { parentPort } from 'node:worker_threads';
import { StackSegError } from '../../shared/errors';
import { RpcServer, type RpcContext } from '../../shared/rpc';
import { openSource } from '../io';
import { deflateRawSync } from 'node:zlib';
import type { DType, PixelArray, SliceSource } from '../../shared/types';
import { pack, transformFor } from '../../shared/levels/codec';
import { CachedLevels } from './levels';
import { readPlane, type PlaneAxis } from '../../shared/levels/planes';

export interface StackShape { width: number; height: number; depth: number; dtype: DType }

export type OpenParams = { path: string; cacheBytes: number; levelCacheBytes: number; expect: StackShape };
export type LevelParams = { z: number; f: number; c?: number; t?: number; pack?: boolean };
export type PlaneParams = { axis: PlaneAxis; index: number; f: number; c?: number; t?: number };
export type LevelResult = { data: PixelArray; width: number; height: number; ms: number; packed?: Uint8Array; slices?: number };

export interface LevelMethods {
  open: { params: OpenParams; result: void };
  level: { params: LevelParams; result: LevelResult };
  /** Undefined: stale (a plane of the same axis at another index was asked for meanwhile). */
  plane: { params: PlaneParams; result: LevelResult | undefined };
}

let levels: Promise<CachedLevels> | undefined;
/** The stack the levels read (XZ planes read a few rows of its slices where the file allows). */
let stack: SliceSource | undefined;

const server = new RpcServer<LevelMethods>({
  open: (m) => {
    levels = open(m);
    levels.catch(() => undefined); // reported to each level request
  },
  level: serve,
  plane: servePlane,
}, (msg, transfer) => parentPort!.postMessage(msg, transfer));
parentPort?.on('message', (m) => server.receive(m));

/** Index of the newest plane request per axis: a plane of another index stops at its next slice (the crosshair moved on). */
const latestPlane = new Map<PlaneAxis, number>();

async function servePlane(m: PlaneParams, ctx: RpcContext): Promise<LevelResult | undefined> {
  const t0 = performance.now();
  latestPlane.set(m.axis, m.index);
  if (!levels) throw new Error('slice reader used before open');
  const l = await levels;
  const s = stack;
  const rows = s?.readRows && ((z: number, y0: number, n: number, c: number, t: number) => s.readRows!(z, y0, n, c, t));
  const plane = await readPlane(l, { ...l.info }, m.axis, m.index, m.f, m.c ?? 0, m.t ?? 0, () => latestPlane.get(m.axis) !== m.index, rows);
  if (!plane) return undefined;
  ctx.transfer(plane.data.buffer as ArrayBuffer);
  return { data: plane.data, width: plane.width, height: plane.height, slices: plane.slices, ms: performance.now() - t0 };
}

async function open(m: OpenParams): Promise<CachedLevels> {
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

async function serve(m: LevelParams, ctx: RpcContext): Promise<LevelResult> {
  const t0 = performance.now();
  if (!levels) throw new Error('slice reader used before open');
  const level = await (await levels).readLevel(m.z, m.f, m.c ?? 0, m.t ?? 0);
  // Packed here, off the extension host thread: the bytes that cross the link to the webview (codec.ts).
  const packed = m.pack ? packLevel(level.data, level.width) : undefined;
  ctx.transfer(level.data.buffer as ArrayBuffer, ...(packed ? [packed.buffer as ArrayBuffer] : []));
  return { ...level, ms: performance.now() - t0, ...(packed ? { packed } : {}) };
}

function setStack(s: SliceSource): void { stack = s; }

/**
 * 16-bit levels are Rice coded (transform 3, no deflate); others deflate level 1, which gives 95 % of level 6's ratio
 * in a third of the time (bench/level_codec.mjs).
 */
export function packLevel(data: PixelArray, width: number): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const k = data.BYTES_PER_ELEMENT;
  return pack(bytes, transformFor(k, data instanceof Float32Array || data instanceof Float64Array), k, width, (b) => deflateRawSync(b, { level: 1 }));
}
