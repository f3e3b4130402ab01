/**
 * The host key rules every HostKeyStore adapter applies (see ports/hostKeyStore.ts), as pure
 * functions over the keys confirmed for one host:port. The adapters only read and write the
 * entries, atomically in their own way.
 */

/** The `keyType` of a key confirmed without its type. */
export const UNKNOWN_KEY_TYPE = '';

export interface HostKeyEntry {
  /** "ssh-ed25519" …, or UNKNOWN_KEY_TYPE. */
  keyType: string;
  fingerprint: string;
  /** ISO-8601 UTC. */
  confirmedAt: string;
}

/** What `get` answers from the entries of one host:port. */
export function confirmedKey(entries: readonly HostKeyEntry[], keyType?: string): string | undefined {
  const unknown = entries.find((e) => e.keyType === UNKNOWN_KEY_TYPE);
  if (keyType !== undefined && keyType !== UNKNOWN_KEY_TYPE) return (entries.find((e) => e.keyType === keyType) ?? unknown)?.fingerprint;
  if (unknown) return unknown.fingerprint;
  return [...entries].sort((a, b) => a.confirmedAt.localeCompare(b.confirmedAt) || a.keyType.localeCompare(b.keyType))[0]?.fingerprint;
}

/**
 * What `trust` does: `trusted` is its answer; `next`, when set, is the entries to store instead
 * (undefined: nothing changes).
 */
export function trustDecision(
  entries: readonly HostKeyEntry[],
  keyType: string | undefined,
  fingerprint: string,
  now: Date,
): { trusted: boolean; next?: HostKeyEntry[] } {
  const type = keyType ?? UNKNOWN_KEY_TYPE;
  const confirmedAt = now.toISOString();
  if (type === UNKNOWN_KEY_TYPE) {
    if (entries.length === 0) return { trusted: true, next: [{ keyType: type, fingerprint, confirmedAt }] };
    return { trusted: entries.some((e) => e.fingerprint === fingerprint) };
  }
  const same = entries.find((e) => e.keyType === type);
  if (same) return { trusted: same.fingerprint === fingerprint };
  const unknown = entries.find((e) => e.keyType === UNKNOWN_KEY_TYPE);
  if (unknown && unknown.fingerprint !== fingerprint) return { trusted: false };
  // New type, or the key of unknown type presented with its type: it is recorded under it.
  const rest = entries.filter((e) => e.keyType !== UNKNOWN_KEY_TYPE);
  return { trusted: true, next: [...rest, { keyType: type, fingerprint, confirmedAt: unknown?.confirmedAt ?? confirmedAt }] };
}
