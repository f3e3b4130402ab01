import { mkdir, readFile, rm, writeFile, chown } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { debianPackageRoot } from './debianPackageRoot';
import { freePortRange, startDaemon, type FtpTestServer } from './ftpTestServer';
import { freePort } from './ports';
import { generateTestCertificates } from './testCertificates';
import { ensureTestUser } from './testUser';
import { tempDir } from './tmp';

export interface VsftpdOptions {
  /** Explicit FTPS (AUTH TLS) required for logins and data. Default false (plain FTP). */
  tls?: boolean;
  /**
   * With `tls`: 'ca' serves a certificate issued by the generated CA (`caPem`); 'self' serves a
   * self-signed one that CA did not issue, for the bad-certificate tests. Default 'ca'.
   */
  certificate?: 'ca' | 'self';
  /** Extra `key=value` lines, appended last (later lines win in vsftpd). */
  extraConfig?: string[];
}

/**
 * Starts Debian's vsftpd as root on a free loopback port with a generated config: local logins of
 * the system test account (PAM, as in production), writes allowed, no chroot (so FTP paths are this
 * machine's absolute paths and the tests can read the server's disk directly), passive ports in a
 * free range on 127.0.0.1, and the FTP protocol logged to a file in the temp dir.
 *
 * Container-friendly settings: no seccomp sandbox and no network/PID namespaces (`isolate*`),
 * which unprivileged containers refuse. `lock_upload_files=NO`: with the default write lock, an
 * APPE that resumes a stalled upload blocks until the stalled session's data connection times out
 * (300 s); a real server with the default would make the engine's resume wait the same way.
 */
export async function startVsftpd(options: VsftpdOptions = {}): Promise<FtpTestServer> {
  const user = ensureTestUser();
  const bin = join(debianPackageRoot('vsftpd', '/usr/sbin/vsftpd'), '/usr/sbin/vsftpd');
  const dir = await tempDir('vsftpd');
  const rootDir = join(user.home, `ftp-${randomBytes(4).toString('hex')}`);
  let daemon: { stop(): Promise<void> } | undefined;
  try {
    await mkdir(rootDir);
    await chown(rootDir, user.uid, user.gid);
    const emptyDir = join(dir.path, 'empty');
    await mkdir(emptyDir);
    const port = await freePort();
    const passivePorts = await freePortRange(20);
    const logFile = join(dir.path, 'vsftpd.log');
    const lines = [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=NO',
      'local_enable=YES',
      'write_enable=YES',
      'local_umask=022',
      'chroot_local_user=NO',
      'userlist_enable=NO',
      'pam_service_name=vsftpd',
      'session_support=NO',
      'tcp_wrappers=NO',
      'seccomp_sandbox=NO',
      'isolate=NO',
      'isolate_network=NO',
      `secure_chroot_dir=${emptyDir}`,
      'connect_from_port_20=NO',
      'pasv_enable=YES',
      'port_enable=NO',
      'pasv_address=127.0.0.1',
      `pasv_min_port=${passivePorts.min}`,
      `pasv_max_port=${passivePorts.max}`,
      'lock_upload_files=NO',
      'utf8_filesystem=YES',
      'delay_failed_login=0',
      'max_per_ip=0',
      'max_clients=0',
      'xferlog_enable=YES',
      'xferlog_std_format=NO',
      'log_ftp_protocol=YES',
      'dual_log_enable=NO',
      'syslog_enable=NO',
      `vsftpd_log_file=${logFile}`,
      'ftpd_banner=FileFerry test vsftpd',
    ];
    let caPem: string | undefined;
    if (options.tls) {
      const certs = generateTestCertificates(dir.path, options.certificate === 'self' ? 'self' : 'ca');
      caPem = certs.caPem;
      lines.push(
        'ssl_enable=YES',
        `rsa_cert_file=${certs.certFile}`,
        `rsa_private_key_file=${certs.keyFile}`,
        'allow_anon_ssl=NO',
        'force_local_logins_ssl=YES',
        'force_local_data_ssl=YES',
        'require_ssl_reuse=NO',
        'ssl_request_cert=NO',
        'ssl_sslv2=NO',
        'ssl_sslv3=NO',
        'ssl_tlsv1=YES',
        'ssl_ciphers=HIGH',
        // Uploads must end with a TLS close_notify, so a forged or cut FIN cannot truncate a file unseen.
        'strict_ssl_read_eof=YES',
      );
    }
    lines.push(...(options.extraConfig ?? []));
    const conf = join(dir.path, 'vsftpd.conf');
    await writeFile(conf, lines.join('\n') + '\n', { mode: 0o600 });
    await writeFile(logFile, '');
    daemon = await startDaemon('vsftpd', bin, [conf], port);
    const running = daemon;
    return {
      host: '127.0.0.1',
      port,
      passivePorts,
      caPem,
      user: user.name,
      password: user.password,
      rootDir,
      logText: () => readFile(logFile, 'utf8'),
      async stop() {
        try {
          await running.stop();
        } finally {
          await rm(rootDir, { recursive: true, force: true });
          await dir.remove();
        }
      },
    };
  } catch (e) {
    await daemon?.stop().catch(() => undefined);
    await rm(rootDir, { recursive: true, force: true }).catch(() => undefined);
    await dir.remove().catch(() => undefined);
    throw e;
  }
}
