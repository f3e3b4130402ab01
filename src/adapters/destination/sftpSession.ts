import type { Stats } from 'ssh2';
import { DestinationError, FerryError, cancelled } from '../../domain/errors';
import { alreadyExists } from '../../domain/errorFactories';
import type { DestinationSession, LoginFolder, RemoteStat, WriteOptions } from '../../ports/destination';
import type { RangeWriter } from '../../ports/rangeWriter';
import type { SftpConnection } from './sftpConnection';
import { isGenericFailure, mapSftpError, stalled } from './sftpErrors';
import { dirname } from '../../transfer/remotePath';
import { WritePipeline } from './sftpWritePipeline';

export interface SftpSessionOptions {
  label: string;
  /** A request unanswered for this long fails with TIMEOUT and the connection is dropped. */
  idleTimeoutMs: number;
  maxInFlight: number;
}

type Callback<T> = (error: Error | undefined | null, value?: T) => void;

/** SSH_FXF_WRITE | SSH_FXF_CREAT (draft-ietf-secsh-filexfer-02 6.3). */
const WRITE_CREATE = 0x02 | 0x08;

/**
 * One SFTP connection used as a DestinationSession. Every request is bounded by the idle timeout
 * (a stalled connection fails as TIMEOUT instead of hanging) and by the caller's signal. Writes
 * are pipelined (see WritePipeline); permissions and times are never set, since many servers
 * refuse SETSTAT and the server's defaults are what the customer expects.
 */
export class SftpSession implements DestinationSession, LoginFolder, RangeWriter {
  readonly resumeMode = 'offset' as const;
  /** The handle stripes of `path` are written through (see writeRange). */
  private stripeHandle?: { path: string; handle: Promise<Buffer> };
  /** Set after a server mishandled concurrent writes: later writes keep one in flight. */
  private serialWrites = false;

  constructor(protected readonly connection: SftpConnection, protected readonly options: SftpSessionOptions) {}

  /** Whether writes fell back to one in flight on this connection. */
  get writesSerialized(): boolean {
    return this.serialWrites;
  }

  /**
   * Whether `rename` with `replace` is atomic here: the server offers posix-rename@openssh.com,
   * so the final name never goes missing. Without it, replacing is remove-then-rename.
   */
  get atomicReplace(): boolean {
    return this.hasExtension('posix-rename@openssh.com');
  }

  /** The largest write request this session sends. */
  get maxWrite(): number {
    return this.connection.maxWrite;
  }

