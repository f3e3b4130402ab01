#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=1 --no-concurrent-array-buffer-sweeping --expose-gc
'use strict';
// Runs the compiled CLI from dist/, building it first in a checkout where it is missing or stale.
try {
  require('../scripts/ensureBuilt').ensureBuilt();
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
require('../dist/src/cli/main')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
