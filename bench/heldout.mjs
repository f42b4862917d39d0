// Bundles bench/heldout.ts into bench/out/ and runs it (the CLI it drives is dist/: run `npm run build` first).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
await esbuild.build({ bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', entryPoints: ['bench/heldout.ts'], outfile: 'bench/out/heldout.cjs' });
const r = spawnSync(process.execPath, ['bench/out/heldout.cjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
