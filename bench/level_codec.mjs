// Compression ratio and speed of the level codec (src/shared/levels/codec.ts) on the foam stacks (float32) and a
// generated uint16 CT-like stack (the e2e perf2048.tif is built the same way, test/e2e/lib/fixtures.ts), at level 1
// and at the 2x / 4x levels the viewer streams. Also the old e2e perf stack (uint16 whose 10-bit hash "noise" is
// linear along x, so a row delta removes it: far too easy, not a CT; replaced by the CT-like one). Each cell: ratio,
// then encode/decode ms (best of 3; decode with node:zlib where the webview uses DecompressionStream), checked
// lossless. Usage: node bench/level_codec.mjs
import { deflateRawSync, inflateRawSync } from 'node:zlib';
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
/** Best of 3 (the machine may be shared): ms of fn, and its result. */
function timed(fn) {
  let best = Infinity, out;
  for (let r = 0; r < 3; r++) { const t0 = performance.now(); out = fn(); best = Math.min(best, performance.now() - t0); }
  return { ms: best, out };
}
function unpackNode(packed) { // what webview/levelCodec.ts does, with node:zlib's inflate for DecompressionStream
  const h = c.readPackHeader(packed);
  const body = packed.subarray(c.PACK_HEADER_BYTES);
  return c.inverseTransform(h.transform === c.CODED_TRANSFORM ? body : new Uint8Array(inflateRawSync(body)), h.transform, h.elementBytes, h.rowLength);
}
function measure(name, data, width, height, dtype) {
  for (const f of [1, 2, 4]) {
    const lv = c.downsampleMean(data, width, height, dtype, f);
    const bytes = new Uint8Array(lv.data.buffer, lv.data.byteOffset, lv.data.byteLength);
    const k = lv.data.BYTES_PER_ELEMENT;
    const t = c.transformFor(k, dtype.startsWith('float'));
    const out = {};
    // 'row delta L1' is the codec before transform 3 (row delta + byte shuffle + deflate level 1, still used for
    // 32-bit integers); 'codec' is what the level worker sends now (encode in the worker, decode in the webview).
    for (const [label, tr, level] of [['deflate L1', 0, 1], ['row delta L1', t === 3 ? 1 : t, 1], ['row delta L6', t === 3 ? 1 : t, 6], ['codec', t, 1]]) {
      const enc = timed(() => c.pack(bytes, tr, k, lv.width, (b) => deflateRawSync(b, { level })));
      const dec = timed(() => unpackNode(enc.out));
      if (Buffer.compare(Buffer.from(dec.out), Buffer.from(bytes)) !== 0) throw new Error(`${name} level ${f} ${label}: not lossless`);
      out[label] = `${(bytes.length / enc.out.length).toFixed(2)}x ${enc.ms.toFixed(0)}/${dec.ms.toFixed(0)}ms`;
    }
    rows.push({ name, level: f, size: `${lv.width}x${lv.height}`, rawKB: Math.round(bytes.length / 1024), ...out });
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
console.log('ratio encode/decode ms; row delta = the codec before transform 3 (16-bit integers are Rice coded now)');
