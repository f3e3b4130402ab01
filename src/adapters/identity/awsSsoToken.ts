import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { IdentityError } from '../../domain/errors';
import { oidcSdk } from './awsSsoClients';
import type { ClientRegistration } from './awsSsoClientRegistration';
import { awsSsoError } from './awsSsoErrors';
import type { PollAnswer } from './deviceCodePoller';

/** RFC 8628 §3.4's grant type, which IAM Identity Center's CreateToken takes for device codes. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const RESTART_HINT = 'Start a new request to sign in again.';

/**
 * One CreateToken poll for a device code, as the poller's answer. The SDK names the exception
 * after the response's `x-amzn-errortype` header (then body `code`, then `__type`; the body's
 * `error` field is not read: @smithy/core protocols loadRestJsonErrorCode), so the names are what
 * this matches on. AuthorizationPending and SlowDown keep the poll going; ExpiredToken,
 * AccessDenied, InvalidGrant and InvalidClient end it with AUTH_FAILED; anything else is mapped
 * as every AWS failure is (network and 5xx are retryable, and the poller tries them again).
 */
export async function createTokenAnswer(
  oidc: SSOOIDCClient,
  registration: ClientRegistration,
  deviceCode: string,
  signal: AbortSignal,
  onInvalidClient: () => void,
): Promise<PollAnswer<string>> {
  let accessToken: string | undefined;
  try {
    const out = await oidc.send(
      new (oidcSdk().CreateTokenCommand)({ clientId: registration.clientId, clientSecret: registration.clientSecret, grantType: DEVICE_CODE_GRANT, deviceCode }),
      { abortSignal: signal },
    );
    accessToken = out.accessToken;
  } catch (e) {
    const name = (e as { name?: string }).name;
    switch (name) {
      case 'AuthorizationPendingException':
        return { kind: 'pending' };
      case 'SlowDownException':
        return { kind: 'slow-down' };
      case 'ExpiredTokenException':
        throw new IdentityError('AUTH_FAILED', 'The AWS sign-in code expired before it was approved.', {
          hint: 'Start a new request and approve the sign-in within the time the card shows.',
        });
      case 'AccessDeniedException':
        throw new IdentityError('AUTH_FAILED', 'The AWS sign-in was refused at AWS IAM Identity Center.', {
          hint: 'Start a new request and press Allow on the AWS page, if you meant to sign in.',
        });
      case 'InvalidGrantException':
        throw new IdentityError('AUTH_FAILED', 'AWS IAM Identity Center no longer accepts this sign-in code (InvalidGrantException).', { hint: RESTART_HINT });
      case 'InvalidClientException':
      case 'UnauthorizedClientException':
        onInvalidClient();
        throw new IdentityError('AUTH_FAILED', `AWS IAM Identity Center no longer accepts FileFerry's client registration (${name}).`, { hint: RESTART_HINT });
      default:
        throw awsSsoError(e, 'Waiting for the AWS sign-in (CreateToken)', signal);
    }
  }
  if (!accessToken) {
    throw new IdentityError('SERVER_ERROR', 'AWS IAM Identity Center granted the sign-in without an access token.', { hint: RESTART_HINT });
  }
  return { kind: 'granted', value: accessToken };
}
