import { StoreError, isNetworkErrno } from '../../domain/errors';

/** What a DynamoDB call was about, for the message. */
export interface DynamoTarget {
  /** The SDK command, e.g. "PutItem". */
  operation: string;
  table: string;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'TooManyRequestsException', 'LimitExceededException',
]);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException', 'ExpiredTokenException', 'ExpiredToken',
  'InvalidClientTokenId', 'MissingAuthenticationTokenException', 'CredentialsProviderError',
]);
const SERVER = new Set(['InternalServerError', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException']);

/** The SDK error's name (the service's `__type`), for callers that branch on one (ConditionalCheckFailedException). */
export function sdkErrorName(e: unknown): string {
  const err = (e ?? {}) as SdkError;
  return err.name ?? err.code ?? 'Error';
}

/** How many HTTP attempts the SDK made for the call that failed (1 when it did not retry). */
export function sdkAttempts(e: unknown): number | undefined {
  return (e as SdkError)?.$metadata?.attempts;
}

/**
 * Any failure of a DynamoDB call as the StoreError the ports promise: a missing table is
 * INVALID_CONFIG naming it (deploy infra/dynamodb.yaml), throttling THROTTLED, a refused role
 * ACCESS_DENIED, rejected credentials AUTH_FAILED, dropped sockets NETWORK, 5xx SERVER_ERROR.
 * Only the transient codes are retryable. The SDK error is not kept as `cause` (it holds the
 * signed request); the cause carries only its name, status and request id.
 */
export function dynamoError(e: unknown, target: DynamoTarget): StoreError {
  if (e instanceof StoreError) return e;
  const err = (e ?? {}) as SdkError;
  const name = sdkErrorName(e);
  const status = err.$metadata?.httpStatusCode;
  const detail = status ? `${name}, HTTP ${status}` : name;
  const cause = safeCause(name, status, err.$metadata?.requestId);
  const what = `${target.operation} on the DynamoDB table ${target.table}`;

  if (name === 'ResourceNotFoundException') {
    return new StoreError('INVALID_CONFIG', `The DynamoDB table ${target.table} does not exist in this account and region (${detail}).`, {
      hint: 'Deploy infra/dynamodb.yaml (CloudFormation) with the same TablePrefix as FILEFERRY_DYNAMODB_TABLE_PREFIX, in the region FileFerry uses (AWS_REGION).',
      cause,
    });
  }
  if (THROTTLING.has(name) || err.$retryable?.throttling || status === 429) {
    return new StoreError('THROTTLED', `DynamoDB asked FileFerry to slow down: ${what} (${detail}).`, {
      hint: 'This is worth retrying after a pause; the tables are on-demand, so it passes once DynamoDB has scaled.',
      cause,
    });
  }
  if (name === 'AccessDeniedException' || status === 403) {
    return new StoreError('ACCESS_DENIED', `AWS refused FileFerry's role ${what} (${detail}).`, {
      hint: "Attach the FileFerry store policy from infra/dynamodb.yaml (GetItem, PutItem, Query, DescribeTable on the tables and their indexes) to FileFerry's role.",
      cause,
    });
  }
  if (BAD_CREDENTIALS.has(name) || /credential/i.test(name)) {
    return new StoreError('AUTH_FAILED', `AWS did not accept FileFerry's credentials for ${what} (${detail}).`, {
      hint: "Check FileFerry's AWS credentials (role, profile or AWS_ACCESS_KEY_ID); temporary ones may have expired.",
      cause,
    });
  }
  if (SERVER.has(name) || (status !== undefined && status >= 500)) {
    return new StoreError('SERVER_ERROR', `DynamoDB failed: ${what} (${detail}).`, {
      hint: 'This is worth retrying; check the AWS status page if it keeps failing.',
      cause,
    });
  }
  if (name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
    return new StoreError('TIMEOUT', `DynamoDB did not answer in time: ${what} (${detail}).`, {
      hint: 'This is worth retrying; check the network path to DynamoDB if it keeps failing.',
      cause,
    });
  }
  if (isNetworkErrno(e) || isNetworkErrno(err.cause) || err.message === 'socket hang up') {
    return new StoreError('NETWORK', `The connection to DynamoDB dropped: ${what} (${err.code ?? (err.cause as SdkError | undefined)?.code ?? name}).`, {
      hint: 'This is worth retrying; check the network path to DynamoDB (and AWS_ENDPOINT_URL_DYNAMODB if set).',
      cause,
    });
  }
  if (err.code === 'ENOTFOUND' || /region is missing/i.test(err.message ?? '')) {
    return new StoreError('INVALID_CONFIG', `FileFerry cannot reach DynamoDB for ${what}: ${err.code === 'ENOTFOUND' ? 'its endpoint has no address' : 'no AWS region is set'}.`, {
      hint: 'Set AWS_REGION to the region of the tables, and check AWS_ENDPOINT_URL_DYNAMODB if one is set.',
      cause,
    });
  }
  // ValidationException and the rest: a request FileFerry should not have sent (an item over
  // 400 KB, a key that does not match the table). Not worth retrying.
  return new StoreError('INTERNAL', `${what} failed (${detail}: ${clip(err.message)}).`, {
    hint: 'Check that the table was created from infra/dynamodb.yaml; the log has the error name and request id.',
    retryable: false,
    cause,
  });
}

function safeCause(name: string, status?: number, requestId?: string): Error {
  const cause = new Error(`${name}${status ? `, HTTP ${status}` : ''}${requestId ? `, request id ${requestId}` : ''}`);
  cause.name = name;
  return cause;
}

/** AWS's message, shortened; it describes the request (key names, sizes), never a credential. */
function clip(text: string | undefined): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t || 'no message';
}

/** Runs one SDK call, turning whatever it throws into the StoreError `dynamoError` maps it to. */
export async function dynamoCall<T>(target: DynamoTarget, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw dynamoError(e, target);
  }
}
