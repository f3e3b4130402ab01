import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Destination, DestinationSession } from '../../src/ports/destination';
import { LocalSource } from '../../src/adapters/source/localSource';
import { runTransfer } from '../../src/transfer/engine';
import { joinRemote } from '../../src/transfer/remotePath';
import type { TransferEvent, TransferRequest } from '../../src/transfer/types';
import { expectFailure } from '../support/expectFailure';
import type { FaultRule } from '../support/faultProxy';
import { tempDir } from '../support/tmp';

/**
 * What an adapter's test file hands the shared suite. Everything is real: `destination` talks to a
 * running server, and the `*Server*` helpers read the server's own disk, not through the adapter.
 */
export interface DestinationFixture {
  destination: Destination;
  /** Absolute folder on the server the suite may write to; it exists. */
  root: string;
  readServerFile(path: string): Promise<Buffer>;
  listServerDir(path: string): Promise<string[]>;
  /** The same destination reached through a connection that suffers `rule` (cut, reset, stall). */
  withFault(rule: FaultRule): Promise<{ destination: Destination; close(): Promise<void> }>;
}

const FAST = { backoffBaseMs: 20, backoffMaxMs: 100, idleTimeoutMs: 3000, partSize: 256 * 1024 };

/**
 * The contract every Destination adapter meets, and the engine guarantees on top of it (atomic
 * placement, overwrite policies, integrity, resume, cancel), run against each real server.
 */
