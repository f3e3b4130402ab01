import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/adapters/store/sqliteDatabase';
import { MIGRATIONS } from '../../src/adapters/store/sqliteMigrations';
import { openSqliteStores, type SqliteStores } from '../../src/adapters/store/sqliteStores';
import { hostKeyStoreConformance } from './hostKeyStoreSuite';
import { tempDir } from '../support/tmp';

describe('SqliteHostKeys', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let file = '';
  let n = 0;
  const open: SqliteStores[] = [];
  const connect = (): SqliteStores => {
    const stores = openSqliteStores({ file });
    open.push(stores);
    return stores;
  };

  before(async () => {
    dir = await tempDir('sqlite-hostkeys');
  });
  after(async () => {
    for (const stores of open) stores.close();
    await dir.remove();
  });

  hostKeyStoreConformance('SQLite file', {
    create: async () => {
      file = join(dir.path, `hostkeys-${++n}.db`);
      return connect().hostKeys;
    },
    reopen: async () => connect().hostKeys,
  });

  describe('specific to SQLite', () => {
    it('rows written before key types (schema 4) are kept by the migration as keys of unknown type, then adopted under their type', async () => {
      file = join(dir.path, 'before-key-types.db');
      const old = openSqliteDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version <= 4) });
      old.prepare('INSERT INTO host_keys (host, port, fingerprint, confirmed_at) VALUES (?, ?, ?, ?)').run('legacy.example.com', 22, 'SHA256:old', '2030-01-01T00:00:00.000Z');
      old.close();
      const keys = connect().hostKeys;
      assert.equal(await keys.get('LEGACY.example.com', 22, 'ssh-ed25519'), 'SHA256:old');
      assert.equal(await keys.get('legacy.example.com', 22), 'SHA256:old');
      assert.equal(await keys.trust('legacy.example.com', 22, 'ecdsa-sha2-nistp256', 'SHA256:other'), false, 'refused while the old key may be of that type');
      assert.equal(await keys.trust('legacy.example.com', 22, 'ssh-ed25519', 'SHA256:old'), true);
      assert.equal(await keys.trust('legacy.example.com', 22, 'ecdsa-sha2-nistp256', 'SHA256:other'), true);
      const db = openSqliteDatabase(file);
      try {
        assert.deepEqual(db.prepare('SELECT host, port, key_type, fingerprint, confirmed_at FROM host_keys ORDER BY key_type').all().map((r) => ({ ...(r as object), confirmed_at: undefined })), [
          { host: 'legacy.example.com', port: 22, key_type: 'ecdsa-sha2-nistp256', fingerprint: 'SHA256:other', confirmed_at: undefined },
          { host: 'legacy.example.com', port: 22, key_type: 'ssh-ed25519', fingerprint: 'SHA256:old', confirmed_at: undefined },
        ]);
        assert.equal((db.prepare("SELECT confirmed_at FROM host_keys WHERE key_type = 'ssh-ed25519'").get() as { confirmed_at: string }).confirmed_at, '2030-01-01T00:00:00.000Z');
      } finally {
        db.close();
      }
    });
  });
});
