import { SourceError, isNetworkErrno, sessionExpired } from '../../domain/errors';
import { sourceCancelled, sourceChanged } from './sourceErrors';

/** What an Azure Blob call was about, for the message. */
export interface AzureTarget {
  container?: string;
  key?: string;
}

interface AzureRestError {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  details?: { errorCode?: string; authenticationErrorDetail?: string; 'x-ms-request-id'?: string };
  cause?: unknown;
}

const AUTH_CODES = new Set(['AuthenticationFailed', 'InvalidAuthenticationInfo', 'NoAuthenticationInformation']);
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AuthenticationRequiredError']);

/**
 * Any failure of an @azure/storage-blob call (or of its body stream) as the SourceError the port
 * promises, mapped like S3's: ServerBusy/429 THROTTLED, other 5xx SERVER_ERROR, dropped sockets
 * NETWORK (all retryable, by the engine only); ConditionNotMet SOURCE_CHANGED; missing things and
 * refusals permanent.
 *
 * The SDK's error objects hold the request, whose URL may carry a SAS token, so the SourceError's
 * `cause` is a fresh Error with only the error code, status and request id.
 */
export function azureError(e: unknown, target: AzureTarget, signal?: AbortSignal): SourceError {
  const where = describeAzure(target);
  if (e instanceof SourceError) return e;
  const err = (e ?? {}) as AzureRestError;
  if (signal?.aborted || err.name === 'AbortError') return sourceCancelled(where);
  const status = err.statusCode;
  const code = err.details?.errorCode ?? err.code ?? err.name ?? 'Error';
  const detail = status ? `${code}, HTTP ${status}` : code;
  const cause = new Error(`${err.name ?? 'Error'} ${detail}${err.details?.['x-ms-request-id'] ? `, request id ${err.details['x-ms-request-id']}` : ''}`);

  if (code === 'ContainerNotFound') {
    return new SourceError('NOT_FOUND', `The container ${target.container ?? ''} does not exist (${detail}).`, {
      hint: 'Check the container name, or pick the container from the list.',
      cause,
    });
  }
  if (status === 404) {
    return new SourceError('NOT_FOUND', `${where} was not found (${detail}).`, {
      hint: 'Check the container and blob name, or list the folder to see what is there.',
      cause,
    });
  }
  if (status === 412 || status === 416 || code === 'ConditionNotMet' || code === 'InvalidRange') {
    return sourceChanged(where, `Azure answered ${detail}`, cause);
  }
  // Azure Storage refuses an expired bearer token (the requester's sign-in) with 401
  // InvalidAuthenticationInfo and the detail "Lifetime validation failed. The token is expired."
  if (status === 401 && AUTH_CODES.has(code) && /token is expired/i.test(`${err.message ?? ''} ${err.details?.authenticationErrorDetail ?? ''}`)) {
    return sessionExpired(where, detail, cause);
  }
  if (AUTH_CODES.has(code) || CREDENTIAL_ERRORS.has(err.name ?? '')) {
    return new SourceError('AUTH_FAILED', `Azure did not accept the credentials for ${where} (${detail}).`, {
      hint: 'Sign in again, or renew the SAS token; it may have expired.',
      cause,
    });
  }
  if (status === 403) {
    return new SourceError('ACCESS_DENIED', `Access to ${where} was denied (${detail}).`, {
      hint: 'Ask for the Storage Blob Data Reader role (or a SAS with read and list rights) on this container.',
      cause,
    });
  }
  if (status === 429 || code === 'ServerBusy' || code === 'TooManyRequests') {
    return new SourceError('THROTTLED', `Azure asked FileFerry to slow down while reading ${where} (${detail}).`, {
      hint: 'The transfer retries with backoff; nothing to do unless it keeps failing.',
      cause,
    });
  }
  if (status !== undefined && status >= 500) {
    return new SourceError('SERVER_ERROR', `Azure Blob Storage failed while reading ${where} (${detail}).`, {
      hint: 'The transfer retries; check the Azure status page if it keeps failing.',
      cause,
    });
  }
  if (code === 'ENOTFOUND') {
    return new SourceError('INVALID_CONFIG', `The Azure storage account for ${where} has no address (ENOTFOUND).`, {
      hint: 'Check the account URL or connection string.',
      cause,
    });
  }
  if (code === 'ETIMEDOUT' || code === 'TimeoutError') {
    return new SourceError('TIMEOUT', `Azure did not answer in time for ${where} (${detail}).`, {
      hint: 'The transfer retries; check the network if it keeps failing.',
      cause,
    });
  }
  if (isNetworkErrno(e) || isNetworkErrno(err.cause) || code === 'REQUEST_SEND_ERROR' || err.message === 'aborted') {
    return new SourceError('NETWORK', `The connection to Azure dropped while reading ${where} (${code}).`, {
      hint: 'The transfer retries; check the network if it keeps failing.',
      cause,
    });
  }
  return new SourceError('INTERNAL', `Reading ${where} failed (${detail}): ${redactSas(err.message ?? String(e))}`, {
    hint: 'Report this with the request ID; the log has the detail.',
    retryable: false,
    cause,
  });
}

/** `azblob://container/key` for messages ("the container list" before any container is chosen). */
export function describeAzure(target: AzureTarget): string {
  if (!target.container) return 'the Azure container list';
  return `azblob://${target.container}/${target.key ?? ''}`;
}

/** Removes SAS signatures from text that may quote a request URL. */
export function redactSas(text: string): string {
  return text.replace(/([?&]sig=)[^&\s"']+/gi, '$1REDACTED');
}
