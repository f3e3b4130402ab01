import type { Client } from 'basic-ftp';
import { DestinationError, FerryError } from '../../domain/errors';
import { alreadyExists } from '../../domain/errorFactories';
import type { DestinationSession, LoginFolder, RemoteHasher, RemoteStat, WriteOptions } from '../../ports/destination';
import { checkRemotePath } from '../../transfer/remotePath';
import { ftpReplyCode, mapFtpError } from './ftpErrors';
import { ControlKeepalive } from './ftpKeepalive';
import { parseSha256Reply, planSha256 } from './ftpRemoteHash';
import { uploadToFtp } from './ftpUpload';

export interface FtpSessionContext {
  /** "ftps://user@host:port" for messages. */
  label: string;
  /** Scrubbed from every error message. */
  password: string;
  /** The folder the login started in (PWD); the session always returns there after a CWD. */
  home: string;
  /** FEAT reply, keys upper-case ("SIZE", "MLST", "HASH", "XSHA256"). */
  features: ReadonlyMap<string, string>;
  keepaliveIntervalMs: number;
  idleTimeoutMs: number;
  allowRemoteHash: boolean;
}

/** Bytes per second a server is assumed to hash at least, to size the wait for a HASH reply. */
const HASH_RATE_FLOOR = 20 * 1024 * 1024;

/**
 * One logged-in FTP/FTPS control connection (basic-ftp Client). Paths are absolute, so the working
 * folder never matters; folder checks that need CWD return to the login folder at once.
 *
 * basic-ftp runs one command at a time, so calls are queued. An abort signal closes the connection
 * (FTP has no reliable way to abort one command) and the call fails with CANCELLED; the session is
 * then unusable, as after any connection failure: the engine opens a new one.
 */
export class FtpSession implements DestinationSession, RemoteHasher, LoginFolder {
  readonly resumeMode = 'append' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly keepalive: ControlKeepalive;
  private hashSelected = false;
  private cancelledBy?: AbortSignal;

  constructor(private readonly client: Client, private readonly context: FtpSessionContext) {
    this.keepalive = new ControlKeepalive(client.ftp, context.keepaliveIntervalMs);
  }

  /** NOOPs sent by the keepalive so far. */
  get keepaliveNoopsSent(): number {
    return this.keepalive.sent;
  }

