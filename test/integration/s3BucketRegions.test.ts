import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Source } from '../../src/adapters/source/s3Source';
import { RecordingHttpProxy } from '../support/recordingHttpProxy';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';

/**
 * The bucket picker lists only the form's region. s3rver answers ListBuckets without BucketRegion
 * and GetBucketLocation with its one default location (us-east-1), so it drives the
 * GetBucketLocation path; a small server answering ListBuckets with BucketRegion (as AWS does
 * since 2024) drives the other, where no GetBucketLocation is needed.
 */
describe('S3Source bucket list filtered by region', () => {
  let s3: S3rverServer;
  let proxy: RecordingHttpProxy;
  const sources: S3Source[] = [];
  const source = (endpoint: string, listRegion?: string): S3Source => {
    const s = new S3Source({ endpoint, region: listRegion ?? 'us-east-1', credentials: S3RVER_CREDENTIALS, ...(listRegion ? { listRegion } : {}) });
    sources.push(s);
    return s;
  };
  const locationCalls = (mark: number): number => proxy.since(mark).filter((r) => r.method === 'GET' && /[?&]location(=|&|$)/.test(r.url)).length;

  before(async () => {
    s3 = await startS3rver();
    await s3.seed('region-a', 'a.txt', Buffer.from('a'));
    await s3.seed('region-b', 'b.txt', Buffer.from('b'));
    proxy = await RecordingHttpProxy.start({ port: s3.port });
  });
  after(async () => {
    for (const s of sources) s.destroy();
    await proxy?.close();
    await s3?.stop();
  });

  it("s3rver (no BucketRegion): GetBucketLocation decides, once per bucket per session", async () => {
    const here = source(proxy.endpoint, 'us-east-1');
    const mark = proxy.requests.length;
    const names = (await here.listContainers()).map((c) => c.name);
    assert.ok(names.includes('region-a') && names.includes('region-b'), `us-east-1 (s3rver's location) lists both; got ${names.join(', ')}`);
    const asked = locationCalls(mark);
    assert.ok(asked >= 2, `GetBucketLocation was asked for each bucket (${asked})`);
    await here.listContainers();
    assert.equal(locationCalls(mark), asked, 'a second listing asks no bucket location again (cached)');

    const elsewhere = source(proxy.endpoint, 'eu-west-1');
    assert.deepEqual((await elsewhere.listContainers()).filter((c) => c.name.startsWith('region-')), [], 'eu-west-1 lists none of them');
  });

  it('without listRegion every bucket is listed and no location is asked (CLI, push mode)', async () => {
    const all = source(proxy.endpoint);
    const mark = proxy.requests.length;
    const names = (await all.listContainers()).map((c) => c.name);
    assert.ok(names.includes('region-a') && names.includes('region-b'));
    assert.equal(locationCalls(mark), 0);
  });

  describe('ListBuckets with BucketRegion', () => {
    let server: Server;
    const seen: string[] = [];
    let endpoint: string;
    before(async () => {
      server = createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o</ID></Owner><Buckets>' +
            '<Bucket><Name>eu-data</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>' +
            '<Bucket><Name>us-data</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket>' +
            '</Buckets></ListAllMyBucketsResult>',
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('filters by the answer alone: no GetBucketLocation', async () => {
      assert.deepEqual((await source(endpoint, 'eu-west-1').listContainers()).map((c) => c.name), ['eu-data']);
      assert.deepEqual((await source(endpoint, 'us-east-1').listContainers()).map((c) => c.name), ['us-data']);
      assert.ok(seen.length >= 2 && seen.every((r) => !/[?&]location/.test(r)), `only ListBuckets was sent: ${seen.join(', ')}`);
    });
  });
});
