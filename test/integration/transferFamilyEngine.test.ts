import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { TransferClient } from '@aws-sdk/client-transfer';
import { TRANSFER_FAMILY_VERIFICATION, TransferFamilyEngine } from '../../src/adapters/transferFamily/transferFamilyEngine';
import type { FerryError } from '../../src/domain/errors';
import type { PushSend } from '../../src/ports/pushEngine';
import { FakeTransferFamily } from '../support/fakeTransferFamily';
import { RecordingWorkflowLog } from '../support/recordingWorkflowLog';

describe('TransferFamilyEngine against a Transfer API fake', function () {
  this.timeout(60_000);
  let fake: FakeTransferFamily;
  const secretAccessKey = `canary-${randomBytes(12).toString('hex')}`;
  const credentials = { accessKeyId: `AKID${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey };
  const clients: TransferClient[] = [];

  before(async () => {
    fake = await FakeTransferFamily.start();
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await fake?.close();
  });

  function engine(connectorId: string, log = new RecordingWorkflowLog(), extra: { timeoutMs?: number } = {}): TransferFamilyEngine {
    const client = new TransferClient({ endpoint: fake.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
    clients.push(client);
    return new TransferFamilyEngine({ connectorId, client, pollIntervalMs: 20, log, ...extra });
  }

  function job(key: string, signal = new AbortController().signal): PushSend {
    const name = key.slice(key.lastIndexOf('/') + 1);
    return { ruleName: 'partner-a', object: { container: 'outbound', key, size: 1234, etag: 'e1' }, remoteFolder: '/in/2024/05', remoteName: name, signal };
  }

  it('starts the transfer with /bucket/key and the remote folder, and follows it to COMPLETED', async () => {
    const connectorId = fake.addConnector();
    fake.script(connectorId, { status: 'COMPLETED', afterPolls: 3 });
    const log = new RecordingWorkflowLog();
    const sent = await engine(connectorId, log).send(job('partner a/report 1.csv'));
    const [transfer] = fake.transfers.filter((t) => t.connectorId === connectorId);
    assert.deepEqual(transfer!.sendFilePaths, ['/outbound/partner a/report 1.csv']);
    assert.equal(transfer!.remoteDirectoryPath, '/in/2024/05');
    assert.equal(transfer!.polls, 3, 'QUEUED, IN_PROGRESS, then COMPLETED');
    assert.equal(sent.sha256, undefined, 'Transfer Family reports no checksum, and none is made up');
    assert.deepEqual(sent, { bytes: 1234, verification: TRANSFER_FAMILY_VERIFICATION, reference: transfer!.id });
    const mine = fake.requests.filter((r) => r.body.ConnectorId === connectorId);
    assert.ok(mine.every((r) => r.signedFor === 'eu-west-1/transfer'), 'SigV4 for the transfer service');
    assert.ok(!log.text().includes(secretAccessKey));
  });

  it('FAILED: a stable code, the status message, retryable by the failure code', async () => {
    const connectorId = fake.addConnector();
    fake.script(
      connectorId,
      { status: 'FAILED', afterPolls: 2, failureCode: 'CONNECTION_ERROR', failureMessage: 'Unable to connect to sftp.partner.example:22' },
      { status: 'FAILED', failureCode: 'RETRIEVE_FILE_NOT_FOUND', failureMessage: 'The file was not found' },
      { status: 'FAILED', failureCode: 'PERMISSION_DENIED', failureMessage: 'Access denied writing /in/2024/05' },
      { status: 'FAILED', failureCode: 'SOMETHING_NEW' },
    );
    const e = engine(connectorId);
    const outcomes: Array<Pick<FerryError, 'code' | 'retryable'> & { message: string }> = [];
    for (let i = 0; i < 4; i++) {
      await e.send(job(`f${i}.csv`)).then(
        () => assert.fail('should have failed'),
        (err: FerryError) => outcomes.push({ code: err.code, retryable: err.retryable, message: err.message }),
      );
    }
    assert.deepEqual(
      outcomes.map((o) => [o.code, o.retryable]),
      [['NETWORK', true], ['NOT_FOUND', false], ['ACCESS_DENIED', false], ['SERVER_ERROR', true]],
    );
    assert.match(outcomes[0]!.message, /CONNECTION_ERROR: Unable to connect to sftp\.partner\.example:22/);
    assert.match(outcomes[0]!.message, new RegExp(fake.transfers.find((t) => t.connectorId === connectorId)!.id));
  });

  it('a status call that fails transiently is asked again, not turned into a second transfer', async () => {
    const connectorId = fake.addConnector();
    fake.script(connectorId, { status: 'COMPLETED', afterPolls: 2 });
    fake.failNext(500, 'InternalServiceError', 'ListFileTransferResults');
    const log = new RecordingWorkflowLog();
    const sent = await engine(connectorId, log).send(job('x.csv'));
    assert.equal(fake.transfers.filter((t) => t.connectorId === connectorId).length, 1);
    assert.equal(sent.reference, fake.transfers.find((t) => t.connectorId === connectorId)!.id);
    assert.equal(log.find('status not available').length, 1);
  });

  it('API errors: unknown connector (permanent), throttled start (retryable)', async () => {
    const unknown = 'c-0123456789abcdef0';
    await assert.rejects(engine(unknown).send(job('x.csv')), (e: FerryError) => e.code === 'NOT_FOUND' && !e.retryable && e.message.includes(unknown));
    const connectorId = fake.addConnector();
    fake.failNext(400, 'ThrottlingException', 'StartFileTransfer');
    await assert.rejects(engine(connectorId).send(job('x.csv')), (e: FerryError) => e.code === 'THROTTLED' && e.retryable);
  });

  it('refuses a rename it cannot do, a bad connector ID, and gives up (not retryable) on a transfer that never ends', async () => {
    const connectorId = fake.addConnector();
    await assert.rejects(engine(connectorId).send({ ...job('a.csv'), remoteName: 'a.csv.pgp' }), (e: FerryError) => e.code === 'UNSUPPORTED' && !e.retryable);
    assert.throws(() => engine('connector-1'), (e: FerryError) => e.code === 'INVALID_CONFIG');
    fake.script(connectorId, { status: 'STUCK' });
    await assert.rejects(engine(connectorId, undefined, { timeoutMs: 200 }).send(job('slow.csv')), (e: FerryError) => e.code === 'TIMEOUT' && !e.retryable && /IN_PROGRESS/.test(e.message));
  });

  it('cancel while following: CANCELLED, naming the transfer that may still complete', async () => {
    const connectorId = fake.addConnector();
    fake.script(connectorId, { status: 'STUCK' });
    const c = new AbortController();
    // Cancel once the engine holds the transfer's ID and starts following it, not on a timer that
    // a slow StartFileTransfer can outlast (that is the "cancelled before it started" case).
    const log = new RecordingWorkflowLog();
    const info = log.info.bind(log);
    log.info = (fields, message) => {
      info(fields, message);
      if (message === 'Transfer Family transfer started') c.abort();
    };
    const sending = engine(connectorId, log).send(job('c.csv', c.signal));
    await assert.rejects(sending, (e: FerryError) => e.code === 'CANCELLED' && /may still complete/.test(e.message));
    const started = fake.transfers.filter((t) => t.connectorId === connectorId);
    assert.equal(started.length, 1);
    await assert.rejects(sending, (e: FerryError) => e.message.includes(started[0]!.id), 'the error names the transfer');
  });

  it('without a client, finds the service through AWS_ENDPOINT_URL_TRANSFER', async () => {
    const connectorId = fake.addConnector();
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_TRANSFER: fake.endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey });
    delete process.env.AWS_PROFILE;
    try {
      const sent = await new TransferFamilyEngine({ connectorId, pollIntervalMs: 20, log: new RecordingWorkflowLog() }).send(job('env.csv'));
      assert.equal(sent.reference, fake.transfers.find((t) => t.connectorId === connectorId)!.id);
    } finally {
      process.env = saved;
    }
  });
});
