import type Database from 'better-sqlite3';
import { DEFAULT_CHAIN, sealAuditRecord, type ChainHead } from '../../domain/auditChain';
import type { AuditEvent, AuditFilter, AuditLog, AuditReader, AuditRecord } from '../../ports/auditLog';
import type { SqliteDatabase } from './sqliteDatabase';
import { storeErrorFromSqlite } from './sqliteErrors';

export interface SqliteAuditOptions {
  /** The chain appended to and read. Default DEFAULT_CHAIN ("fileferry"). */
  chain?: string;
  /** The HMAC key: when set every record carries `hmac` (see domain/auditChain.ts). */
  key?: Buffer;
  /** Rows read per query by `read`. Default 500. */
  pageSize?: number;
  /** The clock that stamps `at`. Default: the system clock (tests pass a fixed one). */
  now?: () => Date;
}

/** How many times an append re-seals after losing its `seq` to another writer. */
const MAX_RESEALS = 5;

/**
 * The hash-chained audit log in the SQLite table `audit_records`, keyed by (chain, seq).
 *
 * `append` runs one `BEGIN IMMEDIATE` transaction: it takes the file's write lock (waiting up to
 * busy_timeout for another process), reads the head, seals the next record with
 * `sealAuditRecord` and inserts it. The primary key makes a fork impossible: should the insert
 * still meet an existing (chain, seq), the record is re-read and re-sealed. It resolves once the
 * transaction committed, and returns the record exactly as stored.
 *
 * Storage: `record` holds `JSON.stringify` of the sealed record (every field, `hash` and `hmac`
 * included) and is read back with `JSON.parse`, which restores every string and number exactly;
 * `at` and `request_id` are copies for the filters. `read` pages through by seq (`pageSize` rows
 * per query, no statement held open across pages), so a large log never sits in memory.
 *
 * Throws StoreError: TIMEOUT (retryable) when the lock stays taken past busy_timeout, DISK_FULL,
 * ACCESS_DENIED, INTERNAL (see sqliteErrors.ts).
 */
export class SqliteAudit implements AuditLog, AuditReader {
  private readonly chain: string;
  private readonly pageSize: number;
  private readonly statements: ReturnType<typeof prepare>;
  private readonly sealAndInsert: Database.Transaction<(event: AuditEvent) => AuditRecord>;

  /** `db` is opened (and migrated) by openSqliteDatabase; `file` names it in errors. */
  constructor(
    db: SqliteDatabase,
    private readonly options: SqliteAuditOptions = {},
    private readonly file: string = db.name,
  ) {
    this.chain = options.chain ?? DEFAULT_CHAIN;
    this.pageSize = Math.max(1, Math.floor(options.pageSize ?? 500));
    this.statements = prepare(db);
    this.sealAndInsert = db.transaction((event: AuditEvent): AuditRecord => {
      const sealed = sealAuditRecord(event, this.headNow(), { chain: this.chain, at: (this.options.now ?? (() => new Date()))(), key: this.options.key });
      const json = JSON.stringify(sealed);
      this.statements.insert.run(this.chain, sealed.seq, sealed.at, sealed.requestId ?? null, json);
      // What is stored, not the caller's objects: a later change to `event.details` cannot show.
      return JSON.parse(json) as AuditRecord;
    });
  }

  async append(event: AuditEvent): Promise<AuditRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        return this.sealAndInsert.immediate(event);
      } catch (e) {
        if ((e as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && attempt < MAX_RESEALS) continue;
        throw storeErrorFromSqlite(e, this.file, `appending ${event.type} to the audit chain ${this.chain}`);
      }
    }
  }

  async *read(filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
    let after = 0;
    for (;;) {
      const rows = this.run('reading the audit chain', () =>
        this.statements.page.all({ chain: this.chain, after, since: filter.since ?? null, until: filter.until ?? null, requestId: filter.requestId ?? null, limit: this.pageSize }),
      );
      for (const row of rows) yield JSON.parse(row.record) as AuditRecord;
      if (rows.length < this.pageSize) return;
      after = rows.at(-1)!.seq;
    }
  }

  async head(): Promise<ChainHead | undefined> {
    return this.run('reading the audit chain head', () => this.headNow());
  }

  async readAll(): Promise<AuditRecord[]> {
    const all: AuditRecord[] = [];
    for await (const r of this.read()) all.push(r);
    return all;
  }

  private headNow(): ChainHead | undefined {
    const row = this.statements.head.get(this.chain);
    if (!row) return undefined;
    const last = JSON.parse(row.record) as AuditRecord;
    return { seq: last.seq, hash: last.hash };
  }

  private run<T>(doing: string, action: () => T): T {
    try {
      return action();
    } catch (e) {
      throw storeErrorFromSqlite(e, this.file, doing);
    }
  }
}

interface PageParams {
  chain: string;
  after: number;
  since: string | null;
  until: string | null;
  requestId: string | null;
  limit: number;
}

function prepare(db: SqliteDatabase) {
  return {
    insert: db.prepare<[string, number, string, string | null, string]>('INSERT INTO audit_records (chain, seq, at, request_id, record) VALUES (?, ?, ?, ?, ?)'),
    head: db.prepare<[string], { record: string }>('SELECT record FROM audit_records WHERE chain = ? ORDER BY seq DESC LIMIT 1'),
    page: db.prepare<[PageParams], { seq: number; record: string }>(
      `SELECT seq, record FROM audit_records
       WHERE chain = @chain AND seq > @after
         AND (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
         AND (@requestId IS NULL OR request_id = @requestId)
       ORDER BY seq LIMIT @limit`,
    ),
  };
}
