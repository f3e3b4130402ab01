import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Source } from '../../src/adapters/source/s3Source';
import { PushAlerts } from '../../src/push/pushAlerts';
import { freePort } from '../support/ports';
import { pushHarness, quietLog, until, type Harness } from '../support/pushHarness';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';
import { tempDir } from '../support/tmp';

/**
 * Issue 14: `notify: digest` rules get one card per rule and day, the day after, summarising the
 * files sent, their bytes, the failures and a missed expectation. The clock is injected: the test
 * moves it over midnight instead of waiting for one.
 */

describe('push mode: the daily digest card (injected clock)', function () {
  this.timeout(120_000);
  let s3: S3rverServer;
  let dir: { path: string; remove: () => Promise<void> };
  let source: S3Source;
  let h: Harness;
  let clock = new Date('2031-03-04T05:00:00Z'); // a Tuesday
  const sizes = { first: 3000, second: 4500 };

  const digests = () => h.notifier.sent.filter((m) => m.title.startsWith('Push digest'));

  async function arrive(key: string, size: number): Promise<void> {
    await s3.seed('outbound', key, randomBytes(size));
    const stat = await source.stat('outbound', key);
    await h.runner.handle({ scheme: 's3', container: 'outbound', key, etag: stat.etag!, size: stat.size, via: 'sqs' });
  }

  async function stateOf(key: string): Promise<string | undefined> {
    for await (const d of h.runner.ledger.records()) if (d.body.key === key) return d.body.state;
    return undefined;
  }

  before(async () => {
    [s3, dir] = await Promise.all([startS3rver(), tempDir('push-digest')]);
    source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
    const closed = await freePort();
    // As the bot and `push run` do at start: the saved local folder exists.
    await mkdir(join(dir.path, 'outbox'));
    h = pushHarness({
      dir: dir.path,
      password: randomBytes(8).toString('hex'),
      now: () => clock,
      source: () => source,
      destinations: {
        Outbox: { protocol: 'local', root: join(dir.path, 'outbox'), folder: '/', label: 'Outbox' },
        Refusing: { protocol: 'sftp', host: '127.0.0.1', port: closed, username: 'nobody', folder: '/in', hostKey: { fingerprint: `SHA256:${createHash('sha256').update('no server').digest('base64').replace(/=+$/, '')}` }, passwordRef: 'env:UNUSED' },
      },
      rulesJson: {
        settings: { scanSeconds: 0.1, retryBaseSeconds: 0.05, retryMaxSeconds: 0.1 },
        rules: [
          { name: 'ledger', source: 's3://outbound/ledger/', destination: { name: 'Outbox' }, stability: 0, notify: 'digest', expect: { by: '06:00', atLeast: 2, days: ['tue'] }, triggers: { poll: { seconds: 60 } } },
          { name: 'broken', source: 's3://outbound/broken/', destination: { name: 'Refusing' }, stability: 0, retries: 0, notify: 'digest', triggers: { poll: { seconds: 60 } } },
          { name: 'quiet', source: 's3://outbound/quiet/', destination: { name: 'Outbox' }, stability: 0, notify: 'digest', triggers: { poll: { seconds: 60 } } },
        ],
      },
    });
    h.runner.start();
    // Tuesday: one file before 06:00 (two expected), one failure, and a second file at 07:00.
    await arrive('ledger/a.csv', sizes.first);
    await arrive('broken/x.csv', 100);
    await until('a.csv sent and x.csv failed', async () => (await stateOf('ledger/a.csv')) === 'sent' && (await stateOf('broken/x.csv')) === 'failed', 30_000).catch(async (e: Error) => {
      const states: string[] = [];
      for await (const d of h.runner.ledger.records()) states.push(`${d.body.key} ${d.body.state} ${JSON.stringify(d.body.lastError ?? '')}`);
      throw new Error(`${e.message}\n${states.join('\n')}\n${JSON.stringify((await h.audit.readAll()).slice(-5))}`);
    });
    clock = new Date('2031-03-04T06:01:00Z');
    await until('the missed expectation', async () => h.notifier.sent.some((m) => m.title === 'Expected file missing: rule ledger'), 10_000);
    clock = new Date('2031-03-04T07:00:00Z');
    await arrive('ledger/b.csv', sizes.second);
    await until('b.csv sent', async () => (await stateOf('ledger/b.csv')) === 'sent', 30_000);
  });
  after(async () => {
    await h?.runner.stop();
    await Promise.all([s3?.stop(), dir?.remove()]);
  });

  it('sends no digest during the day it covers', () => {
    assert.deepEqual(digests(), []);
  });

  it('after midnight: one card per active rule, with files, bytes, failures and the late expectation', async () => {
    clock = new Date('2031-03-05T00:00:30Z');
    await until('the two digests', async () => digests().length >= 2, 10_000);
    const cards = digests();
    assert.deepEqual(cards.map((c) => c.title).sort(), ['Push digest 2031-03-04: rule broken', 'Push digest 2031-03-04: rule ledger'], 'the quiet rule had nothing to tell');
    const ledger = cards.find((c) => c.title.endsWith('rule ledger'))!;
    assert.deepEqual(ledger.facts, { rule: 'ledger', sent: '2', bytes: String(sizes.first + sizes.second), failed: '0', arrived: '2', lateExpectations: '1' });
    assert.match(ledger.text, /2 files sent \(7500 bytes\), 0 failed, 2 arrived\. Expectation missed: fewer than 2 files by 06:00 UTC\./);
    const broken = cards.find((c) => c.title.endsWith('rule broken'))!;
    assert.deepEqual(broken.facts, { rule: 'broken', sent: '0', bytes: '0', failed: '1', arrived: '1', lateExpectations: '0' });
    assert.doesNotMatch(broken.text, /Expectation/);
  });

  it('is sent once per day: later scans, another process and the next day do not repeat it', async () => {
    clock = new Date('2031-03-05T12:00:00Z');
    // Another process over the same store runs its daily checks too, several times.
    const other = new PushAlerts({ ledger: h.runner.ledger, documents: h.documents, notifier: h.notifier, audit: async () => undefined, log: quietLog });
    for (let i = 0; i < 3; i++) await other.daily(h.rules, clock);
    // The runner's own scans go on meanwhile (every 0.1 s); a digest is audited when sent.
    const audit = async () => (await h.audit.readAll()).filter((a) => a.type === 'push.digest');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(digests().length, 2);
    assert.equal((await audit()).length, 2);
    // Wednesday was quiet: Thursday's first scan sends no digest for it, and none again for Tuesday.
    clock = new Date('2031-03-06T00:05:00Z');
    for (let i = 0; i < 3; i++) await other.daily(h.rules, clock);
    assert.equal(digests().length, 2);
  });
});
