import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { openDynamoStores, type DynamoStores } from '../../src/adapters/store/dynamoStores';
import { StoreError, type ErrorCode } from '../../src/domain/errors';
import type { RequestRecord } from '../../src/domain/requestRecord';
import { startDynalite, DYNALITE_CREDENTIALS, DYNALITE_REGION, type DynaliteServer } from '../support/dynaliteServer';
import { expectFailure } from '../support/expectFailure';
import { HttpErrorGate } from '../support/httpErrorGate';
import { freePort } from '../support/ports';
import { requestRepositoryConformance } from './requestRepositorySuite';

const PREFIX = 'FerryTest';

/** Sets (or, for undefined, removes) process.env entries and returns how to put them back. */
function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>): void => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  apply(vars);
  return () => apply(saved);
}

const record = (id: string, fields: Partial<RequestRecord> = {}): RequestRecord => ({
  id,
  state: 'ticketed',
  revision: 1,
  owner: { userId: '29:user-dynamo', name: 'Ann Example' },
  conversation: { id: `a:${id}` },
  createdAt: '2031-03-14T09:30:00.000Z',
  updatedAt: '2031-03-14T10:00:00.000Z',
  ...fields,
});

describe('DynamoRequestRepository', () => {
  let server: DynaliteServer;
  const open: DynamoStores[] = [];
  const connect = (options: Parameters<typeof openDynamoStores>[0] = {}): DynamoStores => {
    const stores = openDynamoStores({ tablePrefix: PREFIX, client: server.client(), ...options });
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

  // One table for every test (the suite keeps them apart by ID and user); a restart is a new
  // client, as a new process would have.
  requestRepositoryConformance('DynamoDB (dynalite)', {
    create: async () => connect().requests,
    reopen: async () => connect().requests,
  });

  describe('specific to DynamoDB', () => {
    const id = (): string => `FF-${randomBytes(4).toString('hex').toUpperCase()}`;
    const raw = async (transferId: string) =>
      (await server.client().send(new GetItemCommand({ TableName: `${PREFIX}TransferRequests`, Key: { transfer_id: { S: transferId } }, ConsistentRead: true }))).Item;

    it('stores the index keys (timestamps normalised), the JSON record and expires_at 90 days after updatedAt', async () => {
      const r = record(id(), { createdAt: '2031-03-14T09:30:00Z', updatedAt: '2031-03-14T10:00:00.250Z', state: 'signed-in' });
      await connect().requests.put(r);
      const item = (await raw(r.id))!;
      assert.deepEqual(item.transfer_id, { S: r.id });
      assert.deepEqual(item.user_id, { S: '29:user-dynamo' });
      assert.deepEqual(item.created_at, { S: '2031-03-14T09:30:00.000Z' });
      assert.deepEqual(item.updated_at, { S: '2031-03-14T10:00:00.250Z' });
      assert.deepEqual(item.state, { S: 'signed-in' });
      assert.deepEqual(item.expires_at, { N: String(Math.floor(Date.parse(r.updatedAt) / 1000) + 90 * 86_400) });
      assert.deepEqual(JSON.parse(item.record_json!.S!), r);
    });

    it('the TTL is configurable, and 0 writes no expires_at', async () => {
      const week = record(id());
      await connect({ requestTtlDays: 7 }).requests.put(week);
      assert.deepEqual((await raw(week.id))!.expires_at, { N: String(Math.floor(Date.parse(week.updatedAt) / 1000) + 7 * 86_400) });
      const forever = record(id());
      await connect({ requestTtlDays: 0 }).requests.put(forever);
      assert.equal((await raw(forever.id))!.expires_at, undefined);
      assert.throws(() => openDynamoStores({ requestTtlDays: -1, client: server.client() }), (e: unknown) => e instanceof StoreError && e.code === 'INVALID_CONFIG' && /FILEFERRY_DYNAMODB_REQUEST_TTL_DAYS/.test(e.hint));
    });

    it('a prefix no table name can start with is INVALID_CONFIG naming FILEFERRY_DYNAMODB_TABLE_PREFIX, before any call', () => {
      assert.throws(() => openDynamoStores({ tablePrefix: 'has space', client: server.client() }), (e: unknown) => e instanceof StoreError && e.code === 'INVALID_CONFIG' && /FILEFERRY_DYNAMODB_TABLE_PREFIX/.test(e.hint));
    });

    it('a missing table is INVALID_CONFIG naming the table and infra/', async () => {
      const stores = connect({ tablePrefix: 'NeverDeployed' });
      const e = await expectFailure(stores.requests.get('FF-1'), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /NeverDeployedTransferRequests/);
      assert.match(e.hint, /infra\/dynamodb\.yaml/);
      assert.equal(e.retryable, false);
      await expectFailure(stores.check(), { type: StoreError, code: 'INVALID_CONFIG' });
    });

    it('check() passes for tables made from the design and names a table keyed differently', async () => {
      await connect().check();
      const prefix = `Fresh${randomBytes(3).toString('hex')}`;
      await server.createTables(prefix);
      const admin = server.client();
      await connect({ tablePrefix: prefix }).check();
      // A hand-made TransferRequests table keyed on `id` instead of `transfer_id`.
      const handMade = `Bad${randomBytes(3).toString('hex')}`;
      await admin.send(
        new CreateTableCommand({ TableName: `${handMade}TransferRequests`, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] }),
      );
      const e = await expectFailure(connect({ tablePrefix: handMade }).check(), { type: StoreError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, new RegExp(`${handMade}TransferRequests.*id:HASH.*transfer_id:HASH`));
    });

    it('the default client finds the endpoint in AWS_ENDPOINT_URL_DYNAMODB, as the SDK reads it', async () => {
      const restore = setEnv({
        AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
        AWS_ENDPOINT_URL: undefined,
        AWS_REGION: DYNALITE_REGION,
        AWS_DEFAULT_REGION: undefined,
        AWS_ACCESS_KEY_ID: DYNALITE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DYNALITE_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: '/nonexistent/aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      });
      const stores = openDynamoStores({ tablePrefix: PREFIX });
      try {
        const r = record(id());
        await stores.requests.put(r);
        assert.deepEqual(await connect().requests.get(r.id), r, 'written through the default client, read through another');
      } finally {
        restore();
        await stores.close();
      }
    });

    describe('errors on the wire', () => {
      let gate: HttpErrorGate;
      before(async () => {
        gate = await HttpErrorGate.start(server.port);
      });
      after(async () => gate.close());

      const viaGate = (): DynamoStores => {
        const stores = openDynamoStores({
          tablePrefix: PREFIX,
          client: new DynamoDBClient({
            endpoint: gate.endpoint,
            region: DYNALITE_REGION,
            credentials: DYNALITE_CREDENTIALS,
            maxAttempts: 1,
          }),
        });
        open.push(stores);
        return stores;
      };
      const awsJsonError = (status: number, type: string) => ({
        status,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'gate-request' },
        body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} from the gate` }),
      });

      const cases: Array<[string, number, string, ErrorCode, boolean]> = [
        ['ProvisionedThroughputExceededException', 400, 'ProvisionedThroughputExceededException', 'THROTTLED', true],
        ['ThrottlingException', 400, 'ThrottlingException', 'THROTTLED', true],
        ['AccessDeniedException', 400, 'AccessDeniedException', 'ACCESS_DENIED', false],
        ['UnrecognizedClientException', 400, 'UnrecognizedClientException', 'AUTH_FAILED', false],
        ['InternalServerError (500)', 500, 'InternalServerError', 'SERVER_ERROR', true],
        ['ValidationException', 400, 'ValidationException', 'INTERNAL', false],
      ];
      for (const [label, status, type, code, retryable] of cases) {
        it(`${label} → ${code}`, async () => {
          const stores = viaGate();
          gate.answerNext(awsJsonError(status, type));
          const e = await expectFailure(stores.requests.put(record(id())), { type: StoreError, code, withHint: true });
          assert.equal(e.retryable, retryable);
          assert.match(e.message, new RegExp(`${PREFIX}TransferRequests`));
          // The cause names the error, never the signed request.
          assert.doesNotMatch(String((e.cause as Error).message), /Signature|AKIA/);
        });
      }

      it('the gate forwards otherwise: the same client then works', async () => {
        const stores = viaGate();
        const r = record(id());
        await stores.requests.put(r);
        assert.deepEqual(await stores.requests.get(r.id), r);
      });

      it('nothing listening → NETWORK, retryable', async () => {
        const port = await freePort();
        const client = new DynamoDBClient({
          endpoint: `http://127.0.0.1:${port}`,
          region: DYNALITE_REGION,
          credentials: DYNALITE_CREDENTIALS,
          maxAttempts: 1,
        });
        const stores = openDynamoStores({ tablePrefix: PREFIX, client });
        try {
          const e = await expectFailure(stores.requests.get('FF-1'), { type: StoreError, code: 'NETWORK', withHint: true });
          assert.equal(e.retryable, true);
        } finally {
          client.destroy();
        }
      });
    });
  });
});
