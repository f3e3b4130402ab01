import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { StoreError } from '../../src/domain/errors';
import type { DocumentStore, StoredDocument } from '../../src/ports/documentStore';
import { expectFailure } from '../support/expectFailure';

/**
 * What an adapter's test file hands the shared suite. Every store gets the suite's clock, which
 * stamps `updatedAt` and decides expiry, so expiry is tested by moving the clock, never by
 * waiting. `reopen` works on the storage of the most recent `create()` and is looked at when the
 * suite is declared: its cases exist only for stores that outlive the instance.
 */
export interface DocumentStoreFactory {
  /** A store ready to use, reading the time from `now`. Called before each test; the suite keeps tests apart by collection. */
  create(now: () => Date): Promise<DocumentStore>;
  /** A new store instance over the same storage (a restart). Leave out for storage that lives in the instance (memory). */
  reopen?(now: () => Date): Promise<DocumentStore>;
}

const SECOND = 1000;

/** Byte-wise order of the UTF-8 encodings: what `list` promises. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Ids that trip naive stores: separators URLs and Cosmos ids care about, spaces, escapes, and
 * unicode whose UTF-8 order differs from JavaScript's UTF-16 order ('～' U+FF5E sorts before '😀'
 * U+1F600 by bytes, after it by UTF-16 code units).
 */
const AWKWARD_IDS = ['plain', 'with space', ' leading', 'a/b/c', 'a+b', 'q?x=1', 'hash#frag', 'back\\slash', '100%', 'été', '山田', '～wide', '😀 emoji', 'Zebra', 'zebra', 'a', 'a-', 'a.', 'a0'];

