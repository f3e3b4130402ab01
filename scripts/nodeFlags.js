'use strict';
/**
 * The Node flags every FileFerry process starts with: the bot, the CLI and the bench's transfer
 * child.
 *
 * --initial-old-space-size=64: a fresh process has a small old generation. While a transfer
 * streams, V8 sees less old-space headroom than its young generation holds, and it starts a full
 * mark-compact after nearly every scavenge. Measured here: 55–60 full GCs per GiB read, and the
 * client's CPU for S3→SFTP fell from about 4.0 to 2.8 s/GiB with the flag (`npm run bench:compare`;
 * traces with `node --trace-gc`). The cost is up to 64 MiB of old space before the first full GC.
 *
 * Launchers that cannot load this file spell the flags out: bin/fileferry.js (its #! line),
 * package.json's scripts and infra/azure.bicep. test/unit/nodeFlags.test.ts keeps them in step.
 */
module.exports = { NODE_FLAGS: ['--initial-old-space-size=64'] };
