import type { ObjectInfo } from '../domain/objectInfo';

/**
 * Who moves a claimed object in push mode. FileFerry's own engine is the default (streamed,
 * temporary name then rename, SHA-256 verified, resumable); a rule may name another, such as an
 * AWS Transfer Family SFTP connector, which moves the file itself and reports only an outcome.
 */
export interface PushSend {
  ruleName: string;
  /** The object as the source describes it (key, size, version or ETag). */
  object: ObjectInfo & { container: string };
  /** The folder on the destination the rule's template produced, and the final file name. */
  remoteFolder: string;
  remoteName: string;
  signal: AbortSignal;
}

export interface PushSent {
  bytes: number;
  /** Hex SHA-256 of the bytes sent, when the engine computes one (Transfer Family does not). */
  sha256?: string;
  /** What was checked, in words for the audit record: `sha256+size`, `reported by Transfer Family`. */
  verification: string;
  /** The engine's own reference (a Transfer Family transfer ID), for the audit record. */
  reference?: string;
}

/** Throws a FerryError with a stable code; `retryable` decides whether push mode tries again. */
export interface PushEngine {
  send(job: PushSend): Promise<PushSent>;
}
