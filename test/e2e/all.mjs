#!/usr/bin/env node
// The whole real-VS-Code suite as `npm test` runs it: each UI suite in its own fresh code-server, workspace and
// browser (run.mjs with STACKSEG_E2E_SUITES=<one>), then the host suite. One suite that fails halfway (a dirty
// editor, a modal dialog, a persisted webview state) then cannot make the suites after it fail. Each run prints its
// own closing `N passed, M failed` line (the CI summary adds them up); exit 1 when any run failed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SUITES = ['viewer', 'jobs', 'labels', 'labelsdisk', 'live', 'walkthrough', 'channels', 'compare', 'ortho', 'torch', 'formats'];
const extra = process.argv.slice(2);
const runs = [
  ...SUITES.map((s) => ({ what: `UI suite ${s}`, args: ['--only=ui', ...extra], env: { STACKSEG_E2E_SUITES: s } })),
  { what: 'host suite', args: ['--only=host', ...extra], env: {} },
];
const failed = [];
for (const r of runs) {
  console.log(`\n=== e2e: ${r.what}`);
  const p = spawnSync(process.execPath, [join(here, 'run.mjs'), ...r.args], { stdio: 'inherit', env: { ...process.env, ...r.env } });
  if (p.status !== 0) failed.push(r.what);
}
console.log(failed.length ? `\ne2e runs that failed: ${failed.join(', ')}` : '\nall e2e runs passed');
process.exit(failed.length ? 1 : 0);
