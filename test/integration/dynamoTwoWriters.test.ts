import { strict as assert } from 'node:assert';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openDynamoStores, type DynamoStores } from '../../src/adapters/store/dynamoStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import type { AuditRecord } from '../../src/ports/auditLog';
import { startDynalite, type DynaliteServer } from '../support/dynaliteServer';

const PREFIX = 'FerryTwoWriters';
/** Lock-step rounds, each a guaranteed race for one seq. */
const ROUNDS = 60;
/** Appends per writer in the burst, all in flight at once. */
const BURST = 150;

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

  const openWriters = (chain: string, key: Buffer | undefined, clients: DynamoDBClient[]): { name: string; audit: DynamoStores['audit'] }[] =>
    ['bot-a', 'bot-b'].map((name, i) => {
      const stores = openDynamoStores({ tablePrefix: PREFIX, chain, auditKey: key, client: clients[i]! });
      open.push(stores);
      return { name, audit: stores.audit };
    });

  /** Reads the chain back and checks it: one verified chain, seqs 1..n, every append stored as it returned. */
  const checkChain = async (chain: string, key: Buffer | undefined, names: string[], returned: AuditRecord[][], perWriter: number): Promise<AuditRecord[]> => {
    const reader = openDynamoStores({ tablePrefix: PREFIX, chain, auditKey: key, client: server.client() });
    open.push(reader);
    const stored: AuditRecord[] = await reader.audit.readAll();
    const verdict = await verifyAuditChain(stored, key);
    assert.deepEqual(verdict.ok && verdict.count, 2 * perWriter, JSON.stringify(verdict.ok ? verdict.count : verdict));
    assert.deepEqual(stored.map((r) => r.seq), Array.from({ length: 2 * perWriter }, (_, i) => i + 1));
    // Every event exactly once, as its writer's append returned it; nothing lost, nothing twice.
    const bySeq = new Map(stored.map((r) => [r.seq, r]));
    for (const [w, records] of returned.entries()) {
      const name = names[w]!;
      assert.deepEqual(records.map((r) => r.details?.i), Array.from({ length: perWriter }, (_, i) => i), `${name}'s appends resolve in order`);
      for (const r of records) assert.deepEqual(bySeq.get(r.seq), r, `${name}'s record ${r.seq} is stored as returned`);
      assert.equal(stored.filter((r) => r.actor === name).length, perWriter, `${name}'s events are all there, once`);
    }
    assert.deepEqual(await reader.audit.head(), { seq: 2 * perWriter, hash: stored.at(-1)!.hash });
    return stored;
  };

  for (const keyed of [false, true]) {
    it(`${ROUNDS} rounds in which both processes append at once${keyed ? ' (HMAC-keyed chain)' : ''}: every round one of them loses the seq, and the chain of ${2 * ROUNDS} verifies`, async () => {
      const chain = keyed ? 'two-writers-keyed' : 'two-writers';
      const key = keyed ? Buffer.from('two writers share the audit key.') : undefined;
      const clients = [server.client(), server.client()];
      const race = pairFirstPuts(clients);
      const writers = openWriters(chain, key, clients);

      // Each round both writers have read the same head before either may write, so both seal
      // the same seq: the race is there by construction, not by the machine's timing.
      const returned: AuditRecord[][] = [[], []];
      for (let i = 0; i < ROUNDS; i++) {
        race.arm();
        const pair = await Promise.all(writers.map((w) => w.audit.append({ type: 'transfer.progress', actor: w.name, requestId: `FF-${w.name}`, details: { i } })));
        pair.forEach((r, w) => returned[w]!.push(r));
      }
      assert.equal(race.lost(), ROUNDS, 'exactly one conditional write lost per round, and each loser then linked to the winner');

      const stored = await checkChain(chain, key, writers.map((w) => w.name), returned, ROUNDS);
      for (let s = 0; s < stored.length; s += 2) {
        assert.deepEqual(new Set([stored[s]!.actor, stored[s + 1]!.actor]), new Set(['bot-a', 'bot-b']), `seqs ${s + 1} and ${s + 2} are one round: one from each writer`);
      }
    });
  }

  it(`${BURST} appends from each of two processes, all in flight together, land as one chain of ${2 * BURST} that verifies`, async () => {
    const chain = 'two-writers-burst';
    const writers = openWriters(chain, undefined, [server.client(), server.client()]);
    const returned = await Promise.all(
      writers.map((w) => Promise.all(Array.from({ length: BURST }, (_, i) => w.audit.append({ type: 'transfer.progress', actor: w.name, requestId: `FF-${w.name}`, details: { i } })))),
    );
    await checkChain(chain, undefined, writers.map((w) => w.name), returned, BURST);
  });
});

/**
 * Holds each armed client's next PutItem until the other armed client's has arrived too, then lets
 * both go; counts the conditional writes lost (ConditionalCheckFailedException) on either.
 */
function pairFirstPuts(clients: DynamoDBClient[]): { arm(): void; lost(): number } {
  const armed = new Set<DynamoDBClient>();
  let held: (() => void)[] = [];
  let lost = 0;
  for (const client of clients) {
    client.middlewareStack.add(
      (next) => async (args) => {
        if (armed.delete(client) && 'Item' in (args.input as object)) {
          await new Promise<void>((release) => {
            held.push(release);
            if (held.length === clients.length) for (const go of held.splice(0)) go();
          });
        }
        try {
          return await next(args);
        } catch (e) {
          if ((e as Error).name === 'ConditionalCheckFailedException') lost++;
          throw e;
        }
      },
      { step: 'initialize', name: 'pairFirstPuts' },
    );
  }
  return { arm: () => clients.forEach((c) => armed.add(c)), lost: () => lost };
}
