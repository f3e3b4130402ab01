import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { S3Source } from '../../src/adapters/source/s3Source';
import { openSqliteStores, type SqliteStores } from '../../src/adapters/store/sqliteStores';
import { ServiceNowIncidents } from '../../src/adapters/ticketing/serviceNowIncidents';
import type { PushObjectRecord } from '../../src/push/pushRecord';
import { FakeServiceNow } from '../support/fakeServiceNow';
import { freePort } from '../support/ports';
import { pushHarness, sshdSpec, until, type Harness } from '../support/pushHarness';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';

/**
 * Issue 14: a push that finally fails opens exactly one ServiceNow incident per object, through
 * the Table API of the fake instance, even when the reply to the POST is lost, when the process
 * dies after opening it but before recording it, and when the object's event is replayed.
 */

const USER = 'fileferry.integration';
const KEY = 'sn/orders 2031+final.csv';

describe('push mode: ServiceNow incidents for final failures (fake ServiceNow, SQLite ledger)', function () {
  this.timeout(120_000);
  let s3: S3rverServer;
  let sshd: SshdServer;
  let snow: FakeServiceNow;
  let dir: { path: string; remove: () => Promise<void> };
  let source: S3Source;
  let password: string;
  let closedPort: number;
  const opened: SqliteStores[] = [];

  before(async () => {
    password = randomBytes(12).toString('hex');
    [s3, sshd, dir, snow, closedPort] = await Promise.all([startS3rver(), startSshd(), tempDir('push-incidents'), FakeServiceNow.start({ users: { [USER]: password } }), freePort()]);
    source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
    await s3.seed('outbound', KEY, randomBytes(4096));
  });
  after(async () => {
    for (const s of opened) s.close();
    await Promise.all([s3?.stop(), sshd?.stop(), snow?.close(), dir?.remove()]);
  });

  /** One push process: a runner over the SQLite file (opened anew, as a restarted process does) and incidents in the fake. */
  function pushProcess(): Harness {
    const stores = openSqliteStores({ file: join(dir.path, 'fileferry.db') });
    opened.push(stores);
    return pushHarness({
      dir: dir.path,
      password: sshd.password,
      documents: stores.documents,
      destinations: { Down: sshdSpec(sshd, closedPort) },
      source: () => source,
      incidents: new ServiceNowIncidents({ instanceUrl: snow.url, auth: { kind: 'basic', username: USER, password: async () => password }, assignmentGroup: 'Audit', timeoutMs: 5000 }),
      rulesJson: { settings: { scanSeconds: 0.1, retryBaseSeconds: 0.05, retryMaxSeconds: 0.1, leaseSeconds: 2 }, rules: [{ name: 'partner-sn', source: 's3://outbound/sn/', destination: { name: 'Down' }, stability: 0, retries: 1, triggers: { poll: { seconds: 60 } } }] },
    });
  }

  async function record(h: Harness): Promise<{ id: string; body: PushObjectRecord }> {
    for await (const d of h.runner.ledger.records('partner-sn')) return d;
    throw new Error('the ledger holds no object of rule partner-sn');
  }

  const incidents = () => snow.rows('incident').filter((r) => r.correlation_display === 'FileFerry push');
  const posts = () => snow.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/incident'));

  it('opens one incident naming the rule and the key, correlated to the object, though the reply to the POST was lost', async () => {
    // The instance stores the incident, then the connection drops before it answers.
    snow.failNext({ connection: 'acceptThenDrop', when: (r) => r.method === 'POST' && r.path.endsWith('/incident') });
    const h = pushProcess();
    const stat = await source.stat('outbound', KEY);
    h.runner.start();
    try {
      await h.runner.handle({ scheme: 's3', container: 'outbound', key: KEY, etag: stat.etag!, size: stat.size, via: 'sqs' });
      await until('the object failed with its incident recorded', async () => (await record(h)).body.incident, 60_000);
    } finally {
      await h.runner.stop();
    }
    const { id, body } = await record(h);
    assert.equal(body.state, 'failed');
    assert.equal(body.attempts, 2, 'the first attempt and one retry');
    const rows = incidents();
    assert.equal(rows.length, 1, 'one incident, though the POST had to be followed by a look-up');
    const row = rows[0]!;
    assert.equal(body.incident!.number, row.number);
    assert.match(row.number!, /^INC\d{7}$/);
    assert.equal(row.short_description, `FileFerry push failed: ${KEY} (rule partner-sn)`);
    assert.equal(row.correlation_id, `ffpush-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`);
    assert.match(row.description!, /Rule: partner-sn, destination Down/);
    assert.match(row.description!, new RegExp(`Object: s3://outbound/${KEY.replace(/[+.]/g, '\\$&')} \\(ETag `));
    assert.match(row.description!, /Error: NETWORK: /);
    assert.ok(row.description!.includes(`fileferry push retry '${id}'`), row.description);
    assert.equal(snow.groupName(row.assignment_group!), 'Audit');
    assert.equal(row.priority, '2', 'impact 2 × urgency 1');
    assert.ok(!JSON.stringify(snow.requests).includes(password));
    const audit = (await h.audit.readAll()).filter((a) => a.requestId === id);
    assert.deepEqual(audit.filter((a) => a.type === 'push.incident').map((a) => a.details?.incident), [row.number]);
  });

  it('a restart after the incident was opened but before it was recorded finds it: still one incident', async () => {
    const before = posts().length;
    // The process died right after ServiceNow stored the incident: the ledger still says failed, without it.
    const h = pushProcess();
    const doc = (await h.runner.ledger.get((await record(h)).id))!;
    const number = doc.body.incident!.number;
    await h.runner.ledger.update(doc, { incident: undefined });
    await h.runner.ledger.enqueue(doc.id, 'partner-sn', new Date());
    h.runner.start();
    try {
      await until('the incident recorded again', async () => (await record(h)).body.incident, 30_000);
      await until('the queue to drain', async () => (await h.runner.ledger.queuePage()).length === 0, 30_000);
    } finally {
      await h.runner.stop();
    }
    assert.equal((await record(h)).body.incident!.number, number);
    assert.equal(incidents().length, 1);
    assert.equal(posts().length, before, 'found by its correlation ID, not posted again');
    assert.equal(h.notifier.sent.length, 0, 'the alert card had gone before the crash: not sent again');
  });

  it('a replayed event of the failed object changes nothing: no send, no second incident', async () => {
    const before = { posts: posts().length, requests: snow.requests.length };
    const h = pushProcess();
    const stat = await source.stat('outbound', KEY);
    h.runner.start();
    try {
      for (const via of ['sqs', 'sns'] as const) await h.runner.handle({ scheme: 's3', container: 'outbound', key: KEY, etag: stat.etag!.replace(/"/g, ''), size: stat.size, via });
      await until('the queue to be empty', async () => (await h.runner.ledger.queuePage()).length === 0, 10_000);
    } finally {
      await h.runner.stop();
    }
    const { body } = await record(h);
    assert.equal(body.state, 'failed');
    assert.equal(body.attempts, 2);
    assert.equal(h.engines.get('partner-sn')!.sends, 0);
    assert.equal(incidents().length, 1);
    assert.equal(snow.requests.length, before.requests, 'ServiceNow was not even asked');
    assert.equal(posts().length, before.posts);
  });
});
