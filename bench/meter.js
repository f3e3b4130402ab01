#!/usr/bin/env node
'use strict';
/**
 * `node bench/meter.js RESULT.json COMMAND ARG...`: runs one command as its only child and writes
 * what that whole process tree cost to RESULT.json: wall seconds from spawn to exit, user+system
 * CPU seconds, and peak RSS. The command's stdio is this process's.
 *
 * CPU comes from this process's own cutime+cstime (/proc/self/stat) once the child is reaped: the
 * kernel adds a reaped child's CPU, and that of every descendant it reaped, to its parent. So it
 * counts start-up, every thread and every waited-for process of a pipeline, and nothing of the
 * sampling below (which is this process's own utime). Plain JavaScript and no dependency: the
 * meter must cost next to nothing and start before the measured command does.
 *
 * Peak RSS is VmHWM (/proc/<pid>/status) of each process in the tree, sampled while it runs, and
 * summed over the tree's processes (one for FileFerry; curl, tee, ssh… for a pipeline). Not
 * ru_maxrss: Linux carries it across fork+exec, so a child of a large parent "peaks" at the
 * parent's size. VmHWM only rises, so a sample mid-run sees the peak of everything before it.
 */
const { spawn } = require('node:child_process');
const { readFileSync, readdirSync, writeFileSync } = require('node:fs');

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const SAMPLE_MS = 100;
const RESCAN_MS = 500;

function ownChildTicks() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return Number(fields[13]) + Number(fields[14]); // cutime, cstime
}

function hwmKiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // exited between listing and reading
  }
}

/** Every live descendant of `root` (root included), from the parent links in /proc. */
function descendants(root) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ');
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // gone already
    }
  }
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

const [resultFile, command, ...args] = process.argv.slice(2);
if (!resultFile || !command) {
  process.stderr.write('usage: node bench/meter.js RESULT.json COMMAND [ARG...]\n');
  process.exit(2);
}

const ticksBefore = ownChildTicks();
const t0 = process.hrtime.bigint();
const child = spawn(command, args, { stdio: 'inherit' });
const peaks = new Map();
let tree = new Set([child.pid]);
let lastScan = 0;
const sample = () => {
  const now = Date.now();
  if (now - lastScan >= RESCAN_MS) {
    tree = descendants(child.pid);
    lastScan = now;
  }
  for (const pid of tree) {
    const kib = hwmKiB(pid);
    if (kib !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, kib));
  }
};
// A first look soon after the start finds a pipeline's members; later rescans find late ones.
setTimeout(() => { lastScan = 0; sample(); }, 30);
const timer = setInterval(sample, SAMPLE_MS);
child.on('error', (e) => {
  process.stderr.write(`meter: ${command}: ${e.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuSeconds = (ownChildTicks() - ticksBefore) / TICKS_PER_SECOND;
  let kib = 0;
  for (const v of peaks.values()) kib += v;
  writeFileSync(resultFile, JSON.stringify({ code, signal, seconds, cpuSeconds, peakRssMiB: kib / 1024, processes: peaks.size }) + '\n');
  process.exit(code ?? 1);
});
