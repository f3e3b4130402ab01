import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_DESIGN, createTableInput, tableNames, type TableRole } from '../../src/adapters/store/dynamoTables';

// dynalite ships no types: the one function used here.
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** Any key pair signs for dynalite (it checks no signature). Not a secret. */
export const DYNALITE_CREDENTIALS = { accessKeyId: 'AKIAFILEFERRYDYNALITE', secretAccessKey: 'fileferry-dynalite-test-secret' };
export const DYNALITE_REGION = 'eu-central-1';

export interface DynaliteServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /**
   * A new client for dynalite (a new process would have its own): explicit endpoint, region and
   * static credentials, so nothing in this machine's AWS_* environment or profiles applies.
   * The caller destroys it.
   */
  client(options?: { maxAttempts?: number }): DynamoDBClient;
  /** Creates the three tables for `prefix` from dynamoTables.ts (what infra/dynamodb.yaml declares). */
  createTables(prefix: string): Promise<Record<TableRole, string>>;
  stop(): Promise<void>;
}

/**
 * dynalite (npm), in this process, on a loopback port the OS picks, in memory, with tables ACTIVE
 * at once (`createTableMs: 0` …).
 *
 * What dynalite lacks, and what the stores therefore do not use: TransactWriteItems (the audit
 * log chains with conditional puts on `seq`), UpdateTimeToLive and TTL expiry (the TTL
 * specification lives in infra/dynamodb.yaml only; the tests check the `expires_at` the store
 * writes, not that DynamoDB deletes), point-in-time recovery and encryption settings (infra only).
 */
export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients = new Set<DynamoDBClient>();

  const client = (options: { maxAttempts?: number } = {}): DynamoDBClient => {
    const c = new DynamoDBClient({ endpoint, region: DYNALITE_REGION, credentials: DYNALITE_CREDENTIALS, maxAttempts: options.maxAttempts ?? 3 });
    clients.add(c);
    return c;
  };

  return {
    endpoint,
    port,
    client,
    async createTables(prefix) {
      const names = tableNames(prefix);
      const admin = client();
      try {
        for (const role of Object.keys(TABLE_DESIGN) as TableRole[]) {
          await admin.send(new CreateTableCommand(createTableInput(TABLE_DESIGN[role], names[role])));
        }
      } finally {
        admin.destroy();
      }
      return names;
    },
    async stop() {
      for (const c of clients) c.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve, reject) => server.close((e?: Error) => (e ? reject(e) : resolve())));
    },
  };
}
