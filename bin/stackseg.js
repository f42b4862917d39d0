#!/usr/bin/env node
// The `stackseg` command: a thin launcher for the bundled CLI (build first: npm run build).
require('../dist/cli.js');
