import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../domain/errors';
import type { DocumentStore, ListOptions, PutOptions, StoredDocument } from '../../ports/documentStore';
import { bodyJson, byteOrder, checkVersion, unreadableDocument, versionConflict } from './documentConditions';
import { dynamoCall, dynamoError, sdkAttempts, sdkErrorName } from './dynamoErrors';
import { ITEM_ATTRIBUTES } from './dynamoTables';

export interface DynamoDocumentsOptions {
  /** The `<prefix>Documents` table. */
  table: string;
  /** The clock that stamps `updated_at` and decides expiry. Default: the system clock. */
  now?: () => Date;
  /** Lost conditional writes in a row before an unconditional put gives up with CONFLICT. Default 50. */
  maxConflicts?: number;
}

/** The exact expiry instant (epoch ms): what reads and conditions compare; `expires_at` is DynamoDB's TTL, in seconds. */
const EXPIRES_MS = 'expires_at_ms';
/** Items a Query reads per page at most (it stops earlier once a list page is full). */
const QUERY_PAGE = 100;

interface DocumentItem {
  collection: string;
  id: string;
  version: number;
  [ITEM_ATTRIBUTES.json]: string;
  updated_at: string;
  [ITEM_ATTRIBUTES.expiresAt]?: number;
  [EXPIRES_MS]?: number;
}

// Condition expressions, with the names and values they use. `#x` is `expires_at_ms`.
const NAMES = { '#id': 'id', '#v': 'version', '#x': EXPIRES_MS };
const ABSENT_OR_EXPIRED = 'attribute_not_exists(#id) OR #x <= :now';
const LIVE_AT_VERSION = '#v = :v AND (attribute_not_exists(#x) OR #x > :now)';

/**
 * The DocumentStore in the `<prefix>Documents` table: partition key `collection`, sort key `id`,
 * one item per document holding `version` (N), the body as JSON (`record_json`), `updated_at`
 * (ISO), and, for a document that expires, `expires_at_ms` (the exact instant, epoch ms) and
 * `expires_at` (epoch seconds, rounded up, for DynamoDB's TTL, which deletes the item some time
 * later). Reads ignore an item past `expires_at_ms`, since TTL is lazy and dynalite never
 * expires anything; conditions treat it as absent.
 *
 * Writes are conditional PutItems (no transactions, which dynalite lacks):
 * - `ifVersion: 0` → `attribute_not_exists(id) OR expired`;
 * - `ifVersion: n` → `version = n AND not expired`;
 * - no ifVersion → read the item (strongly consistent) and write version + 1 on the condition
 *   that it is still what was read; a lost race re-reads, up to `maxConflicts` times.
 * A failed condition is CONFLICT, unless the SDK had retried the call and the item is exactly
 * this write (its first attempt landed, the answer was lost): then the put succeeded.
 *
 * `list` is a strongly consistent Query in the collection's partition, by `begins_with(id,
 * prefix)`, or `id > after` (stopping at the first id past the prefix) when `after` is within or
 * beyond the prefix, filtered for expiry, paged with ExclusiveStartKey until the page is full.
 * DynamoDB orders string sort keys by their UTF-8 bytes, the order the port promises.
 *
 * Throws StoreError (dynamoErrors.ts): CONFLICT, INVALID_CONFIG for a missing table, THROTTLED …
 */
