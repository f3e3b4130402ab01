import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB table design, as data: the one source of truth that the DynamoDB stores, the test
 * harness (test/support/dynaliteServer.ts creates the tables from it) and the infra test (which
 * checks infra/dynamodb.yaml against it) all read. Changing a key here without changing the
 * CloudFormation template fails `npm test`.
 *
 * Names come from a prefix (FILEFERRY_DYNAMODB_TABLE_PREFIX, default `FileFerry`):
 *
 * | Table                      | Partition key      | Sort key   | Indexes, TTL                                              |
 * |----------------------------|--------------------|------------|-----------------------------------------------------------|
 * | `<prefix>TransferRequests` | `transfer_id` (S)  |            | GSI `user_id-created_at` (user_id S, created_at S);       |
 * |                            |                    |            | GSI `state-updated_at` (state S, updated_at S);           |
 * |                            |                    |            | TTL on `expires_at` (epoch seconds)                       |
 * | `<prefix>AuditLog`         | `chain` (S)        | `seq` (N)  |                                                           |
 * | `<prefix>HostKeys`         | `host_port` (S)    |            |                                                           |
 * | `<prefix>Documents`        | `collection` (S)   | `id` (S)   | TTL on `expires_at` (epoch seconds)                       |
 *
 * Every item also holds the whole record as a JSON string (`record_json`): that string is what
 * the stores read back, so every field round-trips exactly (numbers such as 0.1+0.2 and 5e-324,
 * unicode, nested objects) and an audit record's hash recomputes. The other attributes are keys
 * and index keys only, except in `<prefix>Documents`, whose items also carry `version` (N, what
 * conditional puts test), `updated_at` and `expires_at_ms` (see dynamoDocuments.ts).
 */

export const DEFAULT_TABLE_PREFIX = 'FileFerry';
/** What a prefix may hold: DynamoDB's table-name characters, short enough for the longest suffix (255 in all). */
export const TABLE_PREFIX_PATTERN = '^[A-Za-z0-9_.-]{0,200}$';
/** Days a request item lives after its last update before DynamoDB's TTL removes it. */
export const DEFAULT_REQUEST_TTL_DAYS = 90;

export type AttributeType = 'S' | 'N';

export interface KeyDesign {
  /** Partition (HASH) key. */
  partition: { name: string; type: AttributeType };
  /** Sort (RANGE) key, when the table or index has one. */
  sort?: { name: string; type: AttributeType };
}

export interface IndexDesign extends KeyDesign {
  name: string;
  /** Every index projects ALL attributes, so a query needs no second read. */
  projection: 'ALL';
}

export interface TableDesign {
  /** The logical ID of the table in infra/dynamodb.yaml. */
  logicalId: string;
  /** The table name without the prefix. */
  suffix: string;
  key: KeyDesign;
  indexes: readonly IndexDesign[];
  /** The attribute DynamoDB's TTL reads (epoch seconds), if the table expires items. */
  ttlAttribute?: string;
}

/** Attribute names the stores write, besides the keys. */
export const ITEM_ATTRIBUTES = {
  /** The whole record as JSON: what the stores read back. */
  json: 'record_json',
  expiresAt: 'expires_at',
} as const;

export const REQUESTS_BY_USER_INDEX = 'user_id-created_at';
export const REQUESTS_BY_STATE_INDEX = 'state-updated_at';

export const TABLE_DESIGN = {
  requests: {
    logicalId: 'TransferRequestsTable',
    suffix: 'TransferRequests',
    key: { partition: { name: 'transfer_id', type: 'S' } },
    indexes: [
      { name: REQUESTS_BY_USER_INDEX, partition: { name: 'user_id', type: 'S' }, sort: { name: 'created_at', type: 'S' }, projection: 'ALL' },
      // listStale (expiry, recovery on start) queries by state instead of scanning the table.
      { name: REQUESTS_BY_STATE_INDEX, partition: { name: 'state', type: 'S' }, sort: { name: 'updated_at', type: 'S' }, projection: 'ALL' },
    ],
    ttlAttribute: ITEM_ATTRIBUTES.expiresAt,
  },
  audit: {
    logicalId: 'AuditLogTable',
    suffix: 'AuditLog',
    key: { partition: { name: 'chain', type: 'S' }, sort: { name: 'seq', type: 'N' } },
    indexes: [],
  },
  hostKeys: {
    logicalId: 'HostKeysTable',
    suffix: 'HostKeys',
    key: { partition: { name: 'host_port', type: 'S' } },
    indexes: [],
  },
  // The DocumentStore: a collection is a partition, its ids sort (by UTF-8 bytes) within it.
  documents: {
    logicalId: 'DocumentsTable',
    suffix: 'Documents',
    key: { partition: { name: 'collection', type: 'S' }, sort: { name: 'id', type: 'S' } },
    indexes: [],
    ttlAttribute: ITEM_ATTRIBUTES.expiresAt,
  },
} as const satisfies Record<string, TableDesign>;

export type TableRole = keyof typeof TABLE_DESIGN;

/** Every table name for a prefix. */
export function tableNames(prefix: string = DEFAULT_TABLE_PREFIX): Record<TableRole, string> {
  return {
    requests: `${prefix}${TABLE_DESIGN.requests.suffix}`,
    audit: `${prefix}${TABLE_DESIGN.audit.suffix}`,
    hostKeys: `${prefix}${TABLE_DESIGN.hostKeys.suffix}`,
    documents: `${prefix}${TABLE_DESIGN.documents.suffix}`,
  };
}

/** Every attribute that is a key of the table or of one of its indexes, with its type, once each. */
export function keyAttributes(design: TableDesign): Array<{ name: string; type: AttributeType }> {
  const all = [design.key, ...design.indexes].flatMap((k) => [k.partition, ...(k.sort ? [k.sort] : [])]);
  return [...new Map(all.map((a) => [a.name, a])).values()];
}

const keySchema = (key: KeyDesign) => [
  { AttributeName: key.partition.name, KeyType: 'HASH' as const },
  ...(key.sort ? [{ AttributeName: key.sort.name, KeyType: 'RANGE' as const }] : []),
];

/**
 * The CreateTable request for one table (on-demand billing). What CloudFormation adds on top
 * (TTL, point-in-time recovery, encryption, retention) is in infra/dynamodb.yaml.
 */
export function createTableInput(design: TableDesign, tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes(design).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(design.key),
    ...(design.indexes.length
      ? { GlobalSecondaryIndexes: design.indexes.map((i) => ({ IndexName: i.name, KeySchema: keySchema(i), Projection: { ProjectionType: i.projection } })) }
      : {}),
  };
}
