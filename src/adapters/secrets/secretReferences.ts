import { SecretsError } from '../../domain/errors';
import { describeRef, parseSecretRef, type SecretRef } from '../../domain/secretRef';
import type { SchemeSecretStore, SecretStore } from '../../ports/secretStore';

/**
 * The SecretStore the rest of FileFerry sees: it hands each reference to the store of its own
 * scheme (`env:` to EnvSecrets, `aws-sm:` to Secrets Manager…), so one deployment can mix them
 * and no setting picks "the" secrets backend.
 */
export class SecretReferences implements SecretStore {
  private readonly byScheme: ReadonlyMap<string, SchemeSecretStore>;

  constructor(stores: readonly SchemeSecretStore[]) {
    const byScheme = new Map<string, SchemeSecretStore>();
    for (const store of stores) {
      // Two stores for one scheme is a wiring mistake in the composition root, not a user's.
      if (byScheme.has(store.scheme)) throw new Error(`Two secret stores claim the scheme "${store.scheme}".`);
      byScheme.set(store.scheme, store);
    }
    this.byScheme = byScheme;
  }

  /** The schemes this FileFerry resolves, in registration order. */
  get schemes(): readonly string[] {
    return [...this.byScheme.keys()];
  }

  resolve(ref: SecretRef, signal?: AbortSignal): Promise<string> {
    let store: SchemeSecretStore;
    try {
      store = this.storeFor(ref);
    } catch (e) {
      return Promise.reject(e);
    }
    return store.resolve(ref, signal);
  }

  /** Checks the reference's form with its scheme's store, fetching nothing. Throws SecretsError INVALID_CONFIG. */
  check(ref: SecretRef): void {
    this.storeFor(ref).check(ref);
  }

  private storeFor(ref: SecretRef): SchemeSecretStore {
    const { scheme } = parseSecretRef(ref);
    const store = this.byScheme.get(scheme);
    if (!store) {
      const known = this.schemes.map((s) => `${s}:`).join(', ') || 'none';
      throw new SecretsError('INVALID_CONFIG', `The secret reference ${describeRef(ref)} uses the scheme "${scheme}:", which this FileFerry does not know (known: ${known}).`, {
        hint: 'Fix the scheme; env:NAME, file:/path, aws-sm:<secret id>[#key] and azure-kv:<vault>/<name> are the usual forms.',
      });
    }
    return store;
  }
}
