import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import { dynamoError, sdkErrorName, dynamoCall } from './dynamoErrors';

/**
 * Confirmed SFTP host keys in the `<prefix>HostKeys` table, one item per `host_port`
 * ("sftp.example.com:22", host lower-cased; an IPv6 host in brackets, "[::1]:22") holding the
 * `fingerprint` and when it was confirmed (`confirmed_at`).
 *
 * The first key wins, across processes: `trust` is a PutItem conditional on
 * `attribute_not_exists(host_port)`; when that condition fails another key may already be the
 * confirmed one, so it reads the item back (strongly consistent) and answers whether it is this
 * fingerprint. A confirmed key is never overwritten. Throws StoreError (dynamoErrors.ts).
 */
export class DynamoHostKeys implements HostKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: { table: string; now?: () => Date },
  ) {}

  async get(host: string, port: number): Promise<string | undefined> {
    const out = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.options.table, Key: { host_port: hostPort(host, port) }, ConsistentRead: true })));
    const fingerprint = out.Item?.fingerprint;
    return typeof fingerprint === 'string' ? fingerprint : undefined;
  }

  async trust(host: string, port: number, fingerprint: string): Promise<boolean> {
    const now = (this.options.now ?? (() => new Date()))();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.options.table,
          Item: { host_port: hostPort(host, port), fingerprint, confirmed_at: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(host_port)',
        }),
      );
      return true;
    } catch (e) {
      if (sdkErrorName(e) !== 'ConditionalCheckFailedException') throw dynamoError(e, { operation: 'PutItem', table: this.options.table });
    }
    return (await this.get(host, port)) === fingerprint;
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
