import { IdentityError, isNetworkErrno, type ErrorCode } from '../../domain/errors';

/**
 * The parts of an MSAL error (AuthError, ServerError, ClientAuthError, ClientConfigurationError,
 * InteractionRequiredAuthError) this module reads. `errorMessage` is only read where MSAL puts a
 * bare OAuth error name in it (post_request_failed); elsewhere it can carry the server's
 * description, so it never reaches a message here.
 */
interface MsalErrorLike {
  name?: string;
  errorCode?: string;
  errorMessage?: string;
  errorNo?: string | number;
  status?: number;
  code?: string;
}

/** What the device code endpoint answered when it refused (MSAL does not look at it). */
export interface DeviceCodeRefusal {
  status: number;
  error?: string;
  errorNo?: number;
}

const OAUTH_ERROR = /^[a-z][a-z0-9_]{0,63}$/;
const RESTART = 'Start a new request to sign in again.';
const CONFIG_HINT = 'Ask the administrator to check FILEFERRY_ENTRA_TENANT_ID, FILEFERRY_ENTRA_CLIENT_ID (a public client app registration with "Allow public client flows" on) and FILEFERRY_ENTRA_AUTHORITY.';

/** CANCELLED, for a sign-in step stopped by the request's abort or signOut. */
export function entraCancelled(what: string): IdentityError {
  return new IdentityError('CANCELLED', `${what} was cancelled.`, { hint: RESTART });
}

/** The device code expired before it was approved (the server said expired_token, or MSAL's clock ran out). */
export function entraCodeExpired(how: string, cause?: Error): IdentityError {
  return new IdentityError('AUTH_FAILED', `The Microsoft sign-in code expired before it was approved (${how}).`, {
    hint: 'Start a new request and enter the code on the card within the time it shows.',
    cause,
  });
}

/** A stand-in cause naming the MSAL error and its codes only (the MSAL error may hold response text). */
function safeCause(name: string, parts: Array<string | number | undefined>): Error {
  const cause = new Error([name, ...parts.filter((p) => p !== undefined && p !== '')].join(', '));
  cause.name = name;
  return cause;
}

function oauthName(text: string | undefined): string | undefined {
  const t = text?.trim();
  return t && OAUTH_ERROR.test(t) ? t : undefined;
}

/**
 * An OAuth error the token endpoint ended the device-code poll with. MSAL keeps polling only on
 * authorization_pending; every other answer reaches here as AuthError post_request_failed whose
 * errorMessage is the server's `error` field.
 */
function pollEnded(error: string | undefined, what: string, cause: Error): IdentityError {
  switch (error) {
    case 'expired_token':
      return entraCodeExpired(error, cause);
    case 'authorization_declined':
    case 'access_denied':
      return new IdentityError('AUTH_FAILED', `The Microsoft sign-in was declined (${error}).`, {
        hint: 'Start a new request and approve the sign-in if you declined it by mistake.',
        cause,
      });
    case 'bad_verification_code':
      return new IdentityError('AUTH_FAILED', `Microsoft did not recognise the sign-in code (bad_verification_code).`, { hint: RESTART, cause });
    case 'slow_down':
      // MSAL has no slow_down back-off: the poll ends here.
      return new IdentityError('AUTH_FAILED', `${what} stopped: Microsoft asked FileFerry to poll more slowly (slow_down).`, {
        hint: 'Wait a minute, then start a new request.',
        cause,
      });
    default:
      return new IdentityError('AUTH_FAILED', `${what} failed: Microsoft ended the sign-in (${error ?? 'unnamed error'}).`, { hint: RESTART, cause });
  }
}

/** A refusal by the device code endpoint, read from its answer (MSAL itself ignores the error). */
export function deviceCodeRefused(refusal: DeviceCodeRefusal, what: string): IdentityError {
  const error = oauthName(refusal.error);
  const detail = [error, refusal.errorNo ? `AADSTS${refusal.errorNo}` : undefined, `HTTP ${refusal.status}`].filter(Boolean).join(', ');
  const cause = safeCause('DeviceCodeRefused', [detail]);
  return fromServer(error, refusal.status, detail, what, cause);
}

