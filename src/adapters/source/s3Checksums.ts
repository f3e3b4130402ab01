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
 * - md5 only from a plain 32-hex-digit ETag of an object not encrypted with SSE-KMS or SSE-C:
 *   multipart ETags ("…-N") and those encryptions give ETags that are not an MD5 of the bytes.
 */
export function s3Checksums(head: S3ChecksumFields): ObjectInfo['checksums'] | undefined {
  const checksums: NonNullable<ObjectInfo['checksums']> = {};
  if (head.ChecksumSHA256 && head.ChecksumType === 'FULL_OBJECT') {
    const bytes = Buffer.from(head.ChecksumSHA256, 'base64');
    if (bytes.length === 32) checksums.sha256 = bytes.toString('hex');
  }
  const etag = head.ETag?.replace(/"/g, '');
  const kms = head.ServerSideEncryption?.startsWith('aws:kms') ?? false;
  if (etag && /^[0-9a-fA-F]{32}$/.test(etag) && !kms && !head.SSECustomerAlgorithm) checksums.md5 = etag.toLowerCase();
  return Object.keys(checksums).length > 0 ? checksums : undefined;
}
