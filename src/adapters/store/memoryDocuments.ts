import { StoreError } from '../../domain/errors';
import type { DocumentStore, ListOptions, PutOptions, StoredDocument } from '../../ports/documentStore';

/** Documents in memory: for FILEFERRY_STORE=memory and for tests. Bodies are copied in and out. */
export class MemoryDocuments implements DocumentStore {
  private readonly collections = new Map<string, Map<string, StoredDocument<unknown>>>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async get<T>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const doc = this.live(collection, id);
    return doc ? (copy(doc) as StoredDocument<T>) : undefined;
  }

  async put<T>(collection: string, id: string, body: T, options: PutOptions = {}): Promise<number> {
    const current = this.live(collection, id);
    if (options.ifVersion !== undefined && (current?.version ?? 0) !== options.ifVersion) {
      throw new StoreError('CONFLICT', `${collection}/${id} is at version ${current?.version ?? 0}, not ${options.ifVersion}.`);
    }
    const version = (current?.version ?? 0) + 1;
    const doc: StoredDocument<unknown> = { id, version, body: structuredClone(body), updatedAt: this.now().toISOString() };
    if (options.expiresAt) doc.expiresAt = options.expiresAt.toISOString();
    this.table(collection).set(id, doc);
    return version;
  }

  async delete(collection: string, id: string, ifVersion?: number): Promise<void> {
    const current = this.live(collection, id);
    if (ifVersion !== undefined && (current?.version ?? 0) !== ifVersion) {
      throw new StoreError('CONFLICT', `${collection}/${id} is at version ${current?.version ?? 0}, not ${ifVersion}.`);
    }
    this.table(collection).delete(id);
  }

  async list<T>(collection: string, options: ListOptions = {}): Promise<StoredDocument<T>[]> {
    const { prefix = '', after, limit = 100 } = options;
    const ids = [...this.table(collection).keys()].filter((id) => id.startsWith(prefix) && (after === undefined || byteOrder(id, after) > 0)).sort(byteOrder);
    const out: StoredDocument<T>[] = [];
    for (const id of ids) {
      if (out.length >= limit) break;
      const doc = this.live(collection, id);
      if (doc) out.push(copy(doc) as StoredDocument<T>);
    }
    return out;
  }

  private table(collection: string): Map<string, StoredDocument<unknown>> {
    let table = this.collections.get(collection);
    if (!table) this.collections.set(collection, (table = new Map()));
    return table;
  }

  /** The document unless it has expired (an expired one is dropped on sight). */
  private live(collection: string, id: string): StoredDocument<unknown> | undefined {
    const doc = this.table(collection).get(id);
    if (doc?.expiresAt && Date.parse(doc.expiresAt) <= this.now().getTime()) {
      this.table(collection).delete(id);
      return undefined;
    }
    return doc;
  }
}

const copy = (doc: StoredDocument<unknown>): StoredDocument<unknown> => structuredClone(doc);
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
