/**
 * One object a push rule saw, as the claim ledger stores it: one document per (rule, container,
 * key, version or ETag). States move seen → stable → claimed → sent, or to failed after the last
 * retry; `superseded` when a newer version replaced it before it was sent, `skipped` when it does
 * not match the rule after all (size), `gone` when it was deleted before it was sent.
 */
export type PushState = 'seen' | 'stable' | 'claimed' | 'sent' | 'failed' | 'superseded' | 'skipped' | 'gone';

export const FINISHED_STATES: ReadonlySet<PushState> = new Set(['sent', 'failed', 'superseded', 'skipped', 'gone']);

export interface SeenObject {
  scheme: 's3' | 'azblob' | 'file';
  container: string;
  key: string;
  versionId?: string;
  etag?: string;
  size?: number;
  lastModified?: string;
  via: 'sqs' | 'sns' | 'poll' | 'stat' | 'retry';
  eventTime?: string;
  sequencer?: string;
}

export interface PushObjectRecord extends SeenObject {
  rule: string;
  state: PushState;
  /** Sends started so far (a claim counts one). */
  attempts: number;
  seenAt: string;
  stableAt?: string;
  claimedAt?: string;
  /** The process holding the claim, and until when (renewed while it sends). */
  claimedBy?: string;
  leaseUntil?: string;
  sentAt?: string;
  failedAt?: string;
  /** Hex SHA-256 of the bytes on the server (the ciphertext with PGP). */
  sha256?: string;
  /** With PGP: the SHA-256 of the plaintext that was encrypted. */
  plaintextSha256?: string;
  bytes?: number;
  remotePath?: string;
  verification?: string;
  reference?: string;
  lastError?: { code: string; message: string; hint?: string };
  /** The failure alert went to the audit channel. */
  alerted?: boolean;
  /** The incident opened for the final failure, so a restart never opens a second. */
  incident?: { number: string; url?: string };
  /** Why it was skipped, superseded or gone. */
  note?: string;
}

/** The waiting room: one small entry per unfinished object, read in pages, so memory never holds the backlog. */
export interface QueueEntry {
  rule: string;
  /** Not looked at before this instant (stability wait, backoff, closed window). */
  notBefore: string;
}

/** Per rule and UTC day: what the digest and the expectation check read. */
export interface DayCounts {
  seen: number;
  sent: number;
  failed: number;
  bytes: number;
  /** Expectations of the day that were missed (0 or 1; absent in days counted before it existed). */
  late?: number;
}
