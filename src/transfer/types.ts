import type { Destination } from '../ports/destination';
import type { ObjectInfo, StorageSource } from '../ports/storageSource';
import type { ErrorCode } from '../domain/errors';

import type { OverwritePolicy, VerificationLevel } from '../domain/transferTerms';

export type { OverwritePolicy, VerificationLevel } from '../domain/transferTerms';

export interface TransferRequest {
  source: StorageSource;
  container: string;
  key: string;
  /** The exact version to send; stat'ed when absent. Pinning keeps a change mid-transfer from mixing versions. */
  object?: ObjectInfo;
  destination: Destination;
  /** Absolute final path on the destination. Checked before any connection. */
  remotePath: string;
  overwrite: OverwritePolicy;
  /**
   * Continue a transfer an earlier process started (it stopped, or crashed): write into this
   * temporary file, from the bytes the server holds, re-reading the source from the start to
   * rebuild the hash. Without it a fresh temporary name is used.
   */
  resumeTemporaryPath?: string;
  /** Retries for transient faults in a row, counted afresh after real progress (see freshRetriesAfterBytes). Default 3. */
  retries?: number;
  /**
   * SSH connections that write stripes of the file at once, for destinations that write at any
   * offset (SFTP): one channel's window caps a single connection over distance. Default
   * DEFAULT_CONNECTIONS; destinations that cannot (FTP, local) always use one. Fewer are used
   * when the server refuses the extra logins, one when it refuses writes at offsets.
   */
  connections?: number;
  /** Ask the server for its own SHA-256 where it can (FTP HASH/XSHA256, sha256sum over SSH). Default true. */
  remoteHash?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /** Called at each step (connected, resumed, verified, renamed, …) for audit and logs. */
  onEvent?: (event: TransferEvent) => void;
  tuning?: Partial<TransferTuning>;
}

export interface TransferTuning {
  /** Bytes per ranged GET. */
  partSize: number;
  /** Most ranged GETs in flight (capped by the source's `parallelReads`). */
  readConcurrency: number;
  /** A ranged GET starts once the bytes handed on come within this many of where it begins; see readRanges. */
  readAhead: number;
  /** Base delay of the exponential backoff, ms. */
  backoffBaseMs: number;
  /** Longest backoff delay, ms. */
  backoffMaxMs: number;
  /** Least time between two progress events, ms. */
  progressIntervalMs: number;
  /**
   * An attempt that moves no byte (read or acknowledged) for this long is abandoned as TIMEOUT
   * and retried. There is deliberately no limit on total time: a 5 TB file may take a day.
   */
  idleTimeoutMs: number;
  /**
   * A resume that starts at least this many bytes past the previous attempt's start restores the
   * full retry budget: a long transfer over a link that drops now and then keeps going, while one
   * that only crawls a few bytes per connection still fails after `retries`.
   */
  freshRetriesAfterBytes: number;
  /** Bytes per stripe when several connections write one file. */
  stripeSize: number;
  /**
   * Striped writes stay within this many bytes past the first unacknowledged byte (bounding the
   * memory too). A file an earlier process left is trusted only up to its size minus this, so it
   * must not grow between a process and the one that resumes its file.
   */
  stripeWindow: number;
  /** Objects smaller than this go over one connection whatever `connections` says. */
  stripedMinSize: number;
  /**
   * Channels each striping connection writes over, where the protocol has them (SSH: each channel
   * has its own flow-control window, so two carry twice what one does over a long round trip).
   */
  channelsPerConnection: number;
}

export interface TransferProgress {
  bytes: number;
  total: number;
  /** 0..100 */
  percent: number;
  /** Bytes per second over the recent window. */
  rate: number;
  /** Seconds left at the current rate; undefined while unknown. */
  etaSeconds?: number;
  /** 1 for the first attempt. */
  attempt: number;
}

export type TransferEvent =
  | { type: 'started'; object: ObjectInfo; destination: string; remotePath: string; temporaryPath: string }
  | { type: 'attempt-failed'; attempt: number; code: ErrorCode; message: string; retryInMs?: number }
  | { type: 'resumed'; attempt: number; fromByte: number }
  | { type: 'verified'; level: VerificationLevel; sha256: string }
  | { type: 'renamed'; from: string; to: string }
  | { type: 'cleaned-up'; path: string }
  /** How many connections an attempt writes over: fewer than requested when the server refused some. */
  | { type: 'connections'; attempt: number; requested: number; accepted: number; reason?: ErrorCode }
  /** A striped attempt after a cut: the ranges below the read position it sends again, nothing else. */
  | { type: 'gaps-resent'; attempt: number; gaps: { start: number; end: number }[]; bytes: number };

export interface TransferResult {
  status: 'completed';
  bytes: number;
  sha256: string;
  seconds: number;
  attempts: number;
  /** Offsets each resume started from, in order; empty when no resume happened. */
  resumedFromBytes: number[];
  verification: VerificationLevel;
  /** Where the file ended up (differs from the request under the 'rename' policy). */
  finalPath: string;
}
