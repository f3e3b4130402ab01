import type { RequestRecord } from '../../domain/requestRecord';
import type { RequestRepository } from '../../ports/requestRepository';
import type { SqliteDatabase } from './sqliteDatabase';
import { storeErrorFromSqlite } from './sqliteErrors';

/**
 * Request records in the SQLite table `requests` (see sqliteMigrations.ts): the record as JSON in
 * `record`, with `user_id`, `state`, `created_at` and `updated_at` copied out for the indexes.
 * Every call parses or serialises afresh, so callers always get and give copies. Times compare
 * as the ISO UTC strings the records hold. Throws StoreError (TIMEOUT when another process holds
 * the file's lock past busy_timeout, DISK_FULL, ACCESS_DENIED, INTERNAL; see sqliteErrors.ts).
 */
export class SqliteRequestRepository implements RequestRepository {
  private readonly statements: ReturnType<typeof prepare>;

  /** `db` is opened (and migrated) by openSqliteDatabase; `file` names it in errors. */
  constructor(
    db: SqliteDatabase,
    private readonly file: string = db.name,
  ) {
    this.statements = prepare(db);
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const row = this.run(`reading request ${requestId}`, () => this.statements.get.get(requestId));
    return row && (JSON.parse(row.record) as RequestRecord);
  }

  async put(record: RequestRecord): Promise<void> {
    const json = JSON.stringify(record);
    this.run(`saving request ${record.id}`, () => this.statements.put.run(record.id, record.owner.userId, record.state, record.createdAt, record.updatedAt, json));
  }

  async listByUser(userId: string, limit: number): Promise<RequestRecord[]> {
    const rows = this.run(`listing the requests of ${userId}`, () => this.statements.byUser.all(userId, Math.max(0, Math.floor(limit))));
    return rows.map((r) => JSON.parse(r.record) as RequestRecord);
  }

  async listStale(states: readonly RequestRecord['state'][], before: Date): Promise<RequestRecord[]> {
    if (states.length === 0) return [];
    const rows = this.run('listing stale requests', () => this.statements.stale.all(JSON.stringify(states), before.toISOString()));
    return rows.map((r) => JSON.parse(r.record) as RequestRecord);
  }

  private run<T>(doing: string, action: () => T): T {
    try {
      return action();
    } catch (e) {
      throw storeErrorFromSqlite(e, this.file, doing);
    }
  }
}

function prepare(db: SqliteDatabase) {
  return {
    get: db.prepare<[string], { record: string }>('SELECT record FROM requests WHERE id = ?'),
    put: db.prepare<[string, string, string, string, string, string]>(
      `INSERT INTO requests (id, user_id, state, created_at, updated_at, record) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, state = excluded.state,
         created_at = excluded.created_at, updated_at = excluded.updated_at, record = excluded.record`,
    ),
    byUser: db.prepare<[string, number], { record: string }>('SELECT record FROM requests WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
    stale: db.prepare<[string, string], { record: string }>('SELECT record FROM requests WHERE state IN (SELECT value FROM json_each(?)) AND updated_at < ?'),
  };
}