/** The contract of `src/ports/documentStore.ts`, run against each document store. */
export function documentStoreConformance(name: string, factory: DocumentStoreFactory): void {
  describe(`DocumentStore conformance: ${name}`, function () {
    let store: DocumentStore;
    /** The suite's clock: real time at the start of each test, moved only by `advance`. */
    let clock = 0;
    const now = (): Date => new Date(clock);
    const advance = (ms: number): void => {
      clock += ms;
    };
    /** Unique per test, so stores shared between tests (one table, one container) never mix. */
    let col: string;

    beforeEach(async () => {
      clock = Date.now();
      store = await factory.create(now);
      col = `suite-${randomBytes(4).toString('hex')}`;
    });

    const conflict = (p: Promise<unknown>) => expectFailure(p, { type: StoreError, code: 'CONFLICT', withHint: true });
    const ids = (docs: StoredDocument<unknown>[]): string[] => docs.map((d) => d.id);

    it('get of an unknown document is undefined, and list of an empty collection is []', async () => {
      assert.equal(await store.get(col, 'nobody'), undefined);
      assert.deepEqual(await store.list(col), []);
    });

    it('a create (ifVersion 0) is version 1, read back with its body and the time of the put', async () => {
      assert.equal(await store.put(col, 'doc', { state: 'new', n: 1 }, { ifVersion: 0 }), 1);
      assert.deepEqual(await store.get(col, 'doc'), { id: 'doc', version: 1, body: { state: 'new', n: 1 }, updatedAt: now().toISOString() });
    });

    it('every put adds one to the version and stamps updatedAt', async () => {
      assert.equal(await store.put(col, 'doc', 'one'), 1);
      advance(5 * SECOND);
      assert.equal(await store.put(col, 'doc', 'two', { ifVersion: 1 }), 2);
      advance(5 * SECOND);
      assert.equal(await store.put(col, 'doc', 'three'), 3);
      assert.deepEqual(await store.get(col, 'doc'), { id: 'doc', version: 3, body: 'three', updatedAt: now().toISOString() });
    });

    it('ifVersion 0 twice: the second is CONFLICT and the first stays', async () => {
      await store.put(col, 'once', { by: 'first' }, { ifVersion: 0 });
      advance(SECOND);
      await conflict(store.put(col, 'once', { by: 'second' }, { ifVersion: 0 }));
      const doc = await store.get(col, 'once');
      assert.deepEqual(doc?.body, { by: 'first' });
      assert.equal(doc?.version, 1);
    });

    it('a stale ifVersion is CONFLICT and changes nothing (body, version, updatedAt)', async () => {
      await store.put(col, 'doc', { v: 1 });
      await store.put(col, 'doc', { v: 2 });
      const before = await store.get(col, 'doc');
      advance(SECOND);
      await conflict(store.put(col, 'doc', { v: 'stale' }, { ifVersion: 1 }));
      await conflict(store.put(col, 'doc', { v: 'future' }, { ifVersion: 3 }));
      assert.deepEqual(await store.get(col, 'doc'), before);
    });

    it('ifVersion n on an absent document is CONFLICT and creates nothing', async () => {
      await conflict(store.put(col, 'ghost', { v: 1 }, { ifVersion: 1 }));
      assert.equal(await store.get(col, 'ghost'), undefined);
      assert.deepEqual(await store.list(col), []);
    });

    it('an unconditional put creates (version 1) or replaces whatever version is there', async () => {
      assert.equal(await store.put(col, 'free', { v: 'a' }), 1);
      assert.equal(await store.put(col, 'free', { v: 'b' }), 2);
      assert.deepEqual((await store.get(col, 'free'))?.body, { v: 'b' });
    });

    it('delete removes it; deleting a missing document is no error; the id can be created again at version 1', async () => {
      await store.put(col, 'doc', { v: 1 });
      await store.put(col, 'doc', { v: 2 });
      await store.delete(col, 'doc');
      assert.equal(await store.get(col, 'doc'), undefined);
      await store.delete(col, 'doc');
      await store.delete(col, 'never-was');
      assert.equal(await store.put(col, 'doc', { v: 'again' }, { ifVersion: 0 }), 1);
    });

    it('a conditional delete removes only that version: another is CONFLICT and the document stays', async () => {
      await store.put(col, 'doc', { v: 1 });
      await store.put(col, 'doc', { v: 2 });
      await conflict(store.delete(col, 'doc', 1));
      assert.equal((await store.get(col, 'doc'))?.version, 2);
      await store.delete(col, 'doc', 2);
      assert.equal(await store.get(col, 'doc'), undefined);
      await conflict(store.delete(col, 'doc', 2));
    });

    it('collections are apart: the same id in two collections is two documents', async () => {
      const other = `${col}-other`;
      await store.put(col, 'shared', { in: 'first' });
      assert.equal(await store.get(other, 'shared'), undefined);
      assert.equal(await store.put(other, 'shared', { in: 'second' }, { ifVersion: 0 }), 1);
      await store.put(col, 'shared', { in: 'first, again' });
      assert.deepEqual((await store.get(other, 'shared'))?.body, { in: 'second' });
      assert.deepEqual(ids(await store.list(other)), ['shared']);
      await store.delete(other, 'shared');
      assert.equal((await store.get(col, 'shared'))?.version, 2);
    });

    describe('expiry', () => {
      it('a document with expiresAt reads back with it until then, and is gone from get and list after', async () => {
        const at = new Date(clock + 60 * SECOND);
        await store.put(col, 'brief', { v: 1 }, { expiresAt: at });
        await store.put(col, 'lasting', { v: 1 });
        assert.equal((await store.get(col, 'brief'))?.expiresAt, at.toISOString());
        advance(59 * SECOND);
        assert.deepEqual(ids(await store.list(col)), ['brief', 'lasting']);
        advance(2 * SECOND);
        assert.equal(await store.get(col, 'brief'), undefined);
        assert.deepEqual(ids(await store.list(col)), ['lasting']);
      });

      it('an expired document counts as absent: ifVersion 0 creates it anew at version 1; its old version is CONFLICT', async () => {
        await store.put(col, 'claim', { owner: 'a' }, { expiresAt: new Date(clock + 10 * SECOND) });
        await store.put(col, 'claim', { owner: 'a' }, { ifVersion: 1, expiresAt: new Date(clock + 10 * SECOND) });
        advance(11 * SECOND);
        await conflict(store.put(col, 'claim', { owner: 'late' }, { ifVersion: 2 }));
        assert.equal(await store.put(col, 'claim', { owner: 'b' }, { ifVersion: 0 }), 1);
        assert.deepEqual(await store.get(col, 'claim'), { id: 'claim', version: 1, body: { owner: 'b' }, updatedAt: now().toISOString() });
      });

      it('an expiresAt already past hides the document at once', async () => {
        await store.put(col, 'stillborn', { v: 1 }, { expiresAt: new Date(clock - SECOND) });
        assert.equal(await store.get(col, 'stillborn'), undefined);
        assert.deepEqual(await store.list(col), []);
      });

      it('a later put without expiresAt keeps the document for good', async () => {
        await store.put(col, 'doc', { v: 1 }, { expiresAt: new Date(clock + 10 * SECOND) });
        await store.put(col, 'doc', { v: 2 }, { ifVersion: 1 });
        advance(3600 * SECOND);
        const doc = await store.get(col, 'doc');
        assert.equal(doc?.version, 2);
        assert.equal(doc?.expiresAt, undefined);
      });

      it('expired documents do not count against a list page', async () => {
        for (let i = 0; i < 6; i++) await store.put(col, `d${i}`, i, i % 2 ? { expiresAt: new Date(clock + SECOND) } : {});
        advance(2 * SECOND);
        assert.deepEqual(ids(await store.list(col, { limit: 3 })), ['d0', 'd2', 'd4']);
      });
    });

    describe('list', () => {
      it('ids with spaces, /, +, ?, #, \\, %, and unicode round-trip, listed in byte-wise (UTF-8) order', async () => {
        for (const id of AWKWARD_IDS) await store.put(col, id, { id });
        for (const id of AWKWARD_IDS) assert.deepEqual((await store.get(col, id))?.body, { id }, `get ${JSON.stringify(id)}`);
        assert.deepEqual(ids(await store.list(col)), [...AWKWARD_IDS].sort(byteOrder));
      });

      it('a long id (1000 bytes of UTF-8) round-trips', async () => {
        const id = `long/${'é'.repeat(400)}${'x'.repeat(1000 - 5 - 800)}`;
        assert.equal(Buffer.byteLength(id), 1000);
        await store.put(col, id, { long: true }, { ifVersion: 0 });
        assert.deepEqual((await store.get(col, id))?.body, { long: true });
        assert.deepEqual(ids(await store.list(col, { prefix: 'long/' })), [id]);
      });

      it('pages by after and limit across more than one page, each document once, in order', async () => {
        const all = Array.from({ length: 23 }, (_, i) => `item-${String(i).padStart(3, '0')}`);
        await Promise.all([...all].reverse().map((id) => store.put(col, id, { id })));
        const seen: string[] = [];
        let pages = 0;
        for (let after: string | undefined; ; pages++) {
          const page = await store.list(col, { limit: 10, ...(after !== undefined ? { after } : {}) });
          if (page.length === 0) break;
          assert.ok(page.length <= 10, `a page holds at most the limit: ${page.length}`);
          seen.push(...ids(page));
          after = page.at(-1)!.id;
        }
        assert.equal(pages, 3);
        assert.deepEqual(seen, all);
      });

      it('without a limit, a page is 100 documents', async () => {
        const all = Array.from({ length: 104 }, (_, i) => `n${String(i).padStart(4, '0')}`);
        for (let i = 0; i < all.length; i += 26) await Promise.all(all.slice(i, i + 26).map((id) => store.put(col, id, i)));
        const page = await store.list(col);
        assert.deepEqual(ids(page), all.slice(0, 100));
      });

      it('prefix selects ids starting with it, and combines with after and limit', async () => {
        const inside = ['p/1', 'p/2', 'p/3', 'p/3/x', 'p/4'];
        for (const id of ['p', 'o/9', 'p.', 'p0', 'q/1', ...inside]) await store.put(col, id, id);
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/' })), inside);
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/', limit: 2 })), ['p/1', 'p/2']);
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/', after: 'p/2', limit: 2 })), ['p/3', 'p/3/x']);
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/', after: 'p/3/x' })), ['p/4']);
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/', after: 'p/4' })), []);
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/', after: 'a' })), inside, 'an after before the prefix does not matter');
        assert.deepEqual(ids(await store.list(col, { prefix: 'p/', after: 'q' })), [], 'an after beyond the prefix leaves nothing');
        assert.deepEqual(ids(await store.list(col, { prefix: 'zzz' })), []);
      });

      it('after an id that does not exist starts at the next one', async () => {
        for (const id of ['b', 'd', 'f']) await store.put(col, id, id);
        assert.deepEqual(ids(await store.list(col, { after: 'c' })), ['d', 'f']);
        assert.deepEqual(ids(await store.list(col, { after: 'f' })), []);
      });

      it('list returns the same documents as get: version, body, updatedAt, expiresAt', async () => {
        await store.put(col, 'x', { v: 1 }, { expiresAt: new Date(clock + 3600 * SECOND) });
        advance(SECOND);
        await store.put(col, 'x', { v: 2 }, { ifVersion: 1, expiresAt: new Date(clock + 3600 * SECOND) });
        await store.put(col, 'y', [1, 2]);
        assert.deepEqual(await store.list(col), [await store.get(col, 'x'), await store.get(col, 'y')]);
      });
    });

    it('bodies round-trip: nested objects, arrays, numbers, unicode strings, null and booleans, and bare values', async () => {
      const body = {
        nested: { deeper: { deepest: [1, { two: 2 }, [3]] } },
        numbers: { fraction: 0.1 + 0.2, tiny: 5e-324, big: Number.MAX_SAFE_INTEGER, negative: -42.5, zero: 0, exp: 1e21 },
        strings: { empty: '', unicode: 'Zoë — 山田 🚀 e\u0301', lines: 'a\nb\r\nc\u2028d', quotes: `"'\``, json: '{"not":"parsed"}' },
        flags: [true, false, null],
        empty: { object: {}, array: [] },
      };
      await store.put(col, 'rich', body);
      assert.deepEqual((await store.get(col, 'rich'))?.body, body);
      for (const [id, value] of [['string', 'just text'], ['number', 12.75], ['array', ['a', 1, null]], ['null', null], ['false', false]] as const) {
        await store.put(col, id, value);
        assert.deepEqual((await store.get(col, id))?.body, value, id);
      }
    });

    it('a body read back is a copy: changing it, or the object put, changes nothing stored', async () => {
      const body = { list: [1, 2], inner: { k: 'v' } };
      await store.put(col, 'doc', body);
      body.list.push(3);
      const read = (await store.get<typeof body>(col, 'doc'))!;
      read.body.inner.k = 'changed';
      assert.deepEqual((await store.get(col, 'doc'))?.body, { list: [1, 2], inner: { k: 'v' } });
    });

    describe('racing writers', () => {
      const N = 8;

      it(`${N} creates (ifVersion 0) of one id at once: exactly one wins, the rest are CONFLICT`, async () => {
        const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => store.put(col, 'claim', { by: i }, { ifVersion: 0 })));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, `exactly one wins: ${results.map((r) => r.status).join(',')}`);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof StoreError && r.reason.code === 'CONFLICT', String(r.reason));
        assert.deepEqual(await store.get(col, 'claim'), { id: 'claim', version: 1, body: { by: won[0] }, updatedAt: now().toISOString() });
      });

      it(`${N} replaces of the same version at once: exactly one wins, and the version moved by one`, async () => {
        await store.put(col, 'shared', { by: 'setup' });
        const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => store.put(col, 'shared', { by: i }, { ifVersion: 1 })));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, `exactly one wins: ${results.map((r) => r.status).join(',')}`);
        const doc = await store.get(col, 'shared');
        assert.equal(doc?.version, 2);
        assert.deepEqual(doc?.body, { by: won[0] });
      });

      it(`${N} unconditional puts at once all land, each with its own version`, async () => {
        const versions = await Promise.all(Array.from({ length: N }, (_, i) => store.put(col, 'busy', { by: i })));
        assert.deepEqual([...versions].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i + 1));
        const doc = await store.get<{ by: number }>(col, 'busy');
        assert.equal(doc?.version, N);
        assert.equal(versions[doc!.body.by], N, 'the body read is the one written last');
      });
    });

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      describe('after a restart (a new instance over the same storage)', () => {
        it('documents, versions and conditions carry over', async () => {
          await store.put(col, 'kept', { v: 1 });
          await store.put(col, 'kept', { v: 2 });
          await store.put(col, 'brief', { v: 1 }, { expiresAt: new Date(clock + 10 * SECOND) });
          const again = await reopen(now);
          assert.deepEqual(await again.get(col, 'kept'), await store.get(col, 'kept'));
          await conflict(again.put(col, 'kept', { v: 'stale' }, { ifVersion: 1 }));
          assert.equal(await again.put(col, 'kept', { v: 3 }, { ifVersion: 2 }), 3);
          assert.deepEqual(ids(await again.list(col)), ['brief', 'kept']);
          advance(11 * SECOND);
          assert.deepEqual(ids(await again.list(col)), ['kept']);
        });
      });
    }
  });
}
