import { SecretsError, isNetworkErrno } from '../../domain/errors';
import { describeRef, type SecretRef } from '../../domain/secretRef';
import { safeCause, transportCode } from './secretErrors';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

/** The service did not accept FileFerry's credentials: signing in or refreshing them helps. */
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException', 'ExpiredTokenException',
  'ExpiredToken', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'MissingAuthenticationTokenException', 'CredentialsProviderError',
]);
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'LimitExceededException']);
const SERVER = new Set(['InternalServiceError', 'InternalServiceErrorException', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException']);

/**
 * Any failure of a Secrets Manager SDK call as the SecretsError the port promises, by the error's
 * name (the SDK names it after the service's `__type`). The message names the reference and the
 * AWS error name, never the secret; the SDK error itself is not kept as `cause` because it holds
 * the raw response, so a log prints only its name, status and request id.
 */
export function awsSecretsError(ref: SecretRef, e: unknown): SecretsError {
  const err = (e ?? {}) as SdkError;
  const name = err.name ?? err.code ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const detail = status ? `${name}, HTTP ${status}` : name;
  const cause = safeCause(name, status, err.$metadata?.requestId);
  const where = describeRef(ref);

  if (name === 'ResourceNotFoundException') {
    return new SecretsError('SECRET_NOT_FOUND', `AWS Secrets Manager has no secret ${where}, or it has no current value (${detail}).`, {
      hint: 'Check the secret name or ARN and the region FileFerry uses (AWS_REGION); the secret must have an AWSCURRENT version.',
      cause,
    });
  }
  if (name === 'AccessDeniedException' || name === 'DecryptionFailure' || status === 403) {
    return new SecretsError('ACCESS_DENIED', `AWS refused FileFerry's role access to the secret ${where} (${detail}).`, {
      hint: "Allow secretsmanager:GetSecretValue on this secret for FileFerry's role (and kms:Decrypt when it uses a customer-managed key).",
      cause,
    });
  }
  if (BAD_CREDENTIALS.has(name) || /credential/i.test(name)) {
    return new SecretsError('AUTH_FAILED', `AWS did not accept FileFerry's credentials while reading the secret ${where} (${detail}).`, {
      hint: "Check FileFerry's AWS credentials (role, profile or AWS_ACCESS_KEY_ID); temporary ones may have expired.",
      cause,
    });
  }
  if (THROTTLING.has(name) || err.$retryable?.throttling || status === 429) {
    return new SecretsError('THROTTLED', `AWS Secrets Manager asked FileFerry to slow down while reading ${where} (${detail}).`, {
      hint: 'This is worth retrying after a pause; many transfers starting at once can exceed the GetSecretValue rate.',
      cause,
    });
  }
  if (SERVER.has(name) || (status !== undefined && status >= 500)) {
    return new SecretsError('SERVER_ERROR', `AWS Secrets Manager failed while reading ${where} (${detail}).`, {
      hint: 'This is worth retrying; check the AWS status page if it keeps failing.',
      cause,
    });
  }
  if (name === 'InvalidRequestException' || name === 'InvalidParameterException') {
    // E.g. a secret scheduled for deletion. AWS's own message says which; it quotes no value.
    return new SecretsError('SECRET_NOT_FOUND', `AWS Secrets Manager cannot return the secret ${where} (${detail}: ${clip(err.message)}).`, {
      hint: 'Check in the AWS console that the secret is not scheduled for deletion and that its id is right.',
      cause,
    });
  }
  if (transportCode(e) === 'TLS_CERT_INVALID') {
    return new SecretsError('TLS_CERT_INVALID', `The Secrets Manager endpoint's certificate is not trusted while reading ${where} (${err.code ?? name}).`, {
      hint: 'Check AWS_ENDPOINT_URL_SECRETS_MANAGER, or trust the private CA with NODE_EXTRA_CA_CERTS.',
      cause,
    });
  }
  if (name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
    return new SecretsError('TIMEOUT', `AWS Secrets Manager did not answer in time for ${where} (${detail}).`, {
      hint: 'This is worth retrying; check the network path to AWS if it keeps failing.',
      cause,
    });
  }
  if (isNetworkErrno(e) || isNetworkErrno(err.cause) || err.message === 'socket hang up') {
    return new SecretsError('NETWORK', `The connection to AWS Secrets Manager dropped while reading ${where} (${err.code ?? name}).`, {
      hint: 'This is worth retrying; check the network path to AWS if it keeps failing.',
      cause,
    });
  }
  if (err.code === 'ENOTFOUND' || /region is missing/i.test(err.message ?? '')) {
    return new SecretsError('INVALID_CONFIG', `FileFerry cannot reach AWS Secrets Manager for ${where}: ${err.code === 'ENOTFOUND' ? 'its endpoint has no address' : 'no AWS region is set'}.`, {
      hint: 'Set AWS_REGION to the secret’s region, and check AWS_ENDPOINT_URL_SECRETS_MANAGER if one is set.',
      cause,
    });
  }
  return new SecretsError('INTERNAL', `Reading the secret ${where} from AWS Secrets Manager failed (${detail}).`, {
    hint: 'The log has the error name and request id; report it if it keeps happening.',
    retryable: false,
    cause,
  });
}

/** AWS's message, shortened; it describes the request, never a secret value. */
function clip(text: string | undefined): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t || 'no message';
}
