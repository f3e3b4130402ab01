/** What both benchmarks need of the machine: a shell pipeline to time, and the CPU it spent. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Runs `command` under bash with pipefail; resolves with its stdout, rejects with its stderr. */
export function sh(command: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/bash', ['-o', 'pipefail', '-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command.slice(0, 80)}… exited ${code}: ${err}`))));
  });
}

/** The whole machine's CPU seconds so far, busy (all but idle and iowait) and in total, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0) / 100; // USER_HZ
  return { busy: total - (fields[3]! + fields[4]!) / 100, total };
}

/**
 * Deletes the previous run's output and flushes every dirty page before the next run starts. Each
 * run writes 1 GiB to the same disk; without this the kernel writes the last run's pages back (and
 * ext4 frees a 1 GiB file) in the middle of the next one, which then pays for its predecessor.
 */
export async function settle(outputs: string[]): Promise<void> {
  await sh(`rm -f ${outputs.map((o) => `'${o}'`).join(' ')} && sync`);
}
