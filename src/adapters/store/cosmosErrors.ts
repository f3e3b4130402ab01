import { StoreError, isNetworkErrno } from '../../domain/errors';

/** What a Cosmos DB call was about, for the message. */
export interface CosmosTarget {
  /** What FileFerry was doing, e.g. "writing request FF-1A2B3C4D" or "appending to the audit chain fileferry". */
  operation: string;
  /** The account endpoint, e.g. https://acme-fileferry.documents.azure.com:443/ */
  endpoint: string;
  database: string;
  container: string;
}

interface SdkError {
  name?: string;
  /** The HTTP status (a number) for answers; a Node or core-rest-pipeline code (a string) for transport failures. */
  code?: number | string;
  substatus?: number;
  message?: string;
  retryAfterInMs?: number;
  activityId?: string;
  cause?: unknown;
}

/** Cosmos's substatus for "the database or container does not exist" (on a 404). */
export const OWNER_RESOURCE_NOT_EXIST = 1003;

/** @azure/identity's ways of saying "no token": nothing to sign in with, or a sign-in refused. */
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);

/** The HTTP status of a Cosmos answer, undefined for a transport failure. */
export function cosmosStatus(e: unknown): number | undefined {
  const code = (e as SdkError)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The missing database or container, as the StoreError a store throws (deploy infra/cosmos.bicep). */
export function cosmosMissing(what: 'database' | 'container' | 'either', target: CosmosTarget): StoreError {
  const name =
    what === 'database' ? `database ${target.database}`
    : what === 'container' ? `container ${target.container} in the database ${target.database}`
    : `container ${target.container} in the database ${target.database} (or no such database)`;
  return new StoreError('INVALID_CONFIG', `The Cosmos DB account ${target.endpoint} has no ${name} (${target.operation}).`, {
    hint: `Deploy infra/cosmos.bicep to that account (it creates the database and the requests, audit, hostKeys and documents containers), or set COSMOS_DATABASE to the database it created.`,
  });
}

/**
 * Any failure of a Cosmos DB call as the StoreError the ports promise: a missing database or
 * container INVALID_CONFIG naming it, 401 (and no Entra token) AUTH_FAILED, 403 ACCESS_DENIED,
 * 429 THROTTLED (with Cosmos's retry-after in the message: the SDK is told not to retry, the
 * caller decides), 408 TIMEOUT, 5xx SERVER_ERROR, dropped sockets NETWORK. Only the transient
 * codes are retryable. The SDK error is not kept as `cause` (its diagnostics hold request
 * details); the cause carries only the code, substatus and activity id.
 */
export function cosmosError(e: unknown, target: CosmosTarget): StoreError {
  if (e instanceof StoreError) return e;
  const err = (e ?? {}) as SdkError;
  const status = cosmosStatus(e);
  const name = err.name ?? 'Error';
  const code = status === undefined ? String(err.code ?? (err.cause as SdkError | undefined)?.code ?? name) : `HTTP ${status}${err.substatus ? `.${err.substatus}` : ''}`;
  const cause = safeCause(code, err.activityId);
  const where = `${target.operation} (container ${target.container}, database ${target.database}, ${target.endpoint})`;

  if (status === 404) {
    // Item reads answer 404 themselves (the stores turn that into "none"); a 404 reaching here
    // is the database or container (the stores check which when they first use a container).
    return cosmosMissing('either', target);
  }
  if (status === 401 || CREDENTIAL_ERRORS.has(name)) {
    return new StoreError('AUTH_FAILED', `Cosmos DB did not accept FileFerry's credentials: ${where} (${code}).`, {
      hint: "Check the key COSMOS_KEY_REF names (the account's primary or secondary key, not a read-only one), or, with no key, FileFerry's Entra identity (managed identity or AZURE_* variables).",
      cause,
    });
  }
  if (status === 403) {
    const localAuthOff = /local authorization is disabled/i.test(err.message ?? '');
    return new StoreError(localAuthOff ? 'AUTH_FAILED' : 'ACCESS_DENIED', localAuthOff
      ? `The Cosmos DB account refuses key authentication (local auth is disabled): ${where}.`
      : `Cosmos DB refused FileFerry's identity: ${where} (${code}).`, {
      hint: localAuthOff
        ? 'Unset COSMOS_KEY_REF so FileFerry signs in with its Entra identity, or deploy infra/cosmos.bicep with disableLocalAuth=false.'
        : "Give FileFerry's identity the Cosmos DB Built-in Data Contributor role on the account (infra/cosmos.bicep does, given dataContributorPrincipalId), and check the account's firewall.",
      cause,
    });
  }
  if (status === 429) {
    const after = err.retryAfterInMs !== undefined ? `; it asks to wait ${err.retryAfterInMs} ms` : '';
    return new StoreError('THROTTLED', `Cosmos DB asked FileFerry to slow down${after}: ${where} (${code}).`, {
      hint: 'This is worth retrying after that pause; if it keeps happening, the account needs more throughput (serverless accounts have a per-partition limit).',
      cause,
    });
  }
  if (status === 408 || name === 'TimeoutError' || err.code === 'TimeoutError' || err.code === 'ETIMEDOUT') {
    return new StoreError('TIMEOUT', `Cosmos DB did not answer in time: ${where} (${code}).`, {
      hint: 'This is worth retrying; check the network path to the account (private endpoint, firewall) if it keeps failing.',
      cause,
    });
  }
  if (status !== undefined && status >= 500) {
    return new StoreError('SERVER_ERROR', `Cosmos DB failed: ${where} (${code}).`, {
      hint: 'This is worth retrying; check the Azure status page if it keeps failing.',
      cause,
    });
  }
  if (status === 409 || status === 412) {
    return new StoreError('CONFLICT', `Another writer changed the item first: ${where} (${code}).`, { hint: 'Read it again and retry.', retryable: true, cause });
  }
  if (TLS_CODES.has(String(err.code)) || TLS_CODES.has(String((err.cause as SdkError | undefined)?.code))) {
    return new StoreError('TLS_CERT_INVALID', `The certificate of ${target.endpoint} is not trusted: ${where} (${code}).`, {
      hint: 'Check COSMOS_ENDPOINT; a TLS-inspecting proxy needs its CA in NODE_EXTRA_CA_CERTS.',
      cause,
    });
  }
  if (err.code === 'ENOTFOUND') {
    return new StoreError('INVALID_CONFIG', `No Cosmos DB account answers at ${target.endpoint}: the host name has no address (ENOTFOUND).`, {
      hint: 'Check COSMOS_ENDPOINT (https://<account>.documents.azure.com:443/).',
      cause,
    });
  }
  if (isNetworkErrno(e) || isNetworkErrno(err.cause) || err.code === 'REQUEST_SEND_ERROR' || err.message === 'socket hang up') {
    return new StoreError('NETWORK', `The connection to Cosmos DB dropped: ${where} (${code}).`, {
      hint: 'This is worth retrying; check the network path to the account (private endpoint, firewall) if it keeps failing.',
      cause,
    });
  }
  // 400, 413 and the rest: a request FileFerry should not have sent (an item over 2 MB, a bad
  // query). Not worth retrying.
  return new StoreError('INTERNAL', `${where} failed (${code}: ${clip(err.message)}).`, {
    hint: 'Check that the containers were created from infra/cosmos.bicep; the log has the code and activity id.',
    retryable: false,
    cause,
  });
}

function safeCause(code: string, activityId?: string): Error {
  const cause = new Error(`Cosmos DB ${code}${activityId ? `, activity id ${activityId}` : ''}`);
  cause.name = 'CosmosError';
  return cause;
}

/** Cosmos's message, shortened; it describes the request, never a credential. */
function clip(text: string | undefined): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t || 'no message';
}
