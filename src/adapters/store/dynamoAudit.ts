import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CHAIN, sealAuditRecord, type ChainHead } from '../../domain/auditChain';
import { StoreError } from '../../domain/errors';
import type { AuditEvent, AuditFilter, AuditLog, AuditReader, AuditRecord } from '../../ports/auditLog';
import { dynamoError, sdkAttempts, sdkErrorName, dynamoCall } from './dynamoErrors';
import { ITEM_ATTRIBUTES } from './dynamoTables';

export interface DynamoAuditOptions {
  /** The `<prefix>AuditLog` table. */
  table: string;
  /** The chain (partition) this log appends to; default "fileferry". */
  chain?: string;
  /** The audit key: each record then carries HMAC-SHA-256(key, hash). */
  key?: Buffer;
  /** Items per Query page when reading. Default 500. */
  pageSize?: number;
  /** Lost conditional writes in a row before `append` gives up with CONFLICT. Default 100. */
  maxConflicts?: number;
  now?: () => Date;
}

/**
 * The audit log in the `<prefix>AuditLog` table: one item per record, partition `chain`, sort key
 * `seq` (N), the sealed record as JSON in `record_json` (what is read back and verified, so the
 * hash always recomputes on exactly what was sealed).
 *
 * `append`, serialised within the process, then across processes by a conditional write:
 * 1. read the head: a strongly consistent Query on the chain, `ScanIndexForward=false, Limit=1`;
 * 2. seal the event after it (domain/auditChain.ts);
 * 3. PutItem with `attribute_not_exists(seq)`. When another writer took that seq first
 *    (ConditionalCheckFailedException) it goes back to 1, after a short random pause, so the
 *    chain never forks. No TransactWriteItems, which dynalite lacks and this does not need.
 * If the SDK itself retried the PutItem (a lost answer), a failed condition may be this very
 * record having landed on the first attempt: the item at that seq is read back and, when it is
 * this record, `append` resolves with it instead of writing the event twice.
 *
 * A write whose outcome stays unknown (the network failed on every attempt) rejects with a
 * retryable StoreError; the record may still have landed, so a caller's retry can store the event
 * twice, each a valid link: the chain still verifies.
 *
 * `read` pages through the chain in `seq` order (strongly consistent Queries) and filters by
 * time and request on the parsed records, so the filter sees exactly what verification sees.
 */
export class DynamoAudit implements AuditLog, AuditReader {
  private queue: Promise<unknown> = Promise.resolve();
  readonly chain: string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: DynamoAuditOptions,
  ) {
    this.chain = options.chain ?? DEFAULT_CHAIN;
  }

  append(event: AuditEvent): Promise<AuditRecord> {
    const run = this.queue.then(() => this.write(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async head(): Promise<ChainHead | undefined> {
    const out = await this.call('Query', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.options.table,
          KeyConditionExpression: '#chain = :chain',
          ExpressionAttributeNames: { '#chain': 'chain' },
          ExpressionAttributeValues: { ':chain': this.chain },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const item = out.Items?.[0];
    if (!item) return undefined;
    const last = fromItem(item);
    return { seq: last.seq, hash: last.hash };
  }

  async *read(filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.options.table,
            KeyConditionExpression: '#chain = :chain',
            ExpressionAttributeNames: { '#chain': 'chain' },
            ExpressionAttributeValues: { ':chain': this.chain },
            ScanIndexForward: true,
            ConsistentRead: true,
            Limit: this.options.pageSize ?? 500,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const r = fromItem(item);
        if (filter.since && r.at < filter.since) continue;
        if (filter.until && r.at >= filter.until) continue;
        if (filter.requestId && r.requestId !== filter.requestId) continue;
        yield r;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async readAll(): Promise<AuditRecord[]> {
    const all: AuditRecord[] = [];
    for await (const r of this.read()) all.push(r);
    return all;
  }

  private async write(event: AuditEvent): Promise<AuditRecord> {
    const maxConflicts = this.options.maxConflicts ?? 100;
    for (let lost = 0; ; lost++) {
      const head = await this.head();
      const record = sealAuditRecord(event, head, { chain: this.chain, at: (this.options.now ?? (() => new Date()))(), key: this.options.key });
      const json = JSON.stringify(record);
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.options.table,
            Item: { chain: record.chain, seq: record.seq, [ITEM_ATTRIBUTES.json]: json },
            ConditionExpression: 'attribute_not_exists(#seq)',
            ExpressionAttributeNames: { '#seq': 'seq' },
          }),
        );
        return record;
      } catch (e) {
        if (sdkErrorName(e) !== 'ConditionalCheckFailedException') throw dynamoError(e, { operation: 'PutItem', table: this.options.table });
        if (sdkAttempts(e) !== 1 && (await this.stored(record.seq)) === json) return record;
      }
      if (lost + 1 >= maxConflicts) {
        throw new StoreError('CONFLICT', `Appending to the audit chain ${this.chain} in ${this.options.table} lost ${maxConflicts} conditional writes in a row to other writers.`, {
          hint: 'Many FileFerry processes are appending to one chain at once; the event was not written, try again.',
          retryable: true,
        });
      }
      // Another writer took the seq: re-read the head and seal again, after a pause that
      // grows with the losses, so two writers in step fall out of it.
      await sleep(Math.floor(Math.random() * Math.min(50, 2 ** Math.min(lost, 6))));
    }
  }

  /** The JSON stored at `seq` in this chain (strongly consistent), or undefined. */
  private async stored(seq: number): Promise<string | undefined> {
    const out = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.options.table, Key: { chain: this.chain, seq }, ConsistentRead: true })));
    const json = out.Item?.[ITEM_ATTRIBUTES.json];
    return typeof json === 'string' ? json : undefined;
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return dynamoCall({ operation, table: this.options.table }, run);
  }
}

/**
 * The record an item holds. An item whose JSON is missing or unreadable (edited by hand) becomes
 * a stand-in with the item's seq and no hash, so `audit verify` names it as altered instead of
 * stopping at it.
 */
function fromItem(item: Record<string, unknown>): AuditRecord {
  const json = item[ITEM_ATTRIBUTES.json];
  try {
    if (typeof json !== 'string') throw new Error(`no ${ITEM_ATTRIBUTES.json} attribute`);
    return JSON.parse(json) as AuditRecord;
  } catch (e) {
    return {
      chain: String(item.chain),
      seq: Number(item.seq),
      at: '',
      prevHash: '',
      hash: '',
      type: 'audit.unreadable',
      actor: 'system',
      details: { problem: `The stored item cannot be read: ${(e as Error).message}` },
    };
  }
}
