#!/usr/bin/env node
// The `stackseg` command: a thin launcher for the bundled CLI (built by `npm ci` / `npm run build`).
require('../dist/cli.js').runFromProcess();
