import { ConfigError, FerryError, SourceError, isNetworkErrno } from '../../domain/errors';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const MISSING_QUEUE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'NonExistentQueue']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'KmsAccessDenied', 'InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidSecurity']);
const THROTTLED = new Set(['ThrottlingException', 'RequestThrottled', 'KmsThrottled', 'OverLimit']);

/**
 * An SQS failure as a FerryError naming the queue. At start-up a missing queue or a refusal is
 * a configuration problem (permanent); in the polling loop every error is logged and retried, so
 * `retryable` only decides the log level there.
 */
export function sqsError(e: unknown, queueUrl: string): FerryError {
  if (e instanceof FerryError) return e;
  const err = (e ?? {}) as SdkError;
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const detail = status ? `${name}, HTTP ${status}` : name;
  if (MISSING_QUEUE.has(name)) {
    return new ConfigError(`The SQS queue ${queueUrl} does not exist (${detail}).`, 'Check the queue URL in the push rules and the region it lives in.', 'NOT_FOUND');
  }
  if (err.code === 'ENOTFOUND') {
    // NXDOMAIN: the host in the queue URL does not exist (EAI_AGAIN, a resolver hiccup, is NETWORK).
    return new ConfigError(`The host of the SQS queue URL ${queueUrl} does not resolve.`, 'Check the queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), or the endpoint override for a local SQS.', 'NOT_FOUND');
  }
  if (DENIED.has(name) || status === 403) {
    return new ConfigError(
      `FileFerry may not read the SQS queue ${queueUrl} (${detail}).`,
      "Give the service's role sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on this queue (and kms:Decrypt for an encrypted queue).",
      'ACCESS_DENIED',
    );
  }
  if (THROTTLED.has(name) || status === 429) {
    return new SourceError('THROTTLED', `SQS asked FileFerry to slow down on ${queueUrl} (${detail}).`, { hint: 'FileFerry backs off and polls again.', cause: e });
  }
  if (isNetworkErrno(e) || name === 'TimeoutError' || (status !== undefined && status >= 500)) {
    return new SourceError(status ? 'SERVER_ERROR' : 'NETWORK', `SQS could not be reached for ${queueUrl} (${detail}).`, {
      hint: 'FileFerry backs off and polls again; check the network to SQS if it keeps failing.',
      cause: e,
    });
  }
  return new SourceError('INTERNAL', `SQS failed on ${queueUrl} (${detail}: ${err.message ?? 'no message'}).`, {
    hint: 'FileFerry backs off and polls again; the log has the detail.',
    retryable: true,
    cause: e,
  });
}
