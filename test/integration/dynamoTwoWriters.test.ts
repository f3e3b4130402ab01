import { strict as assert } from 'node:assert';
import { openDynamoStores, type DynamoStores } from '../../src/adapters/store/dynamoStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import type { AuditRecord } from '../../src/ports/auditLog';
import { startDynalite, type DynaliteServer } from '../support/dynaliteServer';

const PREFIX = 'FerryTwoWriters';
const PER_WRITER = 150;

/**
 * Two bot processes on one DynamoDB table, appending to one audit chain at once: each has its own
 * client (its own connections), and nothing but DynamoDB's conditional write on `seq` orders them.
 */
describe('DynamoDB audit: two writers on one chain (dynalite)', () => {
  let server: DynaliteServer;
  const open: DynamoStores[] = [];

  before(async () => {
    server = await startDynalite();
    await server.createTables(PREFIX);
  });
  after(async () => {
    for (const stores of open) await stores.close();
    await server.stop();
  });

  for (const keyed of [false, true]) {
    it(`${PER_WRITER} appends from each of two processes${keyed ? ', with an HMAC key,' : ''} land as one chain of ${2 * PER_WRITER} that verifies`, async () => {
      const chain = keyed ? 'two-writers-keyed' : 'two-writers';
      const key = keyed ? Buffer.from('two writers share the audit key.') : undefined;
      const writers = ['bot-a', 'bot-b'].map((name) => {
        const stores = openDynamoStores({ tablePrefix: PREFIX, chain, auditKey: key, client: server.client() });
        open.push(stores);
        return { name, audit: stores.audit };
      });

      // Both start before either finishes: every append of both in flight together.
      const returned = await Promise.all(
        writers.map((w) => Promise.all(Array.from({ length: PER_WRITER }, (_, i) => w.audit.append({ type: 'transfer.progress', actor: w.name, requestId: `FF-${w.name}`, details: { i } })))),
      );

      const reader = openDynamoStores({ tablePrefix: PREFIX, chain, auditKey: key, client: server.client() });
      open.push(reader);
      const stored: AuditRecord[] = await reader.audit.readAll();
      const verdict = await verifyAuditChain(stored, key);
      assert.deepEqual(verdict.ok && verdict.count, 2 * PER_WRITER, JSON.stringify(verdict.ok ? verdict.count : verdict));
      assert.deepEqual(stored.map((r) => r.seq), Array.from({ length: 2 * PER_WRITER }, (_, i) => i + 1));

      // Every event exactly once, as its writer's append returned it; nothing lost, nothing twice.
      const bySeq = new Map(stored.map((r) => [r.seq, r]));
      for (const [w, records] of returned.entries()) {
        const name = writers[w]!.name;
        assert.deepEqual(records.map((r) => r.details?.i), Array.from({ length: PER_WRITER }, (_, i) => i), `${name}'s appends resolve in order`);
        for (const r of records) assert.deepEqual(bySeq.get(r.seq), r, `${name}'s record ${r.seq} is stored as returned`);
        assert.equal(stored.filter((r) => r.actor === name).length, PER_WRITER, `${name}'s events are all there, once`);
      }
      // The writers really interleaved: neither ran all its appends before the other started.
      const actors = stored.map((r) => r.actor);
      assert.ok(actors.indexOf('bot-b') < actors.lastIndexOf('bot-a') && actors.indexOf('bot-a') < actors.lastIndexOf('bot-b'), 'the two writers interleave');
      assert.deepEqual(await reader.audit.head(), { seq: 2 * PER_WRITER, hash: stored.at(-1)!.hash });
    });
  }
});
