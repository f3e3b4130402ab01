import { strict as assert } from 'node:assert';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { hostPort } from '../../src/adapters/store/dynamoHostKeys';
import { openDynamoStores, type DynamoStores } from '../../src/adapters/store/dynamoStores';
import { StoreError } from '../../src/domain/errors';
import { startDynalite, type DynaliteServer } from '../support/dynaliteServer';
import { expectFailure } from '../support/expectFailure';
import { hostKeyStoreConformance } from './hostKeyStoreSuite';

const PREFIX = 'FerryHostKeyTest';

describe('DynamoHostKeys', () => {
  let server: DynaliteServer;
  const open: DynamoStores[] = [];
  const connect = (prefix = PREFIX): DynamoStores => {
    const stores = openDynamoStores({ tablePrefix: prefix, client: server.client() });
    open.push(stores);
    return stores;
  };

  before(async () => {
    server = await startDynalite();
    await server.createTables(PREFIX);
  });
  after(async () => {
    for (const stores of open) await stores.close();
    await server.stop();
  });

  // One table for every test (the suite keeps them apart by host name); a restart is a new client.
  hostKeyStoreConformance('DynamoDB (dynalite)', {
    create: async () => connect().hostKeys,
    reopen: async () => connect().hostKeys,
  });

  describe('specific to DynamoDB', () => {
    it('one item per host_port (host lower-cased, IPv6 bracketed) holding its keys by type and when each was confirmed', async () => {
      assert.equal(hostPort('SFTP.Example.COM', 22), 'sftp.example.com:22');
      assert.equal(hostPort('FD00::1', 2222), '[fd00::1]:2222');
      assert.equal(hostPort('[fd00::1]', 2222), '[fd00::1]:2222');
      const keys = connect().hostKeys;
      assert.equal(await keys.trust('FD00::1', 2222, 'ssh-ed25519', 'SHA256:ipv6'), true);
      assert.equal(await keys.trust('FD00::1', 2222, 'ecdsa-sha2-nistp256', 'SHA256:ipv6-ecdsa'), true);
      assert.equal(await keys.get('fd00::1', 2222, 'ssh-ed25519'), 'SHA256:ipv6');
      const out = await server.client().send(new GetItemCommand({ TableName: `${PREFIX}HostKeys`, Key: { host_port: { S: '[fd00::1]:2222' } }, ConsistentRead: true }));
      assert.equal(out.Item?.keys?.M?.['ssh-ed25519']?.M?.fingerprint?.S, 'SHA256:ipv6');
      assert.equal(out.Item?.keys?.M?.['ecdsa-sha2-nistp256']?.M?.fingerprint?.S, 'SHA256:ipv6-ecdsa');
      assert.match(out.Item?.keys?.M?.['ssh-ed25519']?.M?.confirmed_at?.S ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(out.Item?.fingerprint, undefined, 'no key of unknown type');
    });

    it('an item from before key types (host_port, fingerprint, confirmed_at) is still read, and adopted under its type', async () => {
      await server.client().send(
        new PutItemCommand({ TableName: `${PREFIX}HostKeys`, Item: { host_port: { S: 'legacy.example.com:22' }, fingerprint: { S: 'SHA256:old' }, confirmed_at: { S: '2030-01-01T00:00:00.000Z' } } }),
      );
      const keys = connect().hostKeys;
      assert.equal(await keys.get('legacy.example.com', 22, 'ssh-ed25519'), 'SHA256:old');
      assert.equal(await keys.trust('legacy.example.com', 22, 'ecdsa-sha2-nistp256', 'SHA256:other'), false);
      assert.equal(await keys.trust('legacy.example.com', 22, 'ssh-ed25519', 'SHA256:old'), true);
      assert.equal(await keys.trust('legacy.example.com', 22, 'ecdsa-sha2-nistp256', 'SHA256:other'), true);
      const out = await server.client().send(new GetItemCommand({ TableName: `${PREFIX}HostKeys`, Key: { host_port: { S: 'legacy.example.com:22' } }, ConsistentRead: true }));
      assert.equal(out.Item?.fingerprint, undefined);
      assert.equal(out.Item?.keys?.M?.['ssh-ed25519']?.M?.confirmed_at?.S, '2030-01-01T00:00:00.000Z', 'it keeps when it was first confirmed');
    });

    it('two processes confirming different keys at once: one wins for both', async () => {
      const [a, b] = [connect().hostKeys, connect().hostKeys];
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).trust('race.example.com', 22, 'ssh-ed25519', `SHA256:key-${i}`)));
      assert.equal(results.filter(Boolean).length, 1, `exactly one wins: ${results.join(',')}`);
      const winner = `SHA256:key-${results.indexOf(true)}`;
      assert.equal(await a.get('race.example.com', 22, 'ssh-ed25519'), winner);
      assert.equal(await b.get('race.example.com', 22, 'ssh-ed25519'), winner);
    });

    it('a missing table is INVALID_CONFIG naming it', async () => {
      const e = await expectFailure(connect('NotDeployed').hostKeys.trust('h', 22, 'ssh-ed25519', 'SHA256:x'), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /NotDeployedHostKeys/);
    });
  });
});
