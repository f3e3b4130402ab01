import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import { ensureTestUser } from './testUser';
import { tempDir } from './tmp';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshdServer {
  readonly port: number;
  /**
   * SHA256 fingerprint of the ed25519 host key: the one an ssh2 client gets, since ssh-ed25519
   * heads its host key algorithm list. Computed by `ssh-keygen -l`, not by the code under test.
   */
  readonly hostKeyFingerprint: string;
  /** Fingerprints of every host key the server holds. */
  readonly hostKeyFingerprints: { ed25519: string; rsa: string };
  /** The public host keys as OpenSSH writes them ("ssh-ed25519 AAAA…"), for known_hosts files. */
  readonly hostPublicKeys: { ed25519: string; rsa: string };
  /** A client key pair generated for this run; its public half is the only authorized key. */
  readonly userKey: { privateKey: string; publicKey: string };
  readonly user: string;
  readonly password: string;
  /** A fresh folder in the test user's home, owned by the user, for tests to write into. */
  readonly rootDir: string;
  /** The server's log (sshd -e, LogLevel DEBUG1) from absolute offset `mark` on. */
  logSince(mark: number): string;
  /** The current end of the log, for `logSince`. */
  logMark(): number;
  /** Stops sshd, generates new host keys and starts it again on the same port. */
  restartWithNewHostKey(): Promise<void>;
  /**
   * Stops sshd and starts it again on the same port with the same host keys, `extraConfig` in
   * place of the one given at start (e.g. `HostKeyAlgorithms rsa-sha2-512` to present the RSA key).
   */
  restartWithConfig(extraConfig: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Extra sshd_config lines (e.g. to restrict algorithms). */
  extraConfig?: string[];
}

/**
 * Starts Debian's OpenSSH sshd as a test server on 127.0.0.1 and a free high port, from a config
 * generated in a temp folder with host and client keys generated for this run (nothing secret is
 * ever committed). Password logins go through PAM against the system test user from
 * `ensureTestUser()`, which is the only user allowed in. Needs root, as sshd does.
 */
export async function startSshd(options: SshdOptions = {}): Promise<SshdServer> {
  const user = ensureTestUser();
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server`);
  if (!existsSync('/etc/pam.d/sshd')) throw new Error('/etc/pam.d/sshd is missing: password logins need the PAM config of openssh-server');
  // sshd refuses to start without its privilege separation folder.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = await tempDir('sshd');
  const rootDir = join(user.home, `fileferry-sftp-${randomBytes(4).toString('hex')}`);
  let child: ChildProcess | undefined;
  let log = '';
  let logDropped = 0;
  const appendLog = (data: Buffer): void => {
    log += data.toString();
    const excess = log.length - 4_000_000;
    if (excess > 0) {
      log = log.slice(excess);
      logDropped += excess;
    }
  };

  try {
    // The user reads authorized_keys with its own rights: the folder must be traversable.
    await chmod(dir.path, 0o755);
    await mkdir(rootDir);
    await chown(rootDir, user.uid, user.gid);
    const clientKeyPath = join(dir.path, 'client_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fileferry-test-client', '-f', clientKeyPath]);
    const userKey = { privateKey: await readFile(clientKeyPath, 'utf8'), publicKey: (await readFile(`${clientKeyPath}.pub`, 'utf8')).trim() };
    const authorizedKeys = join(dir.path, 'authorized_keys');
    await writeFile(authorizedKeys, `${userKey.publicKey}\n`, { mode: 0o644 });

    const port = await freePort();
    let generation = 0;
    let hostKeys = await generateHostKeys(dir.path, generation);
    let extraConfig = options.extraConfig ?? [];

    const configPath = join(dir.path, 'sshd_config');
    const writeConfig = async (): Promise<void> => {
      const lines = [
        // sshd keeps the first value it reads for a keyword, so the caller's lines come first.
        ...extraConfig,
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKeys.ed25519.path}`,
        `HostKey ${hostKeys.rsa.path}`,
        `PidFile ${join(dir.path, 'sshd.pid')}`,
        'PasswordAuthentication yes',
        'PubkeyAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        'UsePAM yes',
        `AuthorizedKeysFile ${authorizedKeys}`,
        `AllowUsers ${user.name}`,
        'StrictModes no',
        'Subsystem sftp internal-sftp',
        'LogLevel DEBUG1',
        'MaxStartups 100',
        'MaxSessions 50',
        'X11Forwarding no',
        'PrintMotd no',
      ];
      await writeFile(configPath, lines.join('\n') + '\n', { mode: 0o600 });
    };

    const start = async (): Promise<void> => {
      await writeConfig();
      const proc = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      await new Promise<void>((resolve, reject) => {
        const startMark = logDropped + log.length;
        const timer = setTimeout(() => reject(new Error(`sshd did not start within 15 s. Log:\n${tail()}`)), 15_000);
        const tail = (): string => log.slice(Math.max(0, startMark - logDropped)).slice(-4000);
        proc.stderr!.on('data', (data: Buffer) => {
          appendLog(data);
          if (/Server listening on 127\.0\.0\.1 port \d+/.test(tail())) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once('error', (e) => { clearTimeout(timer); reject(e); });
        proc.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`sshd exited (${code ?? signal}) before listening. Log:\n${tail()}`));
        });
      });
    };

    const stopChild = async (): Promise<void> => {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    };

    await start();

    const server: SshdServer = {
      port,
      get hostKeyFingerprint() { return hostKeys.ed25519.fingerprint; },
      get hostKeyFingerprints() { return { ed25519: hostKeys.ed25519.fingerprint, rsa: hostKeys.rsa.fingerprint }; },
      get hostPublicKeys() { return { ed25519: hostKeys.ed25519.publicKey, rsa: hostKeys.rsa.publicKey }; },
      userKey,
      user: user.name,
      password: user.password,
      rootDir,
      logMark: () => logDropped + log.length,
      logSince: (mark) => log.slice(Math.max(0, mark - logDropped)),
      async restartWithNewHostKey() {
        await stopChild();
        hostKeys = await generateHostKeys(dir.path, ++generation);
        await start();
      },
      async restartWithConfig(lines) {
        await stopChild();
        extraConfig = lines;
        await start();
      },
      async stop() {
        try {
          await stopChild();
        } finally {
          await rm(rootDir, { recursive: true, force: true });
          await dir.remove();
        }
      },
    };
    return server;
  } catch (e) {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(rootDir, { recursive: true, force: true }).catch(() => undefined);
    await dir.remove().catch(() => undefined);
    throw e;
  }
}

interface HostKey {
  path: string;
  publicKey: string;
  fingerprint: string;
}

async function generateHostKeys(dir: string, generation: number): Promise<{ ed25519: HostKey; rsa: HostKey }> {
  const make = async (type: 'ed25519' | 'rsa'): Promise<HostKey> => {
    const path = join(dir, `ssh_host_${type}_key.${generation}`);
    await run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-C', `fileferry-test-host-${generation}`, '-f', path]);
    const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
    const fingerprint = /(SHA256:[A-Za-z0-9+/]+)/.exec(stdout)?.[1];
    if (!fingerprint) throw new Error(`ssh-keygen printed no fingerprint for ${path}.pub: ${stdout}`);
    const publicKey = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    return { path, publicKey, fingerprint };
  };
  const [ed25519, rsa] = await Promise.all([make('ed25519'), make('rsa')]);
  return { ed25519, rsa };
}
