import { strict as assert } from 'node:assert';
import type { ActivityHandler, CloudAdapter } from 'botbuilder';
import type { Server } from 'restify';
import SnsPayloadValidator from 'sns-payload-validator';
import { SnsEndpoint } from '../../src/adapters/trigger/snsEndpoint';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/metrics';
import type { ObjectEvent } from '../../src/ports/objectEvents';
import { closeServer, createServer, listen } from '../../src/server';
import { RecordingWorkflowLog } from '../support/recordingWorkflowLog';
import { s3EventBody, s3TestEventBody } from '../support/s3EventMessages';
import { SnsTestSigner, TEST_TOPIC_ARN, snsHeaders, type SignedSnsMessage } from '../support/snsTestSigner';

describe('SnsEndpoint over POST /api/push/sns', function () {
  this.timeout(60_000);
  const signer = new SnsTestSigner();
  let server: Server;
  let base: string;
  let endpoint: SnsEndpoint;
  let log: RecordingWorkflowLog;
  let events: ObjectEvent[];
  let confirmed: string[];
  let failNext: boolean;

  beforeEach(async () => {
    log = new RecordingWorkflowLog();
    events = [];
    confirmed = [];
    failNext = false;
    endpoint = new SnsEndpoint({
      topicArns: [TEST_TOPIC_ARN],
      log,
      certificateFetcher: signer.fetcher,
      confirmSubscription: async (url) => {
        confirmed.push(url);
      },
    });
    await endpoint.start(async (e) => {
      if (failNext) {
        failNext = false;
        throw new Error('store unavailable');
      }
      events.push(e);
    });
    // The real server with the route; the bot side is never reached by these requests.
    server = createServer({
      adapter: {} as CloudAdapter,
      bot: {} as ActivityHandler,
      metrics: new Metrics(() => 0),
      log: createLogger({ level: 'silent' }),
      ready: () => true,
      snsEndpoint: endpoint,
    });
    base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });

  afterEach(async () => {
    await endpoint.stop();
    await closeServer(server);
  });

  async function post(m: SignedSnsMessage | string, headers?: Record<string, string>): Promise<{ status: number; body: string }> {
    const body = typeof m === 'string' ? m : JSON.stringify(m);
    const res = await fetch(`${base}/api/push/sns`, {
      method: 'POST',
      headers: headers ?? (typeof m === 'string' ? { 'content-type': 'text/plain; charset=UTF-8' } : snsHeaders(m)),
      body,
    });
    return { status: res.status, body: await res.text() };
  }

  const s3Message = (key: string): string => s3EventBody({ bucket: 'outbound', key, size: 11, versionId: 'v7', sequencer: '0055AED6DCD90281E5' });

  for (const version of ['1', '2'] as const) {
    it(`accepts a Notification signed with SignatureVersion ${version} and hands its S3 event on`, async () => {
      const m = signer.notification(s3Message('in box/a+b.csv'), { version, subject: 'Amazon S3 Notification' });
      assert.deepEqual(await post(m), { status: 200, body: 'ok' });
      assert.deepEqual(
        events.map((e) => ({ key: e.key, container: e.container, versionId: e.versionId, via: e.via })),
        [{ key: 'in box/a+b.csv', container: 'outbound', versionId: 'v7', via: 'sns' }],
      );
    });
  }

  it('our signer agrees with sns-payload-validator (an independent implementation), both versions', async () => {
    const validator = new SnsPayloadValidator();
    // Its certificate URL rule wants 32 characters after the prefix: ours has them. Its cache is
    // a public property (not in its typings): seeding it keeps the check offline.
    (validator as unknown as { certCache: Map<string, string> }).certCache.set(signer.certUrl, signer.certificatePem);
    for (const version of ['1', '2'] as const) {
      await validator.validate(signer.notification(s3Message('x.csv'), { version }) as never);
      await validator.validate(signer.subscriptionConfirmation({ version }) as never);
    }
    const tampered = { ...signer.notification(s3Message('x.csv')), Message: s3Message('y.csv') };
    await assert.rejects(validator.validate(tampered as never), /Invalid Signature/);
  });

  it('refuses a bad signature (a changed Message, a signature from another key) with 403 and no detail', async () => {
    const m = signer.notification(s3Message('real.csv'));
    assert.deepEqual(await post({ ...m, Message: s3Message('evil.csv') }), { status: 403, body: 'forbidden' });
    const other = new SnsTestSigner();
    const forged = other.notification(s3Message('forged.csv'), { certUrl: signer.certUrl });
    assert.deepEqual(await post(forged), { status: 403, body: 'forbidden' });
    assert.deepEqual(await post({ ...m, SignatureVersion: '2' }), { status: 403, body: 'forbidden' }, 'a v1 signature presented as v2');
    assert.equal(events.length, 0);
    assert.ok(log.find('SNS request refused').every((l) => l.fields.reason === 'signature does not verify'));
  });

  it('refuses a certificate URL that is not SNS’s before fetching anything', async () => {
    signer.fetched.length = 0;
    const hosts = [
      'https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
      'https://evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
      'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
      'https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
      'https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
      'https://sns.eu-west-1.amazonaws.com/other/evil.pem',
    ];
    for (const certUrl of hosts) {
      assert.deepEqual(await post(signer.notification(s3Message('x.csv'), { certUrl })), { status: 403, body: 'forbidden' }, certUrl);
    }
    assert.deepEqual(signer.fetched, []);
    assert.equal(events.length, 0);
  });

  it('a replayed message is not delivered twice; a too-old Timestamp is refused; a retry after a failure is not a replay', async () => {
    const m = signer.notification(s3Message('once.csv'), { version: '2' });
    assert.equal((await post(m)).status, 200);
    assert.equal((await post(m)).status, 200);
    assert.equal(events.length, 1, 'delivered once');
    assert.equal(log.find('replayed').length, 1);

    const old = signer.notification(s3Message('old.csv'), { timestamp: new Date(Date.now() - 2 * 3600_000).toISOString() });
    assert.deepEqual(await post(old), { status: 403, body: 'forbidden' });
    const future = signer.notification(s3Message('future.csv'), { timestamp: new Date(Date.now() + 3600_000).toISOString() });
    assert.deepEqual(await post(future), { status: 403, body: 'forbidden' });

    failNext = true;
    const retried = signer.notification(s3Message('retried.csv'));
    assert.equal((await post(retried)).status, 500, 'SNS must retry when the event was not recorded');
    assert.equal((await post(retried)).status, 200, 'the retry, with the same MessageId, is delivered');
    assert.deepEqual(events.map((e) => e.key), ['once.csv', 'retried.csv']);
  });

  it('confirms a subscription by its SubscribeURL, only for an allowed topic and an SNS URL', async () => {
    const c = signer.subscriptionConfirmation({ version: '2' });
    assert.deepEqual(await post(c), { status: 200, body: 'ok' });
    assert.deepEqual(confirmed, [c.SubscribeURL]);

    const foreign = signer.subscriptionConfirmation({ topicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-else' });
    assert.equal((await post(foreign)).status, 403);
    const phishing = signer.subscriptionConfirmation({ subscribeUrl: 'https://evil.example/?Action=ConfirmSubscription' });
    assert.equal((await post(phishing)).status, 403);
    assert.equal(confirmed.length, 1);
  });

  it('refuses a notification from a topic that is not listed, and bad input with 400', async () => {
    const m = signer.notification(s3Message('x.csv'), { topicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-else' });
    assert.deepEqual(await post(m), { status: 403, body: 'forbidden' });
    assert.deepEqual(await post('not json'), { status: 400, body: 'bad request' });
    assert.deepEqual(await post('{"Type":"Notification"}'), { status: 400, body: 'bad request' });
    const good = signer.notification(s3Message('x.csv'));
    assert.equal((await post(good, { ...snsHeaders(good), 'x-amz-sns-message-type': 'SubscriptionConfirmation' })).status, 400);
    assert.equal(events.length, 0);
  });

  it('a JSON content type works too, an S3 TestEvent is acknowledged and skipped', async () => {
    const m = signer.notification(s3TestEventBody('outbound'));
    assert.equal((await post(m, { ...snsHeaders(m), 'content-type': 'application/json' })).status, 200);
    assert.equal(events.length, 0);
    assert.equal(log.find('S3 test event skipped').length, 1);
  });

  it('answers 503 once stopped, so SNS retries later', async () => {
    await endpoint.stop();
    assert.equal((await post(signer.notification(s3Message('late.csv')))).status, 503);
  });
});
