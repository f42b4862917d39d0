// Bundles bench/msdnet_big.ts (and the forest's feature worker, for the teacher) into bench/out/ and runs it.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
const opts = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };
await esbuild.build({ ...opts, entryPoints: ['bench/msdnet_big.ts'], outfile: 'bench/out/msdnet_big.cjs', external: ['@tensorflow/tfjs-node-gpu'] });
await esbuild.build({ ...opts, entryPoints: ['src/core/features/worker.ts'], outfile: 'bench/out/featureWorker.js' });
const r = spawnSync(process.execPath, ['bench/out/msdnet_big.cjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
