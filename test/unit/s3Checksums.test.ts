import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { s3Checksums } from '../../src/adapters/source/s3Checksums';

/**
 * The HeadObject → checksums mapping, fed the shapes S3 documents. (s3rver stores no flexible
 * checksums, so the SHA-256 path cannot be exercised against a server here.)
 */
describe('s3Checksums', () => {
  const body = Buffer.from('the bytes of the object');
  const sha256 = createHash('sha256').update(body);
  const b64 = sha256.copy().digest('base64');
  const hex = sha256.digest('hex');
  const md5 = createHash('md5').update(body).digest('hex');

  it('a FULL_OBJECT SHA-256 is surfaced as lower-case hex', () => {
    assert.deepEqual(s3Checksums({ ChecksumSHA256: b64, ChecksumType: 'FULL_OBJECT' }), { sha256: hex });
  });

  it('a COMPOSITE SHA-256 (hash of part hashes) is not a checksum of the bytes', () => {
    assert.equal(s3Checksums({ ChecksumSHA256: `${b64}-3`, ChecksumType: 'COMPOSITE' }), undefined);
    assert.equal(s3Checksums({ ChecksumSHA256: b64, ChecksumType: 'COMPOSITE' }), undefined);
  });

  it('a SHA-256 without a ChecksumType is not guessed at', () => {
    assert.equal(s3Checksums({ ChecksumSHA256: b64 }), undefined);
  });

  it('an ETag is never offered as an MD5 (not a documented checksum, and MD5 would double the hashing cost)', () => {
    assert.equal(s3Checksums({ ETag: `"${md5}"` }), undefined);
    assert.equal(s3Checksums({ ETag: `"${md5}-12"` }), undefined);
  });

  it('with a full-object SHA-256 and an ETag, only the SHA-256', () => {
    assert.deepEqual(s3Checksums({ ETag: `"${md5}"`, ChecksumSHA256: b64, ChecksumType: 'FULL_OBJECT' }), { sha256: hex });
  });
});
