#!/usr/bin/env -S node --initial-old-space-size=64
'use strict';
// Runs the TypeScript sources through tsx, so the CLI needs no build step.
require('tsx/cjs');
require('../src/cli/main')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
