import { PartitionKeyDefinitionVersion, PartitionKeyKind, type ContainerDefinition } from '@azure/cosmos';

/**
 * The Cosmos DB design, as data: the one source of truth that the Cosmos stores, the test harness
 * (test/support/cosmosServer.ts creates the containers from it) and the infra test (which checks
 * infra/cosmos.bicep against it) all read. Changing a container here without changing the Bicep
 * fails `npm test`.
 *
 * One SQL (NoSQL API) database, `fileferry` by default (COSMOS_DATABASE), with four containers:
 *
 * | Container  | Partition key | Item id                                       | TTL                          |
 * |------------|---------------|-----------------------------------------------|------------------------------|
 * | `requests` | `/id`         | the request ID (`FF-…`)                       | 90 days after the last write |
 * | `audit`    | `/chain`      | `<chain>:<seq, 12 digits>`                    | never                        |
 * | `hostKeys` | `/id`         | `<host, lower case, IPv6 in []>:<port>`       | never                        |
 * | `documents`| `/collection` | SHA-256 (hex) of the document id              | per item (`ttl`), else never |
 *
 * Items are the records themselves (a RequestRecord, an AuditRecord plus its `id`, a host key
 * entry), so Data Explorer shows them as they are; the stores strip Cosmos's system fields
 * (`_rid _self _etag _attachments _ts`) on read, so a record round-trips exactly.
 *
 * The audit chain's conditional write needs no transaction: two writers sealing the same `seq`
 * create the same item id in the same partition, and Cosmos answers the second `create` with 409
 * Conflict. The loser re-reads the head and seals again. The id is also the record's place: the
 * audit store reads a chain in id order (ids sort as seqs do), never by a field inside the record,
 * so a record moved to another place, or slipped in between, is read where it now is and caught
 * by the verifier. No unique key policy is needed (the id already collides), and none is set: a
 * unique key cannot be changed once the container exists.
 */

export const DEFAULT_COSMOS_DATABASE = 'fileferry';

/** Days a request item lives after its last write (Cosmos `defaultTtl`, counted from `_ts`). */
export const DEFAULT_REQUEST_TTL_DAYS = 90;

export interface CosmosContainerDesign {
  /** The container id. */
  id: string;
  /** The partition key path (a single hash path). */
  partitionKey: string;
  /** `defaultTtl` in seconds, when items expire; -1: TTL on, but only items with a `ttl` expire; left out, none ever do. */
  defaultTtlSeconds?: number;
}

export const CONTAINER_SPECS = {
  requests: { id: 'requests', partitionKey: '/id', defaultTtlSeconds: DEFAULT_REQUEST_TTL_DAYS * 86_400 },
  audit: { id: 'audit', partitionKey: '/chain' },
  hostKeys: { id: 'hostKeys', partitionKey: '/id' },
  // Each document that expires carries its own `ttl`; the rest never do.
  documents: { id: 'documents', partitionKey: '/collection', defaultTtlSeconds: -1 },
} as const satisfies Record<string, CosmosContainerDesign>;

export type CosmosContainerName = keyof typeof CONTAINER_SPECS;

/** The container as the SDK creates it (`database.containers.createIfNotExists`): tests and bootstrap tools. */
export function containerDefinition(design: CosmosContainerDesign): ContainerDefinition {
  return {
    id: design.id,
    partitionKey: { paths: [design.partitionKey], kind: PartitionKeyKind.Hash, version: PartitionKeyDefinitionVersion.V2 },
    ...(design.defaultTtlSeconds !== undefined ? { defaultTtl: design.defaultTtlSeconds } : {}),
  };
}

/** Digits of the zero-padded `seq` in an audit item id: ids sort as seqs do, up to 10^12 records. */
export const AUDIT_SEQ_DIGITS = 12;

/** The audit item id of record `seq` of `chain`: `fileferry:000000000042`. */
export function auditItemId(chain: string, seq: number): string {
  return `${chain}:${String(seq).padStart(AUDIT_SEQ_DIGITS, '0')}`;
}

/** The seq an audit item id of `chain` stands for; undefined for an id not of that form. */
export function auditSeqOfId(chain: string, id: string): number | undefined {
  const prefix = `${chain}:`;
  const digits = id.startsWith(prefix) ? id.slice(prefix.length) : '';
  return new RegExp(`^\\d{${AUDIT_SEQ_DIGITS}}$`).test(digits) ? Number(digits) : undefined;
}

/**
 * The host key item id (and partition key) of host:port: the host lower-cased (names compare
 * case-insensitively), an IPv6 address in brackets, as the other stores key it.
 */
export function hostKeyItemId(host: string, port: number): string {
  const h = host.toLowerCase();
  return `${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`;
}

/**
 * Whether `chain` can be part of an item id: Cosmos ids may not hold `/ \ ? #`, and the name is
 * kept to letters, digits and `. _ -` so every id reads the same in every tool.
 */
export function isValidChainName(chain: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(chain);
}

/** The fields Cosmos adds to every item; the stores drop them on read. */
export const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts'] as const;

/** The item without Cosmos's system fields (and without `drop`, e.g. the audit item's own `id`). */
export function withoutSystemFields<T>(item: Record<string, unknown>, drop: readonly string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if ((SYSTEM_FIELDS as readonly string[]).includes(k) || drop.includes(k)) continue;
    out[k] = v;
  }
  return out as T;
}
