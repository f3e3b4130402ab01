/**
 * Typed errors. Every failure FileFerry reports carries a stable `code` (for machines, logs and
 * tests), a `retryable` flag (only the engine and the workflow decide to retry, and only on this
 * flag) and a `hint` that tells the person what to do next. Messages never carry secrets.
 */

/** Stable error codes. Adding one is fine; renaming one breaks operators' scripts. */
export type ErrorCode =
  // permanent
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'AUTH_FAILED'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_MISMATCH'
  | 'TLS_CERT_INVALID'
  | 'ALGORITHM_MISMATCH'
  | 'DISK_FULL'
  | 'ALREADY_EXISTS'
  | 'SOURCE_CHANGED'
  | 'SIZE_MISMATCH'
  | 'CHECKSUM_MISMATCH'
  | 'INVALID_PATH'
  | 'INVALID_URL'
  | 'INVALID_CONFIG'
  | 'PLAINTEXT_NOT_ALLOWED'
  | 'UNSUPPORTED'
  | 'CANCELLED'
  /** A secret reference names nothing (no such variable, secret, version or JSON key). */
  | 'SECRET_NOT_FOUND'
  /** The person who signed in at the provider is not the Teams user who asked. */
  | 'IDENTITY_MISMATCH'
  /** The requester's short-lived sign-in ended while its reader was still needed (a new sign-in, so a new request, is the cure). */
  | 'SESSION_EXPIRED'
  /** A stored record changed under the writer (conditional write lost); re-read and try again. */
  | 'CONFLICT'
  /** A fault FileFerry does not recognise; the log has the detail. */
  | 'INTERNAL'
  // transient
  | 'NETWORK'
  | 'TIMEOUT'
  | 'THROTTLED'
  | 'SERVER_ERROR';

const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['NETWORK', 'TIMEOUT', 'THROTTLED', 'SERVER_ERROR']);

export type ErrorArea =
  | 'source'
  | 'destination'
  | 'transfer'
  | 'path'
  | 'config'
  | 'identity'
  | 'ticketing'
  | 'store'
  | 'notify'
  | 'secrets';

/**
 * A failure code as a request record stores it: an ErrorCode, or INTERRUPTED for a transfer that
 * was no longer running when FileFerry looked (the process that ran it is gone).
 */
export type FailureCode = ErrorCode | 'INTERRUPTED';

export interface FerryErrorOptions {
  /** What to do next, in one sentence for a person. */
  hint?: string;
  /** Overrides the default derived from the code (transient codes are retryable). */
  retryable?: boolean;
  cause?: unknown;
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string;
  readonly area: ErrorArea;

  constructor(area: ErrorArea, code: ErrorCode, message: string, options: FerryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.area = area;
    this.code = code;
    this.retryable = options.retryable ?? TRANSIENT.has(code);
    this.hint = options.hint ?? '';
  }

  /** The plain shape written to JSON output, cards and audit records. */
  toJSON(): { code: ErrorCode; message: string; hint?: string; retryable: boolean } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}), retryable: this.retryable };
  }
}

export class SourceError extends FerryError {
  override readonly name = 'SourceError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('source', code, message, options);
  }
}

export class DestinationError extends FerryError {
  override readonly name = 'DestinationError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('destination', code, message, options);
  }
}

export class TransferError extends FerryError {
  override readonly name = 'TransferError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('transfer', code, message, options);
  }
}

export class PathError extends FerryError {
  override readonly name = 'PathError';
  constructor(message: string, hint: string) {
    super('path', 'INVALID_PATH', message, { hint });
  }
}

export class ConfigError extends FerryError {
  override readonly name = 'ConfigError';
  constructor(message: string, hint: string, code: ErrorCode = 'INVALID_CONFIG') {
    super('config', code, message, { hint });
  }
}

/** Sign-in: AUTH_FAILED (refused, expired, abandoned), ACCESS_DENIED (no right to the scope), NETWORK … */
export class IdentityError extends FerryError {
  override readonly name = 'IdentityError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('identity', code, message, options);
  }
}

/** The ticketing system (ServiceNow, local numbers). */
export class TicketingError extends FerryError {
  override readonly name = 'TicketingError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('ticketing', code, message, options);
  }
}

/** The store of requests, host keys and the audit log. */
export class StoreError extends FerryError {
  override readonly name = 'StoreError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('store', code, message, options);
  }
}

/** Audit-channel notifications (Teams channel, webhook). */
export class NotifyError extends FerryError {
  override readonly name = 'NotifyError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('notify', code, message, options);
  }
}

/**
 * Resolving a secret reference. The message names the reference (`env:NAME`, `aws-sm:id#key`),
 * never the value.
 */
export class SecretsError extends FerryError {
  override readonly name = 'SecretsError';
  constructor(code: ErrorCode, message: string, options?: FerryErrorOptions) {
    super('secrets', code, message, options);
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

/** True for the abort reasons Node and our own cancel produce. */
export function isAbort(e: unknown): boolean {
  return (e as { name?: string })?.name === 'AbortError' || (e as FerryError)?.code === 'CANCELLED';
}

export function cancelled(what = 'The transfer'): TransferError {
  return new TransferError('CANCELLED', `${what} was cancelled.`, { hint: 'Start it again when you are ready.' });
}

/**
 * The requester's sign-in ran out while `where` was still being read (S3's role credentials or
 * Entra's storage token): permanent, never a loop of refused reads; the workflow words it with how
 * much was already sent.
 */
export function sessionExpired(where: string, detail: string, cause?: unknown): SourceError {
  return new SourceError('SESSION_EXPIRED', `The sign-in expired while reading ${where} (${detail}).`, {
    hint: 'Start a new request and sign in again to send the file.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Socket-level failures that mean "the network dropped us" rather than "the server said no".
 * Adapters map these to a retryable NETWORK error.
 */
const NETWORK_ERRNOS = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EAI_AGAIN', 'ENOTCONN', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_SOCKET_CLOSED',
]);

export function isNetworkErrno(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && NETWORK_ERRNOS.has(code);
}