export class DynamoDocuments implements DocumentStore {
  private readonly now: () => Date;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: DynamoDocumentsOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async get<T>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const item = await this.read(collection, id);
    return item && this.live(item) ? toDocument<T>(item) : undefined;
  }

  async put<T>(collection: string, id: string, body: T, options: PutOptions = {}): Promise<number> {
    const json = bodyJson(body, collection, id);
    const maxConflicts = this.options.maxConflicts ?? 50;
    for (let lost = 0; ; lost++) {
      let expected = options.ifVersion;
      if (expected === undefined) {
        const current = await this.read(collection, id);
        expected = current && this.live(current) ? current.version : 0;
      }
      const now = this.now();
      const item: DocumentItem = { collection, id, version: expected + 1, [ITEM_ATTRIBUTES.json]: json, updated_at: now.toISOString() };
      if (options.expiresAt) {
        item[EXPIRES_MS] = options.expiresAt.getTime();
        item[ITEM_ATTRIBUTES.expiresAt] = Math.ceil(options.expiresAt.getTime() / 1000);
      }
      try {
        await this.doc.send(new PutCommand({ TableName: this.options.table, Item: item, ...condition(expected, now) }));
        return item.version;
      } catch (e) {
        if (sdkErrorName(e) !== 'ConditionalCheckFailedException') throw dynamoError(e, { operation: 'PutItem', table: this.options.table });
        if (sdkAttempts(e) !== 1 && sameItem(await this.read(collection, id), item)) return item.version;
      }
      if (options.ifVersion !== undefined) throw await this.conflict(collection, id, options.ifVersion);
      if (lost + 1 >= maxConflicts) {
        throw new StoreError('CONFLICT', `Writing the document ${collection}/${id} in ${this.options.table} lost ${maxConflicts} conditional writes in a row to other writers.`, {
          hint: 'Many writers are replacing this one document at once; try again.',
          retryable: true,
        });
      }
      // Another writer moved the version between the read and the write: read again, after a
      // pause that grows with the losses so writers in step fall out of it.
      await sleep(Math.floor(Math.random() * Math.min(50, 2 ** Math.min(lost, 6))));
    }
  }

  async delete(collection: string, id: string, ifVersion?: number): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.options.table, Key: { collection, id }, ...(ifVersion === undefined ? {} : condition(ifVersion, this.now())) }));
    } catch (e) {
      if (sdkErrorName(e) !== 'ConditionalCheckFailedException' || ifVersion === undefined) throw dynamoError(e, { operation: 'DeleteItem', table: this.options.table });
      // A retried delete whose first attempt landed finds nothing left to delete: that is done.
      if (sdkAttempts(e) !== 1 && ifVersion > 0 && (await this.read(collection, id)) === undefined) return;
      throw await this.conflict(collection, id, ifVersion);
    }
  }

  async list<T>(collection: string, options: ListOptions = {}): Promise<StoredDocument<T>[]> {
    const { prefix = '', after, limit = 100 } = options;
    if (limit <= 0) return [];
    // From `after` when it is within or past the prefix (the sort key takes one condition only).
    const fromAfter = after !== undefined && byteOrder(after, prefix) >= 0;
    const keyCondition = fromAfter ? '#c = :c AND #id > :after' : prefix ? '#c = :c AND begins_with(#id, :prefix)' : '#c = :c';
    const values: Record<string, unknown> = { ':c': collection, ':now': this.now().getTime(), ...(fromAfter ? { ':after': after } : prefix ? { ':prefix': prefix } : {}) };
    const found: StoredDocument<T>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.options.table,
            KeyConditionExpression: keyCondition,
            FilterExpression: 'attribute_not_exists(#x) OR #x > :now',
            ExpressionAttributeNames: { '#c': 'collection', '#x': EXPIRES_MS, ...(fromAfter || prefix ? { '#id': 'id' } : {}) },
            ExpressionAttributeValues: values,
            ConsistentRead: true,
            Limit: Math.min(QUERY_PAGE, limit - found.length),
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of (page.Items ?? []) as DocumentItem[]) {
        if (!item.id.startsWith(prefix)) return found;
        found.push(toDocument<T>(item));
        if (found.length >= limit) return found;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  private async read(collection: string, id: string): Promise<DocumentItem | undefined> {
    const out = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.options.table, Key: { collection, id }, ConsistentRead: true })));
    return out.Item as DocumentItem | undefined;
  }

  private live(item: DocumentItem): boolean {
    return item[EXPIRES_MS] === undefined || item[EXPIRES_MS] > this.now().getTime();
  }

  /** The CONFLICT for a failed condition, naming the version the document is at now. */
  private async conflict(collection: string, id: string, wanted: number): Promise<StoreError> {
    const current = await this.read(collection, id);
    const version = current && this.live(current) ? current.version : 0;
    try {
      checkVersion(collection, id, version, wanted);
    } catch (e) {
      return e as StoreError;
    }
    // It is at the wanted version again (changed twice in between): say only that it moved.
    return versionConflict(collection, id, 'changed', wanted);
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return dynamoCall({ operation, table: this.options.table }, run);
  }
}

/** The ConditionExpression (with its names and values) that the document is at `version` (0: absent or expired) at `now`. */
function condition(version: number, now: Date): { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } {
  return version === 0
    ? { ConditionExpression: ABSENT_OR_EXPIRED, ExpressionAttributeNames: { '#id': NAMES['#id'], '#x': NAMES['#x'] }, ExpressionAttributeValues: { ':now': now.getTime() } }
    : { ConditionExpression: LIVE_AT_VERSION, ExpressionAttributeNames: { '#v': NAMES['#v'], '#x': NAMES['#x'] }, ExpressionAttributeValues: { ':v': version, ':now': now.getTime() } };
}

/** Whether the stored item is this very write (same version, body, time and expiry). */
function sameItem(stored: DocumentItem | undefined, item: DocumentItem): boolean {
  return (
    stored !== undefined &&
    stored.version === item.version &&
    stored[ITEM_ATTRIBUTES.json] === item[ITEM_ATTRIBUTES.json] &&
    stored.updated_at === item.updated_at &&
    stored[EXPIRES_MS] === item[EXPIRES_MS]
  );
}

function toDocument<T>(item: DocumentItem): StoredDocument<T> {
  let body: T;
  try {
    body = JSON.parse(item[ITEM_ATTRIBUTES.json]) as T;
  } catch (e) {
    throw unreadableDocument(item.collection, item.id, e);
  }
  return {
    id: item.id,
    version: Number(item.version),
    body,
    updatedAt: item.updated_at,
    ...(item[EXPIRES_MS] !== undefined ? { expiresAt: new Date(Number(item[EXPIRES_MS])).toISOString() } : {}),
  };
}
