import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../domain/errors';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import { dynamoError, sdkErrorName, dynamoCall } from './dynamoErrors';
import { UNKNOWN_KEY_TYPE, confirmedKey, trustDecision, type HostKeyEntry } from './hostKeyEntries';

/** Lost conditional writes in a row before `trust` gives up (each loss means another writer got in). */
const MAX_ATTEMPTS = 20;

interface HostKeyItem {
  host_port: string;
  /** The key of unknown type (every item written before key types were recorded has one). */
  fingerprint?: string;
  confirmed_at?: string;
  /** The keys of known type, by type. */
  keys?: Record<string, { fingerprint: string; confirmed_at: string }>;
  /** +1 on every write: what the next conditional write tests. Absent on items from before key types. */
  revision?: number;
}

/**
 * Confirmed SFTP host keys in the `<prefix>HostKeys` table, one item per `host_port`
 * ("sftp.example.com:22", host lower-cased; an IPv6 host in brackets, "[::1]:22"): its keys by
 * type in the map `keys` (`{ "ssh-ed25519": { fingerprint, confirmed_at } }`), and a key of
 * unknown type in `fingerprint` / `confirmed_at`, where items from before key types were recorded
 * keep theirs (so they stay readable, and mean what they meant).
 *
 * `trust` reads the item (strongly consistent), applies the rules of hostKeyEntries.ts, and
 * writes the whole item back with a PutItem conditional on what it read (`revision`, or the
 * item's absence): a writer that lost the race reads again and decides again, so two processes
 * confirming keys at once agree on the first one written. No UpdateItem or transaction is
 * needed. Throws StoreError (dynamoErrors.ts).
 */
export class DynamoHostKeys implements HostKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: { table: string; now?: () => Date },
  ) {}

  async get(host: string, port: number, keyType?: string): Promise<string | undefined> {
    return confirmedKey(entriesOf(await this.read(hostPort(host, port))), keyType);
  }

  async trust(host: string, port: number, keyType: string | undefined, fingerprint: string): Promise<boolean> {
    const key = hostPort(host, port);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const item = await this.read(key);
      const decision = trustDecision(entriesOf(item), keyType, fingerprint, (this.options.now ?? (() => new Date()))());
      if (!decision.next) return decision.trusted;
      try {
        await this.doc.send(new PutCommand({ TableName: this.options.table, Item: toItem(key, decision.next, (item?.revision ?? 0) + 1), ...unchangedSince(item) }));
        return decision.trusted;
      } catch (e) {
        if (sdkErrorName(e) !== 'ConditionalCheckFailedException') throw dynamoError(e, { operation: 'PutItem', table: this.options.table });
        // Another writer changed the item (or the SDK's retry met this write's first attempt): read again.
      }
    }
    throw new StoreError('CONFLICT', `Confirming the host key of ${host}:${port} lost ${MAX_ATTEMPTS} conditional writes in a row (table ${this.options.table}).`, {
      hint: 'Confirm the key again.',
      retryable: true,
    });
  }

  private async read(key: string): Promise<HostKeyItem | undefined> {
    const out = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.options.table, Key: { host_port: key }, ConsistentRead: true })));
    return out.Item as HostKeyItem | undefined;
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return dynamoCall({ operation, table: this.options.table }, run);
  }
}

/** The item key: host names compare case-insensitively; IPv6 literals are bracketed so the port stays unambiguous. */
export function hostPort(host: string, port: number): string {
  const h = host.toLowerCase();
  return `${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`;
}

function entriesOf(item: HostKeyItem | undefined): HostKeyEntry[] {
  if (!item) return [];
  const typed = Object.entries(item.keys ?? {}).map(([keyType, k]) => ({ keyType, fingerprint: k.fingerprint, confirmedAt: k.confirmed_at }));
  return typeof item.fingerprint === 'string' ? [{ keyType: UNKNOWN_KEY_TYPE, fingerprint: item.fingerprint, confirmedAt: item.confirmed_at ?? '' }, ...typed] : typed;
}

function toItem(key: string, entries: readonly HostKeyEntry[], revision: number): HostKeyItem {
  const item: HostKeyItem = { host_port: key, revision };
  const keys: NonNullable<HostKeyItem['keys']> = {};
  for (const e of entries) {
    if (e.keyType === UNKNOWN_KEY_TYPE) {
      item.fingerprint = e.fingerprint;
      item.confirmed_at = e.confirmedAt;
    } else {
      keys[e.keyType] = { fingerprint: e.fingerprint, confirmed_at: e.confirmedAt };
    }
  }
  if (Object.keys(keys).length > 0) item.keys = keys;
  return item;
}

/** The condition that the item is still the one read (absent, from before revisions, or at its revision). */
function unchangedSince(item: HostKeyItem | undefined) {
  if (!item) return { ConditionExpression: 'attribute_not_exists(host_port)' };
  if (item.revision === undefined) return { ConditionExpression: 'attribute_not_exists(#r)', ExpressionAttributeNames: { '#r': 'revision' } };
  return { ConditionExpression: '#r = :r', ExpressionAttributeNames: { '#r': 'revision' }, ExpressionAttributeValues: { ':r': item.revision } };
}
