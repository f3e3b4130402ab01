import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAudit } from '../../src/adapters/store/sqliteAudit';
import { openSqliteDatabase, schemaVersion, type SqliteDatabase } from '../../src/adapters/store/sqliteDatabase';
import { MIGRATIONS } from '../../src/adapters/store/sqliteMigrations';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import { StoreError } from '../../src/domain/errors';
import type { AuditRecord } from '../../src/ports/auditLog';
import { expectFailure } from '../support/expectFailure';
import { tempDir } from '../support/tmp';

const LATEST = MIGRATIONS.at(-1)!.version;

describe('SQLite stores: the database file', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let n = 0;
  const cleanup: Array<() => void> = [];
  const newFile = (): string => join(dir.path, `case-${++n}`, 'fileferry.db');
  /** A connection of the test's own, past the adapters. */
  const raw = <T>(file: string, use: (db: Database.Database) => T): T => {
    const db = new Database(file);
    try {
      return use(db);
    } finally {
      db.close();
    }
  };

  before(async () => {
    dir = await tempDir('sqlite-stores');
  });
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });
  after(async () => dir.remove());

  const opened = (db: SqliteDatabase): SqliteDatabase => {
    cleanup.push(() => db.open && db.close());
    return db;
  };

  describe('opening and migrations', () => {
    it('a new file (and its folder) is created in WAL mode with busy_timeout and foreign keys, at the latest schema', () => {
      const file = newFile();
      const db = opened(openSqliteDatabase(file, { busyTimeoutMs: 1234 }));
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
      assert.deepEqual(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all(), MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      assert.equal(schemaVersion(db), LATEST);
    });

    it('reopening applies nothing again and keeps the data', async () => {
      const file = newFile();
      const first = openSqliteStores({ file });
      await first.requests.put({ id: 'FF-1', state: 'draft', revision: 1, owner: { userId: 'u', name: 'U' }, conversation: {}, createdAt: '2031-01-01T00:00:00.000Z', updatedAt: '2031-01-01T00:00:00.000Z' });
      const before = raw(file, (db) => db.prepare('SELECT * FROM schema_migrations ORDER BY version').all());
      first.close();
      const again = openSqliteStores({ file });
      cleanup.push(() => again.close());
      assert.deepEqual(raw(file, (db) => db.prepare('SELECT * FROM schema_migrations ORDER BY version').all()), before);
      assert.equal((await again.requests.get('FF-1'))?.state, 'draft');
    });

    it('a later migration is applied once, in order, on the next open', () => {
      const file = newFile();
      opened(openSqliteDatabase(file)).close();
      const next = [...MIGRATIONS, { version: LATEST + 1, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT;' }];
      const db = opened(openSqliteDatabase(file, { migrations: next }));
      assert.equal(schemaVersion(db), LATEST + 1);
      db.close();
      const again = opened(openSqliteDatabase(file, { migrations: next }));
      assert.equal((again.prepare('SELECT COUNT(*) AS c FROM schema_migrations WHERE version = ?').get(LATEST + 1) as { c: number }).c, 1);
    });

    it('a migration that fails is rolled back whole, and the error says which file', async () => {
      const file = newFile();
      opened(openSqliteDatabase(file)).close();
      const broken = [...MIGRATIONS, { version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);' }];
      const error = await expectFailure(Promise.resolve().then(() => openSqliteDatabase(file, { migrations: broken })), { type: StoreError, code: 'INTERNAL' });
      assert.ok(error.message.includes(file), error.message);
      raw(file, (db) => {
        assert.equal(schemaVersion(db), LATEST);
        assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), undefined, 'the half-made table is gone');
      });
    });

    it('a schema newer than this FileFerry knows is refused with INVALID_CONFIG, naming both versions', async () => {
      const file = newFile();
      opened(openSqliteDatabase(file)).close();
      raw(file, (db) => db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST + 5, 'from the future', new Date().toISOString()));
      const error = await expectFailure(Promise.resolve().then(() => openSqliteStores({ file })), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(error.message, new RegExp(`schema version ${LATEST + 5}, newer than the ${LATEST}`));
      assert.equal(error.retryable, false);
    });

    it('a file that is not a SQLite database: INTERNAL, with a hint to check and restore it', async () => {
      const file = newFile();
      opened(openSqliteDatabase(file)).close();
      await writeFile(file, 'this is a text file, not a database\n'.repeat(200));
      const error = await expectFailure(Promise.resolve().then(() => openSqliteStores({ file })), { type: StoreError, code: 'INTERNAL', withHint: true });
      assert.match(error.message, /damaged or is not a SQLite database/);
      assert.match(error.hint, /integrity_check/);
    });

    it('a folder that cannot be created: ACCESS_DENIED naming the file', async () => {
      const blocker = join(dir.path, `plain-file-${++n}`);
      await writeFile(blocker, 'x');
      const file = join(blocker, 'fileferry.db');
      const error = await expectFailure(Promise.resolve().then(() => openSqliteStores({ file })), { type: StoreError, code: 'ACCESS_DENIED', withHint: true });
      assert.ok(error.message.includes(file), error.message);
    });
  });

  describe('failures while running', () => {
    it('another connection holding the write lock past busy_timeout: TIMEOUT, retryable; the chain continues once it lets go', async () => {
      const file = newFile();
      const stores = openSqliteStores({ file, busyTimeoutMs: 20 });
      cleanup.push(() => stores.close());
      const blocker = new Database(file);
      blocker.exec('BEGIN IMMEDIATE');
      try {
        const error = await expectFailure(stores.audit.append({ type: 'x', actor: 'system' }), { type: StoreError, code: 'TIMEOUT', withHint: true });
        assert.equal(error.retryable, true);
        await expectFailure(stores.hostKeys.trust('h', 22, 'ssh-ed25519', 'SHA256:x'), { type: StoreError, code: 'TIMEOUT' });
      } finally {
        blocker.exec('ROLLBACK');
        blocker.close();
      }
      assert.equal((await stores.audit.append({ type: 'x', actor: 'system' })).seq, 1, 'the refused append left no trace');
      assert.equal(await stores.hostKeys.trust('h', 22, 'ssh-ed25519', 'SHA256:x'), true);
    });

    it('after close, every store throws StoreError and close is idempotent', async () => {
      const stores = openSqliteStores({ file: newFile() });
      stores.close();
      stores.close();
      await expectFailure(stores.requests.get('FF-1'), { type: StoreError, code: 'INTERNAL' });
      await expectFailure(stores.hostKeys.get('h', 22), { type: StoreError, code: 'INTERNAL' });
      await expectFailure(stores.audit.append({ type: 'x', actor: 'system' }), { type: StoreError, code: 'INTERNAL' });
      await expectFailure(stores.audit.head(), { type: StoreError, code: 'INTERNAL' });
    });
  });

  describe('the audit table', () => {
    const T0 = Date.UTC(2031, 2, 14, 9, 0, 0, 0);
    /** An audit log on `db` whose clock advances one minute per append, from T0. */
    function clocked(db: SqliteDatabase, options: { pageSize?: number; chain?: string } = {}): SqliteAudit {
      let minute = 0;
      return new SqliteAudit(db, { ...options, now: () => new Date(T0 + minute++ * 60_000) });
    }
    const collect = async (records: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> => {
      const out: AuditRecord[] = [];
      for await (const r of records) out.push(r);
      return out;
    };
    const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString();

    it('stores each record as its JSON, with seq, at and request ID copied into columns', async () => {
      const file = newFile();
      const audit = clocked(opened(openSqliteDatabase(file)));
      const record = await audit.append({ type: 'request.created', requestId: 'FF-1', actor: '29:ann', details: { env: 'PROD' } });
      const row = raw(file, (db) => db.prepare('SELECT chain, seq, at, request_id, record FROM audit_records').get());
      assert.deepEqual(row, { chain: 'fileferry', seq: 1, at: at(0), request_id: 'FF-1', record: JSON.stringify(record) });
    });

    it('read pages through the chain in seq order, and an append between pages is fine', async () => {
      const db = opened(openSqliteDatabase(newFile()));
      const audit = clocked(db, { pageSize: 2 });
      for (let i = 0; i < 7; i++) await audit.append({ type: 'step', actor: 'system', details: { i } });
      const seen: number[] = [];
      for await (const r of audit.read()) {
        seen.push(r.seq);
        // No statement is held open across pages: writing on the same connection mid-read works.
        if (r.seq === 3) await audit.append({ type: 'step', actor: 'system', details: { i: 7 } });
      }
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(await audit.head(), { seq: 8, hash: (await audit.readAll()).at(-1)!.hash });
    });

    it('read filters: since inclusive, until exclusive, by request, across pages', async () => {
      const audit = clocked(opened(openSqliteDatabase(newFile())), { pageSize: 2 });
      for (let i = 0; i < 10; i++) await audit.append({ type: 'step', actor: 'system', requestId: i % 2 ? 'FF-ODD' : 'FF-EVEN', details: { i } });
      const seqs = async (filter: Parameters<SqliteAudit['read']>[0]) => (await collect(audit.read(filter))).map((r) => r.seq);
      assert.deepEqual(await seqs({ since: at(3), until: at(7) }), [4, 5, 6, 7]);
      assert.deepEqual(await seqs({ requestId: 'FF-ODD' }), [2, 4, 6, 8, 10]);
      assert.deepEqual(await seqs({ since: at(4), requestId: 'FF-EVEN' }), [5, 7, 9]);
      assert.deepEqual(await seqs({ requestId: 'FF-NONE' }), []);
    });

    it('chains are kept apart: each has its own seq from 1 and its own head', async () => {
      const db = opened(openSqliteDatabase(newFile()));
      const a = clocked(db, { chain: 'a' });
      const b = clocked(db, { chain: 'b' });
      await a.append({ type: 'x', actor: 'system' });
      await b.append({ type: 'x', actor: 'system' });
      await a.append({ type: 'x', actor: 'system' });
      assert.deepEqual((await a.readAll()).map((r) => [r.chain, r.seq]), [['a', 1], ['a', 2]]);
      assert.deepEqual((await b.readAll()).map((r) => [r.chain, r.seq]), [['b', 1]]);
      assert.equal((await verifyAuditChain(a.read())).ok, true);
    });

    // BEGIN IMMEDIATE already serialises writers on one file; this is the belt to those braces:
    // a head read that turns out stale makes the insert meet the primary key, and the append
    // re-reads and re-seals instead of failing or forking.
    it('an insert that meets an existing (chain, seq) re-reads the head and re-seals, never forking', async () => {
      const audit = clocked(opened(openSqliteDatabase(newFile())));
      const first = await audit.append({ type: 'first', actor: 'system' });
      const spy = audit as unknown as { headNow: () => unknown };
      const real = spy.headNow.bind(audit);
      let calls = 0;
      spy.headNow = () => (++calls === 1 ? undefined : real()); // the first read misses record 1
      const late = await audit.append({ type: 'late', actor: 'system' });
      assert.equal(calls, 2, 'sealed twice');
      assert.deepEqual([late.seq, late.prevHash], [2, first.hash]);
      const all = await audit.readAll();
      assert.deepEqual(all.map((r) => [r.seq, r.type]), [[1, 'first'], [2, 'late']]);
      assert.equal((await verifyAuditChain(all)).ok, true);
    });
  });
});
