import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../domain/errors';
import { storeErrorFromSqlite } from './sqliteErrors';
import { MIGRATIONS, type Migration } from './sqliteMigrations';

export type SqliteDatabase = Database.Database;

export interface SqliteOpenOptions {
  /** How long a statement waits for another connection's lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** SQLite's `synchronous`: NORMAL (default) is safe against a crashed process in WAL mode; FULL also against power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** The migrations to apply (tests). Default: MIGRATIONS. */
  migrations?: readonly Migration[];
}

/**
 * Opens (creating it and its folder if needed) the SQLite database `file` with better-sqlite3:
 * WAL journal, `busy_timeout` (two processes on one file wait for each other rather than fail),
 * foreign keys on; then brings its schema up to date.
 *
 * Migrations: `schema_migrations(version, name, applied_at)` records what was applied. Each
 * missing migration runs in its own `BEGIN IMMEDIATE` transaction that first re-reads the applied
 * version, so two processes opening a new file at once apply each migration exactly once, and a
 * reopen applies nothing.
 *
 * Throws StoreError: INVALID_CONFIG when the file's schema is newer than this FileFerry knows
 * (a newer version wrote it) or the file system cannot hold a WAL database, ACCESS_DENIED, DISK_FULL, TIMEOUT, INTERNAL (a damaged file) — see
 * sqliteErrors.ts. The connection is closed again when opening fails.
 */
export function openSqliteDatabase(file: string, options: SqliteOpenOptions = {}): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const mode = switchToWal(db, busyTimeoutMs);
    if (mode !== 'wal' && file !== ':memory:') {
      throw new StoreError('INVALID_CONFIG', `The database ${file} cannot use SQLite's WAL journal here (it stayed in ${String(mode)} mode).`, {
        hint: 'Put FILEFERRY_DATA_DIR on a local disk: WAL needs shared memory, which network file systems do not give.',
      });
    }
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, file, options.migrations ?? MIGRATIONS);
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // The open error is the one to report.
    }
    throw storeErrorFromSqlite(e, file, 'opening it');
  }
}

/**
 * `journal_mode = WAL`, retried on SQLITE_BUSY for up to `timeoutMs`: a connection that reads the
 * schema and then needs the file to itself to switch the journal gets SQLITE_BUSY at once, without
 * the busy handler (waiting could deadlock two such connections), when another process opens the
 * same file at that moment (seen in test/integration/sqliteTwoProcesses.test.ts).
 */
function switchToWal(db: SqliteDatabase, timeoutMs: number): unknown {
  const until = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return db.pragma('journal_mode = WAL', { simple: true });
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= until) throw e;
      Atomics.wait(pause, 0, 0, 10 + Math.floor(Math.random() * 20));
    }
  }
}

/** The schema version of an open database: the highest applied migration, 0 for a new file. */
export function schemaVersion(db: SqliteDatabase): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  return table ? (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v : 0;
}

function migrate(db: SqliteDatabase, file: string, migrations: readonly Migration[]): void {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const check = (current: number): void => {
    if (current <= latest) return;
    throw new StoreError('INVALID_CONFIG', `The database ${file} has schema version ${current}, newer than the ${latest} this FileFerry knows: a newer FileFerry wrote it.`, {
      hint: 'Run the newer FileFerry, or point FILEFERRY_DATA_DIR at another folder; never downgrade over a newer database.',
    });
  };
  const current = schemaVersion(db);
  check(current);
  if (current === latest) return;
  const apply = db.transaction((m: Migration) => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
    // Re-read under the write lock: another process may have migrated since.
    const now = schemaVersion(db);
    check(now);
    if (now >= m.version) return;
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
  });
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) apply.immediate(m);
}
