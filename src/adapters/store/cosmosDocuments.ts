import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { StoreError } from '../../domain/errors';
import type { DocumentStore, ListOptions, PutOptions, StoredDocument } from '../../ports/documentStore';
import type { CosmosConnection } from './cosmosConnection';
import { CONTAINER_SPECS } from './cosmosContainers';
import { bodyJson, checkVersion, versionConflict } from './documentConditions';
import { OWNER_RESOURCE_NOT_EXIST, cosmosError, cosmosMissing, cosmosStatus } from './cosmosErrors';

const CONTAINER = CONTAINER_SPECS.documents.id;
/** Items per page of a list query: what one round trip brings into memory. */
const QUERY_PAGE = 100;

export interface CosmosDocumentsOptions {
  /** The clock that stamps `updatedAt` and decides expiry. Default: the system clock. */
  now?: () => Date;
  /** Lost conditional writes in a row before an unconditional put gives up with CONFLICT. Default 50. */
  maxConflicts?: number;
}

/** A document as the container holds it. */
interface DocumentItem {
  /** SHA-256 (hex) of `docId`: see cosmosDocumentId. */
  id: string;
  /** The partition key. */
  collection: string;
  /** The document's own id, as the caller gave it. */
  docId: string;
  /** Lower-case hex of docId's UTF-8 bytes: sorts (as any string order sorts ASCII) in the byte-wise order `list` promises. */
  key: string;
  version: number;
  body: unknown;
  updatedAt: string;
  expiresAt?: string;
  /** The exact expiry instant (epoch ms), what reads and queries compare. */
  expiresAtMs?: number;
  /** Seconds after this write when Cosmos's TTL may delete the item (the container has defaultTtl -1). */
  ttl?: number;
  _etag?: string;
}

/**
 * The Cosmos DB item id of a document: the SHA-256 (hex) of its id. Cosmos ids may not hold
 * `/ \ ? #`, are limited to 255 characters, and travel in URL paths that the SDK and servers
 * escape differently; a hash has none of those problems, whatever the document id. The real id
 * is kept in `docId`.
 */
export function cosmosDocumentId(docId: string): string {
  return createHash('sha256').update(docId, 'utf8').digest('hex');
}

/** The order key of an id: hex of its UTF-8 bytes, so string comparison is byte-wise comparison. */
const orderKey = (id: string): string => Buffer.from(id, 'utf8').toString('hex');

/**
 * The DocumentStore in the Cosmos DB container `documents`, partitioned by `/collection`, one item
 * per document (see DocumentItem). Gets, puts and deletes are point operations in the collection's
 * partition.
 *
 * Conditional writes: a create is `items.create`, which Cosmos answers with 409 when the id exists;
 * a replace carries the `_etag` of the item read just before as If-Match, which Cosmos answers
 * with 412 when someone wrote in between. So `ifVersion` is checked against the item read, and
 * the write succeeds only if that item is still the current one. A lost race reads again: with
 * `ifVersion` the check then fails with CONFLICT (the version moved), without it the write is
 * tried again on the new version, up to `maxConflicts` times. An expired item counts as absent
 * and is replaced like any other.
 *
 * Expiry: reads compare `expiresAtMs` with this store's clock (cosmosdb-server has no TTL, and
 * Cosmos's TTL deletes some time later); `ttl` lets Cosmos remove the item in the end.
 *
 * `list` is one simple query (no ORDER BY, TOP or OFFSET, which cosmosdb-server does not serve in
 * every case): the collection's unexpired items whose `key` starts with the prefix's and sorts
 * after the `after`'s, read page by page while only the `limit` smallest keys are kept; so the
 * order is made here, and memory holds one page plus one list page. That server ignores a query's
 * partition key, so the query also names the collection in WHERE.
 *
 * Throws StoreError (cosmosErrors.ts): CONFLICT, INVALID_CONFIG for a missing database or
 * container, AUTH_FAILED, ACCESS_DENIED, THROTTLED, TIMEOUT, SERVER_ERROR, NETWORK.
 */
export class CosmosDocuments implements DocumentStore {
  private readonly now: () => Date;

  constructor(
    private readonly cosmos: CosmosConnection,
    private readonly options: CosmosDocumentsOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async get<T>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const operation = `reading the document ${collection}/${id}`;
    const item = await this.read(await this.container(operation), collection, id, operation);
    return item && this.live(item) ? toDocument<T>(item) : undefined;
  }

