import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { sessionExpired } from '../../domain/errors';

/**
 * The requester's role credentials as a provider that refuses once they have expired. S3 would
 * answer ExpiredToken (403) by itself; refusing before the request is signed says the same thing
 * without a round trip, and keeps a local S3-compatible store that never checks expiry (s3rver)
 * honest about the session's end. The SDK asks again near the expiry (it refreshes identities
 * that expire within minutes), so the check runs for every request that matters.
 */
/** Role credentials as the SSO portal hands them out. */
export interface ExpiringCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export function untilExpiry(credentials: ExpiringCredentials, now: () => number = Date.now): NonNullable<S3ClientConfig['credentials']> {
  return async () => {
    if (now() >= credentials.expiration.getTime()) {
      throw sessionExpired('S3', `the role credentials ended at ${credentials.expiration.toISOString()}`);
    }
    return credentials;
  };
}
