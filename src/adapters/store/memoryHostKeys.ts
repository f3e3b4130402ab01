import type { HostKeyStore } from '../../ports/hostKeyStore';
import { confirmedKey, trustDecision, type HostKeyEntry } from './hostKeyEntries';

/** Confirmed host keys in memory (FILEFERRY_STORE=memory, tests), by host:port and key type. */
export class MemoryHostKeys implements HostKeyStore {
  private readonly keys = new Map<string, HostKeyEntry[]>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async get(host: string, port: number, keyType?: string): Promise<string | undefined> {
    return confirmedKey(this.keys.get(id(host, port)) ?? [], keyType);
  }

  async trust(host: string, port: number, keyType: string | undefined, fingerprint: string): Promise<boolean> {
    const decision = trustDecision(this.keys.get(id(host, port)) ?? [], keyType, fingerprint, this.now());
    if (decision.next) this.keys.set(id(host, port), decision.next);
    return decision.trusted;
  }
}

const id = (host: string, port: number): string => `${host.toLowerCase()}:${port}`;
