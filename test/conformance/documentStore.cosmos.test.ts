import { strict as assert } from 'node:assert';
import { CosmosConnection } from '../../src/adapters/store/cosmosConnection';
import { CONTAINER_SPECS } from '../../src/adapters/store/cosmosContainers';
import { CosmosDocuments, cosmosDocumentId } from '../../src/adapters/store/cosmosDocuments';
import { openCosmosStores, type CosmosStores } from '../../src/adapters/store/cosmosStores';
import { StoreError } from '../../src/domain/errors';
import { isCreate, startCosmosServer, type CosmosTestServer } from '../support/cosmosServer';
import { expectFailure } from '../support/expectFailure';
import { documentStoreConformance } from './documentStoreSuite';

describe('CosmosDocuments (cosmosdb-server)', () => {
  let server: CosmosTestServer;
  const connections: CosmosConnection[] = [];
  const opened: CosmosStores[] = [];
  /** A new client each time: `reopen` is a restart, sharing nothing with the instance before it. */
  const connect = (now?: () => Date): CosmosDocuments => {
    const cosmos = new CosmosConnection({ endpoint: server.endpoint, key: server.key, database: server.database, clientOptions: server.clientOptions });
    connections.push(cosmos);
    return new CosmosDocuments(cosmos, now ? { now } : {});
  };

  before(async () => {
    server = await startCosmosServer();
  });
  after(async () => {
    for (const c of connections.splice(0)) await c.close();
    for (const s of opened.splice(0)) await s.close();
    await server?.stop();
  });

  // One container for every test (the suite keeps them apart by collection).
  documentStoreConformance('Cosmos DB (cosmosdb-server)', {
    create: async (now) => connect(now),
    reopen: async (now) => connect(now),
  });

  describe('specific to Cosmos DB', () => {
    it('openCosmosStores has them; the item id is the SHA-256 of the document id, which is kept with the body and a ttl', async () => {
      const stores = openCosmosStores({ endpoint: server.endpoint, key: server.key, database: server.database, clientOptions: server.clientOptions });
      opened.push(stores);
      const id = 'bucket/dir?x#y\\z';
      const expiresAt = new Date(Date.now() + 90_500);
      assert.equal(await stores.documents.put('claims', id, { owner: 'bot-1' }, { ifVersion: 0, expiresAt }), 1);
      assert.match(cosmosDocumentId(id), /^[0-9a-f]{64}$/);
      const { resource } = await server.admin.database(server.database).container(CONTAINER_SPECS.documents.id).item(cosmosDocumentId(id), 'claims').read();
      assert.equal(resource.docId, id);
      assert.equal(resource.collection, 'claims');
      assert.deepEqual(resource.body, { owner: 'bot-1' });
      assert.equal(resource.version, 1);
      assert.ok(resource.ttl >= 90 && resource.ttl <= 91, `ttl in whole seconds, rounded up: ${resource.ttl}`);
    });

    it('a create lost to a 409 that an expired item caused still succeeds (the expired item is replaced)', async () => {
      let clock = Date.now();
      const docs = connect(() => new Date(clock));
      await docs.put('expiring', 'x', { v: 1 }, { expiresAt: new Date(clock + 1000) });
      clock += 2000;
      server.seen.length = 0;
      assert.equal(await docs.put('expiring', 'x', { v: 2 }, { ifVersion: 0 }), 1);
      assert.ok(server.seen.some((r) => isCreate(r)), 'it tried the create first');
      assert.deepEqual((await docs.get('expiring', 'x'))?.body, { v: 2 });
    });

    it('a throttled write is THROTTLED, not CONFLICT, and writes nothing', async () => {
      const docs = connect();
      await docs.get('throttle', 'warm-up');
      server.failNext({ status: 429, headers: { 'x-ms-retry-after-ms': '100' }, when: isCreate });
      await expectFailure(docs.put('throttle', 'x', 1, { ifVersion: 0 }), { type: StoreError, code: 'THROTTLED', withHint: true });
      assert.equal(await docs.get('throttle', 'x'), undefined);
    });

    it('a missing container is INVALID_CONFIG naming it and infra/cosmos.bicep', async () => {
      const bare = `bare-docs-${Date.now()}`;
      await server.admin.databases.createIfNotExists({ id: bare });
      const cosmos = new CosmosConnection({ endpoint: server.endpoint, key: server.key, database: bare, clientOptions: server.clientOptions });
      connections.push(cosmos);
      const e = await expectFailure(new CosmosDocuments(cosmos).put('c', 'id', 1), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /container documents/);
      assert.match(e.hint, /infra\/cosmos\.bicep/);
    });
  });
});
