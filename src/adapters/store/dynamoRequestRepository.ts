import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../domain/errors';
import type { RequestRecord } from '../../domain/requestRecord';
import type { RequestRepository } from '../../ports/requestRepository';
import { dynamoCall } from './dynamoErrors';
import { DEFAULT_REQUEST_TTL_DAYS, ITEM_ATTRIBUTES, REQUESTS_BY_STATE_INDEX, REQUESTS_BY_USER_INDEX } from './dynamoTables';

export interface DynamoRequestRepositoryOptions {
  /** The `<prefix>TransferRequests` table. */
  table: string;
  /**
   * Days after the record's `updatedAt` when DynamoDB's TTL may delete the item (`expires_at`,
   * epoch seconds). Default 90; 0 writes no `expires_at`, so items are kept until deleted.
   */
  ttlDays?: number;
}

const DAY_SECONDS = 86_400;

/**
 * Request records in the `<prefix>TransferRequests` table (see dynamoTables.ts), one item per
 * request keyed by `transfer_id`. The item holds the record as JSON (`record_json`, what `get`
 * returns, so every field round-trips exactly) beside the index keys `user_id`, `created_at`,
 * `state` and `updated_at` (timestamps normalised to ISO UTC with milliseconds, so they sort as
 * strings) and the TTL attribute `expires_at`.
 *
 * `get` is a strongly consistent read. `listByUser` and `listStale` query global secondary
 * indexes, which DynamoDB keeps eventually consistent: a record put a moment ago may be missing
 * from them for a short while (well under a second in practice), which expiry and history
 * tolerate. listStale queries the `state-updated_at` index once per state, never scans.
 *
 * Throws StoreError (dynamoErrors.ts): INVALID_CONFIG for a missing table, THROTTLED, NETWORK …
 */
export class DynamoRequestRepository implements RequestRepository {
  private readonly ttlSeconds: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: DynamoRequestRepositoryOptions,
  ) {
    this.ttlSeconds = Math.round((options.ttlDays ?? DEFAULT_REQUEST_TTL_DAYS) * DAY_SECONDS);
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const out = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.options.table, Key: { transfer_id: requestId }, ConsistentRead: true })));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async put(record: RequestRecord): Promise<void> {
    await this.call('PutItem', () => this.doc.send(new PutCommand({ TableName: this.options.table, Item: this.toItem(record) })));
  }

  async listByUser(userId: string, limit: number): Promise<RequestRecord[]> {
    if (limit <= 0) return [];
    const found: RequestRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.options.table,
            IndexName: REQUESTS_BY_USER_INDEX,
            KeyConditionExpression: 'user_id = :u',
            ExpressionAttributeValues: { ':u': userId },
            ScanIndexForward: false,
            Limit: limit - found.length,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) found.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start && found.length < limit);
    return found.slice(0, limit);
  }

  async listStale(states: readonly RequestRecord['state'][], before: Date): Promise<RequestRecord[]> {
    const cutoff = before.toISOString();
    const found: RequestRecord[] = [];
    for (const state of new Set(states)) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.call('Query', () =>
          this.doc.send(
            new QueryCommand({
              TableName: this.options.table,
              IndexName: REQUESTS_BY_STATE_INDEX,
              KeyConditionExpression: '#state = :s AND updated_at < :cutoff',
              // `state` is a DynamoDB reserved word.
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':s': state, ':cutoff': cutoff },
              ExclusiveStartKey: start,
            }),
          ),
        );
        for (const item of page.Items ?? []) found.push(fromItem(item));
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return found;
  }

  private toItem(record: RequestRecord): Record<string, unknown> {
    const updated = Date.parse(record.updatedAt);
    const base = Number.isNaN(updated) ? Date.now() : updated;
    return {
      transfer_id: record.id,
      user_id: record.owner.userId,
      created_at: sortable(record.createdAt),
      state: record.state,
      updated_at: sortable(record.updatedAt),
      ...(this.ttlSeconds > 0 ? { [ITEM_ATTRIBUTES.expiresAt]: Math.floor(base / 1000) + this.ttlSeconds } : {}),
      [ITEM_ATTRIBUTES.json]: JSON.stringify(record),
    };
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return dynamoCall({ operation, table: this.options.table }, run);
  }
}

function fromItem(item: Record<string, unknown>): RequestRecord {
  const json = item[ITEM_ATTRIBUTES.json];
  try {
    if (typeof json !== 'string') throw new Error(`no ${ITEM_ATTRIBUTES.json} attribute`);
    return JSON.parse(json) as RequestRecord;
  } catch (e) {
    throw new StoreError('INTERNAL', `The stored request ${String(item.transfer_id)} cannot be read (${(e as Error).message}).`, {
      hint: 'The item was not written by FileFerry, or was edited by hand; restore it from a backup (point-in-time recovery).',
      retryable: false,
    });
  }
}

/** An ISO timestamp as `toISOString` writes it (UTC, milliseconds), so index keys compare as strings. */
function sortable(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString();
}
