import assert from 'node:assert/strict';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { StoreError } from '../../src/domain/errors';
import { ClaimLedger, objectId, OBJECTS, QUEUE } from '../../src/push/claimLedger';
import type { SeenObject } from '../../src/push/pushRecord';

const seen: SeenObject = { scheme: 's3', container: 'outbound', key: 'a/red flower+1.csv', etag: 'abc', size: 10, via: 'sqs' };

describe('claim ledger', () => {
  it('records an object once; a replay changes nothing', async () => {
    const docs = new MemoryDocuments();
    const ledger = new ClaimLedger(docs);
    const first = await ledger.recordSeen('r', seen, new Date());
    const again = await ledger.recordSeen('r', seen, new Date());
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(first.id, again.id);
    assert.equal((await docs.list(OBJECTS)).length, 1);
    assert.equal((await ledger.get(first.id))!.version, 1);
    assert.equal((await ledger.day('r', new Date().toISOString().slice(0, 10))).seen, 1);
  });

  it('keys by rule, container, key and version; ids group by rule', async () => {
    assert.notEqual(objectId('r', seen), objectId('r', { ...seen, etag: 'def' }));
    assert.notEqual(objectId('r', seen), objectId('r', { ...seen, versionId: 'v1' }));
    assert.ok(objectId('r', seen).startsWith('r/'));
    assert.ok(!objectId('r/x', seen).startsWith('r/'));
  });

  it('re-queues a replayed unfinished object whose queue entry was lost (crash between the writes)', async () => {
    const docs = new MemoryDocuments();
    const ledger = new ClaimLedger(docs);
    const { id } = await ledger.recordSeen('r', seen, new Date());
    await ledger.dequeue(id);
    await ledger.recordSeen('r', seen, new Date());
    assert.equal((await docs.list(QUEUE)).length, 1);
  });

  it('of two claimers of one version, exactly one wins; the other gets CONFLICT', async () => {
    const ledger = new ClaimLedger(new MemoryDocuments());
    const { id } = await ledger.recordSeen('r', seen, new Date());
    const read = (await ledger.get(id))!;
    const lease = new Date(Date.now() + 60_000);
    const results = await Promise.allSettled([ledger.claim(read, 'a', lease), ledger.claim(read, 'b', lease)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(lost.reason instanceof StoreError && lost.reason.code === 'CONFLICT');
    const now = (await ledger.get(id))!.body;
    assert.equal(now.state, 'claimed');
    assert.equal(now.attempts, 1);
  });

  it('reads the queue and the records in pages, never all at once', async () => {
    const docs = new MemoryDocuments();
    const ledger = new ClaimLedger(docs);
    for (let i = 0; i < 250; i++) await ledger.recordSeen('r', { ...seen, key: `k${i}` }, new Date());
    const page = await ledger.queuePage(undefined, 100);
    assert.equal(page.length, 100);
    assert.equal((await ledger.queuePage(page[99]!.id, 100)).length, 100);
    let n = 0;
    for await (const _ of ledger.records('r')) n++;
    assert.equal(n, 250);
  });
});
