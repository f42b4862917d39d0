// Data formats (issue 14): a folder of 2000 single-image TIFFs (512x512 uint16): time to open, to read slice 1000,
// and RSS, in a fresh process; HDF5 (512x512x500 uint16, chunks of one slice, gzip) and Zarr (same, Blosc/LZ4 —
// python3-zarr's default — and gzip) read slice by slice, as slices/s and as a ratio of times to h5py / zarr
// reading the same files in the same run (ratio <= 1.0: StackSeg is at least as fast).
// Runs alternate (StackSeg, Python, StackSeg, ...) and each side keeps its best, so a load spike on a shared machine
// hits both sides alike.
// --baseline DIR also times the io code of another checkout (e.g. `git archive HEAD~3 src | tar -x -C DIR`) in the
// same run, alternating with this one.
// Usage: node bench/io_formats.mjs [--runs 3] [--only folder|h5|zarr] [--baseline DIR]   (needs /usr/bin/python3 with h5py, zarr, tifffile)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const bundle = join(here, 'out', 'io.mjs');

if (args[0] === '--child') {
  // Fresh process: open the folder, read slice 1000, report times and RSS.
  const io = await import(bundle);
  const t0 = performance.now();
  const src = await io.openSource(args[1], { cacheBytes: 0 });
  const tOpen = performance.now() - t0;
  const s = await src.readSlice(1000);
  const tSlice = performance.now() - t0 - tOpen;
  console.log(JSON.stringify({ depth: src.info.depth, openMs: tOpen, slice1000Ms: tSlice, firstValue: s[0], rssMB: process.memoryUsage().rss / 2 ** 20 }));
  process.exit(0);
}

if (args[0] === '--child-read') {
  // Every slice of args[2] in order with the io bundle args[1]; the first pass warms up (WebAssembly, page cache).
  const lib = await import(args[1]);
  for (let r = 0; r < 2; r++) {
    const t = performance.now(), c = process.cpuUsage();
    const src = await lib.openSource(args[2], { cacheBytes: 0 });
    for (let z = 0; z < src.info.depth; z++) await src.readSlice(z);
    await src.close();
    const cpu = process.cpuUsage(c);
    if (r === 1) console.log(JSON.stringify({ wall: (performance.now() - t) / 1000, cpu: (cpu.user + cpu.system) / 1e6 }));
  }
  process.exit(0);
}

