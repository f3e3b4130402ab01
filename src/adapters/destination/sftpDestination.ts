import { ConfigError } from '../../domain/errors';
import type { ConnectOptions, Destination, DestinationSession } from '../../ports/destination';
import { openSftpConnection } from './sftpConnection';
import { HostKeyGuard, type HostKeyPolicy } from './sftpHostKeyPolicy';
import { SftpHashingSession } from './sftpRemoteHash';
import { SftpSession } from './sftpSession';

const DEFAULT_IN_FLIGHT = 12;

export type { HostKeyPolicy } from './sftpHostKeyPolicy';

export interface SftpDestinationOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** Password, private key, or both (the server picks). Never logged, never in a message. */
  password?: string;
  /** OpenSSH or PEM private key. */
  privateKey?: Buffer | string;
  passphrase?: string;
  /** How the server's host key is trusted; checked before any credential is sent. */
  hostKey: HostKeyPolicy;
  /** SSH keepalive interval; three unanswered keepalives drop the connection. Default 10 000. */
  keepaliveIntervalMs?: number;
  /**
   * A connect, or any request, that gets no answer for this long fails with TIMEOUT (retryable)
   * and the connection is dropped. There is deliberately no total timeout. Default 60 000.
   */
  idleTimeoutMs?: number;
  /**
   * Write requests in flight at once. Default 12: 3 MiB at OpenSSH's 255 KiB max-write, half
   * again the 2 MiB channel window sshd grants, enough to keep the window full while answers come
   * back; beyond that requests wait in memory as copies (32 measured no faster than 16; 12 kept
   * 16's rate on loopback and at 50 ms round trip with 3-5 MiB less peak RSS, 8 was 3% slower at
   * 50 ms; bench:compare and the bench's delay proxy, 2026-12-04).
   */
  maxInFlight?: number;
  /** Offer `remoteSha256` by running `sha256sum` over SSH exec (needs a shell account). Default false. */
  allowRemoteHash?: boolean;
}

/**
 * An SFTP server as a Destination, on ssh2 directly (ssh2-sftp-client's stream upload keeps one
 * write in flight and is many times slower). Each `connect()` opens one SSH connection with its
 * SFTP channel; sessions resume at any offset.
 */
export class SftpDestination implements Destination {
  readonly label: string;
  private readonly guard: HostKeyGuard;
  private readonly port: number;

  constructor(private readonly options: SftpDestinationOptions) {
    const { host, username } = options;
    this.port = options.port ?? 22;
    if (!host || /[\s/@]/.test(host)) throw new ConfigError(`The SFTP host ${JSON.stringify(host)} is not a host name or address.`, 'Give a host name such as sftp.example.com.');
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new ConfigError(`The SFTP port ${String(options.port)} for ${host} is not a port number.`, 'Give a port from 1 to 65535 (SFTP uses 22).');
    }
    if (!username) throw new ConfigError(`No SFTP user name is set for ${host}.`, 'Give the account to log in as.');
    if (options.password === undefined && options.privateKey === undefined) {
      throw new ConfigError(`No password or private key is set for ${username} on ${host}.`, 'Give a password or a private key for the account.');
    }
    const maxInFlight = options.maxInFlight ?? DEFAULT_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new ConfigError(`maxInFlight ${String(options.maxInFlight)} for ${host} is not a positive whole number.`, `Use ${DEFAULT_IN_FLIGHT} unless the server needs fewer.`);
    }
    for (const [name, value] of [['idleTimeoutMs', options.idleTimeoutMs], ['keepaliveIntervalMs', options.keepaliveIntervalMs]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new ConfigError(`${name} ${String(value)} for ${host} is not a positive number of milliseconds.`, `Leave ${name} unset for the default.`);
      }
    }
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.label = `sftp://${encodeURIComponent(username)}@${shownHost}:${this.port}`;
    this.guard = new HostKeyGuard(options.hostKey, host, this.port);
  }

  async connect(signal?: AbortSignal, connectOptions?: ConnectOptions): Promise<DestinationSession> {
    const o = this.options;
    const idleTimeoutMs = o.idleTimeoutMs ?? 60_000;
    const connection = await openSftpConnection(
      {
        host: o.host,
        port: this.port,
        username: o.username,
        ...(o.password !== undefined ? { password: o.password } : {}),
        ...(o.privateKey !== undefined ? { privateKey: o.privateKey } : {}),
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
        guard: this.guard,
        keepaliveIntervalMs: o.keepaliveIntervalMs ?? 10_000,
        idleTimeoutMs,
        label: this.label,
        lanes: connectOptions?.lanes ?? 0,
        ...(connectOptions?.onAuthenticated ? { onAuthenticated: connectOptions.onAuthenticated } : {}),
      },
      signal,
    );
    const sessionOptions = { label: this.label, idleTimeoutMs, maxInFlight: o.maxInFlight ?? DEFAULT_IN_FLIGHT };
    return o.allowRemoteHash ? new SftpHashingSession(connection, sessionOptions) : new SftpSession(connection, sessionOptions);
  }
}
