import { strict as assert } from 'node:assert';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDocuments } from '../../src/adapters/store/dynamoDocuments';
import { openDynamoStores, type DynamoStores } from '../../src/adapters/store/dynamoStores';
import { StoreError } from '../../src/domain/errors';
import { startDynalite, type DynaliteServer } from '../support/dynaliteServer';
import { expectFailure } from '../support/expectFailure';
import { documentStoreConformance } from './documentStoreSuite';

const PREFIX = 'FerryDocumentsTest';
const TABLE = `${PREFIX}Documents`;

describe('DynamoDocuments', () => {
  let server: DynaliteServer;
  const open: DynamoStores[] = [];
  /** A new client each time: `reopen` is a restart, sharing nothing with the instance before it. */
  const connect = (now?: () => Date): DynamoDocuments => new DynamoDocuments(DynamoDBDocumentClient.from(server.client()), { table: TABLE, ...(now ? { now } : {}) });

  before(async () => {
    server = await startDynalite();
    await server.createTables(PREFIX);
  });
  after(async () => {
    for (const stores of open) await stores.close();
    await server.stop();
  });

  // One table for every test (the suite keeps them apart by collection).
  documentStoreConformance('DynamoDB (dynalite)', {
    create: async (now) => connect(now),
    reopen: async (now) => connect(now),
  });

  describe('specific to DynamoDB', () => {
    it('openDynamoStores has them; one item per (collection, id) with version, the JSON body and the TTL in epoch seconds', async () => {
      const stores = openDynamoStores({ tablePrefix: PREFIX, client: server.client() });
      open.push(stores);
      assert.equal(stores.tables.documents, TABLE);
      const expiresAt = new Date(Date.UTC(2031, 2, 14, 9, 30, 0, 250));
      assert.equal(await stores.documents.put('claims', 's3/bucket/key.csv', { owner: 'bot-1' }, { ifVersion: 0, expiresAt }), 1);
      const out = await server.client().send(new GetItemCommand({ TableName: TABLE, Key: { collection: { S: 'claims' }, id: { S: 's3/bucket/key.csv' } }, ConsistentRead: true }));
      assert.equal(out.Item?.version?.N, '1');
      assert.equal(out.Item?.record_json?.S, '{"owner":"bot-1"}');
      assert.equal(out.Item?.expires_at?.N, String(Math.ceil(expiresAt.getTime() / 1000)), 'TTL rounds up, so DynamoDB never deletes early');
      assert.equal(out.Item?.expires_at_ms?.N, String(expiresAt.getTime()));
      await stores.check();
    });

    it('a missing table is INVALID_CONFIG naming it', async () => {
      const docs = new DynamoDocuments(DynamoDBDocumentClient.from(server.client()), { table: 'NotDeployedDocuments' });
      const e = await expectFailure(docs.put('c', 'id', 1), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /NotDeployedDocuments/);
    });

    it('two processes creating one id at once: exactly one wins', async () => {
      const [a, b] = [connect(), connect()];
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).put('race', 'one', { by: i }, { ifVersion: 0 })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, results.map((r) => r.status).join(','));
    });
  });
});