const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const PY = '/usr/bin/python3';
mkdirSync(join(here, 'out'), { recursive: true });
await esbuild.build({ entryPoints: [join(here, '../src/core/io/index.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error', external: ['h5wasm', 'h5wasm/*', 'zarrita'] });
const io = await import(bundle);
const baseDir = args.includes('--baseline') ? args[args.indexOf('--baseline') + 1] : undefined;
const baseBundle = join(here, 'out', 'io_base.mjs');
if (baseDir) {
  await esbuild.build({ entryPoints: [join(baseDir, 'src/core/io/index.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: baseBundle, logLevel: 'error', external: ['h5wasm', 'h5wasm/*', 'zarrita'], nodePaths: [join(here, '../node_modules')] });
}
/** The baseline in its own process: zarrita's codec registry is one per process, and this checkout replaces codecs in it. */
const baseline = (spec) => {
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-read', baseBundle, spec], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop());
};

const tmp = '/tmp/stackseg-bench-io';
mkdirSync(tmp, { recursive: true });
const folder = join(tmp, 'recon2000');
const h5 = join(tmp, 'vol500_gzip.h5');
const zblosc = join(tmp, 'vol500_blosc.zarr');
const zgzip = join(tmp, 'vol500_gzip.zarr');

// Fixtures (once): a noisy phantom, so that gzip has real work (about 2:1, like reconstructions).
const MAKE = `
import os, sys, numpy as np, tifffile, h5py, zarr
from numcodecs import GZip
tmp = sys.argv[1]
rng = np.random.default_rng(1)
yy, xx = np.mgrid[0:512, 0:512]
base = ((xx * 37 + yy * 11) % 4096).astype(np.uint16)
def sl(z):
    return (base + rng.integers(0, 256, (512, 512)) + z).astype(np.uint16)
folder = os.path.join(tmp, 'recon2000')
if not os.path.exists(folder):
    os.makedirs(folder)
    for z in range(2000):
        tifffile.imwrite(os.path.join(folder, f'recon_{z:05d}.tiff'), sl(z))
if not os.path.exists(os.path.join(tmp, 'vol500_gzip.h5')):
    vol = np.stack([sl(z) for z in range(500)])
    with h5py.File(os.path.join(tmp, 'vol500_gzip.h5'), 'w') as f:
        f.create_dataset('exchange/data', data=vol, chunks=(1, 512, 512), compression='gzip', compression_opts=4)
    zarr.save_array(os.path.join(tmp, 'vol500_blosc.zarr'), vol, chunks=(1, 512, 512))
    z = zarr.open(os.path.join(tmp, 'vol500_gzip.zarr'), mode='w', shape=vol.shape, chunks=(1, 512, 512), dtype='u2', compressor=GZip(level=4))
    z[:] = vol
`;
const t0 = Date.now();
execFileSync(PY, ['-c', MAKE, tmp], { stdio: 'inherit' });
console.log(`fixtures ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${tmp})`);

// --- folder of 2000 TIFFs
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
if (!only || only === 'folder') {
const folderRuns = [];
for (let r = 0; r < runs; r++) {
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', folder], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  folderRuns.push(JSON.parse(out.stdout.trim().split('\n').pop()));
}
console.log(`\nfolder of ${readdirSync(folder).length} TIFFs 512x512 uint16 (fresh process, median of ${runs}):`);
console.log(`  open ${med(folderRuns.map((x) => x.openMs)).toFixed(1)} ms, read slice 1000 ${med(folderRuns.map((x) => x.slice1000Ms)).toFixed(1)} ms, RSS ${med(folderRuns.map((x) => x.rssMB)).toFixed(0)} MB`);
}

// --- chunked formats: all 500 slices one by one, ours vs Python in the same run
const PYREAD = `
import sys, time, h5py, zarr
kind, path = sys.argv[1], sys.argv[2]
for r in range(1):
    t, c = time.perf_counter(), time.process_time()
    if kind == 'h5':
        with h5py.File(path, 'r') as f:
            d = f['exchange/data']
            for z in range(d.shape[0]): d[z]
    else:
        a = zarr.open(path, 'r')
        for z in range(a.shape[0]): a[z]
    print(time.perf_counter() - t, time.process_time() - c)
`;
// Wall time and CPU time (all threads of the process): on a loaded machine the CPU time is the steadier figure.
async function ours(spec) {
  const t = performance.now(), c = process.cpuUsage();
  const src = await io.openSource(spec, { cacheBytes: 0 });
  for (let z = 0; z < src.info.depth; z++) await src.readSlice(z);
  await src.close();
  const cpu = process.cpuUsage(c);
  return { wall: (performance.now() - t) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}
const python = (kind, spec) => {
  const [wall, cpu] = execFileSync(PY, ['-c', PYREAD, kind, spec], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  return { wall, cpu };
};
const best = (a, b) => ({ wall: Math.min(a.wall, b.wall), cpu: Math.min(a.cpu, b.cpu) });
const rate = (t) => `${(500 / t.wall).toFixed(0).padStart(5)} slices/s`;
const ratio = (a, b) => `time ratio ${(a.wall / b.wall).toFixed(2)} (CPU ${(a.cpu / b.cpu).toFixed(2)})`;
console.log('\nchunked 512x512x500 uint16, chunks (1, 512, 512), every slice in order (best of', runs, 'runs, open included):');
for (const [name, spec, kind] of [['HDF5 gzip-4', h5, 'h5'], ['Zarr v2 Blosc/LZ4', zblosc, 'zarr'], ['Zarr v2 gzip-4', zgzip, 'zarr']]) {
  if (only && only !== kind) continue;
  await ours(spec); // warm-up: WebAssembly compile, page cache
  const inf = { wall: Infinity, cpu: Infinity };
  let mine = inf, py = inf, base = inf;
  for (let r = 0; r < runs; r++) {
    mine = best(mine, await ours(spec));
    py = best(py, python(kind, spec));
    if (baseDir) base = best(base, baseline(spec));
  }
  if (baseDir) console.log(`  ${name.padEnd(18)} baseline ${rate(base)}   ${ratio(base, py)}`);
  console.log(`  ${name.padEnd(18)} StackSeg ${rate(mine)}   ${kind === 'h5' ? 'h5py' : 'zarr'} ${rate(py)}   ${ratio(mine, py)}`);
}
if (!existsSync(folder)) process.exit(1);
