import type { RequestRepository } from '../../ports/requestRepository';
import type { RequestRecord } from '../../domain/requestRecord';

/**
 * Request records in memory: the embedded default until the SQLite repository (later issue) keeps
 * them across restarts. Stores and returns deep copies, so a caller's edits never leak in without
 * `put`, as with a real database.
 */
export class MemoryRequestRepository implements RequestRepository {
  private readonly records = new Map<string, RequestRecord>();

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const r = this.records.get(requestId);
    return r && structuredClone(r);
  }

  async put(record: RequestRecord): Promise<void> {
    this.records.set(record.id, structuredClone(record));
  }

  async listByUser(userId: string, limit: number): Promise<RequestRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.owner.userId === userId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async listStale(states: readonly RequestRecord['state'][], before: Date): Promise<RequestRecord[]> {
    const cutoff = before.toISOString();
    return [...this.records.values()].filter((r) => states.includes(r.state) && r.updatedAt < cutoff).map((r) => structuredClone(r));
  }
}
