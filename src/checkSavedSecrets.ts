import { ConfigError, isFerryError } from './domain/errors';
import type { SavedDestination } from './domain/savedDestination';
import { parseSecretRef, type SecretRef } from './domain/secretRef';
import type { SecretStore } from './ports/secretStore';

/** Schemes cheap and local enough to resolve at start-up; the cloud ones are resolved when a transfer starts. */
const RESOLVE_AT_START = new Set(['env', 'file']);

/**
 * Start-up check of every saved destination's secret references, so a typo stops the bot at once
 * instead of failing the first transfer: each reference must be well formed for a known scheme,
 * and `env:`/`file:` ones must exist. Values are read and dropped; no message carries one.
 */
export async function checkSavedSecrets(saved: readonly SavedDestination[], secrets: SecretStore & { check(ref: SecretRef): void }): Promise<void> {
  for (const { name, spec } of saved) {
    if (spec.protocol === 'local') continue;
    const refs = [spec.passwordRef, ...(spec.protocol === 'sftp' ? [spec.privateKeyRef, spec.passphraseRef] : [])].filter((r): r is SecretRef => !!r);
    for (const ref of refs) {
      try {
        secrets.check(ref);
        if (RESOLVE_AT_START.has(parseSecretRef(ref).scheme)) await secrets.resolve(ref);
      } catch (e) {
        if (!isFerryError(e)) throw e;
        throw new ConfigError(`FILEFERRY_DESTINATIONS_FILE: the destination "${name}": ${e.message}`, e.hint || 'Fix the reference or set what it names.');
      }
    }
  }
}
