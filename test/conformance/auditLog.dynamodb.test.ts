import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAudit } from '../../src/adapters/store/dynamoAudit';
import { openDynamoStores, type DynamoStores } from '../../src/adapters/store/dynamoStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import { StoreError } from '../../src/domain/errors';
import type { AuditRecord } from '../../src/ports/auditLog';
import { startDynalite, type DynaliteServer } from '../support/dynaliteServer';
import { expectFailure } from '../support/expectFailure';
import { auditLogConformance, type AuditTamper } from './auditLogSuite';

const PREFIX = 'FerryAuditTest';
const TABLE = `${PREFIX}AuditLog`;

describe('DynamoAudit', () => {
  let server: DynaliteServer;
  /** Past the adapter: a plain document client on the table, as someone with write access would use. */
  let raw: DynamoDBDocumentClient;
  /** Each create() starts a fresh chain (partition) in the one table: fresh, empty storage. */
  let chain = '';
  let key: Buffer | undefined;
  const open: DynamoStores[] = [];
  const connect = (): DynamoStores => {
    const stores = openDynamoStores({ tablePrefix: PREFIX, chain, auditKey: key, client: server.client() });
    open.push(stores);
    return stores;
  };

  before(async () => {
    server = await startDynalite();
    await server.createTables(PREFIX);
    raw = DynamoDBDocumentClient.from(server.client());
  });
  after(async () => {
    for (const stores of open) await stores.close();
    await server.stop();
  });

  /** The stored items of the chain, in key order, as written. */
  async function items(): Promise<Array<{ chain: string; seq: number; record_json: string }>> {
    const out: Array<{ chain: string; seq: number; record_json: string }> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await raw.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: '#c = :c', ExpressionAttributeNames: { '#c': 'chain' }, ExpressionAttributeValues: { ':c': chain }, ConsistentRead: true, ExclusiveStartKey: start }));
      out.push(...((page.Items ?? []) as typeof out));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
  const readAll = async (): Promise<AuditRecord[]> => (await items()).map((i) => JSON.parse(i.record_json) as AuditRecord);
  const putItem = (seq: number, json: string) => raw.send(new PutCommand({ TableName: TABLE, Item: { chain, seq, record_json: json } }));
  const jsonAt = async (seq: number): Promise<string> => {
    const out = await raw.send(new GetCommand({ TableName: TABLE, Key: { chain, seq }, ConsistentRead: true }));
    if (!out.Item) throw new Error(`no item at seq ${seq}`);
    return out.Item.record_json as string;
  };

  const tamper: AuditTamper = {
    async alter(seq, mutate) {
      const record = JSON.parse(await jsonAt(seq)) as AuditRecord;
      mutate(record);
      await putItem(seq, JSON.stringify(record));
    },
    async remove(seq) {
      await raw.send(new DeleteCommand({ TableName: TABLE, Key: { chain, seq } }));
    },
    async insert(afterSeq, record) {
      // Keyed by seq: the later items move up one key (newest first), their content unchanged.
      const later = (await items()).filter((i) => i.seq > afterSeq).sort((a, b) => b.seq - a.seq);
      for (const item of later) await putItem(item.seq + 1, item.record_json);
      await putItem(afterSeq + 1, JSON.stringify(record));
    },
    async swap(seqA, seqB) {
      const [a, b] = [await jsonAt(seqA), await jsonAt(seqB)];
      await putItem(seqA, b);
      await putItem(seqB, a);
    },
  };

  auditLogConformance('DynamoDB (dynalite)', {
    create: async () => {
      chain = `test-${randomBytes(6).toString('hex')}`;
      key = undefined;
      return connect().audit;
    },
    createKeyed: async (k) => {
      chain = `test-${randomBytes(6).toString('hex')}`;
      key = k;
      return connect().audit;
    },
    readAll,
    // A restart: a new client, as a new process would have (the old one stays open).
    reopen: async () => connect().audit,
    // Tables never deployed under this prefix: every write fails (ResourceNotFoundException).
    unwritable: async () => openDynamoStores({ tablePrefix: 'NeverDeployed', client: server.client() }).audit,
    tamper,
  });

  describe('specific to DynamoDB', () => {
    beforeEach(() => {
      chain = `test-${randomBytes(6).toString('hex')}`;
      key = undefined;
    });

    it('each item is keyed chain + seq (N) and holds the sealed record as JSON, exactly as append returned it', async () => {
      const audit = connect().audit;
      const first = await audit.append({ type: 'request.created', actor: '29:user-1', requestId: 'FF-1', details: { fraction: 0.1 + 0.2, tiny: 5e-324 } });
      const [item] = await items();
      assert.equal(item!.chain, chain);
      assert.equal(item!.seq, 1);
      assert.equal(item!.record_json, JSON.stringify(first));
    });

    it('head() is the newest link, read(filter) pages in seq order and filters by time and request', async () => {
      const stores = openDynamoStores({ tablePrefix: PREFIX, chain, client: server.client() });
      open.push(stores);
      // Small pages, so reading crosses several Query pages.
      const audit = new DynamoAudit(DynamoDBDocumentClient.from(server.client()), { table: TABLE, chain, pageSize: 3 });
      assert.equal(await audit.head(), undefined);
      let t = Date.UTC(2031, 0, 1);
      const clocked = new DynamoAudit(DynamoDBDocumentClient.from(server.client()), { table: TABLE, chain, now: () => new Date((t += 60_000)) });
      const written: AuditRecord[] = [];
      for (let i = 0; i < 10; i++) written.push(await clocked.append({ type: 'transfer.progress', actor: 'system', requestId: i % 2 ? 'FF-ODD' : 'FF-EVEN', details: { i } }));
      assert.deepEqual(await audit.head(), { seq: 10, hash: written[9]!.hash });
      assert.deepEqual(await audit.readAll(), written);
      const collect = async (filter: Parameters<typeof audit.read>[0]) => {
        const out: number[] = [];
        for await (const r of audit.read(filter)) out.push(r.seq);
        return out;
      };
      assert.deepEqual(await collect({ requestId: 'FF-ODD' }), [2, 4, 6, 8, 10]);
      assert.deepEqual(await collect({ since: written[3]!.at, until: written[6]!.at }), [4, 5, 6]);
      assert.deepEqual(await collect({ since: written[3]!.at, until: written[6]!.at, requestId: 'FF-EVEN' }), [5]);
      assert.deepEqual((await verifyAuditChain(stores.audit.read())).ok, true, 'the stores’ own reader verifies the chain');
    });

    it('an item whose JSON was destroyed by hand reads as an altered record at its seq, so verify names it', async () => {
      const audit = connect().audit;
      for (let i = 1; i <= 4; i++) await audit.append({ type: 'x', actor: 'system', details: { i } });
      await putItem(3, '{"not json');
      const verdict = await verifyAuditChain(audit.read());
      assert.deepEqual(verdict.ok ? verdict : [verdict.seq, verdict.problem], [3, 'altered']);
    });

    it('a PutItem whose answer was lost and that the SDK retried is recognised as landed: the event is stored once', async () => {
      const client = server.client();
      let lost = 0;
      // Below the SDK's retry step: the first PutItem reaches dynalite and is stored, then its
      // answer is "lost" as a reset connection, so the SDK sends it again and the condition fails.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'PutItemCommand' && lost++ === 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          return result;
        },
        { step: 'deserialize', name: 'loseFirstPutAnswer' },
      );
      const stores = openDynamoStores({ tablePrefix: PREFIX, chain, client });
      open.push(stores);
      const record = await stores.audit.append({ type: 'transfer.completed', actor: 'system', requestId: 'FF-LOST' });
      assert.equal(lost, 2, 'the PutItem was sent twice');
      assert.deepEqual(await readAll(), [record]);
      const next = await stores.audit.append({ type: 'x', actor: 'system' });
      assert.equal(next.seq, 2);
    });

    it('a missing audit table is INVALID_CONFIG naming it', async () => {
      const stores = openDynamoStores({ tablePrefix: 'NoSuchPrefix', client: server.client() });
      open.push(stores);
      const e = await expectFailure(stores.audit.append({ type: 'x', actor: 'system' }), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /NoSuchPrefixAuditLog/);
      await expectFailure(stores.audit.head(), { type: StoreError, code: 'INVALID_CONFIG' });
    });
  });
});
