import { StoreError } from '../../domain/errors';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import type { CosmosConnection } from './cosmosConnection';
import { CONTAINER_SPECS, hostKeyItemId } from './cosmosContainers';
import { OWNER_RESOURCE_NOT_EXIST, cosmosError, cosmosMissing, cosmosStatus } from './cosmosErrors';

const CONTAINER = CONTAINER_SPECS.hostKeys.id;

/** A confirmed host key as the container holds it. */
interface HostKeyItem {
  /** `<host, lower case>:<port>`, also the partition key. */
  id: string;
  host: string;
  port: number;
  fingerprint: string;
  /** When it was first confirmed (UTC ISO). */
  confirmedAt: string;
}

/**
 * Confirmed SFTP host keys in the Cosmos DB container `hostKeys`, one item per host:port. The
 * first key wins across every process: `trust` creates the item, and a 409 Conflict (someone
 * confirmed one first) is answered by reading that item and comparing fingerprints; an item is
 * never replaced. Throws StoreError as cosmosErrors.ts maps it.
 */
export class CosmosHostKeys implements HostKeyStore {
  constructor(private readonly cosmos: CosmosConnection) {}

  async get(host: string, port: number): Promise<string | undefined> {
    return (await this.read(hostKeyItemId(host, port), `reading the host key of ${host}:${port}`))?.fingerprint;
  }

  async trust(host: string, port: number, fingerprint: string): Promise<boolean> {
    const id = hostKeyItemId(host, port);
    const operation = `confirming the host key of ${host}:${port}`;
    const container = await this.cosmos.container(CONTAINER, operation);
    const item: HostKeyItem = { id, host: host.toLowerCase(), port, fingerprint, confirmedAt: new Date().toISOString() };
    try {
      await container.items.create(item);
      return true;
    } catch (e) {
      if (cosmosStatus(e) !== 409) throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
    const known = await this.read(id, operation);
    if (!known) {
      // 409 then 404: only a delete in between does that. Refuse rather than guess.
      throw new StoreError('CONFLICT', `The host key of ${host}:${port} changed while FileFerry confirmed it (container ${CONTAINER}).`, { hint: 'Confirm the key again.', retryable: true });
    }
    return known.fingerprint === fingerprint;
  }

  private async read(id: string, operation: string): Promise<HostKeyItem | undefined> {
    const container = await this.cosmos.container(CONTAINER, operation);
    try {
      const { resource, statusCode, substatus } = await container.item(id, id).read<HostKeyItem>();
      if (statusCode === 404 && substatus === OWNER_RESOURCE_NOT_EXIST) throw cosmosMissing('either', this.cosmos.target(CONTAINER, operation));
      return resource;
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }
}
