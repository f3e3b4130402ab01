import type { Container, SqlParameter } from '@azure/cosmos';
import { DEFAULT_CHAIN, sealAuditRecord, type ChainHead } from '../../domain/auditChain';
import { StoreError } from '../../domain/errors';
import type { AuditEvent, AuditFilter, AuditLog, AuditReader, AuditRecord } from '../../ports/auditLog';
import type { CosmosConnection } from './cosmosConnection';
import { AUDIT_SEQ_DIGITS, CONTAINER_SPECS, auditItemId, auditSeqOfId, withoutSystemFields } from './cosmosContainers';
import { OWNER_RESOURCE_NOT_EXIST, cosmosError, cosmosMissing, cosmosStatus } from './cosmosErrors';

const CONTAINER = CONTAINER_SPECS.audit.id;
/** Records per page when reading: one window of consecutive ids, sorted in memory. */
const PAGE = 100;
/** Lost races before `append` gives up with CONFLICT (each loss means another writer got a record in). */
const MAX_ATTEMPTS = 50;

export interface CosmosAuditOptions {
  /** The chain appended to and read (the partition key). Default DEFAULT_CHAIN. */
  chain?: string;
  /** The audit HMAC key (FILEFERRY_AUDIT_KEY_REF): every record is signed with it. */
  key?: Buffer;
}

/**
 * The hash-chained audit log in the Cosmos DB container `audit`, partitioned by chain: record
 * `seq` of chain `c` is the item with id `c:<seq, 12 digits>` (see cosmosContainers.ts), holding
 * the AuditRecord as it is. The id is the record's place in the chain.
 *
 * **Append** (serialised within this instance): take the head (cached after this instance's
 * last append; else asked for), seal the next record with `sealAuditRecord`, and `items.create`
 * it under the id of its seq. Creating an id that exists fails with 409, so two processes that
 * seal the same `seq` cannot both write it: that is the conditional write, and no transaction
 * is needed. The loser point-reads the record that won, links to it and seals again; after two
 * losses in a row (a busy chain, or a cached head far behind) it asks for the head instead.
 * `append` resolves once Cosmos has acknowledged the write.
 *
 * **Head**: `SELECT VALUE MAX(c.id) FROM c WHERE c.chain = @chain` in the chain's partition (ids
 * sort as seqs do), then a point read of that item.
 *
 * **Read**, in chain order without ORDER BY: windows of PAGE consecutive ids
 * (`c.id >= @lo AND c.id < @hi`, plus the filter's `at` range and request ID), each sorted by id
 * in memory; an empty window jumps to the next match with `SELECT VALUE MIN(c.id) …`. The read
 * ends at the head seen when it started, so a live chain does not keep it going. Records are
 * yielded as stored, whatever seq they claim, so a moved or inserted record is read where it is
 * and the verifier names it.
 *
 * Tested against @vercel/cosmosdb-server 1.0.1 with @azure/cosmos 4.9.3: create (409 on a
 * duplicate id), point reads, simple WHERE queries with string ranges on `id`, and `VALUE MAX` /
 * `VALUE MIN` over `c.id`. That server ignores a query's partition key, so every query here also
 * names its chain in WHERE. ORDER BY, TOP, OFFSET/LIMIT, batch, change feed and TTL are not used.
 */
