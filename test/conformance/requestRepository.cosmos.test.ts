import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { CONTAINER_SPECS, SYSTEM_FIELDS } from '../../src/adapters/store/cosmosContainers';
import { openCosmosStores, type CosmosStoresOptions, type CosmosStores } from '../../src/adapters/store/cosmosStores';
import { SecretsError, StoreError } from '../../src/domain/errors';
import type { RequestRecord } from '../../src/domain/requestRecord';
import { startCosmosServer, type CosmosTestServer } from '../support/cosmosServer';
import { expectFailure } from '../support/expectFailure';
import { requestRepositoryConformance } from './requestRepositorySuite';

describe('CosmosRequestRepository (cosmosdb-server)', function () {
  let server: CosmosTestServer;
  const opened: CosmosStores[] = [];

  before(async () => {
    server = await startCosmosServer();
  });
  after(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    await server?.stop();
  });

  /** A new client each time: `reopen` is a restart, sharing nothing with the instance before it. */
  function open(options: Partial<CosmosStoresOptions> = {}): CosmosStores {
    const stores = openCosmosStores({ endpoint: server.endpoint, key: server.key, database: server.database, clientOptions: server.clientOptions, ...options });
    opened.push(stores);
    return stores;
  }

  // One container for every test (the suite keeps tests apart by ID and user). The restart
  // resolves its key on first use, as the registry does with COSMOS_KEY_REF.
  requestRepositoryConformance('Cosmos DB (cosmosdb-server)', {
    create: async () => open().requests,
    reopen: async () => open({ key: async () => server.key }).requests,
  });

  describe('specific to Cosmos DB', () => {
    const id = (): string => `FF-${randomBytes(4).toString('hex').toUpperCase()}`;
    const record = (requestId: string, extra: Partial<RequestRecord> = {}): RequestRecord => ({
      id: requestId,
      state: 'transferring',
      revision: 3,
      owner: { userId: '29:cosmos-user', name: 'Zoë — 山田' },
      conversation: { fraction: 0.1 + 0.2, tiny: 5e-324, large: Number.MAX_SAFE_INTEGER, negative: -0.5, text: 'line\u2028sep 🚀 e\u0301' },
      createdAt: '2031-03-14T09:30:00.000Z',
      updatedAt: '2031-03-14T09:31:00.000Z',
      ...extra,
    });

    it('the item is the record under its own id and partition key, plus only Cosmos system fields; numbers and unicode round-trip', async () => {
      const requests = open().requests;
      const r = record(id(), { source: { container: 'c', key: 'dossier été/✓.csv', size: 9_007_199_254_740_991 } });
      await requests.put(r);
      const { resource } = await server.admin.database(server.database).container(CONTAINER_SPECS.requests.id).item(r.id, r.id).read();
      const extra = Object.keys(resource).filter((k) => !(k in r));
      assert.ok(extra.every((k) => (SYSTEM_FIELDS as readonly string[]).includes(k)), `only system fields added: ${extra.join(', ')}`);
      assert.deepEqual(await open().requests.get(r.id), r);
    });

    it('Entra ID when no key is given: the SDK signs with the credential’s token (type=aad)', async () => {
      const scopes: string[] = [];
      const credential: TokenCredential = {
        getToken: async (scope: string | string[], _options?: GetTokenOptions): Promise<AccessToken> => {
          scopes.push(...[scope].flat());
          return { token: 'a-test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      };
      const requests = open({ key: undefined, credential }).requests;
      server.seen.length = 0;
      const r = record(id());
      await requests.put(r);
      assert.deepEqual(await requests.get(r.id), r);
      assert.ok(scopes.length > 0 && scopes.every((s) => s.endsWith('/.default')), `token scopes: ${scopes.join(', ')}`);
      assert.ok(server.seen.length > 0 && server.seen.every((s) => s.authType === 'aad'), JSON.stringify(server.seen.map((s) => s.authType)));
    });

    it('a credential that cannot get a token is AUTH_FAILED', async () => {
      const credential: TokenCredential = {
        getToken: async () => {
          const e = new Error('No managed identity endpoint found.');
          e.name = 'CredentialUnavailableError';
          throw e;
        },
      };
      await expectFailure(open({ key: undefined, credential }).requests.get('FF-00000000'), { type: StoreError, code: 'AUTH_FAILED', withHint: true });
    });

    it('a key reference that does not resolve keeps its SecretsError', async () => {
      const missing = new SecretsError('SECRET_NOT_FOUND', 'No environment variable COSMOS_KEY.', { hint: 'Set it.' });
      await expectFailure(open({ key: async () => Promise.reject(missing) }).requests.get('FF-00000000'), { type: SecretsError, code: 'SECRET_NOT_FOUND' });
    });

    it('a missing container is INVALID_CONFIG naming it and infra/cosmos.bicep', async () => {
      const bare = `bare-${randomBytes(3).toString('hex')}`;
      await server.admin.databases.createIfNotExists({ id: bare });
      const e = await expectFailure(open({ database: bare }).requests.put(record(id())), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, new RegExp(`no container requests in the database ${bare}`));
      assert.match(e.hint, /infra\/cosmos\.bicep/);
    });

    it('a throttled point read is THROTTLED with the retry-after, sent once', async () => {
      const requests = open().requests;
      await requests.get('FF-WARMUP'); // the container check is done
      server.failNext({ status: 429, headers: { 'x-ms-retry-after-ms': '250' } });
      server.seen.length = 0;
      const e = await expectFailure(requests.get('FF-00000000'), { type: StoreError, code: 'THROTTLED', withHint: true });
      assert.match(e.message, /wait 250 ms/);
      assert.equal(server.seen.length, 1);
    });

    it('an endpoint that is not https is refused at once', () => {
      assert.throws(() => openCosmosStores({ endpoint: 'http://127.0.0.1:8081/', key: 'x' }), (e: unknown) => e instanceof StoreError && e.code === 'INVALID_CONFIG');
    });
  });
});
