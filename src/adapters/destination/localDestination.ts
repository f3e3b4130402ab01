
import { mkdir, open, rename, rm, stat, link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DestinationError, FerryError, cancelled, type ErrorCode } from '../../domain/errors';
import { ALREADY_EXISTS_HINT } from '../../domain/errorFactories';
import type { Destination, DestinationSession, RemoteStat, WriteOptions } from '../../ports/destination';
import { checkRemotePath } from '../../transfer/remotePath';

/**
 * A folder on this machine acting as a destination server: the embedded default ("Local outbox")
 * and the fast path in tests. Remote paths are absolute inside `root`; checkRemotePath has already
 * refused '..', so joining cannot escape the root.
 */
export class LocalDestination implements Destination {
  readonly label: string;
  constructor(private readonly options: { root: string; label?: string }) {
    this.label = options.label ?? `file://${options.root}`;
  }

  async connect(signal?: AbortSignal): Promise<DestinationSession> {
    if (signal?.aborted) throw cancelled();
    const info = await stat(this.options.root).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new DestinationError('NOT_FOUND', `The local destination folder ${this.options.root} does not exist.`, {
        hint: 'Create the folder or point the destination at an existing one.',
      });
    }
    return new LocalSession(this.options.root);
  }
}

class LocalSession implements DestinationSession {
  readonly resumeMode = 'offset' as const;
  constructor(private readonly root: string) {}

  private real(path: string): string {
    return join(this.root, checkRemotePath(path));
  }

  async stat(path: string): Promise<RemoteStat | undefined> {
    try {
      const s = await stat(this.real(path));
      return { size: s.size, isDirectory: s.isDirectory() };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw mapFsError(e, path);
    }
  }

  async ensureDir(path: string): Promise<void> {
    await mkdir(this.real(path), { recursive: true }).catch((e) => { throw mapFsError(e, path); });
  }

  async write(path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> {
    const flags = options.offset === 0 ? 'w' : 'r+';
    const file = await open(this.real(path), flags).catch((e) => { throw mapFsError(e, path); });
    try {
      let position = options.offset;
      let written = 0;
      for await (const chunk of data) {
        if (options.signal?.aborted) throw cancelled();
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await file.write(chunk, done, chunk.length - done, position);
          done += bytesWritten;
          position += bytesWritten;
        }
        written += chunk.length;
        options.onAcknowledged?.(written);
      }
      await file.sync();
    } catch (e) {
      // Errors from the data (source faults, cancel) pass through; only file-system errors are mapped.
      throw e instanceof FerryError || !(e as NodeJS.ErrnoException).syscall ? e : mapFsError(e, path);
    } finally {
      await file.close().catch(() => undefined);
    }
  }

  async rename(from: string, to: string, options: { replace: boolean }): Promise<void> {
    const source = this.real(from);
    const target = this.real(to);
    try {
      if (options.replace) {
        await rename(source, target);
      } else {
        await renameWithoutReplace(source, target);
      }
    } catch (e) {
      throw mapFsError(e, to);
    }
  }

  async remove(path: string): Promise<void> {
    await rm(this.real(path), { force: true }).catch((e) => { throw mapFsError(e, path); });
  }

  async close(): Promise<void> {}
}

/**
 * link() fails with EEXIST instead of replacing, which makes "no replace" race-free. File systems
 * without hard links (SMB, FAT, some FUSE mounts) refuse link(); there a check-then-rename is the
 * best available, with a small window in which another writer could slip in.
 */
async function renameWithoutReplace(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
    await unlink(source);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno !== 'EPERM' && errno !== 'ENOTSUP' && errno !== 'EOPNOTSUPP' && errno !== 'ENOSYS') throw e;
    const taken = await stat(target).then(() => true, () => false);
    if (taken) throw Object.assign(new Error('target exists'), { code: 'EEXIST', syscall: 'rename' });
    await rename(source, target);
  }
}

function mapFsError(e: unknown, path: string): DestinationError {
  const errno = (e as NodeJS.ErrnoException).code;
  const table: Record<string, [ErrorCode, string]> = {
    ENOENT: ['NOT_FOUND', 'Check that the folder exists.'],
    ENOTDIR: ['NOT_FOUND', 'A part of the path is a file, not a folder.'],
    EACCES: ['ACCESS_DENIED', 'Give the service write access to the folder.'],
    EPERM: ['ACCESS_DENIED', 'Give the service write access to the folder.'],
    EEXIST: ['ALREADY_EXISTS', ALREADY_EXISTS_HINT],
    ENOSPC: ['DISK_FULL', 'Free space on the destination disk, then retry.'],
    EDQUOT: ['DISK_FULL', 'Free space on the destination disk, then retry.'],
  };
  const [code, hint] = table[errno ?? ''] ?? ['SERVER_ERROR', 'Retry; if it persists, check the destination disk.'];
  return new DestinationError(code, `Local destination: ${errno ?? 'error'} on ${path}.`, { hint, cause: e });
}

