import type { RequestRecord } from '../domain/requestRecord';

/**
 * Where request records live (in memory by default; SQLite, DynamoDB or Cosmos DB by config).
 * Records hold no credential. `get` returns a copy: changing it changes nothing until `put`.
 */
export interface RequestRepository {
  get(requestId: string): Promise<RequestRecord | undefined>;
  /** Inserts or replaces the record with its `id`. */
  put(record: RequestRecord): Promise<void>;
  /** The user's requests, newest first (by `createdAt`), at most `limit`. */
  listByUser(userId: string, limit: number): Promise<RequestRecord[]>;
  /** Requests in one of `states` last updated before `before` (for expiry). */
  listStale(states: readonly RequestRecord['state'][], before: Date): Promise<RequestRecord[]>;
}
