import { SecretsError } from '../domain/errors';
import { TYPED_SCHEME, describeRef, parseSecretRef, type SecretRef } from '../domain/secretRef';
import type { SecretStore } from '../ports/secretStore';

/**
 * A SecretStore that answers `typed:` references from what this process holds for one job (a
 * password typed on the card) and every other reference from `base`. A typed secret that is no
 * longer held (the request ended, or the process that held it restarted) is SECRET_NOT_FOUND with
 * a message saying so, never a lookup elsewhere.
 */
export function withHeldSecrets(base: SecretStore, held: ReadonlyMap<SecretRef, string> = new Map()): SecretStore {
  return {
    async resolve(ref: SecretRef, signal?: AbortSignal): Promise<string> {
      const value = held.get(ref);
      if (value !== undefined) return value;
      if (parseSecretRef(ref).scheme !== TYPED_SCHEME) return base.resolve(ref, signal);
      throw new SecretsError('SECRET_NOT_FOUND', `${describeRef(ref)}: what was typed on the card is no longer held by this FileFerry process.`, {
        hint: 'A password typed on the card lives only in the memory of the process it was typed into: type "transfer" to start a new request.',
      });
    },
  };
}

/** True when the spec's secrets include one typed on a card (such a job cannot run in another process). */
export function needsTypedSecret(refs: readonly (SecretRef | undefined)[]): boolean {
  return refs.some((r) => typeof r === 'string' && r.startsWith(`${TYPED_SCHEME}:`));
}
