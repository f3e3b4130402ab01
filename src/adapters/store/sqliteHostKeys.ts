import type { HostKeyStore } from '../../ports/hostKeyStore';
import type { SqliteDatabase } from './sqliteDatabase';
import { storeErrorFromSqlite } from './sqliteErrors';

/**
 * Confirmed SFTP host keys in the SQLite table `host_keys`, keyed by (host lowercased, port).
 * `trust` inserts only when no key is confirmed (INSERT … ON CONFLICT DO NOTHING) and then reads
 * the row back, so two processes confirming different keys at once agree on the first one
 * written, and the loser is told false. Throws StoreError (see sqliteErrors.ts).
 */
export class SqliteHostKeys implements HostKeyStore {
  private readonly statements: ReturnType<typeof prepare>;

  /** `db` is opened (and migrated) by openSqliteDatabase; `file` names it in errors. */
  constructor(
    db: SqliteDatabase,
    private readonly file: string = db.name,
  ) {
    this.statements = prepare(db);
  }

  async get(host: string, port: number): Promise<string | undefined> {
    return this.run(`reading the host key of ${host}:${port}`, () => this.statements.get.get(host.toLowerCase(), port)?.fingerprint);
  }

  async trust(host: string, port: number, fingerprint: string): Promise<boolean> {
    return this.run(`confirming the host key of ${host}:${port}`, () => {
      this.statements.insert.run(host.toLowerCase(), port, fingerprint, new Date().toISOString());
      return this.statements.get.get(host.toLowerCase(), port)?.fingerprint === fingerprint;
    });
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
    get: db.prepare<[string, number], { fingerprint: string }>('SELECT fingerprint FROM host_keys WHERE host = ? AND port = ?'),
    insert: db.prepare<[string, number, string, string]>('INSERT INTO host_keys (host, port, fingerprint, confirmed_at) VALUES (?, ?, ?, ?) ON CONFLICT (host, port) DO NOTHING'),
  };
}
