import { StoreError, isFerryError } from '../../domain/errors';

/**
 * Maps what better-sqlite3 (or the file system under it) throws to a StoreError naming the
 * database file and what was being done. By SQLite's primary result code (the part of
 * `SQLITE_BUSY_SNAPSHOT` before the second underscore):
 * - BUSY, LOCKED: another connection held the lock past `busy_timeout` → TIMEOUT (retryable);
 * - FULL, and ENOSPC/EDQUOT from the file system → DISK_FULL;
 * - READONLY, CANTOPEN, PERM, AUTH, and EACCES/EPERM/EROFS (or a file where its folder should be:
 *   ENOTDIR/EEXIST) → ACCESS_DENIED, with the path;
 * - CORRUPT, NOTADB → INTERNAL, with a hint to check and restore the file;
 * - CONSTRAINT → CONFLICT (a row with that key exists);
 * - anything else → INTERNAL. A FerryError passes through unchanged.
 */
export function storeErrorFromSqlite(e: unknown, file: string, doing: string): StoreError {
  if (isFerryError(e)) return e as StoreError;
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  const primary = code.startsWith('SQLITE_') ? code.split('_').slice(0, 2).join('_') : code;
  const detail = `${code || (e as Error)?.message || 'unknown error'}`;
  const options = (hint: string, retryable?: boolean) => ({ hint, cause: e, ...(retryable === undefined ? {} : { retryable }) });
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StoreError('TIMEOUT', `The database ${file} stayed locked by another connection while ${doing} (${detail}).`, options('Try again; if it persists, look for a process holding a long transaction on the file.', true));
    case 'SQLITE_FULL':
    case 'ENOSPC':
    case 'EDQUOT':
      return new StoreError('DISK_FULL', `The database ${file} cannot grow while ${doing}: the disk is full (${detail}).`, options('Free space on the data disk (FILEFERRY_DATA_DIR).'));
    case 'SQLITE_READONLY':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EEXIST':
      return new StoreError('ACCESS_DENIED', `FileFerry cannot open or write the database ${file} while ${doing} (${detail}).`, options('Give the service read and write access to the file, its -wal and -shm files and their folder (FILEFERRY_DATA_DIR).'));
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return new StoreError('INTERNAL', `The database ${file} is damaged or is not a SQLite database (${detail}), found while ${doing}.`, options(`Stop FileFerry, run \`sqlite3 ${file} "PRAGMA integrity_check"\`, and restore the file from a backup; then run \`fileferry audit verify\`.`));
    case 'SQLITE_CONSTRAINT':
      return new StoreError('CONFLICT', `A row with the same key is already in the database ${file} (${detail}), found while ${doing}.`, options('Read the current row and try again.'));
    default:
      return new StoreError('INTERNAL', `The database ${file} failed while ${doing} (${detail}).`, options('The log has the detail; check FILEFERRY_DATA_DIR and the file.'));
  }
}
