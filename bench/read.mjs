// Reading speed of StackSeg's TIFF reader against Python tifffile on the same files in the same run, plus open
// time and memory of a > 4 GB BigTIFF. Usage: npm run bench:read [-- --runs 5 --no-big]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const bundle = join(here, 'out', 'tiff.mjs');
const args = process.argv.slice(2);

if (args[0] === '--big-child') {
  await bigChild(args[1]);
  process.exit(0);
}

const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const withBig = !args.includes('--no-big');
mkdirSync(join(here, 'out'), { recursive: true });
await esbuild.build({ entryPoints: [join(here, '../src/core/tiff/index.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'warning' });
const tiff = await import(bundle);

const tmp = '/tmp/stackseg-bench';
mkdirSync(tmp, { recursive: true });
const generated = join(tmp, 'u16_100x512x512.tif');
const generatedDeflate = join(tmp, 'u16_100x512x512_deflate.tif');
const ramp = (z) => { const a = new Uint16Array(512 * 512); for (let i = 0; i < a.length; i++) a[i] = ((i % 512) * 7 + (i >> 9) * 3 + z * 11) & 0xfff; return a; };
if (!existsSync(generated)) await tiff.writeStack(generated, { width: 512, height: 512, depth: 100, dtype: 'uint16', getSlice: ramp });
if (!existsSync(generatedDeflate)) await tiff.writeStack(generatedDeflate, { width: 512, height: 512, depth: 100, dtype: 'uint16', getSlice: ramp }, { compression: 'deflate' });

const foam = resolve(here, '../../shared/data/foam');
const files = [
  ...(existsSync(foam) ? readdirSync(foam).filter((f) => f.endsWith('.tif')).sort().map((f) => join(foam, f)) : []),
  generated, generatedDeflate,
];

async function readAll(path) {
  const stack = await tiff.openStack(path);
  let bytes = 0;
  for (let z = 0; z < stack.info.depth; z++) bytes += (await stack.readSlice(z)).byteLength;
  await stack.close();
  return bytes;
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** tifffile in one long-lived process, so each of its runs can be interleaved with ours (the machine is shared). */
function startReference() {
  let proc;
  try {
    proc = spawn('/usr/bin/python3', [join(here, 'read_ref.py'), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  } catch { return undefined; }
  const waiting = [];
  let buffered = '';
  proc.stdout.on('data', (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) { const line = buffered.slice(0, nl); buffered = buffered.slice(nl + 1); waiting.shift()?.resolve(JSON.parse(line)); }
  });
  proc.on('exit', () => { for (const w of waiting.splice(0)) w.reject(new Error('tifffile reference exited')); });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = next();
  return {
    ready,
    time: (path) => { const r = next(); proc.stdin.write(path + '\n'); return r; },
    stop: () => proc.stdin.end(),
  };
}

const reference = startReference();
let haveReference = false;
try { await reference?.ready; haveReference = !!reference; } catch (e) { console.warn(`tifffile reference not available: ${e.message}`); }

console.log(`read all pages, median of ${runs} interleaved runs (decoded MB/s; ratio = time StackSeg / time tifffile, goal <= 1.0)`);
console.log('CPU columns: process CPU seconds (all threads), steadier than wall time on a loaded machine');
console.log(['file'.padEnd(30), 'MB', 'StackSeg s', 'MB/s', 'tifffile s', 'MB/s', 'ratio', 'CPU ours', 'CPU tifffile', 'CPU ratio'].join('\t'));
const ratios = [];
for (const path of files) {
  await readAll(path); // warm the page cache and both runtimes
  if (haveReference) await reference.time(path);
  const ours = [];
  const theirs = [];
  const oursCpu = [];
  const theirsCpu = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    bytes = await readAll(path);
    ours.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    oursCpu.push((c.user + c.system) / 1e6);
    if (haveReference) {
      const ref = await reference.time(path);
      theirs.push(ref.seconds);
      theirsCpu.push(ref.cpu);
    }
  }
  const oursMedian = median(ours);
  const ref = haveReference ? median(theirs) : NaN;
  const mb = bytes / 1e6;
  const ratio = oursMedian / ref;
  if (Number.isFinite(ratio)) ratios.push(ratio);
  const cpuOurs = median(oursCpu);
  const cpuRef = haveReference ? median(theirsCpu) : NaN;
  console.log([path.split('/').pop().padEnd(30), mb.toFixed(1), oursMedian.toFixed(4), (mb / oursMedian).toFixed(0), ref.toFixed(4), (mb / ref).toFixed(0), ratio.toFixed(2), cpuOurs.toFixed(4), cpuRef.toFixed(4), (cpuOurs / cpuRef).toFixed(2)].join('\t'));
}
reference?.stop();
if (ratios.length) console.log(`worst ratio ${Math.max(...ratios).toFixed(2)}, geometric mean ${Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length).toFixed(2)}`);

if (withBig) {
  // > 4 GB BigTIFF (chosen automatically by the writer): 1030 pages of 2048x1024 uint16 = 4.3 GB.
  const big = join(tmp, 'big_4gb.tif');
  const free = Number(execFileSync('df', ['--output=avail', '-B1', tmp], { encoding: 'utf8' }).split('\n')[1]);
  if (free < 6e9) {
    console.log(`skipping the 4 GB test: only ${(free / 1e9).toFixed(1)} GB free in ${tmp}`);
  } else {
    const page = new Uint16Array(2048 * 1024);
    const t0 = performance.now();
    await tiff.writeStack(big, { width: 2048, height: 1024, depth: 1030, dtype: 'uint16', getSlice: (z) => { page[0] = z; return page; } });
    console.log(`\nwrote ${(statSync(big).size / 1e9).toFixed(2)} GB BigTIFF in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    try {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--big-child', big], { encoding: 'utf8' });
      process.stdout.write(child.stdout + child.stderr);
      try {
        const ref = JSON.parse(execFileSync('/usr/bin/python3', [join(here, 'read_ref.py'), '--open', big], { encoding: 'utf8' }));
        console.log(`tifffile: open + parse all ${ref.pages} directories ${(ref.open_s * 1000).toFixed(0)} ms`);
      } catch { /* reference optional */ }
    } finally {
      rmSync(big, { force: true });
    }
  }
}

async function bigChild(path) {
  const { openStack } = await import(bundle);
  const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;
  const rss0 = process.memoryUsage().rss;
  // First open right after writing may hit the disk; the second shows the page-cache case tifffile gets.
  const tCold = performance.now();
  await (await openStack(path)).close();
  const coldMs = performance.now() - tCold;
  const t0 = performance.now();
  const stack = await openStack(path);
  const openMs = performance.now() - t0;
  const rssOpen = process.memoryUsage().rss;
  const t1 = performance.now();
  for (const z of [0, 1, 500, 1029, 7]) {
    const s = await stack.readSlice(z);
    if (s[0] !== z) throw new Error(`slice ${z} starts with ${s[0]}`);
  }
  const fewMs = performance.now() - t1;
  const rssFew = process.memoryUsage().rss;
  const t2 = performance.now();
  let peak = 0;
  for (let z = 0; z < stack.info.depth; z++) {
    await stack.readSlice(z);
    if (z % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const allS = (performance.now() - t2) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  await stack.close();
  console.log(`StackSeg: open ${stack.info.depth} pages (bigTiff=${stack.info.bigTiff}) ${coldMs.toFixed(0)} ms first, ${openMs.toFixed(0)} ms again; RSS before ${mb(rss0)}, after open ${mb(rssOpen)}, after 5 slices ${mb(rssFew)} (5 slices ${fewMs.toFixed(0)} ms)`);
  console.log(`StackSeg: read all ${stack.info.depth} pages ${allS.toFixed(1)} s (${(stack.info.fileBytes / 1e6 / allS).toFixed(0)} MB/s), peak RSS ${mb(peak)} (limit 1 GB: ${peak < 1e9 ? 'ok' : 'EXCEEDED'})`);
}