  async loginFolder(signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) throw this.cancelError('Reading the login folder');
    return this.context.home;
  }

  stat(path: string, signal?: AbortSignal): Promise<RemoteStat | undefined> {
    const p = checkRemotePath(path);
    return this.run(`stat of ${p}`, signal, () => this.statNow(p), 'NOT_FOUND');
  }

  ensureDir(path: string, signal?: AbortSignal): Promise<void> {
    const p = checkRemotePath(path);
    return this.run(`creating folder ${p}`, signal, () => this.ensureDirNow(p), 'ACCESS_DENIED');
  }

  /**
   * STOR at offset 0, APPE (after checking the server holds exactly `offset` bytes) above it;
   * `onAcknowledged` once, at the end. See ftpUpload.ts.
   */
  write(path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> {
    const p = checkRemotePath(path);
    const upload = { client: this.client, keepalive: this.keepalive, label: this.context.label, idleTimeoutMs: this.context.idleTimeoutMs };
    return this.run(`upload to ${p}`, options.signal, () => uploadToFtp(upload, p, data, options), 'ACCESS_DENIED');
  }

  /**
   * FTP's RNFR/RNTO defines nothing for an existing target. vsftpd and proftpd use POSIX rename(),
   * which replaces atomically, so `replace` first tries the plain rename; only when the server
   * refuses and the target exists is the target deleted and the rename retried — on such servers
   * there is a short window in which no file stands under the final name. Without `replace`, an
   * existing target gives ALREADY_EXISTS; the check and the rename are two commands, so a file that
   * appears between them may still be replaced on servers that rename with replace.
   */
  rename(from: string, to: string, options: { replace: boolean; signal?: AbortSignal }): Promise<void> {
    const source = checkRemotePath(from);
    const target = checkRemotePath(to);
    return this.run(`rename of ${source} to ${target}`, options.signal, async () => {
      if (!options.replace && (await this.statNow(target))) {
        throw alreadyExists(target, this.context.label);
      }
      try {
        await this.client.rename(source, target);
      } catch (e) {
        const refused = ftpReplyCode(e);
        if (!options.replace || refused === undefined || refused < 500) throw e;
        // Delete the target only when the rename failed because of it: the source must still be there.
        const existing = await this.statNow(target);
        if (!existing || existing.isDirectory || !(await this.statNow(source))) throw e;
        await this.client.remove(target);
        await this.client.rename(source, target);
      }
    }, 'NOT_FOUND');
  }

  remove(path: string, signal?: AbortSignal): Promise<void> {
    const p = checkRemotePath(path);
    return this.run(`removal of ${p}`, signal, async () => {
      try {
        await this.client.remove(p);
      } catch (e) {
        if (ftpReplyCode(e) === 550 && (await this.statNow(p)) === undefined) return;
        throw e;
      }
    }, 'ACCESS_DENIED');
  }

  /**
   * The server's own SHA-256 via HASH or XSHA256 when FEAT offers one (proftpd's mod_digest does;
   * vsftpd does not), else undefined. A server that declines (5xx, e.g. mod_digest's DigestMaxSize)
   * also gives undefined. Hashing a large file takes the server a while before it answers, so the
   * reply is awaited for the idle timeout plus the file's size at a conservative 20 MiB/s.
   */
  remoteSha256(path: string, signal?: AbortSignal): Promise<string | undefined> {
    const p = checkRemotePath(path);
    return this.run(`server-side SHA-256 of ${p}`, signal, async () => {
      if (!this.context.allowRemoteHash) return undefined;
      const plan = planSha256(this.context.features, p);
      if (!plan) return undefined;
      const size = await this.client.size(p);
      try {
        if (plan.kind === 'HASH' && !this.hashSelected) {
          await this.client.send(plan.select);
          this.hashSelected = true;
        }
        const pending = this.client.send(plan.command);
        // basic-ftp arms the control socket's idle timeout when a command starts; widen it for this one.
        this.client.ftp.socket.setTimeout(this.context.idleTimeoutMs + Math.ceil((size / HASH_RATE_FLOOR) * 1000));
        const reply = await pending;
        return parseSha256Reply(plan, reply.message, size);
      } catch (e) {
        const code = ftpReplyCode(e);
        if (code !== undefined && code >= 500) return undefined;
        throw e;
      }
    }, 'NOT_FOUND');
  }

  /** Closes the control and any data connection. Never throws. */
  async close(): Promise<void> {
    this.keepalive.stop();
    try {
      this.client.close();
    } catch {
      // Closing is best effort; the sockets are destroyed either way.
    }
  }

  private async statNow(path: string): Promise<RemoteStat | undefined> {
    try {
      return { size: await this.client.size(path), isDirectory: false };
    } catch (e) {
      const code = ftpReplyCode(e);
      if (code === undefined || code < 500) throw e;
      if (code !== 550 && code !== 553) {
        throw new DestinationError('UNSUPPORTED', `${this.context.label}: the server does not answer SIZE for ${path}: ${(e as Error).message}`, {
          hint: 'FileFerry needs a server with SIZE (RFC 3659) to resume and verify uploads.',
        });
      }
    }
    return (await this.isDirectory(path)) ? { size: 0, isDirectory: true } : undefined;
  }

  /** MLST when offered (no side effect), else CWD there and straight back to the login folder. */
  private async isDirectory(path: string): Promise<boolean> {
    if (this.context.features.has('MLST')) {
      try {
        const reply = await this.client.send(`MLST ${path}`);
        return /(?:^|[;\s])type=(?:dir|cdir|pdir);/im.test(reply.message);
      } catch (e) {
        if (ftpReplyCode(e) === 550) return false;
        throw e;
      }
    }
    try {
      await this.client.send(`CWD ${path}`);
    } catch (e) {
      if (ftpReplyCode(e) === 550) return false;
      throw e;
    }
    await this.client.send(`CWD ${this.context.home}`);
    return true;
  }

  /** Creates the missing folders from the deepest existing one down, with absolute MKDs (no CWD walk). */
  private async ensureDirNow(path: string): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    const prefix = (n: number): string => '/' + parts.slice(0, n).join('/');
    let existing = parts.length;
    while (existing > 0 && !(await this.isDirectory(prefix(existing)))) existing--;
    for (let n = existing + 1; n <= parts.length; n++) {
      try {
        await this.client.send(`MKD ${prefix(n)}`);
      } catch (e) {
        // Another client may have created it meanwhile; anything else is a real refusal.
        if (!(await this.isDirectory(prefix(n)))) throw e;
      }
    }
  }

  /** Runs one call after the previous ones, cancellable by `signal`, with errors mapped. */
  private run<T>(action: string, signal: AbortSignal | undefined, work: () => Promise<T>, when550: 'NOT_FOUND' | 'ACCESS_DENIED'): Promise<T> {
    const next = this.queue.then(async () => {
      if (signal?.aborted || this.cancelledBy) throw this.cancelError(action);
      const onAbort = (): void => {
        this.cancelledBy = signal;
        this.keepalive.stop();
        this.client.close();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await work();
      } catch (e) {
        if (signal?.aborted || this.cancelledBy) throw this.cancelError(action);
        throw e instanceof FerryError ? e : mapFtpError(e, { label: this.context.label, action, when550, secret: this.context.password });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private cancelError(action: string): DestinationError {
    return new DestinationError('CANCELLED', `${this.context.label}: ${action} was cancelled.`, {
      hint: 'Start it again when you are ready.',
    });
  }
}
