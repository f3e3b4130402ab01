/**
 * Small versioned JSON documents in named collections, for everything the bot must keep across a
 * restart that is not a request record, a host key or an audit record: idempotency keys of card
 * actions, queued audit records and ticket notes, channel conversation references, pending push
 * claims and cursors. One table or container per backend serves them all, so a new kind of state
 * never needs a schema change in three databases.
 *
 * Versions make every write conditional when asked: `ifVersion: 0` creates only when absent,
 * `ifVersion: n` replaces only version n. A lost race throws StoreError CONFLICT and changes
 * nothing, which is what "claimed exactly once" is built on.
 *
 * Methods throw StoreError: CONFLICT (the condition failed), NETWORK / TIMEOUT / THROTTLED /
 * SERVER_ERROR (retryable), AUTH_FAILED / ACCESS_DENIED / INVALID_CONFIG (fix the deployment).
 * Bodies never hold a secret.
 */
export interface StoredDocument<T> {
  id: string;
  /** 1 on creation, +1 on every put. */
  version: number;
  body: T;
  /** ISO-8601 UTC of the last put. */
  updatedAt: string;
  /** ISO-8601 UTC after which reads no longer return it. */
  expiresAt?: string;
}

export interface PutOptions {
  /** 0: create only if absent; n: replace only version n. Otherwise CONFLICT. Omitted: unconditional. */
  ifVersion?: number;
  /** After this instant the document is gone for readers (backends purge lazily or by TTL). */
  expiresAt?: Date;
}

export interface ListOptions {
  /** Only ids starting with this. */
  prefix?: string;
  /** Only ids sorting after this one (for paging). */
  after?: string;
  /** At most this many (default 100). */
  limit?: number;
}

export interface DocumentStore {
  get<T>(collection: string, id: string): Promise<StoredDocument<T> | undefined>;
  /** Writes `body`; returns the new version. */
  put<T>(collection: string, id: string, body: T, options?: PutOptions): Promise<number>;
  /** Removes it (a missing document is not an error); with `ifVersion`, only that version. */
  delete(collection: string, id: string, ifVersion?: number): Promise<void>;
  /** Unexpired documents in id order (byte-wise ascending), paged by `after`. */
  list<T>(collection: string, options?: ListOptions): Promise<StoredDocument<T>[]>;
}
