// Bundles bench/rf_channels.ts and the feature worker into bench/out/ and runs it with the same arguments.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
const opts = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };
await esbuild.build({ ...opts, entryPoints: ['bench/rf_channels.ts'], outfile: 'bench/out/rf_channels.cjs' });
await esbuild.build({ ...opts, entryPoints: ['src/core/features/worker.ts'], outfile: 'bench/out/featureWorker.js' });
const r = spawnSync(process.execPath, ['bench/out/rf_channels.cjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
