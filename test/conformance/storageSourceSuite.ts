import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { SourceError } from '../../src/domain/errors';
import type { ListPage, ObjectInfo, StorageSource } from '../../src/ports/storageSource';
import { expectFailure, readAll } from '../support/expectFailure';

/**
 * What an adapter's test file hands the shared suite. Everything is real: `source` talks to a
 * running server (or a real folder), and `seed`/`mutate` write through the server's own API or
 * disk, never through the adapter (which cannot write).
 */
export interface StorageSourceFixture {
  source: StorageSource;
  /** Creates the container when needed and stores `body` under `key`. */
  seed(container: string, key: string, body: Buffer): Promise<void>;
  /** Overwrites an existing object with another body (a new version, to test SOURCE_CHANGED). */
  mutate(container: string, key: string, body: Buffer): Promise<void>;
  teardown(): Promise<void>;
}

const UNICODE_KEY = 'dossier été/rapport final.csv';

/**
 * The contract every StorageSource adapter meets (src/ports/storageSource.ts), run against each
 * real backend: containers, '/'-folders and paging, stat, exact ranged reads, version pinning,
 * typed errors and cancel.
 */
export function storageSourceConformance(name: string, setup: () => Promise<StorageSourceFixture>): void {
  describe(`StorageSource conformance: ${name}`, function () {
    let f: StorageSourceFixture;
    let source: StorageSource;
    // Lower-case, 3–63 characters: a valid S3 bucket and Azure container name.
    const container = `conf-${randomBytes(4).toString('hex')}`;
    const missingContainer = `missing-${randomBytes(4).toString('hex')}`;
    const big = randomBytes(1024 * 1024 + 13);
    const unicodeBody = Buffer.from('nom;montant\nÉlodie;12,50\n', 'utf8');

    before(async () => {
      f = await setup();
      source = f.source;
      await f.seed(container, 'big.bin', big);
      await f.seed(container, 'empty.bin', Buffer.alloc(0));
      await f.seed(container, 'tree/a.txt', Buffer.from('a'));
      await f.seed(container, 'tree/b.txt', Buffer.from('bb'));
      await f.seed(container, 'tree/sub1/x.txt', Buffer.from('x'));
      // sub2 holds a file beside its sub-folder: s3rver (unlike S3) reports no common prefix for a
      // folder that holds only folders, so that shape is left out of the shared suite.
      await f.seed(container, 'tree/sub2/z.txt', Buffer.from('zzzz'));
      await f.seed(container, 'tree/sub2/deeper/y.txt', Buffer.from('yyy'));
      for (let i = 0; i < 7; i++) await f.seed(container, `paged/obj-${i}.txt`, Buffer.from(`object ${i}`));
      await f.seed(container, UNICODE_KEY, unicodeBody);
    });
    after(async () => {
      await f?.teardown();
    });

    const keys = (page: ListPage): string[] => page.objects.map((o) => o.key);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

    describe('listing', () => {
      it('listContainers includes the seeded container and not a missing one', async () => {
        const names = (await source.listContainers()).map((c) => c.name);
        assert.ok(names.includes(container), `${container} in ${names.join(', ')}`);
        assert.ok(!names.includes(missingContainer));
      });

      it('lists the top level: folders by prefix, ending in "/", and the objects beside them', async () => {
        const page = await source.list(container);
        assert.deepEqual([...page.folders].sort(), ['dossier été/', 'paged/', 'tree/']);
        assert.deepEqual(keys(page).sort(), ['big.bin', 'empty.bin']);
        assert.equal(page.nextToken, undefined);
        const bigInfo = page.objects.find((o) => o.key === 'big.bin')!;
        assert.equal(bigInfo.size, big.length);
        assert.ok(bigInfo.lastModified instanceof Date);
        assert.equal(page.objects.find((o) => o.key === 'empty.bin')!.size, 0);
      });

      it('goes down one folder level at a time through the folder prefixes it returns', async () => {
        const tree = await source.list(container, { prefix: 'tree/' });
        assert.deepEqual([...tree.folders].sort(), ['tree/sub1/', 'tree/sub2/']);
        assert.deepEqual(keys(tree).sort(), ['tree/a.txt', 'tree/b.txt']);
        assert.deepEqual(tree.objects.map((o) => o.size).sort(), [1, 2]);

        const sub2 = await source.list(container, { prefix: tree.folders.find((p) => p.endsWith('sub2/'))! });
        assert.deepEqual(sub2.folders, ['tree/sub2/deeper/']);
        assert.deepEqual(keys(sub2), ['tree/sub2/z.txt']);

        const deeper = await source.list(container, { prefix: sub2.folders[0]! });
        assert.deepEqual(deeper.folders, []);
        assert.deepEqual(keys(deeper), ['tree/sub2/deeper/y.txt']);
        assert.equal(deeper.objects[0]!.size, 3);
      });

      it('a prefix that is not a folder matches the start of names', async () => {
        const page = await source.list(container, { prefix: 'paged/obj-1' });
        assert.deepEqual(keys(page), ['paged/obj-1.txt']);
        const tr = await source.list(container, { prefix: 'tr' });
        assert.deepEqual(tr.folders, ['tree/']);
        assert.deepEqual(keys(tr), []);
      });

      it('a prefix with nothing under it is an empty page', async () => {
        const page = await source.list(container, { prefix: 'nothing-here/' });
        assert.deepEqual(page, { folders: [], objects: [] });
      });

      it('pages 7 objects by 3: three pages, every object once, the last without a token', async () => {
        const seen: string[] = [];
        const sizes: number[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await source.list(container, { prefix: 'paged/', pageSize: 3, token });
          pages++;
          assert.ok(page.objects.length <= 3, `page ${pages} has ${page.objects.length} objects`);
          seen.push(...keys(page));
          sizes.push(page.objects.length);
          token = page.nextToken;
          assert.ok(pages <= 10, 'paging ends');
        } while (token);
        assert.equal(pages, 3);
        assert.deepEqual(sizes, [3, 3, 1]);
        assert.equal(new Set(seen).size, seen.length, `no duplicates in ${seen.join(', ')}`);
        assert.deepEqual([...seen].sort(), Array.from({ length: 7 }, (_, i) => `paged/obj-${i}.txt`));
      });

      it('lists unicode and space-laden names as they are', async () => {
        const top = await source.list(container, { prefix: 'dossier ' });
        assert.deepEqual(top.folders, ['dossier été/']);
        const page = await source.list(container, { prefix: 'dossier été/' });
        assert.deepEqual(keys(page), [UNICODE_KEY]);
        assert.equal(page.objects[0]!.size, unicodeBody.length);
      });
    });

    describe('stat', () => {
      it('gives size, last-modified and an etag that stays the same while the object does', async () => {
        const info = await source.stat(container, 'big.bin');
        assert.equal(info.key, 'big.bin');
        assert.equal(info.size, big.length);
        assert.ok(info.lastModified instanceof Date);
        assert.ok(info.etag, 'an etag pins the version');
        assert.equal((await source.stat(container, 'big.bin')).etag, info.etag);
      });

      it('a checksum it reports is the hash of the bytes', async () => {
        const info = await source.stat(container, 'big.bin');
        if (info.checksums?.sha256) assert.equal(info.checksums.sha256, sha(big));
        if (info.checksums?.md5) assert.equal(info.checksums.md5, createHash('md5').update(big).digest('hex'));
      });

      it('stats a 0-byte object and a unicode, space-laden key', async () => {
        assert.equal((await source.stat(container, 'empty.bin')).size, 0);
        const info = await source.stat(container, UNICODE_KEY);
        assert.equal(info.key, UNICODE_KEY);
        assert.equal(info.size, unicodeBody.length);
      });

      it('NOT_FOUND for a missing key, naming it', async () => {
        const error = await expectFailure(source.stat(container, 'tree/missing.txt'), { type: SourceError, code: 'NOT_FOUND', withHint: true });
        assert.ok(error.message.includes('tree/missing.txt'), error.message);
        assert.equal(error.retryable, false);
      });

      it('NOT_FOUND for a key in a missing container, and for listing it', async () => {
        const error = await expectFailure(source.stat(missingContainer, 'a.txt'), { type: SourceError, code: 'NOT_FOUND', withHint: true });
        assert.ok(error.message.includes(missingContainer), error.message);
        await expectFailure(source.list(missingContainer), { type: SourceError, code: 'NOT_FOUND', withHint: true });
      });

      it('NOT_FOUND for a folder', async () => {
        await expectFailure(source.stat(container, 'tree/'), { type: SourceError, code: 'NOT_FOUND', withHint: true });
      });
    });

    describe('read', () => {
      let info: ObjectInfo;
      before(async () => {
        info = await source.stat(container, 'big.bin');
      });

      it('a range starting in the middle returns exactly those bytes', async () => {
        const bytes = await readAll(await source.read(container, info, { start: 1000, end: 300_017 }));
        assert.equal(bytes.length, 299_017);
        assert.ok(bytes.equals(big.subarray(1000, 300_017)));
      });

      it('an object as the listing gave it reads too, pinned the same way as one from stat', async () => {
        // The bot transfers what the file picker listed: a listing's version pin must work for reads.
        const listed = (await source.list(container)).objects.find((o) => o.key === 'big.bin');
        assert.ok(listed, 'big.bin is listed');
        assert.equal(listed.etag, info.etag, 'listing and stat give the same pin');
        const bytes = await readAll(await source.read(container, listed, { start: 0, end: 4096 }));
        assert.ok(bytes.equals(big.subarray(0, 4096)));
      });

      it('a range ending at the size returns the tail', async () => {
        const start = big.length - 777;
        const bytes = await readAll(await source.read(container, info, { start, end: big.length }));
        assert.ok(bytes.equals(big.subarray(start)));
      });

      it('a one-byte range and an empty range', async () => {
        assert.ok((await readAll(await source.read(container, info, { start: 5, end: 6 }))).equals(big.subarray(5, 6)));
        assert.equal((await readAll(await source.read(container, info, { start: 7, end: 7 }))).length, 0);
      });

      it('a full read returns the whole object', async () => {
        const bytes = await readAll(await source.read(container, info, { start: 0, end: info.size }));
        assert.equal(sha(bytes), sha(big));
      });

      it('a 0-byte object reads as no bytes', async () => {
        const empty = await source.stat(container, 'empty.bin');
        assert.equal((await readAll(await source.read(container, empty, { start: 0, end: 0 }))).length, 0);
      });

      it('reads a unicode, space-laden key', async () => {
        const u = await source.stat(container, UNICODE_KEY);
        assert.ok((await readAll(await source.read(container, u, { start: 0, end: u.size }))).equals(unicodeBody));
      });

      it('several ranges read in parallel reassemble the object', async () => {
        const part = 256 * 1024;
        const ranges = [];
        for (let start = 0; start < big.length; start += part) ranges.push({ start, end: Math.min(big.length, start + part) });
        const parts = await Promise.all(ranges.map(async (r) => readAll(await source.read(container, info, r))));
        assert.equal(sha(Buffer.concat(parts)), sha(big));
      });

      it('SOURCE_CHANGED when the object changed after it was stat-ed, and the new version reads', async () => {
        const key = `changing-${randomBytes(3).toString('hex')}.txt`;
        const first = Buffer.from('version one of the file, sixty-four bytes long................!!');
        const second = Buffer.from('version two: a different, shorter body');
        await f.seed(container, key, first);
        const old = await source.stat(container, key);
        await f.mutate(container, key, second);
        const error = await expectFailure(
          source.read(container, old, { start: 0, end: 16 }).then(readAll),
          { type: SourceError, code: 'SOURCE_CHANGED', withHint: true },
        );
        assert.equal(error.retryable, false, 'a changed source is not retried');
        assert.ok(error.message.includes(key), error.message);

        const now = await source.stat(container, key);
        assert.notEqual(now.etag, old.etag);
        assert.ok((await readAll(await source.read(container, now, { start: 0, end: now.size }))).equals(second));
      });

      it('CANCELLED when the signal is already aborted', async () => {
        const controller = new AbortController();
        controller.abort();
        await expectFailure(source.read(container, info, { start: 0, end: info.size }, controller.signal), { type: SourceError, code: 'CANCELLED', withHint: true });
      });

      it('CANCELLED on the stream when the signal aborts mid-read', async () => {
        const controller = new AbortController();
        const stream = await source.read(container, info, { start: 0, end: info.size }, controller.signal);
        const readThenAbort = async (): Promise<void> => {
          let first = true;
          for await (const chunk of stream) {
            assert.ok((chunk as Buffer).length > 0);
            if (first) controller.abort();
            first = false;
          }
        };
        await expectFailure(readThenAbort(), { type: SourceError, code: 'CANCELLED' });
      });
    });
  });
}
