// Compression ratio and speed of the level codec (src/shared/levels/codec.ts) on the foam stacks (float32) and a
// generated uint16 CT-like stack (the e2e perf2048.tif is built the same way, test/e2e/lib/fixtures.ts), at level 1
// and at the 2x / 4x levels the viewer streams. Also the old e2e perf stack (uint16 whose 10-bit hash "noise" is
// linear along x, so a row delta removes it: far too easy, not a CT; replaced by the CT-like one). Usage: node bench/level_codec.mjs
import { deflateRawSync } from 'node:zlib';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
mkdirSync(join(here, 'out'), { recursive: true });
const bundle = join(here, 'out', 'level_codec.mjs');
await esbuild.build({
  stdin: { contents: `export * from './src/shared/levels/codec'; export { readStack } from './src/core/tiff'; export { downsampleMean } from './src/shared/pyramid';`, resolveDir: join(here, '..'), loader: 'ts' },
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'warning',
});
const c = await import(bundle);

function ctSlice(w, h, z) {
  // A CT-like uint16 slice: round field of view, matrix with pores and dense inclusions, smooth edges, Gaussian
  // noise of ~1 % blurred over neighbours (reconstruction noise is correlated).
  let seed = 12345 + z; // mulberry32
  const rnd = () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const blobs = Array.from({ length: 60 }, (_, i) => ({ x: rnd() * w, y: rnd() * h, r: (0.01 + 0.06 * rnd()) * w, v: i % 3 === 0 ? 30000 : 2000 }));
  const noise = new Float32Array(w * h).map(() => gauss() * 150);
  const px = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const dx = x - w / 2, dy = y - h / 2;
    if (dx * dx + dy * dy > (0.48 * w) ** 2) continue;
    let v = 12000;
    for (const b of blobs) { const d = Math.hypot(x - b.x, y - b.y) - b.r; if (d < 2) v = d < -2 ? b.v : v + (b.v - v) * (2 - d) / 4; }
    const i = y * w + x;
    const n = (noise[i] + (x > 0 ? noise[i - 1] : 0) + (y > 0 ? noise[i - w] : 0)) / 1.7;
    px[i] = Math.max(0, Math.min(65535, Math.round(v + n)));
  }
  return px;
}

function perfSlice(width, height, z) { // the old test/e2e/lib/fixtures.ts writePerfStack
  const px = new Uint16Array(width * height);
  const cx = width * (0.3 + 0.4 * (z / 19)), cy = height / 2, r2 = (Math.min(width, height) / 6) ** 2;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const noise = ((x * 73856093) ^ (y * 19349663) ^ (z * 83492791)) & 1023;
    px[y * width + x] = (((x - cx) ** 2 + (y - cy) ** 2 < r2) ? 40000 : 10000 + ((x + y) & 8191)) + noise;
  }
  return px;
}

const rows = [];
function measure(name, data, width, height, dtype) {
  for (const f of [1, 2, 4]) {
    const lv = c.downsampleMean(data, width, height, dtype, f);
    const bytes = new Uint8Array(lv.data.buffer, lv.data.byteOffset, lv.data.byteLength);
    const k = lv.data.BYTES_PER_ELEMENT;
    const out = {};
    for (const [label, t, level] of [['deflate', 0, 1], ['codec L1', c.transformFor(k, dtype.startsWith('float')), 1], ['codec L6', c.transformFor(k, dtype.startsWith('float')), 6]]) {
      const t0 = performance.now();
      const packed = c.pack(bytes, t, k, lv.width, (b) => deflateRawSync(b, { level }));
      const ms = performance.now() - t0;
      out[label] = { ratio: bytes.length / packed.length, ms };
    }
    rows.push({ name, level: f, size: `${lv.width}x${lv.height}`, rawKB: Math.round(bytes.length / 1024), ...Object.fromEntries(Object.entries(out).map(([k2, v]) => [k2, `${v.ratio.toFixed(2)}x ${v.ms.toFixed(0)}ms`])) });
  }
}

const foamDir = ['/work/shared/data/foam', join(here, '..', '..', 'shared', 'data', 'foam')].find((d) => existsSync(join(d, 'hq.tif')));
if (foamDir) {
  for (const name of ['hq', 'noisy', 'rings']) {
    const { info, data } = await c.readStack(join(foamDir, `${name}.tif`));
    const n = info.width * info.height;
    const z = info.depth >> 1;
    measure(`foam ${name} z${z} (${info.dtype})`, data.subarray(z * n, (z + 1) * n), info.width, info.height, info.dtype);
  }
}
measure('CT-like uint16 2048²', ctSlice(2048, 2048, 3), 2048, 2048, 'uint16');
measure('old e2e perf2048 (linear hash noise)', perfSlice(2048, 2048, 5), 2048, 2048, 'uint16');
console.table(rows);
