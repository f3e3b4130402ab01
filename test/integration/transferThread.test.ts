import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LocalSource } from '../../src/adapters/source/localSource';
import { S3Source } from '../../src/adapters/source/s3Source';
import { untilExpiry } from '../../src/adapters/source/expiringCredentials';
import { FerryError, SecretsError, SourceError, TransferError } from '../../src/domain/errors';
import { singleObjectSource } from '../../src/workflow/singleObjectSource';
import { S3RVER_CREDENTIALS, startS3rver } from '../support/s3rverServer';
import type { SftpSpec } from '../../src/domain/destinationSpec';
import { transferWorkers } from '../../src/index';
import type { SecretStore } from '../../src/ports/secretStore';
import type { ByteRange, ObjectInfo, StorageSource } from '../../src/ports/storageSource';
import { TransferThreads, type SpawnTransferWorker, type ThreadedTransfer } from '../../src/transfer/thread/transferThreads';
import type { JobMessage, ThreadJobData } from '../../src/transfer/thread/threadMessages';
import type { TransferEvent, TransferProgress } from '../../src/transfer/types';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A transfer in a worker thread (src/worker.ts, started the way the bot's root starts it) into a
 * real sshd: the source and the secret store stay in this thread, and what the worker reports
 * arrives here as the in-process engine reports it.
 */
describe('transfers in a worker thread', function () {
  let sshd: SshdServer;
  let src: { path: string; remove: () => Promise<void> };
  let body: Buffer;
  let n = 0;
  /** What each job was sent to its worker with, to check no secret is in it. */
  const started: ThreadJobData[] = [];
  let spawned = 0;
  const spawnRoot = transferWorkers();
  const spawn: SpawnTransferWorker = () => {
    spawned++;
    const worker = spawnRoot();
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (message: unknown, transfer?: Parameters<typeof post>[1]) => {
      if ((message as JobMessage).kind === 'job') started.push((message as JobMessage).data);
      post(message, transfer);
    };
    return worker;
  };
  const threads = new TransferThreads(spawn, 2);

  before(async () => {
    sshd = await startSshd();
    src = await tempDir('thread-src');
    body = randomBytes(24 * MiB + 777);
    await mkdir(join(src.path, 'bucket'), { recursive: true });
    await writeFile(join(src.path, 'bucket', 'big.bin'), body);
  });
  after(async () => {
    await threads.close();
    await sshd?.stop();
    await src?.remove();
  });

  function spec(folder: string, passwordRef = 'env:THREAD_TEST_PASSWORD'): SftpSpec {
    return { protocol: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.user, folder, passwordRef, hostKey: { fingerprint: sshd.hostKeyFingerprint } };
  }

  /** Answers the one reference the tests use with sshd's password. */
  const secrets: SecretStore = {
    async resolve(ref) {
      if (ref === 'env:THREAD_TEST_PASSWORD') return sshd.password;
      throw new SecretsError('SECRET_NOT_FOUND', `${ref} names no secret in this test.`, { hint: 'Use env:THREAD_TEST_PASSWORD.' });
    },
  };

  async function transfer(source: StorageSource, extra: Partial<ThreadedTransfer> = {}, pool = threads): Promise<{ folder: string; run: Promise<import('../../src/transfer/types').TransferResult>; events: TransferEvent[]; progress: TransferProgress[] }> {
    const folder = join(sshd.rootDir, `thread-${++n}`);
    const object = await new LocalSource(src.path).stat('bucket', 'big.bin');
    const events: TransferEvent[] = [];
    const progress: TransferProgress[] = [];
    const run = pool.run({
      source,
      container: 'bucket',
      key: 'big.bin',
      object,
      destination: spec(folder),
      remotePath: `${folder}/big.bin`,
      overwrite: 'fail',
      secrets,
      onEvent: (e) => events.push(e),
      onProgress: (p) => progress.push(p),
      tuning: { progressIntervalMs: 10, backoffBaseMs: 10, backoffMaxMs: 20 },
      ...extra,
    });
    return { folder, run, events, progress };
  }

  /** A LocalSource that counts the reads made through this thread. */
  class CountingLocal extends LocalSource {
    reads = 0;
    override read(...args: Parameters<LocalSource['read']>): ReturnType<LocalSource['read']> {
      this.reads++;
      return super.read(...args);
    }
  }

  it('delivers every byte, verified, with progress and events as the engine reports them', async () => {
    const local = new CountingLocal(src.path);
    const { folder, run, events, progress } = await transfer(local);
    const result = await run;
    assert.equal(result.sha256, sha(body));
    assert.equal(sha(await readFile(join(folder, 'big.bin'))), sha(body));
    assert.deepEqual(await readdir(folder), ['big.bin'], 'no temporary file is left');
    assert.deepEqual(events.map((e) => e.type).filter((t) => t !== 'connections'), ['started', 'verified', 'renamed']);
    const first = events[0] as Extract<TransferEvent, { type: 'started' }>;
    assert.ok(first.object.lastModified instanceof Date, 'dates survive the thread boundary');
    assert.ok(progress.length > 1 && progress.at(-1)!.bytes === body.length, `progress ends at every byte (${progress.length} reports)`);
    assert.equal(local.reads, 0, 'a portable source is read by the worker itself, not through this thread');
  });

  it('never hands the worker a secret: the password is resolved in this thread, on call', async () => {
    started.length = 0;
    const { run } = await transfer(new LocalSource(src.path), { destination: spec(join(sshd.rootDir, `thread-${++n}`)) });
    await run;
    assert.equal(started.length, 1);
    const text = JSON.stringify(started[0]);
    assert.ok(text.includes('env:THREAD_TEST_PASSWORD'), 'the reference is in the job');
    assert.ok(!text.includes(sshd.password), 'the password is not');
  });

  it('reads S3 in the worker with the credentials this thread lends, checked for expiry here', async () => {
    const s3 = await startS3rver();
    try {
      await s3.seed('thread', 'big.bin', body);
      let lent = 0;
      const credentials = async () => (lent++, { ...S3RVER_CREDENTIALS, sessionToken: 'token', expiration: new Date(Date.now() + 3600_000) });
      const source = new S3Source({ endpoint: s3.endpoint, region: 'us-east-1', credentials });
      const object = await source.stat('thread', 'big.bin');
      started.length = 0;
      const folder = join(sshd.rootDir, `thread-${++n}`);
      const result = await threads.run({ source: singleObjectSource(source, 'thread', object), container: 'thread', key: 'big.bin', object, destination: spec(folder), remotePath: `${folder}/big.bin`, overwrite: 'fail', secrets });
      assert.equal(result.sha256, sha(body));
      assert.equal(sha(await readFile(join(folder, 'big.bin'))), sha(body));
      assert.ok(lent >= 2, `the worker borrowed the credentials (${lent} calls, one of them this thread's stat)`);
      assert.deepEqual(started[0]!.source.recipe, { kind: 's3', region: 'us-east-1', endpoint: s3.endpoint, credentials: 'lent' });
      assert.ok(!JSON.stringify(started[0]).includes('secretAccessKey'), 'no credential is in what the worker starts with');

      // Role credentials that have ended are refused by this thread's check, as SESSION_EXPIRED.
      const ended = new S3Source({ endpoint: s3.endpoint, region: 'us-east-1', credentials: untilExpiry({ ...S3RVER_CREDENTIALS, sessionToken: 't', expiration: new Date(Date.now() - 1000) }) });
      const again = join(sshd.rootDir, `thread-${++n}`);
      const failed = await threads.run({ source: ended, container: 'thread', key: 'big.bin', object, destination: spec(again), remotePath: `${again}/big.bin`, overwrite: 'fail', secrets }).then(() => undefined, (e: unknown) => e);
      assert.ok(failed instanceof FerryError, String(failed));
      assert.equal(failed.code, 'SESSION_EXPIRED');
    } finally {
      await s3.stop();
    }
  });

  it('keeps the class, code and hint of an error from this thread (source and secrets)', async () => {
    const changed: StorageSource = {
      ...sourceBase(),
      async read() {
        throw new SourceError('SOURCE_CHANGED', 'bucket/big.bin changed while it was read.', { hint: 'Start a new request.' });
      },
    };
    const failed = await (await transfer(changed)).run.then(() => undefined, (e: unknown) => e);
    assert.ok(failed instanceof SourceError, `a SourceError, not ${String(failed)}`);
    assert.equal(failed.code, 'SOURCE_CHANGED');
    assert.equal(failed.hint, 'Start a new request.');
    assert.equal(failed.retryable, false);

    const folder = join(sshd.rootDir, `thread-${++n}`);
    const noSecret = await (await transfer(new LocalSource(src.path), { destination: spec(folder, 'env:MISSING') })).run.then(() => undefined, (e: unknown) => e);
    assert.ok(noSecret instanceof SecretsError, `a SecretsError, not ${String(noSecret)}`);
    assert.equal(noSecret.code, 'SECRET_NOT_FOUND');
    assert.match(noSecret.message, /env:MISSING/);
  });

  it('cancel stops the transfer in the worker: CANCELLED, and nothing under the final name', async () => {
    // A source that sends its first 4 MiB and then waits, so the cancel lands mid-transfer.
    let streams = 0;
    const slow: StorageSource = {
      ...sourceBase(),
      async read(_c: string, _o: ObjectInfo, range: ByteRange) {
        streams++;
        let sent = range.start;
        return new Readable({
          read() {
            if (sent >= range.start + 4 * MiB) return;
            const end = Math.min(range.end, sent + 256 * 1024);
            this.push(body.subarray(sent, end));
            sent = end;
            if (sent === range.end) this.push(null);
          },
        });
      },
    };
    const controller = new AbortController();
    const { folder, run, progress } = await transfer(slow, { signal: controller.signal });
    while (!progress.some((p) => p.bytes > 0)) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const failed = await run.then(() => undefined, (e: unknown) => e);
    assert.ok(failed instanceof TransferError || failed instanceof SourceError, String(failed));
    assert.equal((failed as TransferError).code, 'CANCELLED');
    assert.ok(streams >= 1);
    const left: string[] = await readdir(folder).catch(() => []);
    assert.ok(!left.includes('big.bin'), `nothing under the final name (${left.join(', ')})`);
  });

  it('runs several transfers on one worker per core, every one verified', async () => {
    const pool = new TransferThreads(spawn, 2);
    const before = spawned;
    const runs = await Promise.all([1, 2, 3].map(() => transfer(new LocalSource(src.path), {}, pool)));
    const results = await Promise.all(runs.map((r) => r.run));
    for (const [i, result] of results.entries()) {
      assert.equal(result.sha256, sha(body));
      assert.equal(sha(await readFile(join(runs[i]!.folder, 'big.bin'))), sha(body));
    }
    assert.equal(spawned - before, 2, 'three transfers on a pool of two workers');
    await pool.close();
    const object = await new LocalSource(src.path).stat('bucket', 'big.bin');
    const late = pool.run({ source: new LocalSource(src.path), container: 'bucket', key: 'big.bin', object, destination: spec('/tmp/never'), remotePath: '/tmp/never/big.bin', overwrite: 'fail', secrets });
    await assert.rejects(late, (e: unknown) => e instanceof TransferError && /shutting down/.test(e.message));
    assert.equal(spawned - before, 2, 'a closed pool starts no worker');
  });

  it('a worker can resolve only the secrets its job\'s destination names', async () => {
    // A worker speaking the job protocol by hand: it asks for a reference the destination does not
    // name, and reports whatever it got back as the job's failure.
    const asking = `
      const { parentPort } = require('node:worker_threads');
      parentPort.on('message', ({ port }) => {
        port.on('message', (m) => {
          if (m.kind !== 'answer' && m.kind !== 'call-failed') return;
          port.postMessage({ kind: 'failed', error: m.error ?? { area: 'transfer', code: 'INTERNAL', message: 'answered ' + m.value, hint: '', retryable: false } });
        });
        port.postMessage({ kind: 'call', call: 1, method: 'resolve', args: ['env:OTHER'] });
      });`;
    const pool = new TransferThreads(() => new Worker(asking, { eval: true }), 1);
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    const generous: SecretStore = { resolve: async (ref) => (ref === 'env:OTHER' ? canary : sshd.password) };
    const object = await new LocalSource(src.path).stat('bucket', 'big.bin');
    try {
      const failed = await pool.run({ source: new LocalSource(src.path), container: 'bucket', key: 'big.bin', object, destination: spec('/tmp/x'), remotePath: '/tmp/x/big.bin', overwrite: 'fail', secrets: generous }).then(() => undefined, (e: unknown) => e);
      assert.ok(failed instanceof SecretsError, String(failed));
      assert.equal(failed.code, 'ACCESS_DENIED');
      assert.ok(!failed.message.includes(canary));
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies without an answer fails the transfer as INTERNAL and retryable', async () => {
    const dying = new TransferThreads(() => new Worker('process.exit(3)', { eval: true }), 1);
    const object = await new LocalSource(src.path).stat('bucket', 'big.bin');
    const failed = await dying.run({ source: new LocalSource(src.path), container: 'bucket', key: 'big.bin', object, destination: spec('/tmp/x'), remotePath: '/tmp/x/big.bin', overwrite: 'fail', secrets }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(failed instanceof TransferError, String(failed));
    assert.equal(failed.code, 'INTERNAL');
    assert.equal(failed.retryable, true);
    assert.match(failed.message, /exit code 3/);
  });

  /** A source's listing methods, never called by these transfers. */
  function sourceBase(): Omit<StorageSource, 'read'> {
    const local = new LocalSource(src.path);
    return { scheme: 'file', parallelReads: 1, listContainers: () => local.listContainers(), list: (c, o) => local.list(c, o), stat: (c, k) => local.stat(c, k) };
  }
});
