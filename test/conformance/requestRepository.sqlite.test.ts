import { join } from 'node:path';
import { openSqliteStores, type SqliteStores } from '../../src/adapters/store/sqliteStores';
import { requestRepositoryConformance } from './requestRepositorySuite';
import { tempDir } from '../support/tmp';

describe('SqliteRequestRepository', () => {
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
    dir = await tempDir('sqlite-requests');
  });
  after(async () => {
    for (const stores of open) stores.close();
    await dir.remove();
  });

  requestRepositoryConformance('SQLite file', {
    create: async () => {
      file = join(dir.path, `requests-${++n}.db`);
      return connect().requests;
    },
    // A restart: a second connection to the same file (the first stays open, as another process would).
    reopen: async () => connect().requests,
  });
});
