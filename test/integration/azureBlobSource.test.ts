import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError, SourceError } from '../../src/domain/errors';
import { AzureBlobSource } from '../../src/adapters/source/azureBlobSource';
import { HttpErrorGate } from '../support/httpErrorGate';
import { freePort } from '../support/ports';
import { startAzurite, type AzuriteServer } from '../support/azuriteServer';
import { expectFailure, readAll } from '../support/expectFailure';

/** Azure-specific behaviour beyond the shared conformance suite, against a real Azurite. */
describe('AzureBlobSource against Azurite', () => {
  let server: AzuriteServer;
  const container = 'fileferry-azure-specific';
  const body = randomBytes(100_000);
  const md5 = (b: Buffer): Buffer => createHash('md5').update(b).digest();

  /** The same account reached through another port on loopback. */
  const connectionStringAt = (port: number): string => server.connectionString.replace(`:${server.port}/`, `:${port}/`);

  before(async () => {
    server = await startAzurite();
    await server.seed(container, 'data.bin', body, { contentMD5: md5(body) });
  });
  after(async () => {
    await server?.stop();
  });

  describe('checksums', () => {
    it('surfaces Content-MD5 as lower-case hex, in stat and in listings', async () => {
      const source = new AzureBlobSource({ connectionString: server.connectionString });
      const info = await source.stat(container, 'data.bin');
      assert.equal(info.checksums?.md5, md5(body).toString('hex'));
      assert.equal(info.checksums?.sha256, undefined);
      const listed = (await source.list(container)).objects.find((o) => o.key === 'data.bin');
      assert.equal(listed?.checksums?.md5, md5(body).toString('hex'));
    });

    it('reports no md5 for a blob committed from blocks without one', async () => {
      const blob = server.admin.getContainerClient(container).getBlockBlobClient('blocks.bin');
      const id = (n: number): string => Buffer.from(`block-${n}`).toString('base64');
      await blob.stageBlock(id(1), Buffer.from('hello '), 6);
      await blob.stageBlock(id(2), Buffer.from('world'), 5);
      await blob.commitBlockList([id(1), id(2)]);
      const info = await new AzureBlobSource({ connectionString: server.connectionString }).stat(container, 'blocks.bin');
      assert.equal(info.size, 11);
      assert.equal(info.checksums, undefined);
    });
  });

  describe('on the wire', () => {
    let gate: HttpErrorGate;
    let source: AzureBlobSource;
    beforeEach(async () => {
      gate = await HttpErrorGate.start(server.port);
      source = new AzureBlobSource({ connectionString: connectionStringAt(gate.port) });
    });
    afterEach(async () => {
      await gate.close();
    });

    it('a ranged download carries the range and If-Match with the pinned ETag', async () => {
      const info = await source.stat(container, 'data.bin');
      const bytes = await readAll(await source.read(container, info, { start: 100, end: 250 }));
      assert.ok(bytes.equals(body.subarray(100, 250)));
      const get = gate.requests.at(-1)!;
      assert.equal(get.method, 'GET');
      assert.equal(get.headers['x-ms-range'] ?? get.headers.range, 'bytes=100-249');
      assert.equal(get.headers['if-match'], info.etag);
    });

    it('503 ServerBusy once → THROTTLED (retryable) after a single request; the next call gets through', async () => {
      gate.answerNext(HttpErrorGate.azureError(503, 'ServerBusy', 'The server is busy.'));
      const error = await expectFailure(source.stat(container, 'data.bin'), { type: SourceError, code: 'THROTTLED' });
      assert.equal(error.retryable, true);
      assert.ok(error.message.includes(`azblob://${container}/data.bin`), error.message);
      assert.equal(gate.requests.length, 1, 'the SDK did not retry on its own');
      assert.equal((await source.stat(container, 'data.bin')).size, body.length);
    });

    it('500 InternalError on a ranged download → SERVER_ERROR (retryable)', async () => {
      const info = await source.stat(container, 'data.bin');
      gate.answerNext(HttpErrorGate.azureError(500, 'InternalError', 'The server encountered an internal error.'));
      const error = await expectFailure(source.read(container, info, { start: 0, end: 10 }), { type: SourceError, code: 'SERVER_ERROR' });
      assert.equal(error.retryable, true);
      assert.equal(gate.requests.filter((r) => r.method === 'GET').length, 1);
    });

    it('403 AuthorizationPermissionMismatch → ACCESS_DENIED, AuthenticationFailed → AUTH_FAILED', async () => {
      gate.answerNext(HttpErrorGate.azureError(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.'));
      await expectFailure(source.list(container), { type: SourceError, code: 'ACCESS_DENIED' });
      gate.answerNext(HttpErrorGate.azureError(403, 'AuthenticationFailed', 'Server failed to authenticate the request.'));
      await expectFailure(source.list(container), { type: SourceError, code: 'AUTH_FAILED' });
    });
  });

  describe('SAS access', () => {
    it('reads with a SAS token given apart from the account URL, or inside it', async () => {
      const sas = server.accountSas('rl');
      for (const source of [
        new AzureBlobSource({ accountUrl: server.blobEndpoint, sas }),
        new AzureBlobSource({ accountUrl: `${server.blobEndpoint}?${sas}`, sas: true }),
      ]) {
        assert.ok((await source.listContainers()).some((c) => c.name === container));
        const info = await source.stat(container, 'data.bin');
        assert.ok((await readAll(await source.read(container, info, { start: 0, end: info.size }))).equals(body));
      }
    });

    it('never puts the SAS signature in an error', async () => {
      const sas = server.accountSas('rl');
      const sig = new URLSearchParams(sas).get('sig')!;
      const source = new AzureBlobSource({ accountUrl: server.blobEndpoint, sas });
      const error = await expectFailure(source.stat(container, 'missing.bin'), { type: SourceError, code: 'NOT_FOUND' });
      for (const text of [error.message, error.hint, String((error.cause as Error)?.message), JSON.stringify(error.toJSON())]) {
        assert.ok(!text.includes(sig), text);
      }
    });

    it('a SAS without read rights → a permanent refusal', async () => {
      const source = new AzureBlobSource({ accountUrl: server.blobEndpoint, sas: server.accountSas('l') });
      const error = await expectFailure(source.stat(container, 'data.bin'), { type: SourceError, code: 'ACCESS_DENIED' });
      assert.equal(error.retryable, false);
    });
  });

  describe('configuration and network', () => {
    it('takes exactly one way in', () => {
      const cs = server.connectionString;
      const bad = [
        {},
        { connectionString: cs, accountUrl: server.blobEndpoint, sas: 'sv=x&sig=y' },
        { accountUrl: server.blobEndpoint },
        { accountUrl: server.blobEndpoint, sas: true },
        { accountUrl: 'not a url', sas: 'sv=x&sig=y' },
      ];
      for (const options of bad) {
        assert.throws(() => new AzureBlobSource(options as never), (e: unknown) => e instanceof ConfigError && !e.message.includes('AccountKey'));
      }
    });

    it('nothing listening → NETWORK (retryable)', async () => {
      const port = await freePort();
      const error = await expectFailure(new AzureBlobSource({ connectionString: connectionStringAt(port) }).listContainers(), { type: SourceError, code: 'NETWORK' });
      assert.equal(error.retryable, true);
    });

    it('reports scheme azblob and four parallel reads', () => {
      const source = new AzureBlobSource({ connectionString: server.connectionString });
      assert.equal(source.scheme, 'azblob');
      assert.equal(source.parallelReads, 4);
    });
  });
});
