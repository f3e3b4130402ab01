import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_CHAIN } from '../../src/domain/auditChain';
import { openSqliteStores, type SqliteStores } from '../../src/adapters/store/sqliteStores';
import type { AuditRecord } from '../../src/ports/auditLog';
import { auditLogConformance, type AuditTamper } from './auditLogSuite';
import { tempDir } from '../support/tmp';

describe('SqliteAudit', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let file = '';
  let n = 0;
  const closers: Array<() => void> = [];
  const connect = (options: { auditKey?: Buffer; busyTimeoutMs?: number } = {}): SqliteStores => {
    const stores = openSqliteStores({ file, ...options });
    closers.push(() => stores.close());
    return stores;
  };
  const fresh = (): string => (file = join(dir.path, `audit-${++n}.db`));
  /** A connection of the test's own, past the adapter: what someone with write access to the file uses. */
  const raw = <T>(use: (db: Database.Database) => T): T => {
    const db = new Database(file);
    try {
      return use(db);
    } finally {
      db.close();
    }
  };

  before(async () => {
    dir = await tempDir('sqlite-audit');
  });
  after(async () => {
    for (const close of closers) close();
    await dir.remove();
  });

  const recordOf = (db: Database.Database, seq: number): AuditRecord => {
    const row = db.prepare<[string, number], { record: string }>('SELECT record FROM audit_records WHERE chain = ? AND seq = ?').get(DEFAULT_CHAIN, seq);
    if (!row) throw new Error(`no record ${seq} in ${file}`);
    return JSON.parse(row.record) as AuditRecord;
  };
  const write = (db: Database.Database, seq: number, record: AuditRecord): void => {
    db.prepare('UPDATE audit_records SET record = ?, at = ?, request_id = ? WHERE chain = ? AND seq = ?').run(JSON.stringify(record), record.at, record.requestId ?? null, DEFAULT_CHAIN, seq);
  };

  // Plain SQL on the table; the (chain, seq) key column is the storage order.
  const tamper: AuditTamper = {
    alter: async (seq, mutate) =>
      raw((db) => {
        const record = recordOf(db, seq);
        mutate(record);
        db.prepare('UPDATE audit_records SET record = ? WHERE chain = ? AND seq = ?').run(JSON.stringify(record), DEFAULT_CHAIN, seq);
      }),
    remove: async (seq) => raw((db) => void db.prepare('DELETE FROM audit_records WHERE chain = ? AND seq = ?').run(DEFAULT_CHAIN, seq)),
    insert: async (afterSeq, record) =>
      raw((db) =>
        db.transaction(() => {
          // Make room: move the later rows' keys up one (through negatives, so no key collides midway).
          db.prepare('UPDATE audit_records SET seq = -(seq + 1) WHERE chain = ? AND seq > ?').run(DEFAULT_CHAIN, afterSeq);
          db.prepare('UPDATE audit_records SET seq = -seq WHERE chain = ? AND seq < 0').run(DEFAULT_CHAIN);
          db.prepare('INSERT INTO audit_records (chain, seq, at, request_id, record) VALUES (?, ?, ?, ?, ?)').run(DEFAULT_CHAIN, afterSeq + 1, record.at, record.requestId ?? null, JSON.stringify(record));
        })(),
      ),
    swap: async (seqA, seqB) =>
      raw((db) =>
        db.transaction(() => {
          const [a, b] = [recordOf(db, seqA), recordOf(db, seqB)];
          write(db, seqA, b);
          write(db, seqB, a);
        })(),
      ),
  };

  auditLogConformance('SQLite file', {
    create: async () => {
      fresh();
      return connect().audit;
    },
    createKeyed: async (key) => {
      fresh();
      return connect({ auditKey: key }).audit;
    },
    readAll: async () => raw((db) => db.prepare<[string], { record: string }>('SELECT record FROM audit_records WHERE chain = ? ORDER BY seq').all(DEFAULT_CHAIN).map((r) => JSON.parse(r.record) as AuditRecord)),
    // A restart: a second connection to the same file (the first stays open, as another process would).
    reopen: async () => connect().audit,
    // Another connection holds the write lock and does not let go within the adapter's busy_timeout.
    unwritable: async () => {
      fresh();
      const audit = connect({ busyTimeoutMs: 20 }).audit;
      const blocker = new Database(file);
      blocker.exec('BEGIN IMMEDIATE');
      closers.push(() => {
        blocker.exec('ROLLBACK');
        blocker.close();
      });
      return audit;
    },
    tamper,
  });
});