export class CosmosAudit implements AuditLog, AuditReader {
  private readonly chain: string;
  /** The head after this instance's last append (undefined before one, or after a failed one). */
  private cachedHead?: { head: ChainHead | undefined };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cosmos: CosmosConnection,
    private readonly options: CosmosAuditOptions = {},
  ) {
    this.chain = options.chain ?? DEFAULT_CHAIN;
  }

  append(event: AuditEvent): Promise<AuditRecord> {
    const run = this.queue.then(() => this.write(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async *read(filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
    const operation = `reading the audit chain ${this.chain}`;
    const container = await this.container(operation);
    const conditions = ['c.chain = @chain', 'c.id <= @top'];
    const parameters: SqlParameter[] = [{ name: '@chain', value: this.chain }];
    const where = (condition: string, name: string, value: string | undefined): void => {
      if (value === undefined) return;
      conditions.push(condition);
      parameters.push({ name, value });
    };
    where('c.at >= @since', '@since', isoBound(filter.since));
    where('c.at < @until', '@until', isoBound(filter.until));
    where('c.requestId = @requestId', '@requestId', filter.requestId);
    try {
      const topId = await this.lastId(container);
      if (topId === undefined) return;
      const top = this.seqOf(topId, operation);
      parameters.push({ name: '@top', value: topId });
      let lo = 1;
      while (lo <= top) {
        const hi = lo + PAGE;
        const window = [...parameters, { name: '@lo', value: auditItemId(this.chain, lo) }, { name: '@hi', value: auditItemId(this.chain, hi) }];
        const { resources } = await container.items
          .query<Record<string, unknown>>({ query: `SELECT * FROM c WHERE ${[...conditions, 'c.id >= @lo', 'c.id < @hi'].join(' AND ')}`, parameters: window }, { partitionKey: this.chain, maxItemCount: PAGE })
          .fetchAll();
        resources.sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0));
        for (const item of resources) yield toRecord(item);
        if (resources.length > 0) {
          lo = hi;
          continue;
        }
        const next = await this.aggregate(container, 'MIN', [...conditions, 'c.id >= @hi'], [...parameters, { name: '@hi', value: auditItemId(this.chain, hi) }]);
        if (next === undefined) return;
        lo = this.seqOf(next, operation);
      }
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  async head(): Promise<ChainHead | undefined> {
    const operation = `reading the head of the audit chain ${this.chain}`;
    return this.loadHead(await this.container(operation), operation);
  }

  async readAll(): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for await (const record of this.read()) out.push(record);
    return out;
  }

  private async write(event: AuditEvent): Promise<AuditRecord> {
    const operation = `appending ${event.type} to the audit chain ${this.chain}`;
    const container = await this.container(operation);
    const cached = this.cachedHead;
    this.cachedHead = undefined;
    let head = cached ? cached.head : await this.loadHead(container, operation);
    let lostInARow = 0;
    for (let attempt = 1; ; attempt++) {
      const record = sealAuditRecord(event, head, { chain: this.chain, at: new Date(), key: this.options.key });
      const id = auditItemId(this.chain, record.seq);
      try {
        await container.items.create({ id, ...record });
        this.cachedHead = { head: { seq: record.seq, hash: record.hash } };
        return record;
      } catch (e) {
        if (cosmosStatus(e) !== 409) throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new StoreError('CONFLICT', `The audit chain ${this.chain} kept moving: ${MAX_ATTEMPTS} writes of its next record lost to other writers (container ${CONTAINER}).`, {
          hint: 'This is worth retrying; if it persists, run `fileferry audit verify`: something may be writing records out of turn.',
          retryable: true,
        });
      }
      // Another writer holds this seq: link to its record, or ask for the head.
      lostInARow++;
      const winner = lostInARow <= 2 ? await this.readItem(container, id, operation) : undefined;
      if (winner && winner.seq !== record.seq) {
        throw new StoreError('CONFLICT', `The audit item ${id} holds record ${String(winner.seq)}, not record ${record.seq}: the container was edited past FileFerry (container ${CONTAINER}).`, {
          hint: 'Run `fileferry audit verify` to find the first altered record; appends resume once the chain is repaired or a new chain is configured.',
          retryable: false,
        });
      }
      if (winner) {
        head = { seq: winner.seq, hash: winner.hash };
      } else {
        head = await this.loadHead(container, operation);
        lostInARow = 0;
      }
    }
  }

  private container(operation: string): Promise<Container> {
    return this.cosmos.container(CONTAINER, operation);
  }

  private async loadHead(container: Container, operation: string): Promise<ChainHead | undefined> {
    try {
      const topId = await this.lastId(container);
      const record = topId === undefined ? undefined : await this.readItem(container, topId, operation);
      return record && { seq: record.seq, hash: record.hash };
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  /** The greatest record id of the chain, undefined for an empty chain. */
  private lastId(container: Container): Promise<string | undefined> {
    return this.aggregate(container, 'MAX', ['c.chain = @chain', 'c.id >= @first', 'c.id <= @last'], [
      { name: '@chain', value: this.chain },
      { name: '@first', value: auditItemId(this.chain, 0) },
      { name: '@last', value: auditItemId(this.chain, 10 ** AUDIT_SEQ_DIGITS - 1) },
    ]);
  }

  private async readItem(container: Container, id: string, operation: string): Promise<AuditRecord | undefined> {
    try {
      const { resource, statusCode, substatus } = await container.item(id, this.chain).read<Record<string, unknown>>();
      if (statusCode === 404 && substatus === OWNER_RESOURCE_NOT_EXIST) throw cosmosMissing('either', this.cosmos.target(CONTAINER, operation));
      return resource && toRecord(resource);
    } catch (e) {
      throw cosmosError(e, this.cosmos.target(CONTAINER, operation));
    }
  }

  /** `SELECT VALUE MAX|MIN(c.id)` over the chain's items matching `conditions`; undefined when none match. */
  private async aggregate(container: Container, fn: 'MAX' | 'MIN', conditions: string[], parameters: SqlParameter[]): Promise<string | undefined> {
    const { resources } = await container.items
      .query<string>({ query: `SELECT VALUE ${fn}(c.id) FROM c WHERE ${conditions.join(' AND ')}`, parameters }, { partitionKey: this.chain })
      .fetchAll();
    return resources.find((v) => typeof v === 'string');
  }

  private seqOf(id: string, operation: string): number {
    const seq = auditSeqOfId(this.chain, id);
    if (seq === undefined) {
      throw new StoreError('INTERNAL', `The audit container holds an item ${JSON.stringify(id)} in the chain ${this.chain} that is not a record id (${operation}).`, {
        hint: 'Something other than FileFerry wrote to the audit container; remove that item, then run `fileferry audit verify`.',
        retryable: false,
      });
    }
    return seq;
  }
}

/** The stored item as the AuditRecord it holds: without its `id` and Cosmos's system fields. */
function toRecord(item: Record<string, unknown>): AuditRecord {
  return withoutSystemFields<AuditRecord>(item, ['id']);
}

/** A filter bound as stored `at` values are written (toISOString), so "…T00:00:00Z" and "…T00:00:00.000Z" mean the same. */
function isoBound(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}
