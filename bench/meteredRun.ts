import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';

/** What bench/meter.js measured of one command, and what the command printed. */
export interface Metered {
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  stdout: string;
  stderr: string;
}

const METER = join(__dirname, 'meter.js');

/**
 * Runs `argv` under bench/meter.js (a plain Node process that only spawns and samples), so the
 * figures are the command's whole process tree from spawn to exit. Rejects with the command's
 * stderr when it fails: a bench row must never be a failed run's time.
 */
export async function meteredRun(argv: string[], env: NodeJS.ProcessEnv): Promise<Metered> {
  const resultFile = join(tmpdir(), `fileferry-meter-${randomBytes(6).toString('hex')}.json`);
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [METER, resultFile, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out = (out + d).slice(-1_000_000)));
      child.stderr.on('data', (d) => (err = (err + d).slice(-100_000)));
      child.once('error', reject);
      child.once('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    if (code !== 0) throw new Error(`${argv.join(' ').slice(0, 200)} exited ${code}:\n${stderr.slice(-4000)}${stdout.slice(-2000)}`);
    const r = JSON.parse(await readFile(resultFile, 'utf8')) as Omit<Metered, 'stdout' | 'stderr'>;
    return { seconds: r.seconds, cpuSeconds: r.cpuSeconds, peakRssMiB: r.peakRssMiB, stdout, stderr };
  } finally {
    await rm(resultFile, { force: true });
  }
}

/** A shell pipeline as argv for meteredRun: bash with pipefail, waiting for a trailing process substitution too. */
export function shellArgv(command: string): string[] {
  return ['/bin/bash', '-o', 'pipefail', '-c', command];
}
