import { strict as assert } from 'node:assert';
import { openCosmosStores, type CosmosStores } from '../../src/adapters/store/cosmosStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import type { AuditRecord } from '../../src/ports/auditLog';
import { isCreate, startCosmosServer, type CosmosTestServer } from '../support/cosmosServer';

/**
 * Two bot processes on one Cosmos DB audit chain: two stores, each with its own CosmosClient (and
 * its own connections), appending at once. The chain must not fork: the conditional create on
 * the record's id makes one of two writers of a seq lose (409) and link to the winner instead.
 */
describe('Cosmos DB audit: two writers on one chain (cosmosdb-server)', function () {
  let server: CosmosTestServer;
  const opened: CosmosStores[] = [];

  before(async () => {
    server = await startCosmosServer();
  });
  after(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    await server?.stop();
  });

  const writer = (chain: string): CosmosStores => {
    const stores = openCosmosStores({ endpoint: server.endpoint, key: server.key, database: server.database, chain, clientOptions: server.clientOptions });
    opened.push(stores);
    return stores;
  };

  it('100 appends from each of two clients at once: one chain of 200 that verifies, every event in it once', async () => {
    const chain = 'two-writers';
    const [a, b] = [writer(chain), writer(chain)];
    server.seen.length = 0;
    const append = (stores: CosmosStores, who: string, i: number): Promise<AuditRecord> =>
      stores.audit.append({ type: 'transfer.progress', actor: 'system', requestId: `FF-${who}`, details: { who, i } });
    const appendRest = (stores: CosmosStores, who: string): Promise<AuditRecord[]> => Promise.all(Array.from({ length: 99 }, (_, i) => append(stores, who, i + 1)));
    // One append each first, A then B: A's cached head is then one behind the chain, so A's next
    // create is a collision whatever the machine's timing; the other 99 each then race at once.
    const firstA = await append(a, 'A', 0);
    const firstB = await append(b, 'B', 0);
    const [restA, restB] = await Promise.all([appendRest(a, 'A'), appendRest(b, 'B')]);
    const [fromA, fromB] = [[firstA, ...restA], [firstB, ...restB]];
    // The race was real: some creates lost with 409 and were sealed again on the winner's record.
    const creates = server.seen.filter(isCreate).length;
    assert.ok(creates > 200, `the writers collided on some seqs (${creates} creates for 200 records)`);

    const seqs = [...fromA, ...fromB].map((r) => r.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => i + 1), 'the two writers got seqs 1..200 between them, none twice');
    const stored = await writer(chain).audit.readAll();
    const verdict = await verifyAuditChain(stored);
    assert.deepEqual(verdict, { ok: true, count: 200, head: { seq: 200, hash: stored[199]!.hash } });
    assert.deepEqual(stored, [...fromA, ...fromB].sort((x, y) => x.seq - y.seq), 'storage holds exactly what the appends returned');
    for (const who of ['A', 'B']) {
      const mine = stored.filter((r) => r.details?.who === who).map((r) => r.details?.i);
      assert.deepEqual(mine, Array.from({ length: 100 }, (_, i) => i), `${who}'s events are all there, in the order ${who} appended them`);
    }
  });
});
