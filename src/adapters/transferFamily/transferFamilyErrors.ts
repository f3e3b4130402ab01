import { DestinationError, FerryError, isNetworkErrno, type ErrorCode } from '../../domain/errors';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A failed Transfer Family API call (StartFileTransfer, ListFileTransferResults) as a DestinationError naming the connector. */
export function transferApiError(e: unknown, connectorId: string): FerryError {
  if (e instanceof FerryError) return e;
  const err = (e ?? {}) as SdkError;
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const detail = `${name}${status ? `, HTTP ${status}` : ''}: ${err.message ?? ''}`.trim();
  const make = (code: ErrorCode, message: string, hint: string): DestinationError => new DestinationError(code, message, { hint, cause: e });
  switch (name) {
    case 'ResourceNotFoundException':
      return make('NOT_FOUND', `The Transfer Family connector ${connectorId} was not found (${detail}).`, 'Check the connectorId in the push rule and the region FileFerry runs in.');
    case 'AccessDeniedException':
      return make('ACCESS_DENIED', `FileFerry may not use the Transfer Family connector ${connectorId} (${detail}).`, "Give the service's role transfer:StartFileTransfer and transfer:ListFileTransferResults on this connector.");
    case 'InvalidRequestException':
      return make('INVALID_CONFIG', `Transfer Family refused the request for connector ${connectorId} (${detail}).`, 'Check the source path and remote folder of the push rule.');
    case 'ThrottlingException':
      return make('THROTTLED', `Transfer Family asked FileFerry to slow down (connector ${connectorId}, ${detail}).`, 'Push mode retries with backoff.');
    case 'ServiceUnavailableException':
    case 'InternalServiceError':
      return make('SERVER_ERROR', `Transfer Family failed (connector ${connectorId}, ${detail}).`, 'Push mode retries; check the AWS status page if it keeps failing.');
  }
  if (isNetworkErrno(e) || name === 'TimeoutError') {
    return make('NETWORK', `Transfer Family could not be reached (connector ${connectorId}, ${detail}).`, 'Push mode retries; check the network to the Transfer Family endpoint.');
  }
  if (status !== undefined && status >= 500) return make('SERVER_ERROR', `Transfer Family failed (connector ${connectorId}, ${detail}).`, 'Push mode retries.');
  return make('INTERNAL', `Transfer Family call failed (connector ${connectorId}, ${detail}).`, 'The log has the detail.');
}

/**
 * A file the connector reported FAILED. Transfer Family documents no list of FailureCodes (the
 * API reference gives RETRIEVE_FILE_NOT_FOUND as an example), so the code's words decide: a
 * missing file, a refusal or bad credentials will fail the same way again (permanent); anything
 * else, such as a connection or timeout failure, or a code not seen before, is worth another try.
 */
export function transferFailure(connectorId: string, transferId: string, filePath: string, failureCode?: string, failureMessage?: string): DestinationError {
  const code = (failureCode ?? 'UNKNOWN').toUpperCase();
  const said = `${code}${failureMessage ? `: ${failureMessage}` : ''}`;
  const message = `Transfer Family could not send ${filePath} (connector ${connectorId}, transfer ${transferId}): ${said}.`;
  const rule: Array<[RegExp, ErrorCode, boolean, string]> = [
    [/NOT_FOUND|NO_SUCH/, 'NOT_FOUND', false, 'Check that the object still exists and the remote folder exists on the partner server.'],
    [/PERMISSION|ACCESS_DENIED|FORBIDDEN/, 'ACCESS_DENIED', false, "Check the connector's access role (s3:GetObject) and the partner account's write permission on the remote folder."],
    [/AUTH|CREDENTIAL|PASSWORD|PRIVATE_KEY|HOST_KEY/, 'AUTH_FAILED', false, "Check the connector's secret (user, key) and trusted host keys."],
    [/INVALID|TOO_LARGE|QUOTA|LIMIT_EXCEEDED/, 'INVALID_CONFIG', false, 'Check the connector configuration and the file against its limits.'],
    [/TIMEOUT|TIMED_OUT/, 'TIMEOUT', true, 'Push mode retries; check the partner server if it keeps timing out.'],
    [/CONNECT|NETWORK|UNREACHABLE|RESET/, 'NETWORK', true, 'Push mode retries; check that the partner server accepts connections from the connector.'],
  ];
  const [, errorCode, retryable, hint] = rule.find(([pattern]) => pattern.test(code)) ?? [undefined, 'SERVER_ERROR' as ErrorCode, true, 'Push mode retries; the connector log in CloudWatch has the detail.'];
  return new DestinationError(errorCode, message, { hint, retryable });
}
