/** A value an audit record may hold: plain data, never a credential. */
export type AuditValue = string | number | boolean | null;

/**
 * One audit event. `type` is a stable dotted name ("request.created", "transfer.completed",
 * "action.refused", …); `details` carries names, sizes, hashes, codes — never a password, key,
 * token or SAS.
 */
export interface AuditEvent {
  type: string;
  requestId?: string;
  /** Who did it: the user's stable ID, or "system" for the bot's own steps. */
  actor: string;
  details?: Record<string, AuditValue>;
}

/** A stored audit record: the event plus when it was written and its position. */
export interface AuditRecord extends AuditEvent {
  at: string;
  seq: number;
}

/**
 * The append-only audit trail. `append` resolves once the record is durable. Throws FerryError
 * (INTERNAL, DISK_FULL, NETWORK …) when it cannot write; the workflow treats that as serious
 * (logged at error) but does not undo the user's step.
 */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditRecord>;
}

/** Reading the trail back, oldest first (tests, and `fileferry audit export` later). */
export interface AuditReader {
  readAll(): Promise<AuditRecord[]>;
}
