import type { ObjectInfo } from '../../ports/storageSource';

/** The HeadObject fields the checksums come from (a subset of the SDK's HeadObjectOutput). */
export interface S3ChecksumFields {
  ETag?: string;
  ChecksumSHA256?: string;
  ChecksumType?: string;
  ServerSideEncryption?: string;
  SSECustomerAlgorithm?: string;
}

/**
 * The full-object checksums S3 stores for an object, as lower-case hex, for the engine to compare
 * with the SHA-256 it computes of the bytes it sends. Only values that are provably a hash of the
 * object's bytes are returned; a wrong "checksum" would fail good transfers.
 *
 * - sha256 only for a FULL_OBJECT SHA-256 (HeadObject with ChecksumMode ENABLED). A COMPOSITE one
 *   (multipart uploads) is a hash of part hashes, and a missing ChecksumType is not guessed at.
 *
 * The ETag is deliberately not offered as an MD5, although a single-part upload's ETag without
 * SSE-KMS/SSE-C is one: AWS does not document it as a checksum, and computing MD5 beside SHA-256
 * costs about 2 CPU s/GiB here (measured with `npm run bench`), which on a small host halves the
 * transfer rate. S3's full-object SHA-256 is the source checksum of record; objects without one
 * are verified by size and by the server's hash.
 */
export function s3Checksums(head: S3ChecksumFields): ObjectInfo['checksums'] | undefined {
  const checksums: NonNullable<ObjectInfo['checksums']> = {};
  if (head.ChecksumSHA256 && head.ChecksumType === 'FULL_OBJECT') {
    const bytes = Buffer.from(head.ChecksumSHA256, 'base64');
    if (bytes.length === 32) checksums.sha256 = bytes.toString('hex');
  }
  return Object.keys(checksums).length > 0 ? checksums : undefined;
}
