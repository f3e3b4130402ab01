/**
 * SFTP host keys users confirmed for ad-hoc destinations, by host:port. Once a key is confirmed the
 * destination is pinned to it: a server that later presents another key is refused
 * (HOST_KEY_MISMATCH), never silently re-trusted. Memory only for now; the SQLite store comes with
 * the audit issue.
 */
export class HostKeyMemory {
  private readonly keys = new Map<string, string>();

  static id(host: string, port: number): string {
    return `${host.toLowerCase()}:${port}`;
  }

  get(host: string, port: number): string | undefined {
    return this.keys.get(HostKeyMemory.id(host, port));
  }

  /** Remembers the first key confirmed for host:port; a different one later is not accepted here. */
  trust(host: string, port: number, fingerprint: string): boolean {
    const id = HostKeyMemory.id(host, port);
    const known = this.keys.get(id);
    if (known && known !== fingerprint) return false;
    this.keys.set(id, fingerprint);
    return true;
  }
}
