// node bench/labels_save.mjs: bundles bench/labels_save.ts and runs it (see there).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
await esbuild.build({ entryPoints: ['bench/labels_save.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: 'bench/out/labels_save.cjs', logLevel: 'warning' });
const r = spawnSync(process.execPath, ['bench/out/labels_save.cjs'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
