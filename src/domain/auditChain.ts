import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

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

/**
 * A stored audit record: a link of a hash chain. `seq` counts from 1 within `chain`; `prevHash`
 * is the previous record's `hash` (GENESIS for the first); `hash` is the SHA-256 of this record's
 * canonical form (every field but `hash` and `hmac`); `hmac`, present when an audit key is
 * configured, is HMAC-SHA-256(key, hash), so a chain rebuilt by someone without the key is caught.
 */
export interface AuditRecord extends AuditEvent {
  chain: string;
  seq: number;
  /** UTC, ISO 8601 with milliseconds. */
  at: string;
  prevHash: string;
  hash: string;
  hmac?: string;
}

/** The chain head: what the next record links to, and what a ticket's closing note quotes. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const DEFAULT_CHAIN = 'fileferry';
export const GENESIS = '0'.repeat(64);

/**
 * The canonical form hashed: JSON of the record without `hash` and `hmac`, object keys sorted at
 * every level, no whitespace, absent fields left out (never `null` for absent). An auditor can
 * rebuild it in any language: sort keys, JSON-encode, SHA-256.
 */
export function canonicalAuditJson(record: Omit<AuditRecord, 'hash' | 'hmac'> | AuditRecord): string {
  const { hash: _hash, hmac: _hmac, ...body } = record as AuditRecord;
  return JSON.stringify(sortKeys(body));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const mac = (key: Buffer, hash: string): string => createHmac('sha256', key).update(hash, 'utf8').digest('hex');

/**
 * The next link after `head` (undefined: the chain's first record). Stores call this inside their
 * append and write the result only if no record with its `seq` exists yet (a conditional write),
 * re-reading the head and sealing again when another writer won: the chain never forks.
 */
export function sealAuditRecord(event: AuditEvent, head: ChainHead | undefined, options: { chain: string; at: Date; key?: Buffer }): AuditRecord {
  const body: Omit<AuditRecord, 'hash' | 'hmac'> = {
    chain: options.chain,
    seq: (head?.seq ?? 0) + 1,
    at: options.at.toISOString(),
    prevHash: head?.hash ?? GENESIS,
    type: event.type,
    actor: event.actor,
    ...(event.requestId !== undefined ? { requestId: event.requestId } : {}),
    ...(event.details !== undefined ? { details: event.details } : {}),
  };
  const hash = sha256(canonicalAuditJson(body));
  return { ...body, hash, ...(options.key ? { hmac: mac(options.key, hash) } : {}) };
}

export type ChainProblem = 'altered' | 'removed' | 'inserted' | 'reordered' | 'unsigned' | 'forged';

export type ChainVerdict =
  | { ok: true; count: number; head?: ChainHead }
  | { ok: false; count: number; seq: number; problem: ChainProblem; message: string };

/**
 * Walks one chain in stored order (ascending `seq`) and names the first record that breaks it:
 * `altered` (its hash no longer matches its content), `removed` (a gap in seq), `inserted` or
 * `reordered` (a seq repeated, or out of order, or linking to the wrong predecessor), and with a
 * key `unsigned`/`forged` (no HMAC, or one made without the key).
 */
export async function verifyAuditChain(records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>, key?: Buffer): Promise<ChainVerdict> {
  let prev: AuditRecord | undefined;
  let count = 0;
  const fail = (seq: number, problem: ChainProblem, message: string): ChainVerdict => ({ ok: false, count, seq, problem, message });
  const iterator = (Symbol.asyncIterator in records ? records[Symbol.asyncIterator]() : (records as Iterable<AuditRecord>)[Symbol.iterator]()) as AsyncIterator<AuditRecord> | Iterator<AuditRecord>;
  try {
    return await walk();
  } finally {
    // A store's paged reader is closed even when the verdict came early.
    await iterator.return?.();
  }

  async function walk(): Promise<ChainVerdict> {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const r = next.value;
      count++;
      const expected = (prev?.seq ?? 0) + 1;
      if (r.seq > expected) {
        // A gap: the missing record either turns up further on (moved) or is gone (removed).
        for (;;) {
          const later = await iterator.next();
          if (later.done) break;
          if (later.value.seq === expected) return fail(expected, 'reordered', `Record ${expected} is out of place: record ${r.seq} stands where it should be, and it comes later.`);
        }
        return fail(expected, 'removed', `Record ${expected} is missing: record ${prev?.seq ?? 0} is followed by record ${r.seq}.`);
      }
      if (r.seq < expected) {
        return fail(r.seq, r.seq === prev?.seq ? 'inserted' : 'reordered', `Record ${r.seq} appears after record ${prev?.seq}: it was ${r.seq === prev?.seq ? 'inserted' : 'moved'}.`);
      }
      if (sha256(canonicalAuditJson(r)) !== r.hash) return fail(r.seq, 'altered', `Record ${r.seq} was altered: its content no longer matches its hash.`);
      if (r.prevHash !== (prev?.hash ?? GENESIS)) {
        return fail(r.seq, 'inserted', `Record ${r.seq} does not link to record ${prev?.seq ?? 'the start'}: a record was inserted, replaced or reordered here.`);
      }
      if (key) {
        if (!r.hmac) return fail(r.seq, 'unsigned', `Record ${r.seq} has no HMAC although an audit key is configured.`);
        const want = Buffer.from(mac(key, r.hash), 'hex');
        const got = Buffer.from(r.hmac, 'hex');
        if (got.length !== want.length || !timingSafeEqual(got, want)) return fail(r.seq, 'forged', `Record ${r.seq} has an HMAC not made with the audit key: the chain was rebuilt.`);
      }
      prev = r;
    }
    return { ok: true, count, ...(prev ? { head: { seq: prev.seq, hash: prev.hash } } : {}) };
  }
}
