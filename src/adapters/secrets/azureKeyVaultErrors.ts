import { SecretsError, isNetworkErrno } from '../../domain/errors';
import { describeRef, type SecretRef } from '../../domain/secretRef';
import { safeCause, transportCode } from './secretErrors';

interface KeyVaultRestError {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  details?: { error?: { code?: string; innerError?: { code?: string } } };
  response?: { headers?: { get?(name: string): string | undefined } };
  cause?: unknown;
}

/** @azure/identity's ways of saying "no token": nothing to sign in with, or a sign-in refused. */
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

/**
 * Any failure of a Key Vault `getSecret` as the SecretsError the port promises, by HTTP status
 * and Key Vault's error code. The SDK's RestError holds the request, Authorization header and
 * all, so it is never kept: `cause` carries only the code, status and request id.
 */
export function keyVaultError(ref: SecretRef, vaultUrl: string, e: unknown): SecretsError {
  const err = (e ?? {}) as KeyVaultRestError;
  const status = err.statusCode;
  const inner = err.details?.error?.innerError?.code;
  const code = inner ?? err.details?.error?.code ?? err.code ?? err.name ?? 'Error';
  const detail = status ? `${code}, HTTP ${status}` : code;
  const cause = safeCause(code, status, err.response?.headers?.get?.('x-ms-request-id'));
  const where = describeRef(ref);

  if (status === 404) {
    return new SecretsError('SECRET_NOT_FOUND', `The Key Vault ${vaultUrl} has no secret ${where} (${detail}).`, {
      hint: 'Check the secret name and version in the reference, and that it was not deleted.',
      cause,
    });
  }
  if (code === 'SecretDisabled') {
    return new SecretsError('SECRET_NOT_FOUND', `The secret ${where} is disabled in ${vaultUrl} (${detail}).`, {
      hint: 'Enable the secret (or its current version) in the Key Vault, or point the reference at an enabled one.',
      cause,
    });
  }
  if (status === 401 || CREDENTIAL_ERRORS.has(err.name ?? '')) {
    return new SecretsError('AUTH_FAILED', `Azure did not give FileFerry a token accepted by ${vaultUrl} for the secret ${where} (${detail}).`, {
      hint: "Check FileFerry's Azure identity: the managed identity, or AZURE_TENANT_ID / AZURE_CLIENT_ID and its secret or certificate.",
      cause,
    });
  }
  if (status === 403) {
    return new SecretsError('ACCESS_DENIED', `The Key Vault ${vaultUrl} refused FileFerry's identity the secret ${where} (${detail}).`, {
      hint: "Give FileFerry's identity the Key Vault Secrets User role (or a 'get' access policy) and check the vault's firewall.",
      cause,
    });
  }
  if (status === 429) {
    return new SecretsError('THROTTLED', `The Key Vault ${vaultUrl} asked FileFerry to slow down while reading ${where} (${detail}).`, {
      hint: 'This is worth retrying after a pause; many transfers starting at once can exceed the vault’s request limit.',
      cause,
    });
  }
  if (status !== undefined && status >= 500) {
    return new SecretsError('SERVER_ERROR', `The Key Vault ${vaultUrl} failed while reading ${where} (${detail}).`, {
      hint: 'This is worth retrying; check the Azure status page if it keeps failing.',
      cause,
    });
  }
  if (/^The challenge (resource|contains invalid scope)/.test(err.message ?? '')) {
    // The vault answered with a sign-in challenge for another domain: the URL is not that cloud's Key Vault.
    return new SecretsError('INVALID_CONFIG', `The server at ${vaultUrl} asked for a token for another domain than its own, reading ${where}.`, {
      hint: 'Check the vault name and, outside Azure’s public cloud, the Key Vault URL suffix FileFerry is configured with.',
      cause,
    });
  }
  if (transportCode(e) === 'TLS_CERT_INVALID') {
    return new SecretsError('TLS_CERT_INVALID', `The certificate of ${vaultUrl} is not trusted, reading ${where} (${code}).`, {
      hint: 'Check the vault URL; a TLS-inspecting proxy needs its CA in NODE_EXTRA_CA_CERTS.',
      cause,
    });
  }
  if (err.code === 'ENOTFOUND') {
    return new SecretsError('SECRET_NOT_FOUND', `No Key Vault answers at ${vaultUrl} for ${where}: the host name has no address (ENOTFOUND).`, {
      hint: 'Check the vault name and, outside Azure’s public cloud, the Key Vault URL suffix FileFerry is configured with.',
      cause,
    });
  }
  if (isNetworkErrno(e) || isNetworkErrno(err.cause) || err.code === 'REQUEST_SEND_ERROR') {
    return new SecretsError('NETWORK', `The connection to ${vaultUrl} dropped while reading ${where} (${code}).`, {
      hint: 'This is worth retrying; check the network path to the vault (private endpoint, firewall) if it keeps failing.',
      cause,
    });
  }
  if (status === 400) {
    return new SecretsError('INVALID_CONFIG', `The Key Vault ${vaultUrl} refused the request for ${where} (${detail}).`, {
      hint: 'Check the secret name and version in the reference.',
      cause,
    });
  }
  return new SecretsError('INTERNAL', `Reading the secret ${where} from ${vaultUrl} failed (${detail}).`, {
    hint: 'The log has the error code and request id; report it if it keeps happening.',
    retryable: false,
    cause,
  });
}
