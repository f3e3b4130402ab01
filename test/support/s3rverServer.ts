import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client, type ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { startChildServer } from './childServer';
import { tempDir } from './tmp';

/** The fixed credentials s3rver accepts. Not a secret: s3rver's documented defaults. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3rverServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /**
   * A client with write rights, for the test harness only (adapters under test never write).
   * It sends no flexible checksums unless asked, so s3rver stores the plain bytes.
   */
  admin: S3Client;
  /** Creates the bucket when needed, uploads `body` and checks that s3rver stored exactly it. */
  seed(bucket: string, key: string, body: Buffer, options?: { checksumAlgorithm?: ChecksumAlgorithm }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts s3rver (npm) on a loopback port the OS picks, storing into a fresh temp folder.
 *
 * It runs in a child Node process with `--openssl-legacy-provider`: s3rver encrypts its
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 refuses without the legacy provider
 * (measured: every truncated listing answers 500). The flag stays out of the test process itself.
 *
 * Seeding pitfall (measured): AWS SDK v3 ≥ 3.729 computes CRC32 checksums by default and sends
 * bodies aws-chunked with a trailer, which s3rver stores as the object's bytes. The seeding
 * client sets `requestChecksumCalculation: 'WHEN_REQUIRED'` and every seed is checked against the
 * MD5 ETag s3rver answers with.
 */
export async function startS3rver(): Promise<S3rverServer> {
  const dir = await tempDir('s3rver');
  try {
    const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
    const child = await startChildServer(
      's3rver',
      ['--openssl-legacy-provider', bin, '--directory', dir.path, '--address', '127.0.0.1', '--port', '0', '--silent'],
      /S3rver listening on [\d.]+:(\d+)/,
    );
    const endpoint = `http://127.0.0.1:${child.port}`;
    const admin = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const buckets = new Set<string>();

    async function seed(bucket: string, key: string, body: Buffer, options: { checksumAlgorithm?: ChecksumAlgorithm } = {}): Promise<void> {
      if (!buckets.has(bucket)) {
        await admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((e: { name?: string }) => {
          if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
        });
        buckets.add(bucket);
      }
      const put = await admin.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumAlgorithm: options.checksumAlgorithm }),
      );
      const md5 = createHash('md5').update(body).digest('hex');
      if (put.ETag?.replace(/"/g, '') !== md5) {
        throw new Error(`s3rver stored ${bucket}/${key} with ETag ${put.ETag}, not the MD5 of the body (${md5}): the upload was re-framed.`);
      }
    }

    async function stop(): Promise<void> {
      try {
        admin.destroy();
        await child.stop();
      } finally {
        await dir.remove();
      }
    }

    return { endpoint, port: child.port, admin, seed, stop };
  } catch (e) {
    await dir.remove().catch(() => undefined);
    throw e;
  }
}