  async put<T>(collection: string, id: string, body: T, options: PutOptions = {}): Promise<number> {
    const operation = `writing the document ${collection}/${id}`;
    const container = await this.container(operation);
    const stored = JSON.parse(bodyJson(body, collection, id)) as unknown;
    const maxConflicts = this.options.maxConflicts ?? 50;
    // A create needs no read first: most are of new ids (claims, idempotency keys).
    let current: DocumentItem | undefined;
    let known = options.ifVersion === 0;
    for (let lost = 0; ; lost++) {
      if (!known) current = await this.read(container, collection, id, operation);
      known = false;
      const version = current && this.live(current) ? current.version : 0;
      checkVersion(collection, id, version, options.ifVersion);
      const item = this.item(collection, id, version + 1, stored, options.expiresAt);
      try {
        if (current) await container.item(item.id, collection).replace(item, { accessCondition: { type: 'IfMatch', condition: current._etag! } });
        else await container.items.create(item);
        return item.version;
      } catch (e) {
        const status = cosmosStatus(e);
        // 409: created by another writer first; 412: replaced since our read; 404: deleted since it.
        if (status !== 409 && status !== 412 && status !== 404) throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
      }
      // Read again: the check above then fails (CONFLICT) unless the condition still holds, as
      // it does when the item in the way had expired.
      if (lost + 1 >= maxConflicts) {
        throw new StoreError('CONFLICT', `Writing the document ${collection}/${id} lost ${maxConflicts} conditional writes in a row to other writers (container ${CONTAINER}).`, {
          hint: 'Many writers are replacing this one document at once; try again.',
          retryable: true,
        });
      }
    }
  }

  async delete(collection: string, id: string, ifVersion?: number): Promise<void> {
    const operation = `deleting the document ${collection}/${id}`;
    const container = await this.container(operation);
    let etag: string | undefined;
    if (ifVersion !== undefined) {
      const current = await this.read(container, collection, id, operation);
      checkVersion(collection, id, current && this.live(current) ? current.version : 0, ifVersion);
      if (!current) return;
      etag = current._etag;
    }
    try {
      await container.item(cosmosDocumentId(id), collection).delete(etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {});
    } catch (e) {
      const status = cosmosStatus(e);
      if (status === 404) return;
      if (status === 412 && ifVersion !== undefined) throw await this.conflict(container, collection, id, ifVersion, operation);
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  async list<T>(collection: string, options: ListOptions = {}): Promise<StoredDocument<T>[]> {
    const { prefix = '', after, limit = 100 } = options;
    if (limit <= 0) return [];
    const operation = `listing the documents of ${collection}`;
    const container = await this.container(operation);
    try {
      const smallest: DocumentItem[] = [];
      const query = container.items.query<DocumentItem>(
        {
          query:
            'SELECT * FROM c WHERE c.collection = @collection AND STARTSWITH(c.key, @prefix)' +
            (after === undefined ? '' : ' AND c.key > @after') +
            ' AND (NOT IS_DEFINED(c.expiresAtMs) OR c.expiresAtMs > @now)',
          parameters: [
            { name: '@collection', value: collection },
            { name: '@prefix', value: orderKey(prefix) },
            ...(after === undefined ? [] : [{ name: '@after', value: orderKey(after) }]),
            { name: '@now', value: this.now().getTime() },
          ],
        },
        { partitionKey: collection, maxItemCount: QUERY_PAGE },
      );
      while (query.hasMoreResults()) {
        const { resources } = await query.fetchNext();
        for (const item of resources) keepSmallest(smallest, item, limit);
      }
      return smallest.map((item) => toDocument<T>(item));
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  private item(collection: string, docId: string, version: number, body: unknown, expiresAt: Date | undefined): DocumentItem {
    const now = this.now();
    const item: DocumentItem = { id: cosmosDocumentId(docId), collection, docId, key: orderKey(docId), version, body, updatedAt: now.toISOString() };
    if (expiresAt) {
      item.expiresAt = expiresAt.toISOString();
      item.expiresAtMs = expiresAt.getTime();
      // Rounded up and at least 1 (0 is not a valid ttl): Cosmos never removes it early.
      item.ttl = Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000));
    }
    return item;
  }

  private live(item: DocumentItem): boolean {
    return item.expiresAtMs === undefined || item.expiresAtMs > this.now().getTime();
  }

  private container(operation: string): Promise<Container> {
    return this.cosmos.container(CONTAINER, operation);
  }

  private async read(container: Container, collection: string, id: string, operation: string): Promise<DocumentItem | undefined> {
    try {
      const { resource, statusCode, substatus } = await container.item(cosmosDocumentId(id), collection).read<DocumentItem>();
      if (statusCode === 404 && substatus === OWNER_RESOURCE_NOT_EXIST) throw cosmosMissing('either', this.cosmos.target(CONTAINER, operation));
      return resource;
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  /** The CONFLICT for a lost conditional write, naming the version the document is at now. */
  private async conflict(container: Container, collection: string, id: string, wanted: number, operation: string): Promise<StoreError> {
    const current = await this.read(container, collection, id, operation);
    try {
      checkVersion(collection, id, current && this.live(current) ? current.version : 0, wanted);
    } catch (e) {
      return e as StoreError;
    }
    return versionConflict(collection, id, 'changed', wanted);
  }
}

function toDocument<T>(item: DocumentItem): StoredDocument<T> {
  return {
    id: item.docId,
    version: item.version,
    body: item.body as T,
    updatedAt: item.updatedAt,
    ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}),
  };
}

/** Inserts `item` into `list` (kept sorted by key, ascending) and drops what falls beyond `limit`. */
function keepSmallest(list: DocumentItem[], item: DocumentItem, limit: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.key > item.key) i--;
  if (i >= limit) return;
  list.splice(i, 0, item);
  if (list.length > limit) list.pop();
}
