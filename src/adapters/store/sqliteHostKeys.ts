import type Database from 'better-sqlite3';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import { confirmedKey, trustDecision, type HostKeyEntry } from './hostKeyEntries';
import type { SqliteDatabase } from './sqliteDatabase';
import { storeErrorFromSqlite } from './sqliteErrors';

/**
 * Confirmed SFTP host keys in the SQLite table `host_keys`, one row per (host lowercased, port,
 * key_type); `key_type` '' is a key of unknown type (rows from before key types were recorded).
 * `trust` is one `BEGIN IMMEDIATE` transaction: it reads the rows of host:port under the file's
 * write lock, applies the rules of hostKeyEntries.ts and writes the result, so two processes
 * confirming keys at once serialise and agree on the first one written. Throws StoreError (see
 * sqliteErrors.ts).
 */
export class SqliteHostKeys implements HostKeyStore {
  private readonly statements: ReturnType<typeof prepare>;
  private readonly decide: Database.Transaction<(host: string, port: number, keyType: string | undefined, fingerprint: string) => boolean>;

  /** `db` is opened (and migrated) by openSqliteDatabase; `file` names it in errors. */
  constructor(
    db: SqliteDatabase,
    private readonly file: string = db.name,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.statements = prepare(db);
    this.decide = db.transaction((host: string, port: number, keyType: string | undefined, fingerprint: string): boolean => {
      const decision = trustDecision(this.entries(host, port), keyType, fingerprint, this.now());
      if (decision.next) {
        this.statements.clear.run(host, port);
        for (const e of decision.next) this.statements.insert.run(host, port, e.keyType, e.fingerprint, e.confirmedAt);
      }
      return decision.trusted;
    });
  }

  async get(host: string, port: number, keyType?: string): Promise<string | undefined> {
    return this.run(`reading the host key of ${host}:${port}`, () => confirmedKey(this.entries(host.toLowerCase(), port), keyType));
  }

  async trust(host: string, port: number, keyType: string | undefined, fingerprint: string): Promise<boolean> {
    return this.run(`confirming the host key of ${host}:${port}`, () => this.decide.immediate(host.toLowerCase(), port, keyType, fingerprint));
  }

  private entries(host: string, port: number): HostKeyEntry[] {
    return this.statements.entries.all(host, port).map((r) => ({ keyType: r.key_type, fingerprint: r.fingerprint, confirmedAt: r.confirmed_at }));
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
    entries: db.prepare<[string, number], { key_type: string; fingerprint: string; confirmed_at: string }>('SELECT key_type, fingerprint, confirmed_at FROM host_keys WHERE host = ? AND port = ?'),
    clear: db.prepare<[string, number]>('DELETE FROM host_keys WHERE host = ? AND port = ?'),
    insert: db.prepare<[string, number, string, string, string]>('INSERT INTO host_keys (host, port, key_type, fingerprint, confirmed_at) VALUES (?, ?, ?, ?, ?)'),
  };
}
