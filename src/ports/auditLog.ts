import type { AuditEvent, AuditRecord, ChainHead } from '../domain/auditChain';

export type { AuditEvent, AuditRecord, AuditValue, ChainHead } from '../domain/auditChain';

/**
 * The append-only, hash-chained audit trail (see domain/auditChain.ts). `append` resolves once
 * the record is durable, linked to the chain head by a conditional write on `seq`, so two
 * processes appending at once never fork the chain. Throws StoreError (INTERNAL, DISK_FULL,
 * NETWORK …) when it cannot write; the workflow treats that as serious (logged at error).
 */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditRecord>;
}

export interface AuditFilter {
  /** ISO timestamps, inclusive `since`, exclusive `until`. */
  since?: string;
  until?: string;
  requestId?: string;
}

/** Reading the trail back in chain order (seq ascending): verify, export, tests. */
export interface AuditReader {
  /** Records in chain order, page by page (never the whole store in memory), filtered when asked. */
  read(filter?: AuditFilter): AsyncIterable<AuditRecord>;
  /** The latest record's seq and hash, undefined for an empty chain. */
  head(): Promise<ChainHead | undefined>;
  /** Everything, collected (tests and small stores). */
  readAll(): Promise<AuditRecord[]>;
}
