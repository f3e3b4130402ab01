import type { HostKeyStore } from '../../ports/hostKeyStore';

/** Confirmed host keys in memory: the embedded default until a durable store keeps them across restarts. */
export class MemoryHostKeys implements HostKeyStore {
  private readonly keys = new Map<string, string>();

  async get(host: string, port: number): Promise<string | undefined> {
    return this.keys.get(id(host, port));
  }

  async trust(host: string, port: number, fingerprint: string): Promise<boolean> {
    const known = this.keys.get(id(host, port));
    if (known && known !== fingerprint) return false;
    this.keys.set(id(host, port), fingerprint);
    return true;
  }
}

const id = (host: string, port: number): string => `${host.toLowerCase()}:${port}`;
