import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Source } from '../../src/adapters/source/s3Source';
import type { StorageSource } from '../../src/ports/storageSource';
import type { PushObjectRecord } from '../../src/push/pushRecord';
import { PollTrigger } from '../../src/push/pollTrigger';
import { freePort } from '../support/ports';
import { pushHarness, sshdSpec, until } from '../support/pushHarness';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function records(h: { runner: { ledger: { records(rule?: string): AsyncGenerator<{ body: PushObjectRecord }> } } }, rule?: string): Promise<PushObjectRecord[]> {
  const out: PushObjectRecord[] = [];
  for await (const d of h.runner.ledger.records(rule)) out.push(d.body);
  return out;
}

/**
 * `inner`, except that the first object's read is held until another object's read begins: two
 * sends are then in flight at once by construction, not by the machine's scheduling. A runner that
 * sent one object at a time would never release it (the hold ends only with its send's signal, and
 * then no overlap is counted).
 */
function overlapLatch(inner: StorageSource): { source: StorageSource; overlapped: () => boolean } {
  let firstKey: string | undefined;
  let holding = false;
  let overlapped = false;
  let release = (): void => undefined;
  const source: StorageSource = {
    scheme: inner.scheme,
    parallelReads: inner.parallelReads,
    listContainers: (signal) => inner.listContainers(signal),
    list: (container, options, signal) => inner.list(container, options, signal),
    stat: (container, key, signal) => inner.stat(container, key, signal),
    read: async (container, object, range, signal) => {
      if (firstKey === undefined) {
        firstKey = object.key;
        holding = true;
        await new Promise<void>((resolve, reject) => {
          release = resolve;
          signal?.addEventListener('abort', () => {
            holding = false;
            reject(signal.reason);
          }, { once: true });
        });
      } else if (holding && object.key !== firstKey) {
        holding = false;
        overlapped = true;
        release();
      }
      return inner.read(container, object, range, signal);
    },
  };
  return { source, overlapped: () => overlapped };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('push runner (s3rver → sshd)', function () {
  this.timeout(300_000);
  let s3: S3rverServer;
  let sshd: SshdServer;
  let dir: { path: string; remove: () => Promise<void> };
  let source: S3Source;

  before(async () => {
    [s3, sshd, dir] = await Promise.all([startS3rver(), startSshd(), tempDir('push')]);
    source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
  });
  after(async () => {
    await Promise.all([s3?.stop(), sshd?.stop(), dir?.remove()]);
  });

  it('200 objects landing at once: 200 byte-identical files, none twice, limits held', async () => {
    const bodies = new Map<string, Buffer>();
    await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const body = randomBytes(1000 + i * 37);
      const key = `burst/file ${String(i).padStart(3, '0')}+x.csv`;
      bodies.set(key, body);
      await s3.seed('outbound', key, body);
    }));
    const latch = overlapLatch(source);
    const h = pushHarness({
      dir: dir.path,
      password: sshd.password,
      destinations: { Partner: sshdSpec(sshd) },
      source: () => latch.source,
      rulesJson: {
        settings: { maxInFlight: 6, scanSeconds: 0.2, retryBaseSeconds: 0.1 },
        rules: [{ name: 'burst', source: 's3://outbound/burst/', match: { extensions: ['.csv'] }, destination: { name: 'Partner', folder: `${sshd.rootDir}/burst/{yyyy}/{name}`, connections: 4 }, stability: 1, triggers: { poll: { seconds: 1 } } }],
      },
    });
    const rule = h.rules[0]!;
    const poll = new PollTrigger({ name: rule.name, place: rule.place, source, documents: h.documents, intervalSeconds: 1, log: { debug() {}, info() {}, warn() {}, error() {} } });
    h.runner.start();
    await poll.start(h.runner.handle);
    try {
      await until('a second send to start while the first is held', async () => latch.overlapped(), 60_000);
      await until('200 objects sent', async () => (await records(h, 'burst')).filter((r) => r.state === 'sent').length === 200, 240_000);
    } finally {
      await poll.stop();
      await h.runner.stop();
    }
    const files = await filesUnder(join(sshd.rootDir, 'burst'));
    assert.equal(files.length, 200, files.filter((f) => f.includes('fileferry-part')).join('\n'));
    const year = String(new Date().getUTCFullYear());
    for (const [key, body] of bodies) {
      const name = key.slice('burst/'.length);
      assert.equal(sha(await readFile(join(sshd.rootDir, 'burst', year, name))), sha(body), name);
    }
    const all = await records(h, 'burst');
    assert.equal(all.length, 200);
    assert.ok(all.every((r) => r.state === 'sent' && r.attempts === 1 && r.sha256 === sha(bodies.get(r.key)!)));
    const audit = await h.audit.readAll();
    assert.equal(audit.filter((a) => a.type === 'push.sent').length, 200);
    assert.equal(audit.filter((a) => a.type === 'push.claimed').length, 200);
    const engine = h.engines.get('burst')!;
    assert.equal(engine.sends, 200);
    assert.ok(engine.peak <= 4, `per-destination peak ${engine.peak}`);
    // Certain, not hoped for: the latch held the first send until a second had begun.
    assert.ok(engine.peak >= 2, `sends ran in parallel (peak ${engine.peak})`);
    assert.ok(h.global.peak <= 6);
    assert.equal(h.runner.inFlight, 0);
  });

  it('an object overwritten during its stability wait: only the final version is sent, once', async () => {
    const v1 = randomBytes(5000);
    const v2 = randomBytes(7000);
    await s3.seed('outbound', 'over/report.csv', v1);
    // The runner's clock stands still unless the test moves it, so the overwrite lands inside the
    // 2 s stability wait by construction, however slowly the machine runs.
    const start = Date.parse('2031-03-04T12:00:00Z');
    let clock = new Date(start);
    const h = pushHarness({
      dir: dir.path,
      password: sshd.password,
      destinations: { Partner: sshdSpec(sshd) },
      source: () => source,
      now: () => clock,
      rulesJson: { settings: { scanSeconds: 0.2 }, rules: [{ name: 'over', source: 's3://outbound/over/', destination: { name: 'Partner', folder: `${sshd.rootDir}/over/{name}` }, stability: 2, triggers: { sqs: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/outbound' } } }] },
    });
    h.runner.start();
    try {
      await h.runner.handle({ scheme: 's3', container: 'outbound', key: 'over/report.csv', etag: sha(v1).slice(0, 8), size: v1.length, via: 'sqs' });
      const stat1 = await source.stat('outbound', 'over/report.csv');
      await h.runner.handle({ scheme: 's3', container: 'outbound', key: 'over/report.csv', etag: stat1.etag!.replace(/"/g, ''), size: v1.length, via: 'sqs' });
      await s3.seed('outbound', 'over/report.csv', v2);
      // The wait of both reported versions ends: each re-stat finds v2, which starts its own wait.
      clock = new Date(start + 3000);
      await until('both reported versions superseded', async () => (await records(h, 'over')).filter((r) => r.state === 'superseded').length === 2, 60_000);
      const waiting = (await records(h, 'over')).filter((r) => r.state !== 'superseded');
      assert.deepEqual(waiting.map((r) => r.state), ['seen'], 'v2 waits for its own stability before it is sent');
      clock = new Date(start + 6000);
      await until('the final version sent', async () => (await records(h, 'over')).some((r) => r.state === 'sent'), 60_000);
      // Nothing else is left to run (which a second send would need), rather than a sleep.
      await until('the queue drained', async () => h.runner.inFlight === 0 && (await h.runner.ledger.queuePage()).length === 0, 60_000);
    } finally {
      await h.runner.stop();
    }
    const files = await filesUnder(join(sshd.rootDir, 'over'));
    assert.deepEqual(files, [join(sshd.rootDir, 'over', 'report.csv')]);
    assert.equal(sha(await readFile(files[0]!)), sha(v2));
    const all = await records(h, 'over');
    assert.equal(all.filter((r) => r.state === 'sent').length, 1);
    assert.equal(all.filter((r) => r.state === 'superseded').length, 2, JSON.stringify(all.map((r) => [r.state, r.etag])));
    assert.equal(all.find((r) => r.state === 'sent')!.sha256, sha(v2));
  });

  it('a destination that keeps failing: 3 retries, one alert, one incident, audit records; a restart opens no second one', async () => {
    await s3.seed('outbound', 'fail/a.csv', randomBytes(3000));
    const closedPort = await freePort();
    const rulesJson = { settings: { scanSeconds: 0.1, retryBaseSeconds: 0.05, retryMaxSeconds: 0.2 }, rules: [{ name: 'fail', source: 's3://outbound/fail/', destination: { name: 'Down' }, stability: 0, triggers: { poll: { seconds: 5 } } }] };
    const options = { dir: dir.path, password: sshd.password, destinations: { Down: sshdSpec(sshd, closedPort) }, source: () => source, rulesJson };
    const h = pushHarness(options);
    h.runner.start();
    try {
      const stat = await source.stat('outbound', 'fail/a.csv');
      await h.runner.handle({ scheme: 's3', container: 'outbound', key: 'fail/a.csv', etag: stat.etag!, size: stat.size, via: 'sqs' });
      await until('the object failed with its incident', async () => (await records(h, 'fail')).some((r) => r.state === 'failed' && r.incident), 60_000);
    } finally {
      await h.runner.stop();
    }
    const [record] = await records(h, 'fail');
    assert.equal(record!.attempts, 4);
    assert.equal(record!.lastError!.code, 'NETWORK');
    const audit = (await h.audit.readAll()).filter((a) => (a.details as { rule?: string } | undefined)?.rule === 'fail');
    assert.equal(audit.filter((a) => a.type === 'push.attempt-failed').length, 3);
    assert.equal(audit.filter((a) => a.type === 'push.failed').length, 1);
    assert.equal(audit.filter((a) => a.type === 'push.alerted').length, 1);
    assert.equal(audit.filter((a) => a.type === 'push.incident').length, 1);
    assert.equal(h.notifier.sent.filter((m) => m.title === 'Push failed: fail/a.csv').length, 1);
    const incidents = (await h.incidents.all()).filter((i) => i.summary.includes('fail/a.csv'));
    assert.equal(incidents.length, 1);
    assert.equal(record!.incident!.number, incidents[0]!.number);

    // A second process over the same ledger finds the failed object queued again (as after a crash
    // between the failure and the follow-ups): it raises neither a second alert nor a second incident.
    const again = pushHarness({ ...options, documents: h.documents });
    await again.runner.ledger.enqueue((await first(again)).id, 'fail', new Date());
    again.runner.start();
    await until('the queue to drain', async () => (await again.runner.ledger.queuePage()).length === 0, 30_000);
    await again.runner.stop();
    assert.equal(again.notifier.sent.length, 0);
    assert.equal((await again.incidents.all()).filter((i) => i.summary.includes('fail/a.csv')).length, 1);
  });

  it('the window holds a file until it opens', async () => {
    await s3.seed('outbound', 'night/n.csv', randomBytes(2000));
    let clock = new Date('2031-03-04T12:00:00Z');
    const h = pushHarness({
      dir: dir.path,
      password: sshd.password,
      destinations: { Partner: sshdSpec(sshd) },
      source: () => source,
      now: () => clock,
      rulesJson: { settings: { scanSeconds: 0.1 }, rules: [{ name: 'night', source: 's3://outbound/night/', destination: { name: 'Partner', folder: `${sshd.rootDir}/night/{name}` }, stability: 0, window: { from: '20:00', to: '06:00' }, triggers: { poll: { seconds: 60 } } }] },
    });
    h.runner.start();
    try {
      const stat = await source.stat('outbound', 'night/n.csv');
      await h.runner.handle({ scheme: 's3', container: 'outbound', key: 'night/n.csv', etag: stat.etag!, size: stat.size, via: 'sqs' });
      await until('the hold', async () => (await h.audit.readAll()).some((a) => a.type === 'push.held'), 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(await filesUnder(join(sshd.rootDir, 'night')), []);
      assert.equal((await records(h, 'night'))[0]!.state, 'stable');
      clock = new Date('2031-03-04T20:00:30Z');
      await until('the send once the window opened', async () => (await records(h, 'night'))[0]!.state === 'sent', 30_000);
    } finally {
      await h.runner.stop();
    }
    assert.equal((await filesUnder(join(sshd.rootDir, 'night'))).length, 1);
  });

  it('a missed expectation raises the alert once', async () => {
    let clock = new Date('2031-03-04T05:59:00Z');
    const h = pushHarness({
      dir: dir.path,
      password: sshd.password,
      destinations: { Partner: sshdSpec(sshd) },
      source: () => source,
      now: () => clock,
      rulesJson: { settings: { scanSeconds: 0.1 }, rules: [{ name: 'daily', source: 's3://outbound/daily/', destination: { name: 'Partner' }, expect: { by: '06:00', atLeast: 1, days: ['tue'] }, triggers: { poll: { seconds: 60 } } }] },
    });
    h.runner.start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(h.notifier.sent.length, 0, 'not before 06:00');
      clock = new Date('2031-03-04T06:01:00Z');
      await until('the alert', async () => h.notifier.sent.length > 0, 10_000);
      await new Promise((r) => setTimeout(r, 800));
    } finally {
      await h.runner.stop();
    }
    assert.equal(h.notifier.sent.length, 1);
    assert.match(h.notifier.sent[0]!.title, /Expected file missing: rule daily/);
    assert.equal((await h.audit.readAll()).filter((a) => a.type === 'push.expectation-missed').length, 1);
  });
});

async function first(h: { runner: { ledger: { records(): AsyncGenerator<{ id: string }> } } }): Promise<{ id: string }> {
  for await (const d of h.runner.ledger.records()) return d;
  throw new Error('empty ledger');
}
