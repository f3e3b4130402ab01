import { DescribeTableCommand, DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../domain/errors';
import type { AuditLog, AuditReader } from '../../ports/auditLog';
import type { DocumentStore } from '../../ports/documentStore';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import type { RequestRepository } from '../../ports/requestRepository';
import { DynamoAudit } from './dynamoAudit';
import { DynamoDocuments } from './dynamoDocuments';
import { dynamoError } from './dynamoErrors';
import { DynamoHostKeys } from './dynamoHostKeys';
import { DynamoRequestRepository } from './dynamoRequestRepository';
import { DEFAULT_REQUEST_TTL_DAYS, DEFAULT_TABLE_PREFIX, TABLE_DESIGN, TABLE_PREFIX_PATTERN, keyAttributes, tableNames, type KeyDesign, type TableDesign, type TableRole } from './dynamoTables';

export interface DynamoStoresOptions {
  /** Prepended to the table names (`<prefix>TransferRequests` …). Default "FileFerry". */
  tablePrefix?: string;
  /** Days a request item lives after its last update (DynamoDB TTL). Default 90; 0 keeps items. */
  requestTtlDays?: number;
  /** The audit chain to append to. Default "fileferry". */
  chain?: string;
  /** The audit HMAC key (resolved from FILEFERRY_AUDIT_KEY_REF by the caller). */
  auditKey?: Buffer;
  /**
   * A ready client, which `close` leaves open (its owner destroys it). Default: a client of the
   * SDK's default chain: region from AWS_REGION or the profile, credentials from the environment,
   * profile, SSO, web identity or instance role, and the endpoint from AWS_ENDPOINT_URL_DYNAMODB
   * (or AWS_ENDPOINT_URL) when set, as the SDK reads them itself.
   */
  client?: DynamoDBClient;
}

export interface DynamoStores {
  requests: RequestRepository;
  hostKeys: HostKeyStore;
  audit: AuditLog & AuditReader;
  /** Versioned JSON documents in the `<prefix>Documents` table. */
  documents: DocumentStore;
  tables: Record<TableRole, string>;
  /**
   * Checks that every table exists with the keys and indexes of dynamoTables.ts (DescribeTable),
   * for a start-up check that fails with a clear message rather than at the first request.
   * Throws StoreError INVALID_CONFIG naming the table and what differs.
   */
  check(): Promise<void>;
  /** Destroys the client this created (not one passed in). */
  close(): Promise<void>;
}

/** The DynamoDB stores (`FILEFERRY_STORE=dynamodb`): requests, host keys, the audit log and documents over one client. */
export function openDynamoStores(options: DynamoStoresOptions = {}): DynamoStores {
  const ttlDays = options.requestTtlDays ?? DEFAULT_REQUEST_TTL_DAYS;
  if (!Number.isFinite(ttlDays) || ttlDays < 0) {
    throw new StoreError('INVALID_CONFIG', `The request TTL must be a number of days, 0 or more (got ${ttlDays}).`, {
      hint: 'Set FILEFERRY_DYNAMODB_REQUEST_TTL_DAYS to a whole number of days (default 90; 0 keeps requests forever).',
    });
  }
  if (options.chain !== undefined && options.chain.trim() === '') {
    throw new StoreError('INVALID_CONFIG', 'The audit chain name is empty.', { hint: 'Leave the chain unset (default "fileferry") or give it a name.' });
  }
  const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  if (!new RegExp(TABLE_PREFIX_PATTERN).test(prefix)) {
    throw new StoreError('INVALID_CONFIG', `The DynamoDB table prefix ${JSON.stringify(prefix)} cannot start a table name.`, {
      hint: 'Set FILEFERRY_DYNAMODB_TABLE_PREFIX to at most 200 of A-Z a-z 0-9 _ . - (the TablePrefix infra/dynamodb.yaml was deployed with).',
    });
  }
  const tables = tableNames(prefix);
  const client = options.client ?? new DynamoDBClient({});
  const owned = !options.client;
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  return {
    requests: new DynamoRequestRepository(doc, { table: tables.requests, ttlDays }),
    hostKeys: new DynamoHostKeys(doc, { table: tables.hostKeys }),
    audit: new DynamoAudit(doc, { table: tables.audit, chain: options.chain, key: options.auditKey }),
    documents: new DynamoDocuments(doc, { table: tables.documents }),
    tables,
    check: async () => {
      for (const role of Object.keys(TABLE_DESIGN) as TableRole[]) {
        const table = tables[role];
        const out = await client.send(new DescribeTableCommand({ TableName: table })).catch((e: unknown) => {
          throw dynamoError(e, { operation: 'DescribeTable', table });
        });
        const problem = mismatch(TABLE_DESIGN[role], out.Table);
        if (problem) {
          throw new StoreError('INVALID_CONFIG', `The DynamoDB table ${table} does not have the design FileFerry expects: ${problem}.`, {
            hint: 'Create the tables from infra/dynamodb.yaml (CloudFormation) rather than by hand.',
          });
        }
      }
    },
    close: async () => {
      if (owned) client.destroy();
    },
  };
}

/** What differs between the design and a described table, or undefined. */
function mismatch(design: TableDesign, table: TableDescription | undefined): string | undefined {
  const keysOf = (schema: Array<{ AttributeName?: string; KeyType?: string }> | undefined): string =>
    (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const want = (key: KeyDesign): string => [`${key.partition.name}:HASH`, ...(key.sort ? [`${key.sort.name}:RANGE`] : [])].join(',');
  if (keysOf(table?.KeySchema) !== want(design.key)) return `its key is ${keysOf(table?.KeySchema) || 'unknown'}, not ${want(design.key)}`;
  const types = new Map((table?.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  for (const a of keyAttributes(design)) {
    if (types.get(a.name) !== a.type) return `attribute ${a.name} is ${types.get(a.name) ?? 'not defined'}, not ${a.type}`;
  }
  for (const index of design.indexes) {
    const found = table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.name);
    if (!found) return `the global secondary index ${index.name} is missing`;
    if (keysOf(found.KeySchema) !== want(index)) return `the index ${index.name} is keyed ${keysOf(found.KeySchema)}, not ${want(index)}`;
    if (found.Projection?.ProjectionType !== index.projection) return `the index ${index.name} projects ${found.Projection?.ProjectionType}, not ${index.projection}`;
  }
  return undefined;
}
