import { strict as assert } from 'node:assert';
import Database from 'better-sqlite3';
import { storeErrorFromSqlite } from '../../src/adapters/store/sqliteErrors';
import { StoreError, type ErrorCode } from '../../src/domain/errors';

/** What better-sqlite3 throws: a SqliteError carrying SQLite's extended result code. */
const sqlite = (code: string): Error => new Database.SqliteError(`sqlite says ${code}`, code);
const errno = (code: string): Error => Object.assign(new Error(`fs says ${code}`), { code });

describe('storeErrorFromSqlite', () => {
  const FILE = '/var/lib/fileferry/fileferry.db';
  const cases: Array<[Error, ErrorCode, boolean]> = [
    [sqlite('SQLITE_BUSY'), 'TIMEOUT', true],
    [sqlite('SQLITE_BUSY_SNAPSHOT'), 'TIMEOUT', true],
    [sqlite('SQLITE_LOCKED'), 'TIMEOUT', true],
    [sqlite('SQLITE_FULL'), 'DISK_FULL', false],
    [errno('ENOSPC'), 'DISK_FULL', false],
    [sqlite('SQLITE_READONLY'), 'ACCESS_DENIED', false],
    [sqlite('SQLITE_READONLY_DBMOVED'), 'ACCESS_DENIED', false],
    [sqlite('SQLITE_CANTOPEN'), 'ACCESS_DENIED', false],
    [sqlite('SQLITE_PERM'), 'ACCESS_DENIED', false],
    [errno('EACCES'), 'ACCESS_DENIED', false],
    [errno('EROFS'), 'ACCESS_DENIED', false],
    [sqlite('SQLITE_CORRUPT'), 'INTERNAL', false],
    [sqlite('SQLITE_CORRUPT_INDEX'), 'INTERNAL', false],
    [sqlite('SQLITE_NOTADB'), 'INTERNAL', false],
    [sqlite('SQLITE_CONSTRAINT_PRIMARYKEY'), 'CONFLICT', false],
    [sqlite('SQLITE_IOERR_FSYNC'), 'INTERNAL', false],
    [new TypeError('The database connection is not open'), 'INTERNAL', false],
  ];
  for (const [error, code, retryable] of cases) {
    const name = (error as { code?: string }).code ?? error.message;
    it(`${name} → ${code}${retryable ? ' (retryable)' : ''}, naming the file and the step, with a hint`, () => {
      const mapped = storeErrorFromSqlite(error, FILE, 'appending to the audit chain');
      assert.ok(mapped instanceof StoreError);
      assert.equal(mapped.code, code);
      assert.equal(mapped.retryable, retryable);
      assert.ok(mapped.message.includes(FILE) && mapped.message.includes('appending to the audit chain'), mapped.message);
      assert.ok(mapped.hint.length > 0);
      assert.equal(mapped.cause, error);
    });
  }

  it('a corrupt file gets a hint to check and restore it', () => {
    assert.match(storeErrorFromSqlite(sqlite('SQLITE_CORRUPT'), FILE, 'reading').hint, /integrity_check.*backup/);
  });

  it('a StoreError passes through unchanged', () => {
    const original = new StoreError('INVALID_CONFIG', 'newer schema', { hint: 'upgrade' });
    assert.equal(storeErrorFromSqlite(original, FILE, 'opening it'), original);
  });
});
