/**
 * SFTP host keys users confirmed for ad-hoc destinations, by host, port and key type (the type
 * named inside the key: "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" …). A server may hold
 * keys of several types and present one or another; each confirmed key stays valid, while a
 * *different* key of a type already confirmed is refused (HOST_KEY_MISMATCH), never silently
 * re-trusted.
 *
 * A key confirmed without its type (by a caller that does not know it, or before types were
 * recorded) is of unknown type: it stands for every type until the server presents it with its
 * type, when it is recorded under that type. So such a key is never weaker than it was: any
 * other key is refused until then, as a changed key would be.
 *
 * Host names compare case-insensitively. Methods throw StoreError (NETWORK, TIMEOUT, CONFLICT
 * when writers kept racing …) when the store cannot be reached.
 */
export interface HostKeyStore {
  /**
   * The fingerprint ("SHA256:…") confirmed for host:port and `keyType` (or a key of unknown type),
   * or undefined. Without `keyType` (the server's key is not known yet): the key of unknown type,
   * else the one confirmed first.
   */
  get(host: string, port: number, keyType?: string): Promise<string | undefined>;
  /**
   * Records `fingerprint` as the key of `keyType` at host:port if no key of that type (and no key
   * of unknown type) is confirmed yet. Returns true when this key is (now) confirmed; false, and
   * changes nothing, when another key holds the place. `keyType` undefined: the type is unknown,
   * and the key is accepted only where no key at all is confirmed, or when it is one of them.
   */
  trust(host: string, port: number, keyType: string | undefined, fingerprint: string): Promise<boolean>;
}
