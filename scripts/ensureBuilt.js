'use strict';
/**
 * FileFerry runs compiled JavaScript from dist/ (tsx at run time cost start-up CPU and about
 * 40 MiB of RSS). In a checkout, dist/ is built here when it is missing or older than any file
 * it is built from, so a fresh clone's `fileferry`, `npm start` and `npm run bench` need no build
 * step of their own, and an edited source is never run stale. A deployed copy without src/ (an
 * image that ships dist/ only) skips the check.
 *
 * Plain Node only. The check is a walk of src/ (a few hundred stat calls, ~2 ms). Concurrent
 * first runs (a test starting several CLIs) build once: a lock folder makes the others wait and
 * then see the fresh stamp. tsc's own output goes to stderr so a command's stdout (JSON) stays clean.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const REPO = join(__dirname, '..');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
const STALE_LOCK_MS = 5 * 60_000;

function newestMtime(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its folder's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isFresh(root, stamp) {
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return INPUTS.every((input) => newestMtime(join(root, input)) <= builtAt);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function takeLock(lock) {
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // it went away between the two calls: try again
      }
      sleep(200);
    }
  }
}

/** Builds `root`/dist/ if needed (returns true when it built). Throws with a clear message when it cannot. */
function ensureBuilt(root = REPO) {
  const stamp = join(root, 'dist', '.built');
  const lock = join(root, 'dist.lock');
  if (!existsSync(join(root, 'src')) || isFresh(root, stamp)) return false;
  takeLock(lock);
  try {
    if (isFresh(root, stamp)) return false; // another process built it while this one waited
    let tsc;
    try {
      // typescript's exports map hides bin/: find the package, then its tsc.
      tsc = join(require.resolve('typescript/package.json', { paths: [root] }), '..', 'bin', 'tsc');
    } catch {
      throw new Error('fileferry: dist/ is missing or older than src/, and TypeScript is not installed to build it. Run `npm ci` (or `npm run build` where it is), then try again.');
    }
    const startedAt = new Date();
    process.stderr.write('fileferry: compiling src/ to dist/ (first run after a change)…\n');
    try {
      execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
    } catch (e) {
      // tsc still emits when it finds type errors (noEmitOnError is off); `npm test` and CI refuse
      // them, but a working copy mid-edit should still run. Anything else (no output) is fatal.
      if (!existsSync(join(root, 'dist', 'src'))) throw new Error(`fileferry: building dist/ failed (${e.message}).`);
      process.stderr.write('fileferry: tsc reported type errors (above); running what it emitted.\n');
    }
    writeFileSync(stamp, `${startedAt.toISOString()}\n`);
    // Stamped with the build's start, so a file saved during the build makes the next run rebuild.
    utimesSync(stamp, startedAt, startedAt);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

module.exports = { ensureBuilt };

if (require.main === module) {
  try {
    ensureBuilt();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
