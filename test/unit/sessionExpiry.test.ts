import assert from 'node:assert/strict';
import { SourceError } from '../../src/domain/errors';
import { untilExpiry } from '../../src/adapters/source/expiringCredentials';
import { s3Error } from '../../src/adapters/source/s3Errors';

describe('an expired sign-in while reading S3', () => {
  const target = { bucket: 'finance-exports', key: 'q3/ledger.csv' };
  const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it('ExpiredToken from S3 is SESSION_EXPIRED and not retried; a wrong key is still AUTH_FAILED', () => {
    const expired = s3Error(sdkError('ExpiredToken', 400), target);
    assert.equal(expired.code, 'SESSION_EXPIRED');
    assert.equal(expired.retryable, false);
    assert.match(expired.hint ?? '', /new request/);
    assert.equal(s3Error(sdkError('InvalidAccessKeyId', 403), target).code, 'AUTH_FAILED');
  });

  it('the role credentials refuse to sign once they have expired, and serve until then', async () => {
    let now = 1_000;
    const credentials = { accessKeyId: 'fixture-id', secretAccessKey: 'fixture-secret', sessionToken: 'fixture-token', expiration: new Date(2_000) };
    const provider = untilExpiry(credentials, () => now) as () => Promise<unknown>;
    assert.deepEqual(await provider(), credentials);
    now = 2_000;
    await assert.rejects(provider(), (e: unknown) => e instanceof SourceError && e.code === 'SESSION_EXPIRED' && !e.retryable);
  });
});
