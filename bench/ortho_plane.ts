// 3 views: first paint of an XZ view of a 2048 x 2048 x 500 uint16 stack, through the extension's own path (the
// level worker, dist/levelWorker.js: run `npm run build` first), and what it read.
//   node bench/run.mjs ortho_plane [--width 2048] [--depth 500] [--file /path/stack.tif] [--keep]
// Writes the stack (uncompressed, ~4 GB at the defaults) unless --file names one. Phases, each: wall ms, slices read,
// bytes read by the process (/proc/self/io rchar, the worker thread included) and plane bytes sent:
//   firstXZ: the plane's first frame (planePreviewLevel: level 8, 63 slices; 8 rows of each) on a fresh worker
//   firstYZ: the YZ plane's first frame (a column needs whole slices: 63 of them, level 8 kept in the worker)
//   YZ other x: from the level-8 slices the worker cached; XZ other y: 8 more rows of 63 slices
//   XZ level 4 / level 1: the finer frames a zoomed view asks next
//   fullRes estimate: what a plane read from every full-resolution slice would cost (ms per slice x depth).
// Tries to drop the page cache before firstXZ (root); says whether it could.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkerLevels } from '../src/core/levels/client';
import { planePreviewLevel, planeSlices } from '../src/shared/levels/planes';
import { openSource } from '../src/core/io';
import { StackWriter } from '../src/core/tiff/writer';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const W = Number(arg('width', '2048')), D = Number(arg('depth', '500'));

function rchar(): number {
  return Number(/^rchar: (\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
}

async function writeStack(path: string): Promise<void> {
  const w = await StackWriter.create(path, { width: W, height: W, depth: D, dtype: 'uint16' });
  const s = new Uint16Array(W * W);
  for (let z = 0; z < D; z++) {
    // Spheres-ish texture that changes with z, so planes are not constant.
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) s[y * W + x] = ((x * 7 + y * 13 + z * 29) & 1023) + (((x >> 6) + (y >> 6) + (z >> 4)) & 1) * 20000;
    await w.appendSlice(s);
  }
  await w.close();
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const given = arg('file', '');
  const dir = given ? '' : mkdtempSync(join(tmpdir(), 'stackseg-ortho-'));
  const path = given || join(dir, 'big.tif');
  if (!given || !existsSync(path)) {
    const t0 = performance.now();
    await writeStack(path);
    console.error(`wrote ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  let dropped = false;
  try { writeFileSync('/proc/sys/vm/drop_caches', '3'); dropped = true; } catch { /* not root, or not allowed here */ }
  const source = await openSource(path);
  const worker = WorkerLevels.create(resolve('dist/levelWorker.js'), source.info);
  if (!worker) throw new Error('dist/levelWorker.js is missing: run npm run build first');
  const dims = { width: source.info.width, height: source.info.height, depth: source.info.depth };
  const phases: Record<string, unknown>[] = [];
  const phase = async (name: string, axis: 'xz' | 'yz', index: number, f: number) => {
    const r0 = rchar(), t0 = performance.now();
    const p = await worker.readPlane(axis, index, f);
    const ms = performance.now() - t0;
    if (!p) throw new Error('plane went stale');
    phases.push({ name, axis, index, level: f, ms: Math.round(ms), slicesRead: p.slices, planePixels: `${p.width} x ${p.height}`, bytesSent: p.data.byteLength, bytesReadMB: Math.round((rchar() - r0) / 1e6) });
  };
  const f0 = planePreviewLevel(dims, 'xz');
  await phase('firstXZ (rows of each slice)', 'xz', dims.height >> 1, f0);
  await phase('firstYZ (whole slices, level f kept)', 'yz', dims.width >> 1, f0);
  await phase('YZ other x, same level (cached level slices)', 'yz', 100, f0);
  await phase('XZ other y, same level', 'xz', 100, f0);
  await phase('XZ level 4', 'xz', dims.height >> 1, 4);
  await phase('XZ level 1 (exact)', 'xz', dims.height >> 1, 1);
  // Full resolution per slice (the worker's decode of uncached slices), for the estimate of a plane read that way.
  const zs = Array.from({ length: 10 }, (_, k) => D - 1 - 3 * k);
  const t0 = performance.now();
  for (const z of zs) await worker.readLevel(z, 1);
  const perSlice = (performance.now() - t0) / zs.length;
  await worker.close();
  await source.close();
  if (!keep && dir) rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({
    stack: `${W} x ${W} x ${D} uint16, uncompressed, ${(source.info.fileBytes / 1e9).toFixed(2)} GB`,
    pageCacheDropped: dropped,
    firstFrameLevel: f0,
    firstFrameSlices: planeSlices(D, f0).length,
    phases,
    fullResolutionEstimate: { msPerSlice: Math.round(perSlice), msForAllSlices: Math.round(perSlice * D), bytesRead: `${((W * W * 2 * D) / 1e9).toFixed(2)} GB` },
  }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