function fromServer(error: string | undefined, status: number | undefined, detail: string, what: string, cause: Error): IdentityError {
  const fail = (code: ErrorCode, message: string, hint: string): IdentityError => new IdentityError(code, message, { hint, cause });
  if (status === 429) return fail('THROTTLED', `${what} failed: Microsoft asked FileFerry to slow down (${detail}).`, 'Wait a minute and try again.');
  if ((status !== undefined && status >= 500) || error === 'temporarily_unavailable' || error === 'server_error') {
    return fail('SERVER_ERROR', `${what} failed at Microsoft Entra ID (${detail}).`, 'Try again; check the Azure status page if it keeps failing.');
  }
  if (error === 'invalid_client' || error === 'unauthorized_client' || error === 'invalid_scope' || error === 'invalid_request' || error === 'invalid_tenant') {
    return fail('INVALID_CONFIG', `${what} failed: Microsoft Entra ID refused FileFerry's app registration or request (${detail}).`, CONFIG_HINT);
  }
  if (error === 'consent_required' || error === 'interaction_required' || error === 'access_denied') {
    return fail('ACCESS_DENIED', `${what} failed: you may not use FileFerry with Azure Storage yet (${detail}).`, 'Ask your Entra ID administrator to grant FileFerry consent for Azure Storage (user_impersonation), then start a new request.');
  }
  return fail('AUTH_FAILED', `${what} failed: Microsoft Entra ID did not accept the sign-in (${detail}).`, RESTART);
}

/**
 * Any failure of an MSAL device-code sign-in as the IdentityError the port promises. `what` says
 * which step failed ("The Microsoft sign-in"). Messages carry MSAL's error code, the OAuth error
 * name, the AADSTS number and the HTTP status: never a server description, token or code.
 */
export function entraError(e: unknown, what: string, signal?: AbortSignal): IdentityError {
  if (e instanceof IdentityError) return e;
  const err = (e ?? {}) as MsalErrorLike;
  const name = typeof err.name === 'string' ? err.name : 'Error';
  const code = typeof err.errorCode === 'string' ? err.errorCode : undefined;
  if (signal?.aborted || code === 'device_code_polling_cancelled' || name === 'AbortError') return entraCancelled(what);
  const errorNo = err.errorNo !== undefined && /^\d{1,10}$/.test(String(err.errorNo)) ? `AADSTS${err.errorNo}` : undefined;
  const cause = safeCause(name, [code, errorNo, err.status !== undefined ? `HTTP ${err.status}` : undefined]);

  if (code === 'post_request_failed') return pollEnded(oauthName(err.errorMessage), what, cause);
  if (code === 'device_code_expired' || code === 'user_timeout_reached') return entraCodeExpired(code, cause);
  if (name === 'ServerError' || name === 'InteractionRequiredAuthError') {
    const error = oauthName(code);
    const detail = [error, errorNo, err.status !== undefined ? `HTTP ${err.status}` : undefined].filter(Boolean).join(', ') || name;
    return fromServer(error, err.status, detail, what, cause);
  }
  if (code === 'network_error' || code === 'no_network_connectivity' || code === 'endpoints_resolution_error' || isNetworkErrno(e) || isNetworkErrno((e as { cause?: unknown })?.cause)) {
    return new IdentityError('NETWORK', `${what} failed: Microsoft Entra ID could not be reached (${code ?? err.code ?? name}).`, {
      hint: 'Try again; check the network path and FILEFERRY_ENTRA_AUTHORITY if it keeps failing.',
      cause,
    });
  }
  if (name === 'ClientConfigurationError') {
    return new IdentityError('INVALID_CONFIG', `${what} failed: MSAL refused the Entra ID settings (${code ?? name}).`, { hint: CONFIG_HINT, cause });
  }
  return new IdentityError('INTERNAL', `${what} failed (${[name, code].filter(Boolean).join(' ')}).`, {
    hint: 'Start a new request; if it keeps failing, give the administrator the time of the failure (the log has the detail).',
    cause,
  });
}
