import { IdentityError, isNetworkErrno, type ErrorCode } from '../../domain/errors';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
}

const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded']);
const BAD_CREDENTIALS = new Set([
  'UnauthorizedException', 'InvalidClientException', 'UnauthorizedClientException', 'InvalidGrantException', 'ExpiredTokenException',
  'ExpiredToken', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'MissingAuthenticationToken',
]);

/** A stand-in cause that names the SDK error and its status only (the SDK error holds the raw response). */
function safeCause(name: string, status?: number, requestId?: string): Error {
  const cause = new Error(`${name}${status ? `, HTTP ${status}` : ''}${requestId ? `, request id ${requestId}` : ''}`);
  cause.name = name;
  return cause;
}

/** CANCELLED, for a sign-in step stopped by the request's abort or signOut. */
export function signInCancelled(what: string): IdentityError {
  return new IdentityError('CANCELLED', `${what} was cancelled.`, { hint: 'Start a new request to sign in again.' });
}

/**
 * Any failure of an AWS IAM Identity Center, SSO portal or STS call as the IdentityError the
 * port promises. `what` says which step failed ("Starting the AWS sign-in"). The message carries
 * the AWS error name and HTTP status, never the SDK's message or response (which could echo a
 * request), and never a token, key or code.
 */
export function awsSsoError(e: unknown, what: string, signal?: AbortSignal): IdentityError {
  if (e instanceof IdentityError) return e;
  const err = (e ?? {}) as SdkError;
  if (signal?.aborted || err.name === 'AbortError') return signInCancelled(what);
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? err.code ?? 'Error';
  const detail = status ? `${name}, HTTP ${status}` : name;
  const cause = safeCause(name, status, err.$metadata?.requestId);
  const fail = (code: ErrorCode, message: string, hint: string): IdentityError => new IdentityError(code, message, { hint, cause });

  if (THROTTLING.has(name) || err.$retryable?.throttling || status === 429) {
    return fail('THROTTLED', `${what} failed: AWS asked FileFerry to slow down (${detail}).`, 'Wait a minute and try again.');
  }
  if (BAD_CREDENTIALS.has(name) || status === 401) {
    return fail('AUTH_FAILED', `${what} failed: AWS did not accept the sign-in (${detail}).`, 'Start a new request and sign in again.');
  }
  if (name === 'ResourceNotFoundException' || name === 'AccessDeniedException' || name === 'AccessDenied' || status === 403 || status === 404) {
    return fail('ACCESS_DENIED', `${what} failed: AWS refused access (${detail}).`, 'Ask your AWS administrator to assign you the account and permission set FileFerry uses.');
  }
  // Before the TimeoutError check: @smithy/node-http-handler renames ECONNRESET and EPIPE errors
  // "TimeoutError" (NODEJS_TIMEOUT_ERROR_CODES), though a dropped connection is no timeout.
  if (err.code !== 'ETIMEDOUT' && (isNetworkErrno(e) || isNetworkErrno((e as { cause?: unknown })?.cause))) {
    // A Node socket error's message names only the address ("connect ECONNREFUSED 127.0.0.1:443").
    return fail('NETWORK', `${what} failed: AWS could not be reached (${err.code ?? name}${err.message ? `: ${clip(err.message)}` : ''}).`, 'Try again; check the network path and the AWS_ENDPOINT_URL_* settings if it keeps failing.');
  }
  if (name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
    return fail('TIMEOUT', `${what} failed: AWS did not answer in time (${detail}).`, 'Try again; check the network path to AWS if it keeps failing.');
  }
  if (status !== undefined && status >= 500) {
    return fail('SERVER_ERROR', `${what} failed at AWS (${detail}).`, 'Try again; check the AWS status page if it keeps failing.');
  }
  return fail('INTERNAL', `${what} failed (${detail}).`, 'Try again; if it keeps failing, give the administrator the time of the failure (the log has the detail).');
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
