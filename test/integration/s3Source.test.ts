import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SourceError } from '../../src/domain/errors';
import { S3Source } from '../../src/adapters/source/s3Source';
import { expectFailure, readAll } from '../support/expectFailure';
import { FaultProxy } from '../support/faultProxy';
import { HttpErrorGate } from '../support/httpErrorGate';
import { freePort } from '../support/ports';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';

/** S3-specific behaviour beyond the shared conformance suite, against a real s3rver. */
describe('S3Source against s3rver', () => {
  let server: S3rverServer;
  const bucket = 'fileferry-s3-specific';
  const body = randomBytes(200_000);
  const sources: S3Source[] = [];

  const sourceAt = (endpoint: string, credentials = S3RVER_CREDENTIALS): S3Source => {
    const source = new S3Source({ endpoint, region: 'us-east-1', credentials });
    sources.push(source);
    return source;
  };

  before(async () => {
    server = await startS3rver();
    await server.seed(bucket, 'data.bin', body);
  });
  after(async () => {
    for (const s of sources) s.destroy();
    await server?.stop();
  });

  describe('checksums', () => {
    it('s3rver keeps no flexible checksum: an object uploaded with ChecksumAlgorithm SHA256 gets no sha256 (none invented)', async () => {
      const sealed = Buffer.from('sealed with a SHA-256 at upload');
      await server.seed(bucket, 'sha256.txt', sealed, { checksumAlgorithm: 'SHA256' });
      // What the server itself answers: no x-amz-checksum-sha256, so there is nothing true to surface.
      const head = await server.admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sha256.txt', ChecksumMode: 'ENABLED' }));
      assert.equal(head.ChecksumSHA256, undefined, 's3rver started returning checksums: turn this into a sha256 assertion');
      const info = await sourceAt(server.endpoint).stat(bucket, 'sha256.txt');
      assert.equal(info.checksums, undefined);
    });

    it('HeadObject asks for checksums (x-amz-checksum-mode: ENABLED)', async () => {
      const gate = await HttpErrorGate.start(server.port);
      try {
        await sourceAt(gate.endpoint).stat(bucket, 'data.bin');
        const head = gate.requests.find((r) => r.method === 'HEAD');
        assert.equal(head?.headers['x-amz-checksum-mode'], 'ENABLED');
      } finally {
        await gate.close();
      }
    });
  });

  describe('version pinning on the wire', () => {
    it('a ranged GET carries Range and If-Match with the pinned ETag, and a 412 is SOURCE_CHANGED, not retried', async () => {
      const gate = await HttpErrorGate.start(server.port);
      try {
        const source = sourceAt(gate.endpoint);
        const info = await source.stat(bucket, 'data.bin');
        gate.answerNext(HttpErrorGate.s3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
        const error = await expectFailure(source.read(bucket, info, { start: 10, end: 20 }), { type: SourceError, code: 'SOURCE_CHANGED' });
        assert.equal(error.retryable, false);
        const get = gate.requests.at(-1)!;
        assert.equal(get.method, 'GET');
        assert.equal(get.headers.range, 'bytes=10-19');
        assert.equal(get.headers['if-match'], info.etag);
        assert.equal(gate.requests.filter((r) => r.method === 'GET').length, 1, 'one attempt: the engine owns retries');
      } finally {
        await gate.close();
      }
    });
  });

  describe('transient faults are retryable and tried once', () => {
    let gate: HttpErrorGate;
    beforeEach(async () => {
      gate = await HttpErrorGate.start(server.port);
    });
    afterEach(async () => {
      await gate.close();
    });

    it('503 SlowDown once → THROTTLED (retryable) after a single request; the next call gets through', async () => {
      const source = sourceAt(gate.endpoint);
      gate.answerNext(HttpErrorGate.s3Error(503, 'SlowDown', 'Please reduce your request rate.'));
      const error = await expectFailure(source.stat(bucket, 'data.bin'), { type: SourceError, code: 'THROTTLED' });
      assert.equal(error.retryable, true);
      assert.ok(error.message.includes('s3://fileferry-s3-specific/data.bin'), error.message);
      assert.ok(error.hint);
      assert.equal(gate.requests.length, 1, 'the SDK did not retry on its own');
      // What the engine's retry would do: call again, and it succeeds.
      assert.equal((await source.stat(bucket, 'data.bin')).size, body.length);
    });

    it('503 SlowDown on a ranged GET → THROTTLED', async () => {
      const source = sourceAt(gate.endpoint);
      const info = await source.stat(bucket, 'data.bin');
      gate.answerNext(HttpErrorGate.s3Error(503, 'SlowDown', 'Please reduce your request rate.'));
      const error = await expectFailure(source.read(bucket, info, { start: 0, end: 100 }), { type: SourceError, code: 'THROTTLED' });
      assert.equal(error.retryable, true);
      assert.ok((await readAll(await source.read(bucket, info, { start: 0, end: 100 }))).equals(body.subarray(0, 100)));
    });

    it('503 SlowDown on a listing (an answer with an error body) → THROTTLED', async () => {
      gate.answerNext(HttpErrorGate.s3Error(503, 'SlowDown', 'Please reduce your request rate.'));
      const error = await expectFailure(sourceAt(gate.endpoint).list(bucket), { type: SourceError, code: 'THROTTLED' });
      assert.ok(error.message.includes('SlowDown'), error.message);
      assert.equal(gate.requests.length, 1);
    });

    it('500 InternalError → SERVER_ERROR (retryable)', async () => {
      gate.answerNext(HttpErrorGate.s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'));
      const error = await expectFailure(sourceAt(gate.endpoint).list(bucket), { type: SourceError, code: 'SERVER_ERROR' });
      assert.equal(error.retryable, true);
      assert.equal(gate.requests.length, 1);
    });

    it('403 AccessDenied → ACCESS_DENIED (permanent)', async () => {
      gate.answerNext(HttpErrorGate.s3Error(403, 'AccessDenied', 'Access Denied'));
      const error = await expectFailure(sourceAt(gate.endpoint).list(bucket), { type: SourceError, code: 'ACCESS_DENIED' });
      assert.equal(error.retryable, false);
    });
  });

  describe('credentials and network', () => {
    it('credentials s3rver does not know → AUTH_FAILED, and the secret is in no message', async () => {
      const secret = `wrong-${randomBytes(8).toString('hex')}`;
      const source = sourceAt(server.endpoint, { accessKeyId: 'NOT-S3RVER', secretAccessKey: secret });
      const error = await expectFailure(source.list(bucket), { type: SourceError, code: 'AUTH_FAILED' });
      assert.ok(!JSON.stringify(error.toJSON()).includes(secret));
      // A HEAD answer has no body, so S3 cannot say why: a 403 there reads as ACCESS_DENIED.
      const head = await expectFailure(source.stat(bucket, 'data.bin'), { type: SourceError, code: 'ACCESS_DENIED' });
      assert.ok(!JSON.stringify(head.toJSON()).includes(secret));
    });

    it('nothing listening → NETWORK (retryable)', async () => {
      const port = await freePort();
      const error = await expectFailure(sourceAt(`http://127.0.0.1:${port}`).listContainers(), { type: SourceError, code: 'NETWORK' });
      assert.equal(error.retryable, true);
    });

    it('a connection reset mid-body fails the stream with NETWORK (retryable)', async () => {
      const proxy = await FaultProxy.start(server.port);
      try {
        const source = sourceAt(`http://127.0.0.1:${proxy.port}`);
        const info = await source.stat(bucket, 'data.bin');
        // The stat's keep-alive connection was accepted unarmed; a fresh source opens a new one.
        const reading = sourceAt(`http://127.0.0.1:${proxy.port}`);
        proxy.setFault({ action: 'reset', afterBytes: 50_000, direction: 'down' });
        const error = await expectFailure((async () => readAll(await reading.read(bucket, info, { start: 0, end: info.size })))(), { type: SourceError, code: 'NETWORK' });
        assert.equal(error.retryable, true);
        assert.equal(proxy.faultsFired, 1);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('configuration', () => {
    it('honours AWS_ENDPOINT_URL_S3 (read by the SDK) with path-style addressing', async () => {
      const saved = process.env.AWS_ENDPOINT_URL_S3;
      process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
      try {
        const source = new S3Source({ region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
        sources.push(source);
        assert.ok((await source.listContainers()).some((c) => c.name === bucket));
        assert.equal((await source.stat(bucket, 'data.bin')).size, body.length);
      } finally {
        if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
        else process.env.AWS_ENDPOINT_URL_S3 = saved;
      }
    });

    it('reports scheme s3 and four parallel reads', () => {
      const source = sourceAt(server.endpoint);
      assert.equal(source.scheme, 's3');
      assert.equal(source.parallelReads, 4);
    });
  });
});
