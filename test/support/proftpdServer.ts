import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { debianPackageRoot } from './debianPackageRoot';
import { freePortRange, startDaemon, type FtpTestServer } from './ftpTestServer';
import { freePort } from './ports';
import { ensureTestUser } from './testUser';
import { tempDir } from './tmp';

/** The virtual user proftpd logs the tests in as (from its own AuthUserFile, not the system's). */
export const PROFTPD_USER = 'ferry';

/**
 * Starts Debian's proftpd as root on a free loopback port (plain FTP) with `mod_digest`, which
 * adds the server-side hash commands: `HASH` (announced in FEAT as `HASH SHA-1;SHA-256;…`, the
 * algorithm picked with `OPTS HASH`) and `XSHA256` among the X* commands. `DigestEngine` is on by
 * default; it is set explicitly here so the intent is visible.
 *
 * Logins come from a generated AuthUserFile: a virtual user with a SHA-512 crypt() password
 * (`openssl passwd -6`), the uid/gid of the system test account and a fresh temp folder as home,
 * which is also `rootDir`. No chroot (DefaultRoot), so FTP paths are this machine's absolute paths.
 * AllowOverwrite is on: proftpd's default refuses STOR over an existing file.
 */
export async function startProftpd(): Promise<FtpTestServer> {
  const account = ensureTestUser();
  const root = debianPackageRoot('proftpd-core', '/usr/sbin/proftpd');
  const bin = join(root, '/usr/sbin/proftpd');
  const modules = join(root, '/usr/lib/proftpd');
  const dir = await tempDir('proftpd');
  let daemon: { stop(): Promise<void> } | undefined;
  try {
    const home = join(dir.path, 'home');
    await mkdir(home);
    await chown(home, account.uid, account.gid);
    // The session runs as the test account and has to reach its home through the temp folder.
    await chmod(dir.path, 0o755);
    const password = randomBytes(12).toString('base64url');
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password + '\n' }).toString().trim();
    const passwd = join(dir.path, 'ftpd.passwd');
    const group = join(dir.path, 'ftpd.group');
    await writeFile(passwd, `${PROFTPD_USER}:${hash}:${account.uid}:${account.gid}::${home}:/bin/false\n`, { mode: 0o600 });
    await writeFile(group, `${PROFTPD_USER}:x:${account.gid}:\n`, { mode: 0o600 });
    const port = await freePort();
    const passivePorts = await freePortRange(20);
    const commandLog = join(dir.path, 'commands.log');
    const conf = join(dir.path, 'proftpd.conf');
    await writeFile(
      conf,
      [
        `ModulePath ${modules}`,
        'LoadModule mod_digest.c',
        'ServerName "FileFerry test proftpd"',
        'ServerType standalone',
        'DefaultServer on',
        'ServerIdent on "FileFerry test proftpd"',
        'UseIPv6 off',
        'DefaultAddress 127.0.0.1',
        'SocketBindTight on',
        `Port ${port}`,
        `PassivePorts ${passivePorts.min} ${passivePorts.max}`,
        'User nobody',
        'Group nogroup',
        'Umask 022',
        'MaxInstances 50',
        'UseReverseDNS off',
        'WtmpLog off',
        'DelayEngine off',
        `PidFile ${join(dir.path, 'proftpd.pid')}`,
        `ScoreboardFile ${join(dir.path, 'proftpd.scoreboard')}`,
        `SystemLog ${join(dir.path, 'system.log')}`,
        `TransferLog ${join(dir.path, 'xfer.log')}`,
        'LogFormat commands "%{iso8601} %r -> %s"',
        `ExtendedLog ${commandLog} ALL commands`,
        `AuthUserFile ${passwd}`,
        `AuthGroupFile ${group}`,
        'AuthOrder mod_auth_file.c',
        'RequireValidShell off',
        'AllowOverwrite on',
        'AllowStoreRestart on',
        'UseFtpUsers off',
        '<IfModule mod_ctrls.c>',
        '  ControlsEngine off',
        '</IfModule>',
        '<IfModule mod_digest.c>',
        '  DigestEngine on',
        '</IfModule>',
      ].join('\n') + '\n',
      { mode: 0o600 },
    );
    await writeFile(commandLog, '');
    daemon = await startDaemon('proftpd', bin, ['-n', '-q', '-c', conf], port);
    const running = daemon;
    return {
      host: '127.0.0.1',
      port,
      passivePorts,
      user: PROFTPD_USER,
      password,
      rootDir: home,
      logText: () => readFile(commandLog, 'utf8'),
      async stop() {
        try {
          await running.stop();
        } finally {
          await dir.remove();
        }
      },
    };
  } catch (e) {
    await daemon?.stop().catch(() => undefined);
    await dir.remove().catch(() => undefined);
    throw e;
  }
}
