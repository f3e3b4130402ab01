import { SourceError } from '../../domain/errors';
import { sourceCancelled } from './sourceErrors';

/**
 * A file-system failure as the SourceError the port promises, naming `where` (a file:// location).
 * Missing files are NOT_FOUND, refused ones ACCESS_DENIED; a busy or failing disk is retryable.
 */
export function localFsError(e: unknown, where: string): SourceError {
  if (e instanceof SourceError) return e;
  if ((e as { name?: string })?.name === 'AbortError') return sourceCancelled(where);
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new SourceError('NOT_FOUND', `${where} was not found.`, { hint: 'Check the folder and file name; list the folder to see what is there.', cause: e });
    case 'EACCES':
    case 'EPERM':
      return new SourceError('ACCESS_DENIED', `FileFerry may not read ${where}.`, {
        hint: 'Give the FileFerry service account read permission on it.',
        cause: e,
      });
    case 'ENAMETOOLONG':
    case 'ELOOP':
      return new SourceError('INVALID_PATH', `${where} cannot be opened (${code}).`, { hint: 'Use a shorter path without symlink loops.', cause: e });
    case 'EIO':
    case 'EBUSY':
    case 'EAGAIN':
    case 'EMFILE':
    case 'ENFILE':
      return new SourceError('SERVER_ERROR', `Reading ${where} failed (${code}).`, { hint: 'The transfer retries; check the disk if it keeps failing.', cause: e });
    default:
      return new SourceError('INTERNAL', `Reading ${where} failed: ${(e as Error)?.message ?? String(e)}`, {
        hint: 'Report this with the request ID; the log has the detail.',
        cause: e,
      });
  }
}
