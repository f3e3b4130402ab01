import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { RequestRecord } from '../../src/domain/requestRecord';
import type { RequestRepository } from '../../src/ports/requestRepository';

/**
 * What an adapter's test file hands the shared suite. `reopen` works on the storage of the most
 * recent `create()`, and is looked at when the suite is declared (see the end of the suite).
 */
export interface RequestRepositoryFactory {
  /** A repository ready to use. Called before each test; the suite keeps its records apart by ID and user. */
  create(): Promise<RequestRepository>;
  /** A new repository instance over the same storage (a restart). Leave out for storage that lives in the instance (memory). */
  reopen?(): Promise<RequestRepository>;
}

const T0 = Date.UTC(2031, 2, 14, 9, 30, 0, 0);
/** An ISO UTC time `ms` milliseconds after a fixed instant. */
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const MINUTE = 60_000;

/**
 * The one place records are built (the record type is being reshaped: change only this). The
 * required fields, plus a few optional ones when `full`; `fields` override either.
 */
function makeRecord(id: string, userId: string, fields: Partial<RequestRecord> = {}, full = false): RequestRecord {
  const optional: Partial<RequestRecord> = full
    ? {
        cardActivityId: `1:${id}-card`,
        form: { environment: 'PROD', cloud: 'aws', region: 'eu-west-1', container: 'finance-exports', key: 'q3/ledger été.csv', assignmentGroup: 'DataOps', priority: '3', justification: 'Quarterly close\nfor the auditors ✓' },
        tickets: { user: { number: 'REQ0001001', url: 'https://tickets.example/REQ0001001' }, audit: { number: 'AUD0001001', url: 'https://tickets.example/AUD0001001' } },
        source: { container: 'finance-exports', key: 'q3/ledger été.csv', size: 1_234_567_890, etag: '"abc123"' },
      }
    : {};
  return {
    id,
    state: 'ticketed',
    revision: 1,
    owner: { userId, tenantId: 'tenant-0001', name: 'Ann Example' },
    conversation: { id: `a:${id}`, serviceUrl: 'https://smba.trafficmanager.net/emea/', nested: { count: 2, ok: true, none: null, list: ['x', 1] } },
    createdAt: at(0),
    updatedAt: at(0),
    ...optional,
    ...fields,
  };
}

