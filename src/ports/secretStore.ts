import type { SecretRef } from '../domain/secretRef';

/**
 * Resolves secret references (see domain/secretRef.ts) to their current value. Called when a
 * transfer starts or connects, never earlier, so a rotated secret applies at once; values are
 * held only as long as the caller needs them and never logged, stored or put on a card.
 *
 * `resolve` throws SecretsError:
 * - INVALID_CONFIG: the reference is malformed or its scheme is not one this store knows;
 * - SECRET_NOT_FOUND: it names nothing (no such variable, file, secret or JSON key);
 * - ACCESS_DENIED / AUTH_FAILED: the service refused FileFerry's own identity;
 * - NETWORK / TIMEOUT / THROTTLED / SERVER_ERROR (retryable).
 * Every message names the reference and never the value.
 */
export interface SecretStore {
  resolve(ref: SecretRef, signal?: AbortSignal): Promise<string>;
}

/**
 * One scheme's resolver, as the SecretStore registry holds them (`env`, `file`, `aws-sm`,
 * `azure-kv`). It is given the whole reference and resolves only its own scheme.
 */
export interface SchemeSecretStore extends SecretStore {
  readonly scheme: string;
  /**
   * Checks the reference's form without fetching anything (start-up validation), so a typo stops
   * start-up instead of the first transfer. Throws SecretsError INVALID_CONFIG.
   */
  check(ref: SecretRef): void;
}
