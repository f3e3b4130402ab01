import { SourceError, isNetworkErrno, sessionExpired } from '../../domain/errors';
import { sourceCancelled, sourceChanged } from './sourceErrors';

/** What an S3 call was about, for the message. */
export interface S3Target {
  bucket?: string;
  key?: string;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException']);
/** Credentials that S3 rejects outright: signing in again helps, asking for a permission does not. */
const BAD_CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken']);
/** Credentials that were good and have run out: the sign-in ended, retrying cannot help. */
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'TokenRefreshRequired']);

/**
 * Any failure of an S3 SDK call (or of its body stream) as the SourceError the port promises.
 * Only the engine retries, on `retryable`: throttling (503 SlowDown, 429) is THROTTLED, other 5xx
 * SERVER_ERROR, dropped sockets NETWORK; missing things, refusals and a changed pinned object are
 * permanent. Messages carry the bucket and key and the S3 error code, never a credential.
 */
export function s3Error(e: unknown, target: S3Target, signal?: AbortSignal): SourceError {
  const where = describeS3(target);
  if (e instanceof SourceError) return e;
  const err = (e ?? {}) as SdkError;
  if (signal?.aborted || err.name === 'AbortError') return sourceCancelled(where);
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? err.code ?? 'Error';
  const detail = status ? `${name}, HTTP ${status}` : name;

  if (name === 'NoSuchBucket') {
    return new SourceError('NOT_FOUND', `The bucket ${target.bucket ?? ''} does not exist (${detail}).`, {
      hint: 'Check the bucket name and the region, or pick the bucket from the list.',
      cause: e,
    });
  }
  if (name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound' || status === 404) {
    return new SourceError('NOT_FOUND', `${where} was not found (${detail}).`, {
      hint: 'Check the bucket and key, or list the folder to see what is there.',
      cause: e,
    });
  }
  if (name === 'PreconditionFailed' || status === 412 || name === 'InvalidRange' || status === 416) {
    return sourceChanged(where, `S3 answered ${detail}`, e);
  }
  if (EXPIRED_CREDENTIALS.has(name)) return sessionExpired(where, detail, e);
  if (BAD_CREDENTIALS.has(name)) {
    return new SourceError('AUTH_FAILED', `S3 did not accept the credentials for ${where} (${detail}).`, {
      hint: 'Sign in again; the session may have expired.',
      cause: e,
    });
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || name === 'Forbidden' || status === 403) {
    return new SourceError('ACCESS_DENIED', `Access to ${where} was denied (${detail}).`, {
      hint: 'Ask for read access (s3:ListBucket, s3:GetObject) to this bucket for your role.',
      cause: e,
    });
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return new SourceError('INVALID_CONFIG', `The bucket ${target.bucket ?? ''} is in another region (${detail}).`, {
      hint: 'Choose the region the bucket lives in.',
      cause: e,
    });
  }
  // S3 answers throttling with 503 (SlowDown), and HEAD answers carry no error code to tell it
  // apart: every 503 is THROTTLED, so the engine backs off.
  if (THROTTLING.has(name) || err.$retryable?.throttling || status === 429 || status === 503) {
    return new SourceError('THROTTLED', `S3 asked FileFerry to slow down while reading ${where} (${detail}).`, {
      hint: 'The transfer retries with backoff; nothing to do unless it keeps failing.',
      cause: e,
    });
  }
  if (status !== undefined && status >= 500) {
    return new SourceError('SERVER_ERROR', `S3 failed while reading ${where} (${detail}).`, {
      hint: 'The transfer retries; check the AWS status page if it keeps failing.',
      cause: e,
    });
  }
  if (name === 'TimeoutError' || name === 'RequestTimeout' || err.code === 'ETIMEDOUT') {
    return new SourceError('TIMEOUT', `S3 did not answer in time for ${where} (${detail}).`, {
      hint: 'The transfer retries; check the network if it keeps failing.',
      cause: e,
    });
  }
  if (isNetworkErrno(e) || isNetworkErrno((e as { cause?: unknown })?.cause) || err.message === 'aborted' || err.message === 'socket hang up') {
    return new SourceError('NETWORK', `The connection to S3 dropped while reading ${where} (${err.code ?? name}).`, {
      hint: 'The transfer retries; check the network if it keeps failing.',
      cause: e,
    });
  }
  if (err.code === 'ENOTFOUND') {
    return new SourceError('INVALID_CONFIG', `The S3 endpoint for ${where} has no address (ENOTFOUND).`, {
      hint: 'Check the region and any custom endpoint (AWS_ENDPOINT_URL_S3).',
      cause: e,
    });
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new SourceError('AUTH_FAILED', `No usable AWS credentials to read ${where} (${name}).`, { hint: 'Sign in again.', cause: e });
  }
  return new SourceError('INTERNAL', `Reading ${where} failed (${detail}): ${err.message ?? String(e)}`, {
    hint: 'Report this with the request ID; the log has the detail.',
    retryable: false,
    cause: e,
  });
}

/** `s3://bucket/key` for messages (the bucket alone, or "S3" before any bucket is chosen). */
export function describeS3(target: S3Target): string {
  if (!target.bucket) return 'the S3 bucket list';
  return `s3://${target.bucket}/${target.key ?? ''}`;
}
