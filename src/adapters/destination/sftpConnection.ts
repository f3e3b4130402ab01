import { Socket } from 'node:net';
import { Client, type ConnectConfig, type SFTPWrapper, type ServerHostKeyAlgorithm } from 'ssh2';
import { DestinationError, cancelled, type FerryError } from '../../domain/errors';
import type { HostKeyGuard } from './sftpHostKeyPolicy';
import { HandshakeLog, connectionClosed, mapConnectError, stalled } from './sftpErrors';

/** What `openSftpConnection` needs; credentials stay here and are never put in a message. */
export interface SftpConnectOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: Buffer | string;
  passphrase?: string;
  guard: HostKeyGuard;
  keepaliveIntervalMs: number;
  idleTimeoutMs: number;
  label: string;
  /** Further SFTP channels to open together with the first (see ConnectOptions.lanes). */
  lanes?: number;
  /** See ConnectOptions.onAuthenticated. */
  onAuthenticated?: () => void;
}

/** Without limits@openssh.com, writes stay at the 32 KiB every SFTP server must accept. */
export const FALLBACK_MAX_WRITE = 32 * 1024;

/** Host key algorithms ssh2 speaks, in its default order; known_hosts types are moved to the front. */
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

/** An authenticated SSH connection with its SFTP channel open. */
export class SftpConnection {
  /** Why the connection is no longer usable; undefined while it is. */
  lost?: FerryError;
  private closing = false;

  constructor(
    readonly client: Client,
    readonly sftp: SFTPWrapper,
    private readonly socket: Socket,
    /** Largest write request the server accepts. */
    readonly maxWrite: number,
    private readonly label: string,
    /** Set on a further SFTP channel of a connection another SftpConnection owns. */
    private readonly owner?: SftpConnection,
    /** Channels opened together with this one, for `openChannel` to hand out (never reject). */
    private readonly spares: Promise<SFTPWrapper | Error>[] = [],
  ) {
    const onGone = (cause?: unknown): void => {
      if (!this.lost && !this.closing) this.lost = connectionClosed(label, cause);
    };
    client.on('error', (e: Error & { level?: string }) => {
      if (!this.lost && !this.closing) this.lost = mapConnectError(e, { label, username: '' });
    });
    client.on('close', () => onGone());
    sftp.on('error', (e: Error) => onGone(e));
    sftp.on('close', () => onGone());
  }

