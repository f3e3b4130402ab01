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
 * --max-semi-space-size=1 --no-concurrent-array-buffer-sweeping: the bytes a transfer moves live
 * in Buffers whose memory is outside V8's heap. A dead Buffer's memory is given back only when a
 * scavenge finds its (small) object dead and the array-buffer sweep then runs, so with the default
 * young generation (up to 16 MiB semi-spaces, filled slowly by those small objects) and the sweep
 * left to a background thread, 40-60 MiB of dead transfer buffers stood waiting. A 1 MiB
 * semi-space scavenges often, and sweeping at once frees them then. Measured with
 * `npm run bench:compare -- ffcli 'ffcli@--max-semi-space-size=1 --no-concurrent-array-buffer-sweeping'`
 * (1 GiB, 3 rounds): peak RSS 110-111 vs 120-128 MiB S3→SFTP and 93-94 vs 103 MiB S3→FTP, CPU and
 * rate the same within the noise. These flags exist in Node 20, 22 and 24.
 *
 * --expose-gc: lets src/transfer/youngGarbage.ts scavenge every 4 MiB a transfer reads instead
 * of waiting for V8's own trigger, which lets about 30 MiB of dead transfer buffers pile up first
 * (peak RSS 103-107 against 112-116 MiB S3→SFTP; see that file). It only makes `gc` callable.
 *
 * Launchers that cannot load this file spell the flags out: bin/fileferry.js (its #! line),
 * package.json's scripts and infra/azure.bicep. test/unit/nodeFlags.test.ts keeps them in step.
 */
module.exports = { NODE_FLAGS: ['--initial-old-space-size=64', '--max-semi-space-size=1', '--no-concurrent-array-buffer-sweeping', '--expose-gc'] };
