import type { RequestRecord } from '../../domain/requestRecord';
import type { RequestRepository } from '../../ports/requestRepository';
import type { CosmosConnection } from './cosmosConnection';
import { CONTAINER_SPECS, withoutSystemFields } from './cosmosContainers';
import { OWNER_RESOURCE_NOT_EXIST, cosmosError, cosmosMissing } from './cosmosErrors';

const CONTAINER = CONTAINER_SPECS.requests.id;
/** Items per page of a query: one page is all a query holds in memory. */
const PAGE = 100;

/**
 * Request records in the Cosmos DB container `requests`, one item per request, its `id` the
 * request ID and the partition key (`/id`), so `get` and `put` are point operations. The item is
 * the record itself; Cosmos's system fields are dropped on read, so a record round-trips exactly.
 *
 * The two lists are cross-partition queries with simple WHERE clauses only (no ORDER BY, TOP or
 * OFFSET, which cosmosdb-server and the SDK's gateway path do not serve alike):
 * - `listByUser` selects just `id` and `createdAt` of the user's requests page by page, keeps the
 *   newest `limit` (createdAt, then id, descending, as every store orders them), then point-reads
 *   those; memory holds `limit` entries plus one page.
 * - `listStale` selects `ARRAY_CONTAINS(@states, c.state) AND c.updatedAt < @before` (ISO
 *   strings of one length compare as times).
 *
 * Throws StoreError (see cosmosErrors.ts): INVALID_CONFIG for a missing database or container,
 * AUTH_FAILED, ACCESS_DENIED, THROTTLED, TIMEOUT, SERVER_ERROR, NETWORK.
 */
export class CosmosRequestRepository implements RequestRepository {
  constructor(private readonly cosmos: CosmosConnection) {}

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const operation = `reading request ${requestId}`;
    const container = await this.cosmos.container(CONTAINER, operation);
    try {
      const { resource, statusCode, substatus } = await container.item(requestId, requestId).read<Record<string, unknown>>();
      if (statusCode === 404 && substatus === OWNER_RESOURCE_NOT_EXIST) throw cosmosMissing('either', this.cosmos.target(CONTAINER, operation));
      return resource ? withoutSystemFields<RequestRecord>(resource) : undefined;
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  async put(record: RequestRecord): Promise<void> {
    const operation = `writing request ${record.id}`;
    const container = await this.cosmos.container(CONTAINER, operation);
    try {
      // The SDK serialises the body at once: later changes to `record` cannot leak in.
      await container.items.upsert({ ...record });
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  async listByUser(userId: string, limit: number): Promise<RequestRecord[]> {
    if (limit <= 0) return [];
    const operation = `listing the requests of ${userId}`;
    const container = await this.cosmos.container(CONTAINER, operation);
    try {
      const newest: Array<{ id: string; createdAt: string }> = [];
      const query = container.items.query<{ id: string; createdAt: string }>(
        { query: 'SELECT c.id, c.createdAt FROM c WHERE c.owner.userId = @userId', parameters: [{ name: '@userId', value: userId }] },
        { maxItemCount: PAGE },
      );
      while (query.hasMoreResults()) {
        const { resources } = await query.fetchNext();
        for (const entry of resources) keepNewest(newest, entry, limit);
      }
      const records = await Promise.all(newest.map((entry) => this.get(entry.id)));
      return records.filter((r): r is RequestRecord => r !== undefined);
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  async listStale(states: readonly RequestRecord['state'][], before: Date): Promise<RequestRecord[]> {
    if (states.length === 0) return [];
    const operation = `listing requests in ${states.join(', ')} updated before ${before.toISOString()}`;
    const container = await this.cosmos.container(CONTAINER, operation);
    try {
      const out: RequestRecord[] = [];
      const query = container.items.query<Record<string, unknown>>(
        {
          query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(@states, c.state) AND c.updatedAt < @before',
          parameters: [
            { name: '@states', value: [...states] },
            { name: '@before', value: before.toISOString() },
          ],
        },
        { maxItemCount: PAGE },
      );
      while (query.hasMoreResults()) {
        const { resources } = await query.fetchNext();
        for (const item of resources) out.push(withoutSystemFields<RequestRecord>(item));
      }
      return out;
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }
}

/** Newest first by createdAt, then id (both descending), as MemoryRequestRepository orders them. */
function newerFirst(a: { id: string; createdAt: string }, b: { id: string; createdAt: string }): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

/** Inserts `entry` into `list` (kept sorted, newest first) and drops what falls beyond `limit`. */
function keepNewest(list: Array<{ id: string; createdAt: string }>, entry: { id: string; createdAt: string }, limit: number): void {
  let i = list.length;
  while (i > 0 && newerFirst(list[i - 1]!, entry) > 0) i--;
  if (i >= limit) return;
  list.splice(i, 0, { id: entry.id, createdAt: entry.createdAt });
  if (list.length > limit) list.pop();
}
