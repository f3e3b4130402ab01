import type { AuditLog, AuditReader } from '../../ports/auditLog';
import type { DocumentStore } from '../../ports/documentStore';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import type { RequestRepository } from '../../ports/requestRepository';
import { SqliteAudit } from './sqliteAudit';
import { openSqliteDatabase, type SqliteOpenOptions } from './sqliteDatabase';
import { SqliteDocuments } from './sqliteDocuments';
import { SqliteHostKeys } from './sqliteHostKeys';
import { SqliteRequestRepository } from './sqliteRequestRepository';

export interface SqliteStoresOptions extends Pick<SqliteOpenOptions, 'busyTimeoutMs' | 'synchronous'> {
  /** The database file, created with its folder if missing (the bot uses `<data dir>/fileferry.db`). */
  file: string;
  /** The audit chain appended to and read. Default DEFAULT_CHAIN. */
  chain?: string;
  /** The audit HMAC key (from FILEFERRY_AUDIT_KEY_REF): every record is signed with it. */
  auditKey?: Buffer;
}

export interface SqliteStores {
  requests: RequestRepository;
  hostKeys: HostKeyStore;
  audit: AuditLog & AuditReader;
  /** Versioned JSON documents (idempotency keys, queued records, claims …) in the table `documents`. */
  documents: DocumentStore;
  /** Closes the one connection the four share (idempotent); later calls on them throw StoreError INTERNAL. */
  close(): void;
}

/**
 * Opens `file` once (WAL, busy_timeout, migrations: see sqliteDatabase.ts) and builds the request
 * repository, the host key store, the audit log and the document store over that one connection. Any number of
 * processes may open the same file: appends are serialised by SQLite's write lock.
 * Throws StoreError as openSqliteDatabase does (INVALID_CONFIG for a newer schema, ACCESS_DENIED,
 * DISK_FULL, TIMEOUT, INTERNAL).
 */
export function openSqliteStores(options: SqliteStoresOptions): SqliteStores {
  const db = openSqliteDatabase(options.file, { busyTimeoutMs: options.busyTimeoutMs, synchronous: options.synchronous });
  return {
    requests: new SqliteRequestRepository(db, options.file),
    hostKeys: new SqliteHostKeys(db, options.file),
    audit: new SqliteAudit(db, { chain: options.chain, key: options.auditKey }, options.file),
    documents: new SqliteDocuments(db, {}, options.file),
    close: () => {
      if (db.open) db.close();
    },
  };
}
