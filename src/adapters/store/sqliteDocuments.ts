import type Database from 'better-sqlite3';
import type { DocumentStore, ListOptions, PutOptions, StoredDocument } from '../../ports/documentStore';
import { bodyJson, checkVersion, unreadableDocument } from './documentConditions';
import type { SqliteDatabase } from './sqliteDatabase';
import { storeErrorFromSqlite } from './sqliteErrors';

export interface SqliteDocumentsOptions {
  /** The clock that stamps `updatedAt` and decides expiry. Default: the system clock. */
  now?: () => Date;
}

/** Expired rows removed by one put, so the purge stays a small, bounded part of a write. */
const PURGE_BATCH = 100;

interface Row {
  id: string;
  version: number;
  body: string;
  updated_at: string;
  expires_at: string | null;
}

/**
 * The DocumentStore in the SQLite table `documents` (see sqliteMigrations.ts), keyed by
 * (collection, id), the body as JSON text.
 *
 * A put is one `BEGIN IMMEDIATE` transaction: it takes the file's write lock (so a second process
 * waits, up to busy_timeout), reads the current row, checks `ifVersion` against it (an expired row
 * counts as absent, version 0) and writes version + 1. Two writers racing on one version thus
 * serialise, and the second sees the first's version and gets CONFLICT. Each put also removes up to
 * PURGE_BATCH expired rows of any collection, through the partial index on `expires_at`.
 *
 * Expiry compares ISO-8601 UTC strings as written by `toISOString` (one length, so string order is
 * time order). Ids sort with SQLite's BINARY collation, which compares UTF-8 bytes: the byte-wise
 * order the port promises.
 *
 * Throws StoreError: CONFLICT (the condition failed), TIMEOUT (the lock stayed taken), DISK_FULL,
 * ACCESS_DENIED, INTERNAL (see sqliteErrors.ts).
 */
export class SqliteDocuments implements DocumentStore {
  private readonly statements: ReturnType<typeof prepare>;
  private readonly now: () => Date;
  private readonly write: Database.Transaction<(collection: string, id: string, json: string, options: PutOptions) => number>;
  private readonly remove: Database.Transaction<(collection: string, id: string, ifVersion: number | undefined) => void>;

  /** `db` is opened (and migrated) by openSqliteDatabase; `file` names it in errors. */
  constructor(
    db: SqliteDatabase,
    options: SqliteDocumentsOptions = {},
    private readonly file: string = db.name,
  ) {
    this.now = options.now ?? (() => new Date());
    this.statements = prepare(db);
    this.write = db.transaction((collection: string, id: string, json: string, put: PutOptions): number => {
      const now = this.now().toISOString();
      const current = this.liveRow(collection, id, now);
      checkVersion(collection, id, current?.version ?? 0, put.ifVersion);
      const version = (current?.version ?? 0) + 1;
      this.statements.upsert.run({ collection, id, version, body: json, updatedAt: now, expiresAt: put.expiresAt ? put.expiresAt.toISOString() : null });
      this.statements.purge.run(now, PURGE_BATCH);
      return version;
    });
    this.remove = db.transaction((collection: string, id: string, ifVersion: number | undefined): void => {
      const current = this.liveRow(collection, id, this.now().toISOString());
      checkVersion(collection, id, current?.version ?? 0, ifVersion);
      this.statements.delete.run(collection, id);
    });
  }

  async get<T>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const row = this.run(`reading the document ${collection}/${id}`, () => this.liveRow(collection, id, this.now().toISOString()));
    return row && toDocument<T>(row, collection);
  }

  async put<T>(collection: string, id: string, body: T, options: PutOptions = {}): Promise<number> {
    const json = bodyJson(body, collection, id);
    return this.run(`writing the document ${collection}/${id}`, () => this.write.immediate(collection, id, json, options));
  }

  async delete(collection: string, id: string, ifVersion?: number): Promise<void> {
    this.run(`deleting the document ${collection}/${id}`, () => this.remove.immediate(collection, id, ifVersion));
  }

  async list<T>(collection: string, options: ListOptions = {}): Promise<StoredDocument<T>[]> {
    const { prefix = '', after, limit = 100 } = options;
    if (limit <= 0) return [];
    const rows = this.run(`listing the documents of ${collection}`, () =>
      this.statements.list.all({ collection, prefix, after: after ?? null, now: this.now().toISOString(), limit: Math.floor(limit) }),
    );
    return rows.map((row) => toDocument<T>(row, collection));
  }

  /** The row unless it has expired at `now` (an expired row reads as absent). */
  private liveRow(collection: string, id: string, now: string): Row | undefined {
    const row = this.statements.get.get(collection, id);
    return row && (row.expires_at === null || row.expires_at > now) ? row : undefined;
  }

  private run<T>(doing: string, action: () => T): T {
    try {
      return action();
    } catch (e) {
      throw storeErrorFromSqlite(e, this.file, doing);
    }
  }
}

function toDocument<T>(row: Row, collection: string): StoredDocument<T> {
  let body: T;
  try {
    body = JSON.parse(row.body) as T;
  } catch (e) {
    throw unreadableDocument(collection, row.id, e);
  }
  return { id: row.id, version: row.version, body, updatedAt: row.updated_at, ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}) };
}

interface UpsertParams {
  collection: string;
  id: string;
  version: number;
  body: string;
  updatedAt: string;
  expiresAt: string | null;
}

interface ListParams {
  collection: string;
  prefix: string;
  after: string | null;
  now: string;
  limit: number;
}

function prepare(db: SqliteDatabase) {
  return {
    get: db.prepare<[string, string], Row>('SELECT id, version, body, updated_at, expires_at FROM documents WHERE collection = ? AND id = ?'),
    upsert: db.prepare<[UpsertParams]>(
      `INSERT INTO documents (collection, id, version, body, updated_at, expires_at) VALUES (@collection, @id, @version, @body, @updatedAt, @expiresAt)
       ON CONFLICT (collection, id) DO UPDATE SET version = excluded.version, body = excluded.body, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
    ),
    delete: db.prepare<[string, string]>('DELETE FROM documents WHERE collection = ? AND id = ?'),
    purge: db.prepare<[string, number]>(
      `DELETE FROM documents WHERE (collection, id) IN
         (SELECT collection, id FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
    ),
    // `id >= @prefix` lets the primary key start at the prefix; substr checks it (both count characters).
    list: db.prepare<[ListParams], Row>(
      `SELECT id, version, body, updated_at, expires_at FROM documents
       WHERE collection = @collection AND id >= @prefix AND substr(id, 1, length(@prefix)) = @prefix
         AND (@after IS NULL OR id > @after)
         AND (expires_at IS NULL OR expires_at > @now)
       ORDER BY id LIMIT @limit`,
    ),
  };
}