  async stat(path: string, signal?: AbortSignal): Promise<RemoteStat | undefined> {
    try {
      const stats = await this.request<Stats>('stat', path, signal, (cb) => this.connection.sftp.stat(path, cb));
      return { size: stats.size, isDirectory: stats.isDirectory() };
    } catch (e) {
      if (e instanceof FerryError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  async ensureDir(path: string, signal?: AbortSignal): Promise<void> {
    const existing = await this.stat(path, signal);
    if (existing?.isDirectory) return;
    if (existing) throw this.notAFolder(path);
    let current = '';
    for (const part of path.split('/').filter((p) => p !== '')) {
      current += `/${part}`;
      let found: RemoteStat | undefined;
      try {
        found = await this.stat(current, signal);
      } catch (e) {
        // A parent the user may not stat (a chroot's root, a locked-down home) can still hold the folder.
        if (e instanceof FerryError && e.code === 'ACCESS_DENIED') continue;
        throw e;
      }
      if (found?.isDirectory) continue;
      if (found) throw this.notAFolder(current);
      try {
        await this.request<void>('mkdir', current, signal, (cb) => this.connection.sftp.mkdir(current, cb));
      } catch (e) {
        // Created meanwhile by someone else: fine. Otherwise the mkdir error stands.
        const again = await this.stat(current, signal).catch(() => undefined);
        if (!again?.isDirectory) throw e;
      }
    }
  }

  async write(path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> {
    return this.writeChecked(path, data, options, false);
  }

  /**
   * RangeWriter: one stripe of a file other connections write too (created if missing, never
   * truncated). Stripes share one handle per session, opened by the first: an open and a close
   * per stripe would cost two round trips each.
   */
  async writeRange(path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> {
    return this.writeChecked(path, data, options, true);
  }

  /** RangeWriter: another SFTP channel on this connection, for more stripes at once (see SftpConnection.openChannel). */
  async openLane(signal?: AbortSignal): Promise<SftpSession> {
    const channel = await this.connection.openChannel(this.options.idleTimeoutMs, signal);
    return new SftpSession(channel, this.options);
  }

  /** RangeWriter: closes the stripes' handle, so a late write error shows and no handle is open at the rename. */
  async endRanges(path: string, signal?: AbortSignal): Promise<void> {
    const open = this.stripeHandle;
    if (!open || open.path !== path) return;
    this.stripeHandle = undefined;
    const handle = await open.handle;
    await this.request<void>('close', path, signal, (cb) => this.connection.sftp.close(handle, cb));
  }

  private stripeHandleFor(path: string, signal?: AbortSignal): Promise<Buffer> {
    if (this.stripeHandle?.path !== path) {
      // WRITE|CREAT: no TRUNC (other stripes are in the file), no APPEND (the server would ignore offsets).
      const handle = this.request<Buffer>('open', path, signal, (cb) => this.connection.sftp.open(path, WRITE_CREATE, cb));
      handle.catch(() => {
        if (this.stripeHandle?.handle === handle) this.stripeHandle = undefined;
      });
      this.stripeHandle = { path, handle };
    }
    return this.stripeHandle.handle;
  }

  private async writeChecked(path: string, data: AsyncIterable<Buffer>, options: WriteOptions, range: boolean): Promise<void> {
    const wasSerial = this.serialWrites;
    try {
      await this.writeFile(path, data, options, range);
    } catch (e) {
      const full = await this.diskFullBehind(e, path);
      if (!full) throw e;
      // The failures came from the full disk, not from concurrent writes.
      this.serialWrites = wasSerial;
      throw full;
    }
  }

  /**
   * OpenSSH answers ENOSPC and EDQUOT with a bare FAILURE. When a write fails that way and the
   * server offers statvfs@openssh.com, the folder's free space tells whether the disk is full.
   */
  private async diskFullBehind(error: unknown, path: string): Promise<DestinationError | undefined> {
    if (!(error instanceof FerryError && error.code === 'SERVER_ERROR' && isGenericFailure(error.cause))) return undefined;
    if (!this.hasExtension('statvfs@openssh.com', '2') || this.connection.lost) return undefined;
    const folder = dirname(path);
    try {
      const fs = await this.request<{ f_frsize: number; f_bavail: number }>('statvfs', folder, undefined, (cb) =>
        this.connection.sftp.ext_openssh_statvfs(folder, cb),
      );
      if (Number(fs.f_bavail) * Number(fs.f_frsize) >= this.connection.maxWrite) return undefined;
    } catch {
      return undefined;
    }
    return new DestinationError('DISK_FULL', `The disk holding ${folder} on ${this.options.label} is full (writing ${path} failed).`, {
      hint: 'Free space (or raise the quota) on the server, then send the file again.',
      cause: error,
    });
  }

  private async writeFile(path: string, data: AsyncIterable<Buffer>, options: WriteOptions, range: boolean): Promise<void> {
    const { offset, signal } = options;
    if (signal?.aborted) throw cancelled('The SFTP write');
    const sftp = this.connection.sftp;
    const handle = range
      ? await this.stripeHandleFor(path, signal)
      : await this.request<Buffer>('open', path, signal, (cb) => sftp.open(path, offset === 0 ? 'w' : 'r+', cb));
    let ok = false;
    try {
      if (offset > 0 && !range) {
        const held = await this.request<Stats>('fstat', path, signal, (cb) => sftp.fstat(handle, cb));
        if (held.size < offset) {
          throw new DestinationError('SIZE_MISMATCH', `${path} on ${this.options.label} holds ${held.size} bytes; a write cannot continue at byte ${offset}.`, {
            hint: 'Start the file again from the beginning.',
          });
        }
      }
      const pipeline = new WritePipeline(
        { write: (buffer, length, position, done) => sftp.write(handle, buffer, 0, length, position, (e) => done(e)) },
        offset,
        {
          maxWrite: this.connection.maxWrite,
          maxInFlight: this.serialWrites ? 1 : this.options.maxInFlight,
          idleTimeoutMs: this.options.idleTimeoutMs,
          ...(signal ? { signal } : {}),
          ...(options.onAcknowledged ? { onAcknowledged: options.onAcknowledged } : {}),
          onSerialized: () => { this.serialWrites = true; },
          mapError: (e) => this.connection.lost ?? mapSftpError(e, { operation: 'write', path, label: this.options.label }),
          timeoutError: () => stalled(this.options.label, `Writing ${path}`, this.options.idleTimeoutMs),
        },
      );
      try {
        await pipeline.run(data);
      } catch (e) {
        // A stalled or abandoned pipeline leaves requests outstanding: this connection is done for.
        if (e instanceof FerryError && (e.code === 'TIMEOUT' || e.code === 'CANCELLED')) this.connection.abandon(e);
        throw e;
      }
      ok = true;
    } finally {
      if (range) {
        // The stripes' handle stays open for the next stripe (endRanges closes it); after a failure
        // the connection is dropped with it.
        if (!ok && this.stripeHandle?.path === path) this.stripeHandle = undefined;
      } else {
        const closing = this.request<void>('close', path, undefined, (cb) => sftp.close(handle, cb));
        // After a failure the original error matters; a broken connection would only time out here.
        if (ok) await closing;
        else closing.catch(() => undefined);
      }
    }
  }

  async rename(from: string, to: string, options: { replace: boolean; signal?: AbortSignal }): Promise<void> {
    const { signal } = options;
    const sftp = this.connection.sftp;
    if (options.replace) {
      if (this.atomicReplace) {
        await this.request<void>('rename', to, signal, (cb) => sftp.ext_openssh_rename(from, to, cb));
        return;
      }
      // SFTP v3 RENAME refuses an existing target: without posix-rename, replacing is two steps.
      await this.remove(to, signal);
      await this.request<void>('rename', to, signal, (cb) => sftp.rename(from, to, cb));
      return;
    }
    if (await this.stat(to, signal)) throw this.taken(to);
    try {
      await this.request<void>('rename', to, signal, (cb) => sftp.rename(from, to, cb));
    } catch (e) {
      // The name was taken between the check and the rename.
      if (e instanceof FerryError && e.code !== 'NOT_FOUND' && (await this.stat(to, signal).catch(() => undefined))) throw this.taken(to);
      throw e;
    }
  }

  async remove(path: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.request<void>('remove', path, signal, (cb) => this.connection.sftp.unlink(path, cb));
    } catch (e) {
      if (e instanceof FerryError && e.code === 'NOT_FOUND') return;
      throw e;
    }
  }

  async loginFolder(signal?: AbortSignal): Promise<string> {
    return this.request<string>('realpath', '.', signal, (cb) => this.connection.sftp.realpath('.', cb));
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  /** Whether the server announced extension `name` in the version ssh2 speaks. */
  protected hasExtension(name: string, version = '1'): boolean {
    return (this.connection.sftp as unknown as { _extensions?: Record<string, string> })._extensions?.[name] === version;
  }

  /**
   * Runs one SFTP request: fails fast on a lost connection, with CANCELLED when `signal` aborts,
   * and with TIMEOUT (dropping the connection) when the server does not answer within the idle timeout.
   */
  protected request<T>(operation: string, path: string, signal: AbortSignal | undefined, start: (cb: Callback<T>) => void): Promise<T> {
    const { label, idleTimeoutMs } = this.options;
    if (this.connection.lost) return Promise.reject(this.connection.lost);
    if (signal?.aborted) return Promise.reject(cancelled(`SFTP ${operation} of ${path}`));
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (error: FerryError | undefined, value?: T): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value as T);
      };
      const onAbort = (): void => finish(cancelled(`SFTP ${operation} of ${path}`));
      const timer = setTimeout(() => {
        const error = stalled(label, `SFTP ${operation} of ${path}`, idleTimeoutMs);
        this.connection.abandon(error);
        finish(error);
      }, idleTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const callback: Callback<T> = (error, value) =>
        finish(error ? (this.connection.lost ?? mapSftpError(error, { operation, path, label })) : undefined, value);
      try {
        start(callback);
      } catch (e) {
        callback(e as Error);
      }
    });
  }

  private taken(path: string): DestinationError {
    return alreadyExists(path, this.options.label);
  }

  private notAFolder(path: string): DestinationError {
    return new DestinationError('ALREADY_EXISTS', `${path} on ${this.options.label} is a file, not a folder.`, {
      hint: 'Choose another remote folder, or remove the file that has its name.',
    });
  }
}
