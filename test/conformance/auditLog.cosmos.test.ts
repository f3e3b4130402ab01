import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { CONTAINER_SPECS, auditItemId, auditSeqOfId, withoutSystemFields } from '../../src/adapters/store/cosmosContainers';
import { openCosmosStores, type CosmosStores } from '../../src/adapters/store/cosmosStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import { StoreError } from '../../src/domain/errors';
import type { AuditRecord } from '../../src/ports/auditLog';
import { isCreate, startCosmosServer, type CosmosTestServer } from '../support/cosmosServer';
import { expectFailure } from '../support/expectFailure';
import { auditLogConformance, type AuditTamper } from './auditLogSuite';

type Item = Record<string, unknown> & { id: string };

describe('CosmosAudit (cosmosdb-server)', function () {
  let server: CosmosTestServer;
  const opened: CosmosStores[] = [];
  /** The chain of the most recent create(): each test gets fresh, empty storage (its own partition). */
  let chain = '';
  let key: Buffer | undefined;

  before(async () => {
    server = await startCosmosServer();
  });
  after(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    await server?.stop();
  });

  /** A new client each time, so `reopen` is a restart that shares nothing with the instance before it. */
  function open(options: { endpoint?: string; database?: string } = {}): CosmosStores {
    const stores = openCosmosStores({
      endpoint: options.endpoint ?? server.endpoint,
      key: server.key,
      database: options.database ?? server.database,
      chain,
      auditKey: key,
      clientOptions: server.clientOptions,
    });
    opened.push(stores);
    return stores;
  }
  const container = (): Container => server.admin.database(server.database).container(CONTAINER_SPECS.audit.id);
  const fresh = (): void => void (chain = `test-${randomBytes(6).toString('hex')}`);

  /** Every item of the chain, read with the harness's own client, in storage (id) order. */
  async function items(): Promise<Item[]> {
    const { resources } = await container()
      .items.query<Item>({ query: 'SELECT * FROM c WHERE c.chain = @chain', parameters: [{ name: '@chain', value: chain }] }, { partitionKey: chain })
      .fetchAll();
    return resources.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  const record = (item: Item): AuditRecord => withoutSystemFields<AuditRecord>(item, ['id']);
  async function itemOf(seq: number): Promise<Item> {
    const found = (await items()).find((i) => i.seq === seq);
    assert.ok(found, `an item holds record ${seq}`);
    return found;
  }
  /** Writes `content` under `id`, replacing what was there. */
  const put = (id: string, content: AuditRecord): Promise<unknown> => container().items.upsert({ ...content, id });
  const drop = (id: string): Promise<unknown> => container().item(id, chain).delete();

  // Edits made past the adapter, as someone with the account key would: the item id is the
  // record's place, so "moving a record" puts its content under another id.
  const tamper: AuditTamper = {
    async alter(seq, mutate) {
      const item = await itemOf(seq);
      const content = record(item);
      mutate(content);
      await put(item.id, content);
    },
    async remove(seq) {
      await drop((await itemOf(seq)).id);
    },
    async insert(afterSeq, inserted) {
      const place = auditSeqOfId(chain, (await itemOf(afterSeq)).id)!;
      const later = (await items()).filter((i) => auditSeqOfId(chain, i.id)! > place).reverse();
      for (const item of later) {
        // Keys move up one (from the last down), content unchanged.
        await container().items.create({ ...record(item), id: auditItemId(chain, auditSeqOfId(chain, item.id)! + 1) });
        await drop(item.id);
      }
      await container().items.create({ ...inserted, id: auditItemId(chain, place + 1) });
    },
    async swap(seqA, seqB) {
      const [a, b] = [await itemOf(seqA), await itemOf(seqB)];
      await put(a.id, record(b));
      await put(b.id, record(a));
    },
  };

  auditLogConformance('Cosmos DB (cosmosdb-server)', {
    create: async () => {
      fresh();
      key = undefined;
      return open().audit;
    },
    createKeyed: async (k) => {
      fresh();
      key = k;
      return open().audit;
    },
    readAll: async () => (await items()).map(record),
    reopen: async () => open().audit,
    // Nothing listens on port 1: every call is refused (NETWORK).
    unwritable: async () => open({ endpoint: 'https://127.0.0.1:1/' }).audit,
    tamper,
  });

  describe('specific to Cosmos DB', () => {
    beforeEach(() => {
      fresh();
      key = undefined;
    });

    it('record n is the item <chain>:<n, 12 digits> in the partition of its chain, holding the record as returned', async () => {
      const audit = open().audit;
      const first = await audit.append({ type: 'request.created', actor: '29:user-1', requestId: 'FF-00000001' });
      const second = await audit.append({ type: 'request.cancelled', actor: '29:user-1', requestId: 'FF-00000001' });
      const stored = await items();
      assert.deepEqual(stored.map((i) => i.id), [`${chain}:000000000001`, `${chain}:000000000002`]);
      assert.deepEqual(stored.map(record), [first, second]);
      const { resource } = await container().item(`${chain}:000000000002`, chain).read();
      assert.equal(resource.chain, chain);
    });

    it('read pages through a chain longer than one page in seq order, and filters by request ID and time', async () => {
      const audit = open().audit;
      const written: AuditRecord[] = [];
      for (let i = 0; i < 230; i++) written.push(await audit.append({ type: 'transfer.progress', actor: 'system', requestId: i % 50 === 7 ? 'FF-SPARSE' : 'FF-BUSY', details: { i } }));
      const reader = open().audit;
      assert.deepEqual(await reader.readAll(), written);
      assert.deepEqual(await reader.head(), { seq: 230, hash: written[229]!.hash });
      const sparse = [];
      for await (const r of reader.read({ requestId: 'FF-SPARSE' })) sparse.push(r.seq);
      assert.deepEqual(sparse, [8, 58, 108, 158, 208]);
      const mid = written[120]!.at;
      const since = [];
      for await (const r of reader.read({ since: mid, requestId: 'FF-SPARSE' })) since.push(r.seq);
      assert.deepEqual(since, sparse.filter((s) => written[s - 1]!.at >= mid));
      const none = [];
      for await (const r of reader.read({ requestId: 'FF-NOBODY' })) none.push(r);
      assert.deepEqual(none, []);
    });

    it('head and read of an empty chain', async () => {
      const audit = open().audit;
      assert.equal(await audit.head(), undefined);
      assert.deepEqual(await audit.readAll(), []);
    });

    it('a missing database or container is INVALID_CONFIG naming it and infra/cosmos.bicep', async () => {
      const noDb = await expectFailure(open({ database: 'not-deployed' }).audit.append({ type: 'x', actor: 'system' }), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(noDb.message, /no database not-deployed/);
      assert.match(noDb.hint, /infra\/cosmos\.bicep/);
      const bare = 'bare-database';
      await server.admin.databases.createIfNotExists({ id: bare });
      const noContainer = await expectFailure(open({ database: bare }).audit.head(), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(noContainer.message, /no container audit in the database bare-database/);
    });

    it('errors map to StoreError codes; the SDK does not retry a write on its own', async () => {
      const audit = open().audit;
      const cases: Array<[Parameters<CosmosTestServer['failNext']>[0], string]> = [
        [{ status: 429, headers: { 'x-ms-retry-after-ms': '1500' } }, 'THROTTLED'],
        [{ status: 401 }, 'AUTH_FAILED'],
        [{ status: 403, headers: { 'x-ms-substatus': '5301' } }, 'ACCESS_DENIED'],
        [{ status: 408 }, 'TIMEOUT'],
        [{ status: 500 }, 'SERVER_ERROR'],
        [{ status: 503 }, 'SERVER_ERROR'],
        [{ cut: true }, 'NETWORK'],
      ];
      let appended = 0;
      for (const [fault, code] of cases) {
        await audit.append({ type: 'fine', actor: 'system' });
        appended++;
        server.failNext({ ...fault, when: isCreate });
        server.seen.length = 0;
        const e = await expectFailure(audit.append({ type: 'x', actor: 'system' }), { type: StoreError, code: code as StoreError['code'], withHint: true });
        assert.deepEqual(server.seen.filter(isCreate).length, 1, `${code}: one create, no retry by the SDK (${JSON.stringify(server.seen)})`);
        if (code === 'THROTTLED') assert.match(e.message, /wait 1500 ms/);
        assert.equal(e.retryable, ['THROTTLED', 'TIMEOUT', 'SERVER_ERROR', 'NETWORK'].includes(code), `${code} retryable`);
      }
      // After the failures the chain goes on where it was and verifies.
      await audit.append({ type: 'after', actor: 'system' });
      const verdict = await verifyAuditChain((await items()).map(record));
      assert.deepEqual(verdict.ok && verdict.count, appended + 1, JSON.stringify(verdict));
    });

    it('a client that does not trust the server certificate is refused (TLS_CERT_INVALID): verification is on', async () => {
      const stores = openCosmosStores({ endpoint: server.endpoint, key: server.key, chain });
      opened.push(stores);
      await expectFailure(stores.audit.head(), { type: StoreError, code: 'TLS_CERT_INVALID' });
    });

    it('an item whose content is not the record its id stands for stops appends with a clear CONFLICT', async () => {
      const audit = open().audit;
      for (let i = 1; i <= 3; i++) await audit.append({ type: 'x', actor: 'system', details: { i } });
      const stored = await items();
      // Record 3's content copied to the place of a record 4 (a replay past the adapter).
      await container().items.create({ ...record(stored[2]!), id: auditItemId(chain, 4) });
      const again = open().audit;
      await again.head();
      const e = await expectFailure(again.append({ type: 'y', actor: 'system' }), { type: StoreError, code: 'CONFLICT', withHint: true });
      assert.match(e.message, /holds record 3, not record 4/);
      assert.equal(e.retryable, false);
    });
  });
});
