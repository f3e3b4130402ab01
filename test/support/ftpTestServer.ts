import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { randomInt } from 'node:crypto';
import { waitForPort } from './ports';

/** What the vsftpd and proftpd harnesses hand a test. */
export interface FtpTestServer {
  host: '127.0.0.1';
  /** Control port. */
  port: number;
  /** The passive data port range the server uses (inclusive). */
  passivePorts: { min: number; max: number };
  /** PEM of the CA that issued the server's certificate (FTPS variants only). */
  caPem?: string;
  user: string;
  password: string;
  /** Absolute folder on the server (and on this machine's disk) the tests may write to, owned by `user`. */
  rootDir: string;
  /** The server's protocol log (commands as received), for assertions such as "no USER was sent". */
  logText(): Promise<string>;
  stop(): Promise<void>;
}

/** The loopback address the FTP fault proxy mirrors the server on (see ftpFaultProxy.ts). */
export const MIRROR_HOST = '127.0.0.2';

async function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A range of `count` consecutive ports free on 127.0.0.1 and on the mirror address, for a server's
 * passive data connections. Passive ports have to be a fixed range in the server's config, so the
 * OS cannot pick them; random bases are probed until one range is free.
 */
export async function freePortRange(count: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const min = randomInt(20_000, 60_000 - count);
    let ok = true;
    for (let port = min; port < min + count && ok; port++) {
      ok = (await isFree(port, '127.0.0.1')) && (await isFree(port, MIRROR_HOST));
    }
    if (ok) return { min, max: min + count - 1 };
  }
  throw new Error(`No ${count} consecutive free ports found for passive FTP data connections.`);
}

/**
 * Starts a root daemon (vsftpd, proftpd) in the foreground, in its own process group so that
 * stopping it also ends the per-connection session processes it forked, and waits until it accepts
 * connections on `port`. Its output is kept (bounded) to explain a failed start.
 */
export async function startDaemon(
  label: string,
  bin: string,
  args: string[],
  port: number,
): Promise<{ stop(): Promise<void>; output(): string }> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (d: Buffer): void => { output = (output + d.toString()).slice(-8000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitedEarly = false;
  child.once('exit', () => { exitedEarly = true; });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const group = -child.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => { try { process.kill(group, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
      // Session processes may outlive the listener by a moment; make sure none linger.
      try { process.kill(group, 'SIGKILL'); } catch { /* all gone */ }
    }
  };
  try {
    await Promise.race([
      waitForPort(port, 200),
      exited.then(() => { throw new Error('exited'); }),
    ]);
  } catch (e) {
    await stop();
    throw new Error(`${label} did not start on port ${port}${exitedEarly ? ' (it exited)' : ''}: ${(e as Error).message}. Output:\n${output}`);
  }
  return { stop, output: () => output };
}
