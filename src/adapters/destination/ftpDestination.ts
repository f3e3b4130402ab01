import { Client } from 'basic-ftp';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, DestinationError, FerryError } from '../../domain/errors';
import type { Destination, DestinationSession } from '../../ports/destination';
import { ftpReplyCode, mapFtpError } from './ftpErrors';
import { FtpSession } from './ftpSession';

export interface FtpDestinationOptions {
  /** 'ftps' = explicit FTPS (AUTH TLS on the control connection, PROT P on data connections). */
  protocol: 'ftp' | 'ftps';
  host: string;
  /** Default 21. */
  port?: number;
  username: string;
  password: string;
  /** PEM of a private CA the server's certificate chains to (FTPS only). Replaces the system roots. */
  ca?: string | Buffer;
  /** The name the certificate must carry, when it differs from `host` (e.g. connecting by IP). */
  servername?: string;
  /**
   * Plain FTP sends the password and the file in clear text, so it needs explicit policy consent:
   * without `allowPlaintext: true`, protocol 'ftp' is refused with PLAINTEXT_NOT_ALLOWED before
   * any connection. Default false.
   */
  allowPlaintext?: boolean;
  /**
   * A command or data connection that moves nothing for this long fails with TIMEOUT (retryable).
   * There is deliberately no limit on a transfer's total time. Default 60 000 ms.
   */
  idleTimeoutMs?: number;
  /** NOOP on the control connection this often while a data transfer runs (0 = never). Default 15 000 ms. */
  keepaliveIntervalMs?: number;
  /** Offer the server's own SHA-256 (HASH / XSHA256) for verification when it has one. Default true. */
  allowRemoteHash?: boolean;
}

/**
 * An FTP or explicit-FTPS server, through basic-ftp in passive mode (EPSV, then PASV; a PASV reply
 * naming another host is refused, as basic-ftp does by default against FTP bounce).
 *
 * FTPS always verifies the server's certificate (system roots, or `ca`) and its host name during
 * AUTH TLS, before the user name is sent: an untrusted certificate fails with TLS_CERT_INVALID
 * and no credential leaves this machine. Data connections are TLS too (PROT P is required; a
 * server that refuses it is refused). Errors are DestinationErrors (see ftpErrors.ts).
 */
export class FtpDestination implements Destination {
  readonly label: string;
  private readonly port: number;
  private readonly idleTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;

  constructor(private readonly options: FtpDestinationOptions) {
    if (options.protocol !== 'ftp' && options.protocol !== 'ftps') {
      throw new ConfigError(`Unknown FTP protocol ${JSON.stringify(options.protocol)}.`, "Use 'ftps' (or 'ftp' where policy allows).");
    }
    if (!options.host) throw new ConfigError('The FTP destination has no host.', 'Give the server host name.');
    if (!options.username) throw new ConfigError(`The FTP destination ${options.host} has no user name.`, 'Give the user name to log in with.');
    this.port = options.port ?? 21;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new ConfigError(`The FTP port ${options.port} of ${options.host} is not a TCP port.`, 'Use a port from 1 to 65535 (21 by default).');
    }
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    if (!(this.idleTimeoutMs > 0)) throw new ConfigError('idleTimeoutMs must be above 0.', 'Use a positive number of milliseconds.');
    this.keepaliveIntervalMs = options.keepaliveIntervalMs ?? 15_000;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.label = `${options.protocol}://${encodeURIComponent(options.username)}@${host}:${this.port}`;
    if (options.protocol === 'ftp' && options.allowPlaintext !== true) {
      throw new DestinationError(
        'PLAINTEXT_NOT_ALLOWED',
        `${this.label}: plain FTP sends the password and the file unencrypted and is not allowed for this destination.`,
        { hint: "Use 'ftps' if the server offers it; otherwise the destination's policy must explicitly allow plain FTP." },
      );
    }
  }

  async connect(signal?: AbortSignal): Promise<DestinationSession> {
    const cancel = (): DestinationError =>
      new DestinationError('CANCELLED', `${this.label}: connecting was cancelled.`, { hint: 'Start it again when you are ready.' });
    if (signal?.aborted) throw cancel();
    const { options, label } = this;
    const client = new Client(this.idleTimeoutMs);
    const onAbort = (): void => client.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    let stage = 'connecting';
    try {
      await client.connect(options.host, this.port);
      // TCP keepalive too, on the raw socket (a TLS wrapper does not pass it down).
      client.ftp.socket.setKeepAlive(true, Math.max(1000, this.keepaliveIntervalMs || 15_000));
      if (options.protocol === 'ftps') {
        stage = 'TLS negotiation (AUTH TLS)';
        const tls: ConnectionOptions = { host: options.host, minVersion: 'TLSv1.2' };
        if (options.ca !== undefined) tls.ca = options.ca;
        if (options.servername !== undefined) tls.servername = options.servername;
        try {
          await client.useTLS(tls);
        } catch (e) {
          const reply = ftpReplyCode(e);
          if (reply !== undefined && reply >= 500) {
            throw new DestinationError('UNSUPPORTED', `${label}: the server does not offer explicit FTPS (AUTH TLS): ${(e as Error).message}`, {
              hint: 'Check the port and protocol; implicit FTPS (port 990) is not supported.',
              cause: e,
            });
          }
          throw e;
        }
      }
      stage = 'login';
      await client.sendIgnoringError('OPTS UTF8 ON');
      await client.login(options.username, options.password);
      stage = 'session set-up';
      await client.useDefaultSettings();
      if (options.protocol === 'ftps') {
        stage = 'protecting data connections (PROT P)';
        await client.send('PROT P');
      }
      const features = new Map([...(await client.features())].map(([k, v]) => [k.toUpperCase(), v] as const));
      const home = await client.pwd();
      return new FtpSession(client, {
        label,
        password: options.password,
        home,
        features,
        keepaliveIntervalMs: this.keepaliveIntervalMs,
        idleTimeoutMs: this.idleTimeoutMs,
        allowRemoteHash: options.allowRemoteHash ?? true,
      });
    } catch (e) {
      client.close();
      if (signal?.aborted) throw cancel();
      if (e instanceof FerryError) throw e;
      throw mapFtpError(e, { label, action: stage, secret: options.password, when550: 'ACCESS_DENIED' });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
