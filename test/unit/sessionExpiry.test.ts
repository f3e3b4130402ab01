import assert from 'node:assert/strict';
import { SourceError } from '../../src/domain/errors';
import { untilExpiry } from '../../src/adapters/source/expiringCredentials';
import { s3Error } from '../../src/adapters/source/s3Errors';
import { azureError } from '../../src/adapters/source/azureErrors';
import { userTokenCredential } from '../../src/adapters/identity/entraTokenCredential';

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

describe('an expired sign-in while reading Azure Blob Storage', () => {
  const target = { container: 'exports', key: 'q3/ledger.csv' };
  // As @azure/storage-blob raises them: a RestError with the service's error code in details.
  const restError = (status: number, errorCode: string, message: string, authenticationErrorDetail?: string) =>
    Object.assign(new Error(message), { name: 'RestError', statusCode: status, details: { errorCode, ...(authenticationErrorDetail ? { authenticationErrorDetail } : {}) } });

  it('Azure refusing an expired bearer token is SESSION_EXPIRED and not retried; other refusals keep their codes', () => {
    const expired = azureError(restError(401, 'InvalidAuthenticationInfo', 'Server failed to authenticate the request.', 'Lifetime validation failed. The token is expired.'), target);
    assert.equal(expired.code, 'SESSION_EXPIRED');
    assert.equal(expired.retryable, false);
    assert.match(expired.message, /azblob:\/\/exports\/q3\/ledger\.csv/);
    assert.equal(azureError(restError(401, 'InvalidAuthenticationInfo', 'Server failed to authenticate the request.', 'Issuer validation failed.'), target).code, 'AUTH_FAILED');
    assert.equal(azureError(restError(403, 'AuthenticationFailed', 'Signature did not match.'), target).code, 'AUTH_FAILED');
    assert.equal(azureError(restError(403, 'AuthorizationPermissionMismatch', 'This request is not authorized.'), target).code, 'ACCESS_DENIED');
  });

  it("the user's storage token serves until it expires, then says SESSION_EXPIRED; a revoked one AUTH_FAILED", async () => {
    let now = 1_000;
    const held = userTokenCredential('fixture-access', new Date(2_000), 'req-7', () => new Date(now));
    assert.equal((await held.credential.getToken('https://storage.azure.com/.default'))?.token, 'fixture-access');
    now = 2_000;
    await assert.rejects(held.credential.getToken('https://storage.azure.com/.default'), (e: unknown) => e instanceof SourceError && e.code === 'SESSION_EXPIRED' && !e.retryable && /req-7/.test(e.message));
    const revoked = userTokenCredential('fixture-access', new Date(9_000), 'req-8', () => new Date(1_000));
    revoked.revoke();
    await assert.rejects(revoked.credential.getToken('https://storage.azure.com/.default'), (e: unknown) => e instanceof SourceError && e.code === 'AUTH_FAILED');
  });
});