/** The contract of `src/ports/requestRepository.ts`, run against each request store. */
export function requestRepositoryConformance(name: string, factory: RequestRepositoryFactory): void {
  describe(`RequestRepository conformance: ${name}`, function () {
    let repo: RequestRepository;
    /** Unique per test, so stores shared between tests (one table) never mix tests' records. */
    let tag: string;

    beforeEach(async () => {
      repo = await factory.create();
      tag = randomBytes(4).toString('hex').toUpperCase();
    });

    const id = (n: number | string): string => `FF-${tag}-${n}`;
    const user = (n: number | string): string => `29:user-${tag}-${n}`;
    const ids = (records: RequestRecord[]): string[] => records.map((r) => r.id);

    it('get of an unknown ID is undefined', async () => {
      assert.equal(await repo.get(id('never')), undefined);
      await repo.put(makeRecord(id(1), user(1)));
      assert.equal(await repo.get(id('never')), undefined);
    });

    it('put then get round-trips a record exactly, the minimal one and a full one', async () => {
      const minimal = makeRecord(id(1), user(1));
      const full = makeRecord(id(2), user(1), { state: 'source-chosen', revision: 7, signedInAt: at(MINUTE), updatedAt: at(2 * MINUTE) }, true);
      await repo.put(minimal);
      await repo.put(full);
      assert.deepEqual(await repo.get(id(1)), minimal);
      assert.deepEqual(await repo.get(id(2)), full);
    });

    it('get returns a copy: changing it changes nothing until put', async () => {
      await repo.put(makeRecord(id(1), user(1), {}, true));
      const copy = (await repo.get(id(1)))!;
      copy.state = 'cancelled';
      copy.owner.name = 'Mallory';
      (copy.conversation.nested as { count: number }).count = 99;
      assert.deepEqual(await repo.get(id(1)), makeRecord(id(1), user(1), {}, true));
      await repo.put(copy);
      assert.deepEqual(await repo.get(id(1)), copy);
    });

    it('the record passed to put is stored as it was: later changes to it do not leak in', async () => {
      const record = makeRecord(id(1), user(1));
      await repo.put(record);
      record.revision = 2;
      record.owner.name = 'Mallory';
      assert.deepEqual(await repo.get(id(1)), makeRecord(id(1), user(1)));
    });

    it('put replaces the whole record: fields left out are gone, not merged', async () => {
      await repo.put(makeRecord(id(1), user(1), {}, true));
      const replacement = makeRecord(id(1), user(1), { state: 'cancelled', revision: 2, updatedAt: at(MINUTE) });
      await repo.put(replacement);
      assert.deepEqual(await repo.get(id(1)), replacement);
    });

    it('puts of different records in parallel all land', async () => {
      const records = Array.from({ length: 20 }, (_, i) => makeRecord(id(i), user(1), { createdAt: at(i * MINUTE) }));
      await Promise.all(records.map((r) => repo.put(r)));
      for (const r of records) assert.deepEqual(await repo.get(r.id), r);
    });

    it("listByUser: only that user's, newest first by createdAt, at most `limit`", async () => {
      // Put out of order, with updatedAt running against createdAt, so neither insertion order
      // nor updatedAt can pass for the ordering.
      const mine = [3, 0, 4, 1, 2].map((n) => makeRecord(id(`u${n}`), user(1), { createdAt: at(n * MINUTE), updatedAt: at((10 - n) * MINUTE) }));
      const theirs = [5, 6].map((n) => makeRecord(id(`o${n}`), user(2), { createdAt: at(n * MINUTE) }));
      for (const r of [...mine, ...theirs]) await repo.put(r);
      const newestFirst = [4, 3, 2, 1, 0].map((n) => id(`u${n}`));
      assert.deepEqual(ids(await repo.listByUser(user(1), 10)), newestFirst);
      assert.deepEqual(ids(await repo.listByUser(user(1), 3)), newestFirst.slice(0, 3));
      assert.deepEqual(ids(await repo.listByUser(user(1), 1)), newestFirst.slice(0, 1));
      assert.deepEqual(ids(await repo.listByUser(user(2), 10)), [id('o6'), id('o5')]);
      assert.deepEqual(await repo.listByUser(user('nobody'), 10), []);
    });

    it('listByUser returns whole records, as copies', async () => {
      await repo.put(makeRecord(id(1), user(1), {}, true));
      const [listed] = await repo.listByUser(user(1), 10);
      assert.deepEqual(listed, makeRecord(id(1), user(1), {}, true));
      listed!.owner.name = 'Mallory';
      assert.deepEqual(await repo.get(id(1)), makeRecord(id(1), user(1), {}, true));
    });

    it('listStale: records in one of `states` whose updatedAt is before `before`', async () => {
      const cutoff = T0 + 60 * MINUTE;
      const put = (n: string, state: RequestRecord['state'], updatedMs: number) =>
        repo.put(makeRecord(id(n), user(1), { state, createdAt: at(0), updatedAt: new Date(updatedMs).toISOString() }));
      await put('old-ticketed', 'ticketed', cutoff - 30 * MINUTE);
      await put('just-before', 'signed-in', cutoff - 1); // one millisecond: precision is kept
      await put('at-cutoff', 'ticketed', cutoff); // strictly before: equal is not stale
      await put('fresh', 'ticketed', cutoff + MINUTE); // created long ago, but updated since
      await put('old-completed', 'completed', cutoff - 30 * MINUTE); // not a listed state
      const mineOnly = (records: RequestRecord[]) => ids(records).filter((x) => x.startsWith(id(''))).sort();
      assert.deepEqual(mineOnly(await repo.listStale(['ticketed', 'signed-in'], new Date(cutoff))), [id('just-before'), id('old-ticketed')].sort());
      assert.deepEqual(mineOnly(await repo.listStale(['completed'], new Date(cutoff))), [id('old-completed')]);
      assert.deepEqual(mineOnly(await repo.listStale([], new Date(cutoff))), []);
      const [stale] = (await repo.listStale(['completed'], new Date(cutoff))).filter((r) => r.id === id('old-completed'));
      assert.deepEqual(stale, makeRecord(id('old-completed'), user(1), { state: 'completed', createdAt: at(0), updatedAt: at(30 * MINUTE) }));
    });

    // Durability cases exist only for stores that outlive the instance: a factory with `reopen`
    // (SQLite, DynamoDB, Cosmos DB) gets them; the memory store has no `reopen`, so they are not
    // declared for it at all (nothing is skipped).
    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      describe('after a restart (a new instance over the same storage)', () => {
        it('get, listByUser and listStale see what was put before', async () => {
          const full = makeRecord(id(1), user(1), { state: 'failed', revision: 4, createdAt: at(MINUTE), updatedAt: at(2 * MINUTE) }, true);
          const minimal = makeRecord(id(2), user(1), { createdAt: at(3 * MINUTE), updatedAt: at(3 * MINUTE) });
          await repo.put(full);
          await repo.put(minimal);
          const again = await reopen();
          assert.deepEqual(await again.get(id(1)), full);
          assert.deepEqual(await again.get(id(2)), minimal);
          assert.deepEqual(ids(await again.listByUser(user(1), 10)), [id(2), id(1)]);
          const stale = (await again.listStale(['failed'], new Date(T0 + 10 * MINUTE))).filter((r) => r.id.startsWith(id('')));
          assert.deepEqual(stale, [full]);
        });

        it('a put after the restart replaces the record stored before it', async () => {
          await repo.put(makeRecord(id(1), user(1), {}, true));
          const again = await reopen();
          const replacement = makeRecord(id(1), user(1), { state: 'expired', revision: 2, updatedAt: at(MINUTE) });
          await again.put(replacement);
          assert.deepEqual(await (await reopen()).get(id(1)), replacement);
        });
      });
    }
  });
}
