import type { AccessToken, TokenCredential } from '@azure/identity';
import { SourceError, sessionExpired } from '../../domain/errors';

/** A TokenCredential over one signed-in user's access token, and the switch that forgets it. */
export interface RevocableCredential {
  credential: TokenCredential;
  /** Forgets the token: every later getToken fails with AUTH_FAILED. Idempotent. */
  revoke(): void;
}

/**
 * The user's Azure Storage access token as the TokenCredential @azure/storage-blob asks for. The
 * token lives in this closure (no MSAL cache, no refresh token: when it expires the session is
 * over). After `revoke()` getToken throws AUTH_FAILED, and once the token has expired
 * SESSION_EXPIRED (as S3's role credentials do, so a transfer it cuts short says how far it got);
 * both name the request, never the token. It is a SourceError because it surfaces from the source's calls
 * (AzureBlobSource passes SourceErrors through unchanged).
 *
 * Note: a storage client that already fetched the token keeps it in its pipeline's token cycler
 * (@azure/core-rest-pipeline) until shortly before it expires, so a reader built before
 * `revoke()` (a running transfer) keeps reading; nothing built or first used after it can.
 */
export function userTokenCredential(
  accessToken: string,
  expiresOn: Date,
  requestId: string,
  now: () => Date = () => new Date(),
): RevocableCredential {
  let token: string | undefined = accessToken;
  const expiresOnTimestamp = expiresOn.getTime();
  const credential: TokenCredential = {
    async getToken(): Promise<AccessToken> {
      if (token === undefined) {
        throw new SourceError('AUTH_FAILED', `The Microsoft sign-in for request ${requestId} has ended.`, { hint: 'Start a new request to sign in again.' });
      }
      if (now().getTime() >= expiresOnTimestamp) {
        token = undefined;
        throw sessionExpired('Azure Blob Storage', `the Microsoft sign-in for request ${requestId} ended at ${expiresOn.toISOString()}`);
      }
      return { token, expiresOnTimestamp, tokenType: 'Bearer' };
    },
  };
  return {
    credential,
    revoke: () => {
      token = undefined;
    },
  };
}
