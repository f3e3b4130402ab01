import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { S3Source } from '../../src/adapters/source/s3Source';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import type { ObjectEvent } from '../../src/ports/objectEvents';
import { PollTrigger } from '../../src/push/pollTrigger';
import { quietLog } from '../support/pushHarness';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';

/**
 * Issue 14, "never skips one", for the poll trigger: S3's LastModified is whole seconds (AWS) and
 * comes from the server's clock, not ours, so an object written just after a scan began can carry
 * a LastModified before that scan's start. The poll cursor must still report it. Scans are driven
 * one by one with an injected clock that runs ahead of s3rver's.
 */
describe('push poll trigger (s3rver): an object stamped before the last scan began is still reported', function () {
  this.timeout(60_000);
  let s3: S3rverServer;
  let source: S3Source;

  before(async () => {
    s3 = await startS3rver();
    source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
    await s3.seed('poll', 'in/.keep', Buffer.alloc(0));
  });
  after(async () => s3?.stop());

  it('reports it after two scans that agree, once', async () => {
    const events: ObjectEvent[] = [];
    const onEvent = async (e: ObjectEvent): Promise<void> => {
      events.push(e);
    };
    // Our clock is 5 s ahead of the server's (the same as a LastModified rounded down, only more so).
    const trigger = new PollTrigger({ name: 'skew', place: { scheme: 's3', container: 'poll', prefix: 'in/' }, source, documents: new MemoryDocuments(), intervalSeconds: 60, log: quietLog, now: () => new Date(Date.now() + 5000) });
    await trigger.scan(onEvent);
    await trigger.scan(onEvent);
    const before = events.length;
    // Written after those scans began, by our clock; stamped earlier by the server's.
    await s3.seed('poll', 'in/late.csv', randomBytes(100));
    const stat = await source.stat('poll', 'in/late.csv');
    assert.ok(stat.lastModified!.getTime() < Date.now() + 5000, 'the object is stamped before the last scan began, by the trigger\'s clock');
    // Scans inside the look-back see it again; it is reported once all the same.
    for (let i = 0; i < 5; i++) await trigger.scan(onEvent);
    assert.deepEqual(events.slice(before).map((e) => e.key), ['in/late.csv']);
    // Overwritten while still inside the look-back: the new version is reported, once.
    const v2 = randomBytes(200);
    await s3.seed('poll', 'in/late.csv', v2);
    for (let i = 0; i < 4; i++) await trigger.scan(onEvent);
    assert.deepEqual(events.slice(before).map((e) => [e.key, e.size]), [['in/late.csv', 100], ['in/late.csv', 200]]);
  });
});
