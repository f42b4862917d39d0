// Bundles a TypeScript benchmark (bench/NAME.ts) with esbuild into bench/out/ and runs it with the given arguments:
//   node bench/run.mjs segment_memory --depth 1000
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
const [name, ...args] = process.argv.slice(2);
if (!name) { console.error('usage: node bench/run.mjs NAME [args...]'); process.exit(2); }
await esbuild.build({ entryPoints: [`bench/${name}.ts`], outfile: `bench/out/${name}.cjs`, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
const r = spawnSync(process.execPath, [`bench/out/${name}.cjs`, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
