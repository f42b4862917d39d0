// Bundles: dist/extension.js (node, vscode external), dist/cli.js (node), dist/webview.js (browser),
// worker entries (node worker_threads), and copies the tfjs wasm binaries next to them.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
mkdirSync('dist', { recursive: true });

const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
if (existsSync(wasmDir)) {
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join('dist', f));
}

const common = { bundle: true, sourcemap: true, minify: production, logLevel: 'warning' };
const nodeEntries = { extension: 'src/extension/extension.ts', cli: 'src/cli/main.ts' };
for (const [name, file] of Object.entries({ featureWorker: 'src/core/features/worker.ts', previewWorker: 'src/core/models/previewWorker.ts', levelWorker: 'src/core/levels/worker.ts' })) {
  if (existsSync(file)) nodeEntries[name] = file;
}
const builds = [
  { ...common, entryPoints: nodeEntries, outdir: 'dist', platform: 'node', target: 'node20', format: 'cjs', external: ['vscode', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] },
  { ...common, entryPoints: { webview: 'webview/main.ts', modelPanel: 'webview/modelPanel/main.ts' }, outdir: 'dist', platform: 'browser', target: 'es2022', format: 'iife' },
];
// h5wasm (HDF5 in WebAssembly, ~6 MB) and zarrita (Zarr, with WebAssembly codecs) as their own CommonJS files,
// loaded on first use by src/core/io/lazyLib.ts, so the extension and CLI bundles stay small.
const libs = { h5wasm: 'node_modules/h5wasm/dist/node/hdf5_hl.js', zarrita: 'node_modules/zarrita/dist/src/index.js' };
for (const [name, entry] of Object.entries(libs)) {
  if (!existsSync(entry)) continue;
  builds.push({ ...common, sourcemap: false, entryPoints: { [name]: entry }, outdir: 'dist', platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error',
    define: { 'import.meta.url': '__libUrl' }, banner: { js: "var __libUrl = require('url').pathToFileURL(__filename).href;" } });
}
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
