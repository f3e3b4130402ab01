import type { Container } from '@azure/cosmos';
import { StoreError } from '../../domain/errors';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import type { CosmosConnection } from './cosmosConnection';
import { CONTAINER_SPECS, hostKeyItemId } from './cosmosContainers';
import { OWNER_RESOURCE_NOT_EXIST, cosmosError, cosmosMissing, cosmosStatus } from './cosmosErrors';
import { UNKNOWN_KEY_TYPE, confirmedKey, trustDecision, type HostKeyEntry } from './hostKeyEntries';

const CONTAINER = CONTAINER_SPECS.hostKeys.id;
/** Lost conditional writes in a row before `trust` gives up (each loss means another writer got in). */
const MAX_ATTEMPTS = 20;

/** The confirmed host keys of one host:port, as the container holds them. */
interface HostKeyItem {
  /** `<host, lower case>:<port>`, also the partition key. */
  id: string;
  host: string;
  port: number;
  /** The key of unknown type, and when it was confirmed (items from before key types have one). */
  fingerprint?: string;
  confirmedAt?: string;
  /** The keys of known type, by type ("ssh-ed25519" …). */
  keys?: Record<string, { fingerprint: string; confirmedAt: string }>;
  _etag?: string;
}

/**
 * Confirmed SFTP host keys in the Cosmos DB container `hostKeys`, one item per host:port holding
 * its keys by type (`keys`) and a key of unknown type (`fingerprint`, where items written before
 * key types were recorded keep theirs). `trust` reads the item, applies the rules of
 * hostKeyEntries.ts and writes it back conditionally: `create` (409 when another writer created
 * it first) or `replace` with the read `_etag` as If-Match (412 when it changed since). A lost
 * race reads again and decides again, so every process agrees on the first key written. Throws
 * StoreError as cosmosErrors.ts maps it.
 */
export class CosmosHostKeys implements HostKeyStore {
  constructor(
    private readonly cosmos: CosmosConnection,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(host: string, port: number, keyType?: string): Promise<string | undefined> {
    const operation = `reading the host key of ${host}:${port}`;
    return confirmedKey(entriesOf(await this.read(await this.container(operation), hostKeyItemId(host, port), operation)), keyType);
  }

  async trust(host: string, port: number, keyType: string | undefined, fingerprint: string): Promise<boolean> {
    const id = hostKeyItemId(host, port);
    const operation = `confirming the host key of ${host}:${port}`;
    const container = await this.container(operation);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const item = await this.read(container, id, operation);
      const decision = trustDecision(entriesOf(item), keyType, fingerprint, this.now());
      if (!decision.next) return decision.trusted;
      const next = toItem(id, host, port, decision.next);
      try {
        if (item) await container.item(id, id).replace(next, { accessCondition: { type: 'IfMatch', condition: item._etag! } });
        else await container.items.create(next);
        return decision.trusted;
      } catch (e) {
        const status = cosmosStatus(e);
        // 409: created by another writer first; 412: changed since the read; 404: deleted since it.
        if (status !== 409 && status !== 412 && status !== 404) throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
      }
    }
    throw new StoreError('CONFLICT', `The host key of ${host}:${port} kept changing while FileFerry confirmed it (container ${CONTAINER}).`, { hint: 'Confirm the key again.', retryable: true });
  }

  private container(operation: string): Promise<Container> {
    return this.cosmos.container(CONTAINER, operation);
  }

  private async read(container: Container, id: string, operation: string): Promise<HostKeyItem | undefined> {
    try {
      const { resource, statusCode, substatus } = await container.item(id, id).read<HostKeyItem>();
      if (statusCode === 404 && substatus === OWNER_RESOURCE_NOT_EXIST) throw cosmosMissing('either', this.cosmos.target(CONTAINER, operation));
      return resource;
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }
}

function entriesOf(item: HostKeyItem | undefined): HostKeyEntry[] {
  if (!item) return [];
  const typed = Object.entries(item.keys ?? {}).map(([keyType, k]) => ({ keyType, fingerprint: k.fingerprint, confirmedAt: k.confirmedAt }));
  return typeof item.fingerprint === 'string' ? [{ keyType: UNKNOWN_KEY_TYPE, fingerprint: item.fingerprint, confirmedAt: item.confirmedAt ?? '' }, ...typed] : typed;
}

function toItem(id: string, host: string, port: number, entries: readonly HostKeyEntry[]): HostKeyItem {
  const item: HostKeyItem = { id, host: host.toLowerCase(), port };
  const keys: NonNullable<HostKeyItem['keys']> = {};
  for (const e of entries) {
    if (e.keyType === UNKNOWN_KEY_TYPE) {
      item.fingerprint = e.fingerprint;
      item.confirmedAt = e.confirmedAt;
    } else {
      keys[e.keyType] = { fingerprint: e.fingerprint, confirmedAt: e.confirmedAt };
    }
  }
  if (Object.keys(keys).length > 0) item.keys = keys;
  return item;
}
