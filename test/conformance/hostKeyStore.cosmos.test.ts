import { strict as assert } from 'node:assert';
import { CONTAINER_SPECS, hostKeyItemId } from '../../src/adapters/store/cosmosContainers';
import { openCosmosStores, type CosmosStores } from '../../src/adapters/store/cosmosStores';
import { StoreError } from '../../src/domain/errors';
import { startCosmosServer, type CosmosTestServer } from '../support/cosmosServer';
import { expectFailure } from '../support/expectFailure';
import { hostKeyStoreConformance } from './hostKeyStoreSuite';

describe('CosmosHostKeys (cosmosdb-server)', () => {
  let server: CosmosTestServer;
  const opened: CosmosStores[] = [];
  /** A new client each time: `reopen` is a restart, sharing nothing with the instance before it. */
  const connect = (): CosmosStores => {
    const stores = openCosmosStores({ endpoint: server.endpoint, key: server.key, database: server.database, clientOptions: server.clientOptions });
    opened.push(stores);
    return stores;
  };

  before(async () => {
    server = await startCosmosServer();
  });
  after(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    await server?.stop();
  });

  // One container for every test (the suite keeps them apart by host name).
  hostKeyStoreConformance('Cosmos DB (cosmosdb-server)', {
    create: async () => connect().hostKeys,
    reopen: async () => connect().hostKeys,
  });

  describe('specific to Cosmos DB', () => {
    it('one item per host:port (host lower-cased, IPv6 bracketed) holding its keys by type and when each was confirmed', async () => {
      assert.equal(hostKeyItemId('SFTP.Example.COM', 22), 'sftp.example.com:22');
      assert.equal(hostKeyItemId('FD00::1', 2222), '[fd00::1]:2222');
      assert.equal(hostKeyItemId('[fd00::1]', 2222), '[fd00::1]:2222');
      const keys = connect().hostKeys;
      assert.equal(await keys.trust('FD00::1', 2222, 'ssh-ed25519', 'SHA256:ipv6'), true);
      assert.equal(await keys.trust('FD00::1', 2222, 'ecdsa-sha2-nistp256', 'SHA256:ipv6-ecdsa'), true);
      assert.equal(await keys.get('fd00::1', 2222, 'ssh-ed25519'), 'SHA256:ipv6');
      const { resource } = await server.admin.database(server.database).container(CONTAINER_SPECS.hostKeys.id).item('[fd00::1]:2222', '[fd00::1]:2222').read();
      assert.equal(resource.keys['ssh-ed25519'].fingerprint, 'SHA256:ipv6');
      assert.equal(resource.keys['ecdsa-sha2-nistp256'].fingerprint, 'SHA256:ipv6-ecdsa');
      assert.equal(resource.port, 2222);
      assert.match(resource.keys['ssh-ed25519'].confirmedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(resource.fingerprint, undefined, 'no key of unknown type');
    });

    it('an item from before key types (fingerprint, confirmedAt) is still read, and adopted under its type', async () => {
      const container = server.admin.database(server.database).container(CONTAINER_SPECS.hostKeys.id);
      await container.items.create({ id: 'legacy.example.com:22', host: 'legacy.example.com', port: 22, fingerprint: 'SHA256:old', confirmedAt: '2030-01-01T00:00:00.000Z' });
      const keys = connect().hostKeys;
      assert.equal(await keys.get('legacy.example.com', 22, 'ssh-ed25519'), 'SHA256:old');
      assert.equal(await keys.trust('legacy.example.com', 22, 'ecdsa-sha2-nistp256', 'SHA256:other'), false);
      assert.equal(await keys.trust('legacy.example.com', 22, 'ssh-ed25519', 'SHA256:old'), true);
      assert.equal(await keys.trust('legacy.example.com', 22, 'ecdsa-sha2-nistp256', 'SHA256:other'), true);
      const { resource } = await container.item('legacy.example.com:22', 'legacy.example.com:22').read();
      assert.equal(resource.fingerprint, undefined);
      assert.equal(resource.keys['ssh-ed25519'].confirmedAt, '2030-01-01T00:00:00.000Z', 'it keeps when it was first confirmed');
    });

    it('after close, every call is StoreError INTERNAL', async () => {
      const stores = connect();
      await stores.hostKeys.trust('closing.example.com', 22, 'ssh-ed25519', 'SHA256:x');
      await stores.close();
      await stores.close();
      await expectFailure(stores.hostKeys.get('closing.example.com', 22), { type: StoreError, code: 'INTERNAL' });
    });

    it('two processes confirming different keys at once: one wins for both', async () => {
      const [a, b] = [connect().hostKeys, connect().hostKeys];
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).trust('race.example.com', 22, 'ssh-ed25519', `SHA256:key-${i}`)));
      assert.equal(results.filter(Boolean).length, 1, `exactly one wins: ${results.join(',')}`);
      const winner = `SHA256:key-${results.indexOf(true)}`;
      assert.equal(await a.get('race.example.com', 22, 'ssh-ed25519'), winner);
      assert.equal(await b.get('race.example.com', 22, 'ssh-ed25519'), winner);
    });
  });
});
