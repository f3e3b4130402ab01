/**
 * SFTP host keys users confirmed for ad-hoc destinations, by host and port. Once a key is
 * confirmed the destination is pinned to it: a server that later presents another key is refused
 * (HOST_KEY_MISMATCH), never silently re-trusted. Methods throw StoreError (NETWORK, TIMEOUT …)
 * when the store cannot be reached.
 */
export interface HostKeyStore {
  /** The fingerprint ("SHA256:…") confirmed for host:port, or undefined. Host names compare case-insensitively. */
  get(host: string, port: number): Promise<string | undefined>;
  /**
   * Records `fingerprint` as the key of host:port if none is confirmed yet. Returns false, and
   * changes nothing, when a different key is already confirmed; true when this one is (now) the key.
   */
  trust(host: string, port: number, fingerprint: string): Promise<boolean>;
}
