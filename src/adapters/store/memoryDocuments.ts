import type { DocumentStore, ListOptions, PutOptions, StoredDocument } from '../../ports/documentStore';
import { bodyJson, byteOrder, checkVersion, inListRange } from './documentConditions';

/**
 * Documents in memory: for FILEFERRY_STORE=memory and for tests. Bodies go in and out through
 * JSON, as every durable store keeps them, so a body reads back the same here as there (no
 * `undefined` fields, no Dates) and no caller shares an object with the store.
 */
export class MemoryDocuments implements DocumentStore {
  private readonly collections = new Map<string, Map<string, StoredDocument<string>>>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async get<T>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const doc = this.live(collection, id);
    return doc && parsed<T>(doc);
  }

  async put<T>(collection: string, id: string, body: T, options: PutOptions = {}): Promise<number> {
    const json = bodyJson(body, collection, id);
    const current = this.live(collection, id);
    checkVersion(collection, id, current?.version ?? 0, options.ifVersion);
    const version = (current?.version ?? 0) + 1;
    const doc: StoredDocument<string> = { id, version, body: json, updatedAt: this.now().toISOString() };
    if (options.expiresAt) doc.expiresAt = options.expiresAt.toISOString();
    this.table(collection).set(id, doc);
    return version;
  }

  async delete(collection: string, id: string, ifVersion?: number): Promise<void> {
    const current = this.live(collection, id);
    checkVersion(collection, id, current?.version ?? 0, ifVersion);
    this.table(collection).delete(id);
  }

  async list<T>(collection: string, options: ListOptions = {}): Promise<StoredDocument<T>[]> {
    const { prefix = '', after, limit = 100 } = options;
    const ids = [...this.table(collection).keys()].filter((id) => inListRange(id, prefix, after)).sort(byteOrder);
    const out: StoredDocument<T>[] = [];
    for (const id of ids) {
      if (out.length >= limit) break;
      const doc = this.live(collection, id);
      if (doc) out.push(parsed<T>(doc));
    }
    return out;
  }

  private table(collection: string): Map<string, StoredDocument<string>> {
    let table = this.collections.get(collection);
    if (!table) this.collections.set(collection, (table = new Map()));
    return table;
  }

  /** The document unless it has expired (an expired one is dropped on sight). */
  private live(collection: string, id: string): StoredDocument<string> | undefined {
    const doc = this.table(collection).get(id);
    if (doc?.expiresAt && Date.parse(doc.expiresAt) <= this.now().getTime()) {
      this.table(collection).delete(id);
      return undefined;
    }
    return doc;
  }
}

const parsed = <T>(doc: StoredDocument<string>): StoredDocument<T> => ({ ...doc, body: JSON.parse(doc.body) as T });
