// Bundles bench/features3d.ts with esbuild into bench/out/ and runs it with the same arguments.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
await esbuild.build({ entryPoints: ['bench/features3d.ts'], outfile: 'bench/out/features3d.cjs', bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
const r = spawnSync(process.execPath, ['bench/out/features3d.cjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
