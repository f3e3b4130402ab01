import { describeRef, type SecretRef } from '../../domain/secretRef';
import { SecretsError, type ErrorCode } from '../../domain/errors';

/**
 * What every SecretStore adapter says the same way: a malformed reference, a cancelled or timed-out
 * call, and the deadline that bounds each call. Messages name the reference, never a value.
 */

/** A reference whose form is wrong for its scheme (start-up validation, `check`). */
export function invalidRef(ref: SecretRef, why: string, hint: string): SecretsError {
  return new SecretsError('INVALID_CONFIG', `The secret reference ${describeRef(ref)} is not valid: ${why}.`, { hint });
}

export function secretCancelled(ref: SecretRef): SecretsError {
  return new SecretsError('CANCELLED', `Reading the secret ${describeRef(ref)} was cancelled.`, { hint: 'Start it again when you are ready.' });
}

/**
 * A fresh Error that carries only what an SDK error may safely say (its name, status, request id),
 * to use as `cause`: SDK errors can hold the request, whose headers carry a bearer token or a
 * signature, and a log that prints the cause chain must not print those.
 */
export function safeCause(name: string, status?: number, requestId?: string): Error {
  const cause = new Error(`${name}${status ? `, HTTP ${status}` : ''}${requestId ? `, request id ${requestId}` : ''}`);
  cause.name = name;
  return cause;
}

/** TLS failures Node reports by code: the endpoint's certificate is not one this process trusts. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);

export function isTlsCertError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && TLS_CODES.has(code);
}

/** The code for a failure that is not the service's answer: TLS, or undefined to let the caller decide. */
export function transportCode(e: unknown): ErrorCode | undefined {
  if (isTlsCertError(e) || isTlsCertError((e as { cause?: unknown })?.cause)) return 'TLS_CERT_INVALID';
  return undefined;
}

/**
 * Runs one call to a secrets service under a deadline: it ends at the caller's abort (CANCELLED)
 * or after `timeoutMs` (TIMEOUT), even when the SDK underneath does not notice the signal, so a
 * hung endpoint or a slow credential chain cannot hold a transfer's start. The SDK is also handed
 * the signal so it can close its socket. Any other failure goes through `mapError`.
 */
export async function withDeadline<T>(
  ref: SecretRef,
  service: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
  mapError: (e: unknown) => SecretsError,
): Promise<T> {
  if (signal?.aborted) throw secretCancelled(ref);
  const timer = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, timer]) : timer;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(both.reason);
    both.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(both), stopped]);
  } catch (e) {
    if (signal?.aborted) throw secretCancelled(ref);
    if (timer.aborted) {
      throw new SecretsError('TIMEOUT', `${service} did not answer within ${timeoutMs} ms for the secret ${describeRef(ref)}.`, {
        hint: `This is worth retrying; if it keeps failing, check the network path to ${service}.`,
      });
    }
    if (e instanceof SecretsError) throw e;
    throw mapError(e);
  } finally {
    if (onAbort) both.removeEventListener('abort', onAbort);
  }
}