export function destinationConformance(name: string, fixture: () => DestinationFixture): void {
  describe(`Destination conformance: ${name}`, function () {
    let f: DestinationFixture;
    let session: DestinationSession;
    let sourceDir: { path: string; remove: () => Promise<void> };
    let source: LocalSource;
    let n = 0;
    /** A fresh folder per test, so tests never see each other's files. */
    let dir: string;

    before(async () => {
      sourceDir = await tempDir('conformance-src');
      await mkdir(join(sourceDir.path, 'bucket'));
      source = new LocalSource(sourceDir.path);
    });
    after(async () => {
      await sourceDir.remove();
    });
    beforeEach(async () => {
      f = fixture();
      session = await f.destination.connect();
      dir = joinRemote(f.root, `t${++n}-${randomBytes(3).toString('hex')}`);
      await session.ensureDir(dir);
    });
    afterEach(async () => {
      await session.close();
    });

    async function seed(key: string, body: Buffer): Promise<void> {
      await mkdir(join(sourceDir.path, 'bucket', key, '..'), { recursive: true });
      await writeFile(join(sourceDir.path, 'bucket', key), body);
    }

    function request(key: string, remotePath: string, extra: Partial<TransferRequest> = {}): TransferRequest {
      return { source, container: 'bucket', key, destination: f.destination, remotePath, overwrite: 'fail', tuning: FAST, ...extra };
    }

    async function* chunksOf(body: Buffer, size: number): AsyncGenerator<Buffer> {
      for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
    }

    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

    describe('the port', () => {
      it('stat: undefined for a missing path, size for a file, isDirectory for a folder', async () => {
        assert.equal(await session.stat(`${dir}/missing.bin`), undefined);
        await session.write(`${dir}/a.bin`, chunksOf(Buffer.from('hello'), 2), { offset: 0 });
        assert.deepEqual(await session.stat(`${dir}/a.bin`), { size: 5, isDirectory: false });
        assert.equal((await session.stat(dir))?.isDirectory, true);
      });

      it('ensureDir creates nested folders and accepts existing ones', async () => {
        await session.ensureDir(`${dir}/x/y/z`);
        await session.ensureDir(`${dir}/x/y/z`);
        assert.equal((await session.stat(`${dir}/x/y/z`))?.isDirectory, true);
      });

      it('write at 0 stores exactly the bytes, from chunks of odd sizes, and acknowledges them all', async () => {
        const body = randomBytes(3 * 1024 * 1024 + 17);
        const acks: number[] = [];
        let i = 0;
        const sizes = [1, 7, 65537, 300000, 4096];
        async function* odd(): AsyncGenerator<Buffer> {
          let at = 0;
          while (at < body.length) {
            const size = sizes[i++ % sizes.length]!;
            yield body.subarray(at, at + size);
            at += size;
          }
        }
        await session.write(`${dir}/odd.bin`, odd(), { offset: 0, onAcknowledged: (a) => acks.push(a) });
        assert.equal(sha(await f.readServerFile(`${dir}/odd.bin`)), sha(body));
        assert.equal(acks.at(-1), body.length);
        assert.deepEqual(acks, [...acks].sort((a, b) => a - b), 'acknowledgements never go backwards');
      });

      it('write at 0 truncates an existing file', async () => {
        await session.write(`${dir}/t.txt`, chunksOf(Buffer.from('a long first version'), 4), { offset: 0 });
        await session.write(`${dir}/t.txt`, chunksOf(Buffer.from('short'), 4), { offset: 0 });
        assert.equal((await f.readServerFile(`${dir}/t.txt`)).toString(), 'short');
      });

      it('write at an offset continues a partial file', async () => {
        const body = randomBytes(1024 * 1024 + 3);
        const half = 600_001;
        await session.write(`${dir}/r.bin`, chunksOf(body.subarray(0, half), 65536), { offset: 0 });
        await session.write(`${dir}/r.bin`, chunksOf(body.subarray(half), 65536), { offset: half });
        assert.equal(sha(await f.readServerFile(`${dir}/r.bin`)), sha(body));
      });

      it('an empty write creates an empty file', async () => {
        await session.write(`${dir}/empty`, chunksOf(Buffer.alloc(0), 1), { offset: 0 });
        assert.deepEqual(await session.stat(`${dir}/empty`), { size: 0, isDirectory: false });
      });

      it('rename without replace refuses an existing target and keeps both files', async () => {
        await session.write(`${dir}/from`, chunksOf(Buffer.from('new'), 8), { offset: 0 });
        await session.write(`${dir}/to`, chunksOf(Buffer.from('old'), 8), { offset: 0 });
        await expectFailure(session.rename(`${dir}/from`, `${dir}/to`, { replace: false }), { code: 'ALREADY_EXISTS' });
        assert.equal((await f.readServerFile(`${dir}/to`)).toString(), 'old');
        assert.equal((await f.readServerFile(`${dir}/from`)).toString(), 'new');
      });

      it('rename with replace replaces the target', async () => {
        await session.write(`${dir}/from`, chunksOf(Buffer.from('new'), 8), { offset: 0 });
        await session.write(`${dir}/to`, chunksOf(Buffer.from('old'), 8), { offset: 0 });
        await session.rename(`${dir}/from`, `${dir}/to`, { replace: true });
        assert.equal((await f.readServerFile(`${dir}/to`)).toString(), 'new');
        assert.deepEqual(await f.listServerDir(dir), ['to']);
      });

      it('remove deletes a file and accepts a missing one', async () => {
        await session.write(`${dir}/gone`, chunksOf(Buffer.from('x'), 8), { offset: 0 });
        await session.remove(`${dir}/gone`);
        await session.remove(`${dir}/gone`);
        assert.deepEqual(await f.listServerDir(dir), []);
      });

      it('handles unicode and space-laden names', async () => {
        const path = `${dir}/dossier été/rapport final ✓.csv`;
        await session.ensureDir(`${dir}/dossier été`);
        await session.write(path, chunksOf(Buffer.from('a,b\n'), 8), { offset: 0 });
        assert.equal((await f.readServerFile(path)).toString(), 'a,b\n');
      });

      it('a write aborted by its signal fails with CANCELLED', async () => {
        const controller = new AbortController();
        async function* slow(): AsyncGenerator<Buffer> {
          for (let i = 0; i < 1000; i++) {
            if (i === 3) controller.abort();
            yield randomBytes(65536);
            await new Promise((r) => setTimeout(r, 5));
          }
        }
        await expectFailure(session.write(`${dir}/c.bin`, slow(), { offset: 0, signal: controller.signal }), { code: 'CANCELLED' });
      });
    });

    describe('the engine on this destination', () => {
      it('transfers a file, verified, and leaves only the final name', async () => {
        const body = randomBytes(2 * 1024 * 1024 + 5);
        await seed('data/report.bin', body);
        const result = await runTransfer(request('data/report.bin', `${dir}/in/report.bin`));
        assert.equal(result.status, 'completed');
        assert.equal(result.sha256, sha(body));
        assert.equal(result.bytes, body.length);
        assert.equal(sha(await f.readServerFile(`${dir}/in/report.bin`)), sha(body));
        assert.deepEqual(await f.listServerDir(`${dir}/in`), ['report.bin']);
      });

      it('transfers a 0-byte object', async () => {
        await seed('zero.bin', Buffer.alloc(0));
        const result = await runTransfer(request('zero.bin', `${dir}/zero.bin`));
        assert.equal(result.bytes, 0);
        assert.equal(result.sha256, sha(Buffer.alloc(0)));
        assert.equal((await f.readServerFile(`${dir}/zero.bin`)).length, 0);
      });

      it('transfers unicode and space-laden names', async () => {
        await seed('dossier été/rapport final.csv', Buffer.from('x;y\n'));
        await runTransfer(request('dossier été/rapport final.csv', `${dir}/reçu/rapport final.csv`));
        assert.equal((await f.readServerFile(`${dir}/reçu/rapport final.csv`)).toString(), 'x;y\n');
      });

      it("overwrite 'fail' refuses an existing file before uploading, and leaves it untouched", async () => {
        await seed('o.txt', Buffer.from('new'));
        await session.write(`${dir}/o.txt`, chunksOf(Buffer.from('old'), 8), { offset: 0 });
        const events: TransferEvent[] = [];
        await expectFailure(runTransfer(request('o.txt', `${dir}/o.txt`, { onEvent: (e) => events.push(e) })), { code: 'ALREADY_EXISTS' });
        assert.equal((await f.readServerFile(`${dir}/o.txt`)).toString(), 'old');
        assert.deepEqual(await f.listServerDir(dir), ['o.txt']);
      });

      it("overwrite 'replace' replaces the existing file", async () => {
        await seed('o.txt', Buffer.from('new'));
        await session.write(`${dir}/o.txt`, chunksOf(Buffer.from('old'), 8), { offset: 0 });
        const result = await runTransfer(request('o.txt', `${dir}/o.txt`, { overwrite: 'replace' }));
        assert.equal(result.finalPath, `${dir}/o.txt`);
        assert.equal((await f.readServerFile(`${dir}/o.txt`)).toString(), 'new');
        assert.deepEqual(await f.listServerDir(dir), ['o.txt']);
      });

      it("overwrite 'rename' keeps the existing file and picks a numbered name", async () => {
        await seed('o.txt', Buffer.from('new'));
        await session.write(`${dir}/o.txt`, chunksOf(Buffer.from('old'), 8), { offset: 0 });
        await session.write(`${dir}/o (1).txt`, chunksOf(Buffer.from('older'), 8), { offset: 0 });
        const result = await runTransfer(request('o.txt', `${dir}/o.txt`, { overwrite: 'rename' }));
        assert.equal(result.finalPath, `${dir}/o (2).txt`);
        assert.equal((await f.readServerFile(`${dir}/o (2).txt`)).toString(), 'new');
        assert.equal((await f.readServerFile(`${dir}/o.txt`)).toString(), 'old');
        assert.deepEqual((await f.listServerDir(dir)).sort(), ['o (1).txt', 'o (2).txt', 'o.txt']);
      });

      for (const fraction of [0.1, 0.5, 0.9]) {
        it(`resumes after the connection is cut at ${fraction * 100}% and the SHA-256 still covers every byte`, async () => {
          // Large enough that even the 10% cut comes after the first acknowledged write: SFTP keeps
          // 12 writes of 255 KiB in flight, so a cut inside the first ~3.3 MiB may come before any
          // acknowledgement, and restarting from byte 0 is then right (seen as a flaky failure).
          const body = randomBytes(48 * 1024 * 1024 + 333);
          await seed('big.bin', body);
          const faulty = await f.withFault({ action: 'cut', afterBytes: Math.floor(body.length * fraction) });
          try {
            const result = await runTransfer(request('big.bin', `${dir}/big.bin`, { destination: faulty.destination }));
            assert.equal(result.sha256, sha(body));
            assert.ok(result.attempts >= 2, `expected a retry, got ${result.attempts} attempt(s)`);
            assert.ok(result.resumedFromBytes.length >= 1 && result.resumedFromBytes[0]! > 0, `resumed from ${result.resumedFromBytes}`);
            assert.equal(sha(await f.readServerFile(`${dir}/big.bin`)), sha(body));
            assert.deepEqual(await f.listServerDir(dir), ['big.bin']);
          } finally {
            await faulty.close();
          }
        });
      }

      it('resumes from a hash snapshot in the middle of a large file', async () => {
        // Past the 16 MiB snapshot interval, so the hash steps back to a mid-file snapshot
        // rather than to byte 0, and the final digest must still cover every byte once.
        const body = randomBytes(40 * 1024 * 1024 + 77);
        await seed('large.bin', body);
        const faulty = await f.withFault({ action: 'cut', afterBytes: 36 * 1024 * 1024 });
        try {
          const result = await runTransfer(request('large.bin', `${dir}/large.bin`, { destination: faulty.destination, tuning: { ...FAST, partSize: 4 * 1024 * 1024 } }));
          assert.equal(result.sha256, sha(body));
          assert.ok(result.resumedFromBytes[0]! > 16 * 1024 * 1024, `resumed from ${result.resumedFromBytes}`);
          assert.equal(sha(await f.readServerFile(`${dir}/large.bin`)), sha(body));
        } finally {
          await faulty.close();
        }
      });

      it('a connection that dies at once is retried, and the folder and the fail policy still apply', async () => {
        await seed('early.bin', Buffer.from('early'));
        const faulty = await f.withFault({ action: 'reset', afterBytes: 0 });
        try {
          const result = await runTransfer(request('early.bin', `${dir}/made/here/early.bin`, { destination: faulty.destination }));
          assert.ok(result.attempts >= 2, `attempts ${result.attempts}`);
          assert.equal((await f.readServerFile(`${dir}/made/here/early.bin`)).toString(), 'early');
        } finally {
          await faulty.close();
        }
        const again = await f.withFault({ action: 'reset', afterBytes: 0 });
        try {
          await expectFailure(runTransfer(request('early.bin', `${dir}/made/here/early.bin`, { destination: again.destination })), { code: 'ALREADY_EXISTS' });
          assert.deepEqual(await f.listServerDir(`${dir}/made/here`), ['early.bin']);
        } finally {
          await again.close();
        }
      });

      it('a stalled connection times out on idleness and resumes', async () => {
        const body = randomBytes(3 * 1024 * 1024);
        await seed('stall.bin', body);
        const faulty = await f.withFault({ action: 'stall', afterBytes: 1024 * 1024 });
        try {
          const events: TransferEvent[] = [];
          const result = await runTransfer(
            request('stall.bin', `${dir}/stall.bin`, { destination: faulty.destination, tuning: { ...FAST, idleTimeoutMs: 1500 }, onEvent: (e) => events.push(e) }),
          );
          assert.equal(result.sha256, sha(body));
          const failed = events.find((e) => e.type === 'attempt-failed');
          assert.ok(failed && failed.type === 'attempt-failed' && ['TIMEOUT', 'NETWORK'].includes(failed.code), JSON.stringify(failed));
        } finally {
          await faulty.close();
        }
      });

      it('gives up after the configured retries with the last error, leaving nothing behind', async () => {
        await seed('flaky.bin', randomBytes(2 * 1024 * 1024));
        const faulty = await f.withFault({ action: 'reset', afterBytes: 64 * 1024, times: 100 });
        try {
          const error = await expectFailure(runTransfer(request('flaky.bin', `${dir}/flaky.bin`, { destination: faulty.destination, retries: 2 })));
          assert.ok(error.retryable, String(error));
          assert.deepEqual(await f.listServerDir(dir), []);
        } finally {
          await faulty.close();
        }
      });

      it('a link that drops again and again still finishes while each attempt gets real bytes through', async () => {
        // Each connection dies after 6 MiB, so 20 MiB takes four or more attempts: with one retry
        // allowed that only works if every resume that starts well past the last one (here by
        // 256 KiB or more) earns a fresh retry budget. 6 MiB is past SFTP's 16 x 255 KiB writes in
        // flight, so every attempt has some writes acknowledged before its cut (a 1.5 MiB cut could
        // come before any, and the attempt then rightly moved nothing: a flaky failure seen once).
        const body = randomBytes(20 * 1024 * 1024 + 11);
        await seed('drops.bin', body);
        const faulty = await f.withFault({ action: 'cut', afterBytes: 6 * 1024 * 1024, times: 100 });
        try {
          const result = await runTransfer(
            request('drops.bin', `${dir}/drops.bin`, { destination: faulty.destination, retries: 1, tuning: { ...FAST, freshRetriesAfterBytes: 256 * 1024 } }),
          );
          assert.equal(result.sha256, sha(body));
          assert.ok(result.attempts >= 4, `attempts ${result.attempts}`);
          assert.equal(sha(await f.readServerFile(`${dir}/drops.bin`)), sha(body));
        } finally {
          await faulty.close();
        }
      });

      it('cancellation stops the transfer and removes the temporary file', async () => {
        await seed('cancel.bin', randomBytes(8 * 1024 * 1024));
        const controller = new AbortController();
        const faulty = await f.withFault({ action: 'stall', afterBytes: 512 * 1024 });
        try {
          const pending = runTransfer(
            request('cancel.bin', `${dir}/cancel.bin`, {
              destination: faulty.destination,
              signal: controller.signal,
              tuning: { ...FAST, idleTimeoutMs: 60_000 },
              onEvent: (e) => { if (e.type === 'started') setTimeout(() => controller.abort(), 300); },
            }),
          );
          await expectFailure(pending, { code: 'CANCELLED' });
          assert.deepEqual(await f.listServerDir(dir), []);
        } finally {
          await faulty.close();
        }
      });

      it('refuses traversal and CR/LF in the destination path before connecting', async () => {
        await seed('p.txt', Buffer.from('p'));
        let connects = 0;
        const counting: Destination = { label: 'counting', connect: (s) => { connects++; return f.destination.connect(s); } };
        for (const bad of [`${dir}/../escape.txt`, `${dir}/a\r\nDELE x`, `${dir}/nul\u0000.txt`]) {
          await expectFailure(runTransfer(request('p.txt', bad, { destination: counting })), { code: 'INVALID_PATH' });
        }
        assert.equal(connects, 0);
      });
    });
  });
}
