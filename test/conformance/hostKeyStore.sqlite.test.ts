import { join } from 'node:path';
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
});
