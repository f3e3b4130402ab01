import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Source } from '../../src/adapters/source/s3Source';
import { AzureBlobSource } from '../../src/adapters/source/azureBlobSource';
import { LocalDestination } from '../../src/adapters/destination/localDestination';
import { FerryError } from '../../src/domain/errors';
import { runTransfer } from '../../src/transfer/engine';
import type { TransferEvent, TransferRequest } from '../../src/transfer/types';
import { HttpErrorGate } from '../support/httpErrorGate';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';
import { startAzurite, type AzuriteServer } from '../support/azuriteServer';
import { tempDir } from '../support/tmp';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const FAST = { backoffBaseMs: 20, backoffMaxMs: 100, partSize: 256 * 1024, progressIntervalMs: 0 };

/** The engine's guarantees that depend on the source: retries of S3 errors, pinning, source checksums. */
describe('engine with S3 and Azure sources', () => {
  let s3: S3rverServer;
  let azure: AzuriteServer;
  let out: { path: string; remove: () => Promise<void> };
  const destination = (): LocalDestination => new LocalDestination({ root: out.path });

  before(async () => {
    [s3, azure, out] = await Promise.all([startS3rver(), startAzurite(), tempDir('engine-out')]);
  });
  after(async () => {
    await Promise.allSettled([s3.stop(), azure.stop(), out.remove()]);
  });

  function s3Request(source: S3Source, key: string, remotePath: string, extra: Partial<TransferRequest> = {}): TransferRequest {
    return { source, container: 'engine', key, destination: destination(), remotePath, overwrite: 'replace', tuning: FAST, ...extra };
  }

  it('retries an S3 503 SlowDown and completes with the right bytes', async () => {
    const body = randomBytes(1024 * 1024 + 1);
    await s3.seed('engine', 'slow.bin', body);
    const gate = await HttpErrorGate.start(s3.port);
    try {
      const source = new S3Source({ endpoint: gate.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
      // The first HEAD and the first ranged GET both get a 503.
      gate.answerNext(HttpErrorGate.s3Error(503, 'SlowDown', 'Please reduce your request rate.'));
      const events: TransferEvent[] = [];
      const first = await runTransfer(s3Request(source, 'slow.bin', '/slow-head.bin', { onEvent: (e) => events.push(e) }));
      assert.equal(first.sha256, sha(body));
      const object = await source.stat('engine', 'slow.bin');
      gate.answerNext(HttpErrorGate.s3Error(503, 'SlowDown', 'Please reduce your request rate.'));
      const second = await runTransfer(s3Request(source, 'slow.bin', '/slow-get.bin', { object, onEvent: (e) => events.push(e) }));
      assert.equal(second.sha256, sha(body));
      assert.equal(second.attempts, 2);
      assert.equal(sha(await readFile(join(out.path, 'slow-get.bin'))), sha(body));
      const failures = events.filter((e) => e.type === 'attempt-failed');
      assert.equal(failures.length, 2, JSON.stringify(failures));
      for (const f of failures) assert.ok(f.type === 'attempt-failed' && ['THROTTLED', 'SERVER_ERROR'].includes(f.code));
    } finally {
      await gate.close();
    }
  });

  it('fails with SOURCE_CHANGED when the object is replaced mid-transfer, leaving nothing behind', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    await s3.seed('engine', 'moving.bin', body);
    const source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
    // The replacement lands between two ranged GETs, not whenever a seed started from a progress
    // event happens to finish: the first read from 512 KiB on waits for the new object to be stored.
    // One read in flight at a time (readConcurrency 1, no read-ahead), so none started before it.
    const replaceAt = 512 * 1024;
    let replaced: Promise<void> | undefined;
    const read = source.read.bind(source);
    source.read = async (bucket, object, range, signal) => {
      if (range.start >= replaceAt) await (replaced ??= s3.seed('engine', 'moving.bin', randomBytes(body.length)));
      return read(bucket, object, range, signal);
    };
    const pending = runTransfer(s3Request(source, 'moving.bin', '/moving/moving.bin', { tuning: { ...FAST, readConcurrency: 1, readAhead: 0 } }));
    const error = await pending.then(() => assert.fail('expected SOURCE_CHANGED'), (e: unknown) => e);
    assert.ok(replaced, 'the transfer read past 512 KiB before failing');
    assert.ok(error instanceof FerryError && error.code === 'SOURCE_CHANGED' && !error.retryable, String(error));
    assert.deepEqual(await readdir(join(out.path, 'moving')), []);
  });

  it('reports size-only verification for an S3 object without a full-object SHA-256 (s3rver keeps none)', async () => {
    const body = randomBytes(300_000);
    await s3.seed('engine', 'summed.bin', body, { checksumAlgorithm: 'SHA256' });
    const source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
    const object = await source.stat('engine', 'summed.bin');
    const result = await runTransfer(s3Request(source, 'summed.bin', '/summed.bin', { object }));
    assert.equal(result.sha256, sha(body));
    // The SHA-256 comparison itself is covered by the CHECKSUM_MISMATCH test below and by Azure.
    assert.equal(object.checksums, undefined);
    assert.equal(result.verification, 'size');
  });

  it('refuses bytes that do not match the source checksum, and keeps nothing', async () => {
    const body = randomBytes(100_000);
    await s3.seed('engine', 'lying.bin', body);
    const source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
    const object = await source.stat('engine', 'lying.bin');
    const wrong = { ...object, checksums: { sha256: sha(Buffer.from('something else')) } };
    const error = await runTransfer(s3Request(source, 'lying.bin', '/lying/lying.bin', { object: wrong })).then(
      () => assert.fail('expected CHECKSUM_MISMATCH'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError && error.code === 'CHECKSUM_MISMATCH', String(error));
    assert.deepEqual(await readdir(join(out.path, 'lying')), []);
  });

  it('checks Azure Content-MD5 and moves a 0-byte blob', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 9);
    await azure.seed('engine', 'dossier été/données.bin', body, { contentMD5: createHash('md5').update(body).digest() });
    await azure.seed('engine', 'empty.bin', Buffer.alloc(0));
    const source = new AzureBlobSource({ connectionString: azure.connectionString });
    const request = (key: string, remotePath: string): TransferRequest => ({
      source, container: 'engine', key, destination: destination(), remotePath, overwrite: 'replace', tuning: FAST,
    });
    const result = await runTransfer(request('dossier été/données.bin', '/azure/données.bin'));
    assert.equal(result.sha256, sha(body));
    assert.equal(result.verification, 'size+source-checksum');
    const empty = await runTransfer(request('empty.bin', '/azure/empty.bin'));
    assert.equal(empty.bytes, 0);
    assert.equal((await readFile(join(out.path, 'azure', 'empty.bin'))).length, 0);
  });
});