  /**
   * Opens a further SFTP channel on this SSH connection. Each channel has its own flow-control
   * window (OpenSSH grants 2 MiB), so two channels carry twice what one does over a long round
   * trip, without another handshake. Closing it ends only that channel.
   */
  openChannel(idleTimeoutMs: number, signal?: AbortSignal): Promise<SftpConnection> {
    if (this.lost) return Promise.reject(this.lost);
    if (signal?.aborted) return Promise.reject(cancelled('Opening another SFTP channel'));
    return new Promise((resolve, reject) => {
      let late = false;
      const giveUp = (error: FerryError): void => {
        late = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = (): void => giveUp(cancelled('Opening another SFTP channel'));
      const timer = setTimeout(() => giveUp(stalled(this.label, 'Opening another SFTP channel', idleTimeoutMs)), idleTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      void (this.spares.shift() ?? requestChannel(this.client)).then((opened) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // Given up on (timed out or cancelled): a channel that opens after all is closed at once.
        if (late) return void (opened instanceof Error ? undefined : opened.end());
        if (opened instanceof Error) return reject(this.lost ?? mapConnectError(opened, { label: this.label, username: '' }));
        quietAfterHandshake(this.client, opened);
        resolve(new SftpConnection(this.client, opened, this.socket, this.maxWrite, this.label, this));
      });
    });
  }

  /** Marks the connection unusable (a stalled or abandoned request) so `close()` does not wait on it. */
  abandon(reason: FerryError): void {
    this.lost ??= reason;
    this.socket.destroy();
  }

  /**
   * Ends the SFTP channel and the connection: politely when it is healthy, waiting at most
   * `graceMs` for the server to close its side, at once when it is already broken. Never throws.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.owner) return this.closeChannel(graceMs);
    if (this.lost || this.socket.destroyed) {
      this.socket.destroy();
      return;
    }
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    try {
      try { this.sftp.end(); } catch { /* already closed */ }
      try { this.client.end(); } catch { /* already closed */ }
      await closed;
    } finally {
      clearTimeout(timer);
      this.socket.destroy();
    }
  }

  private async closeChannel(graceMs: number): Promise<void> {
    if (this.lost || this.socket.destroyed) return;
    const closed = new Promise<void>((resolve) => this.sftp.once('close', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    try {
      try { this.sftp.end(); } catch { /* already closed */ }
      await Promise.race([closed, new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Opens a TCP connection (TCP_NODELAY on: SFTP is request/response and Nagle would hold back the
 * small ones), runs the SSH handshake with the host key checked by `guard` inside ssh2's
 * `hostVerifier` (before any credential is sent), authenticates and opens the SFTP subsystem.
 * Everything up to authentication must finish within `idleTimeoutMs`, and so must opening SFTP.
 */
export async function openSftpConnection(options: SftpConnectOptions, signal?: AbortSignal): Promise<SftpConnection> {
  const { label } = options;
  if (signal?.aborted) throw cancelled(`Connecting to ${label}`);
  const check = await options.guard.begin();
  const handshake = new HandshakeLog();
  const context = { label, username: options.username, handshake };
  const socket = new Socket();
  socket.setNoDelay(true);
  const client = new Client();
  let hostKeyError: FerryError | undefined;
  let timer: NodeJS.Timeout | undefined;

  return new Promise<SftpConnection>((resolve, reject) => {
    let settled = false;
    const finish = (error?: FerryError, connection?: SftpConnection): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        client.removeAllListeners('ready');
        socket.destroy();
        reject(error);
      } else {
        resolve(connection!);
      }
    };
    const onAbort = (): void => finish(cancelled(`Connecting to ${label}`));
    signal?.addEventListener('abort', onAbort, { once: true });

    // Listeners stay for the life of the client: an 'error' without one would crash the process.
    client.on('error', (e) => finish(hostKeyError ?? mapConnectError(e, context)));
    client.on('close', () => finish(hostKeyError ?? connectionClosed(label)));
    client.on('ready', () => {
      try {
        options.onAuthenticated?.();
      } catch {
        // Documented as never throwing; a bug there must not take this connection down.
      }
      timer = setTimeout(() => finish(stalled(label, 'Opening the SFTP channel', options.idleTimeoutMs)), options.idleTimeoutMs);
      let spares: Promise<SFTPWrapper | Error>[] = [];
      client.sftp((error, sftp) => {
        if (error) return finish(mapConnectError(error, context));
        const limits = sftp as unknown as { _maxWriteLen?: number; maxOpenHandles?: number };
        // ssh2 sets maxOpenHandles only once the server has answered limits@openssh.com.
        const maxWrite = limits.maxOpenHandles !== undefined && (limits._maxWriteLen ?? 0) > 0 ? limits._maxWriteLen! : FALLBACK_MAX_WRITE;
        quietAfterHandshake(client, sftp);
        finish(undefined, new SftpConnection(client, sftp, socket, maxWrite, label, undefined, spares));
      });
      // Asked for right after the first channel, so they open alongside it; after it, so a server
      // that allows one channel per connection (MaxSessions 1) gives that one to the first.
      spares = Array.from({ length: Math.max(0, options.lanes ?? 0) }, () => requestChannel(client));
    });

    const preferred = HOST_KEY_ALGORITHMS.filter((a) => check.preferredAlgorithms?.includes(a))
      .sort((a, b) => check.preferredAlgorithms!.indexOf(a) - check.preferredAlgorithms!.indexOf(b));
    const config: ConnectConfig = {
      sock: socket,
      username: options.username,
      readyTimeout: options.idleTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      debug: handshake.debug,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void): void => {
        check.verify(key).then(
          () => verify(true),
          (e: FerryError) => {
            hostKeyError = e;
            verify(false);
          },
        );
      },
      ...(preferred.length > 0
        ? { algorithms: { serverHostKey: [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))] } }
        : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.privateKey !== undefined ? { privateKey: options.privateKey } : {}),
      ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
      // The methods we hold, in ssh2's own order, without the "none" probe it sends first: that
      // probe is a round trip (50 ms at 50 ms) on every connection, and a striped transfer opens several.
      ...(authMethods(options).length > 0 ? { authHandler: authMethods(options) } : {}),
    };
    try {
      client.connect(config);
    } catch (e) {
      // ssh2 parses the private key synchronously; its message names the problem, not the key.
      return finish(
        new DestinationError('AUTH_FAILED', `The private key for ${label} cannot be used (${String((e as Error).message).slice(0, 120)}).`, {
          hint: 'Give an OpenSSH or PEM private key, with its passphrase if it is encrypted.',
          cause: e,
        }),
      );
    }
    socket.connect(options.port, options.host);
  });
}

function authMethods(options: SftpConnectOptions): ('password' | 'publickey')[] {
  return [...(options.password !== undefined ? ['password' as const] : []), ...(options.privateKey !== undefined ? ['publickey' as const] : [])];
}

/** Asks for one more SFTP channel on `client`: the channel, or the error it failed with. */
function requestChannel(client: Client): Promise<SFTPWrapper | Error> {
  return new Promise((resolve) => client.sftp((error, sftp) => resolve(error ?? sftp)));
}

/**
 * Stops ssh2's debug output once the handshake, the only part HandshakeLog reads, is over: left
 * on, ssh2 formats a debug line for every packet (about 40,000 per GiB sent). The fields are
 * ssh2's own; if a later version renames them this does nothing and only costs that speed.
 */
function quietAfterHandshake(client: Client, sftp: SFTPWrapper): void {
  const protocol = (client as unknown as { _protocol?: { _debug?: unknown } })._protocol;
  if (protocol && '_debug' in protocol) protocol._debug = undefined;
  const channel = sftp as unknown as { _debug?: unknown };
  if ('_debug' in channel) channel._debug = undefined;
}
