import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store/sqliteDatabase';
import { SqliteDocuments } from '../../src/adapters/store/sqliteDocuments';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { tempDir } from '../support/tmp';
import { documentStoreConformance } from './documentStoreSuite';

describe('SqliteDocuments', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let file = '';
  let n = 0;
  const open: SqliteDatabase[] = [];
  const connect = (): SqliteDatabase => {
    const db = openSqliteDatabase(file);
    open.push(db);
    return db;
  };

  before(async () => {
    dir = await tempDir('sqlite-documents');
  });
  after(async () => {
    for (const db of open) db.close();
    await dir.remove();
  });

  documentStoreConformance('SQLite file', {
    create: async (now) => {
      file = join(dir.path, `documents-${++n}.db`);
      return new SqliteDocuments(connect(), { now });
    },
    // A restart: a second connection to the same file (the first stays open, as another process would).
    reopen: async (now) => new SqliteDocuments(connect(), { now }),
  });

  describe('specific to SQLite', () => {
    it('openSqliteStores has them, over the table documents keyed by (collection, id)', async () => {
      file = join(dir.path, 'stores.db');
      const stores = openSqliteStores({ file });
      try {
        assert.equal(await stores.documents.put('idempotency', 'FF-1:confirm', { outcome: 'ok' }, { ifVersion: 0 }), 1);
        const db = connect();
        const rows = db.prepare('SELECT collection, id, version, body, expires_at FROM documents').all();
        assert.deepEqual(rows, [{ collection: 'idempotency', id: 'FF-1:confirm', version: 1, body: '{"outcome":"ok"}', expires_at: null }]);
      } finally {
        stores.close();
      }
    });

    it('a put purges expired rows of any collection', async () => {
      file = join(dir.path, 'purge.db');
      let clock = Date.parse('2031-01-01T00:00:00.000Z');
      const docs = new SqliteDocuments(connect(), { now: () => new Date(clock) });
      await docs.put('claims', 'old', 1, { expiresAt: new Date(clock + 1000) });
      await docs.put('claims', 'kept', 1, { expiresAt: new Date(clock + 60_000) });
      clock += 2000;
      await docs.put('other', 'x', 1);
      const left = connect().prepare('SELECT collection, id FROM documents ORDER BY collection, id').all();
      assert.deepEqual(left, [{ collection: 'claims', id: 'kept' }, { collection: 'other', id: 'x' }]);
    });
  });
});
