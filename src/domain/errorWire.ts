import {
  ConfigError,
  DestinationError,
  FerryError,
  IdentityError,
  NotifyError,
  PathError,
  SecretsError,
  SourceError,
  StoreError,
  TicketingError,
  TransferError,
  isFerryError,
  type ErrorArea,
  type ErrorCode,
} from './errors';

/**
 * A FerryError as plain data, for a message between threads: structured clone keeps an Error's
 * message but not its class, code, hint or retryable flag, which every caller decides on. The
 * cause travels as one line of text (its name and message) for the log; it is never a secret,
 * since messages never carry one.
 */
export interface WireError {
  area: ErrorArea;
  code: ErrorCode;
  message: string;
  hint: string;
  retryable: boolean;
  cause?: string;
}

export function toWire(e: unknown): WireError {
  if (isFerryError(e)) {
    const cause = e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : e.cause === undefined ? undefined : String(e.cause);
    return { area: e.area, code: e.code, message: e.message, hint: e.hint, retryable: e.retryable, ...(cause ? { cause } : {}) };
  }
  const message = (e as Error)?.message ?? String(e);
  return { area: 'transfer', code: 'INTERNAL', message: `Unexpected failure: ${message}`, hint: 'Report this with the request ID; the log has the detail.', retryable: false, cause: message };
}

/** The error `toWire` described, as its own class again (a SourceError stays a SourceError). */
export function fromWire(w: WireError): FerryError {
  const options = { hint: w.hint, retryable: w.retryable, ...(w.cause ? { cause: new Error(w.cause) } : {}) };
  const error = build(w, options);
  // The classes with fixed codes or retry rules (PathError, ConfigError) take the wire's word.
  Object.assign(error, { retryable: w.retryable, hint: w.hint });
  return error;
}

function build(w: WireError, options: { hint: string; retryable: boolean; cause?: Error }): FerryError {
  switch (w.area) {
    case 'source': return new SourceError(w.code, w.message, options);
    case 'destination': return new DestinationError(w.code, w.message, options);
    case 'transfer': return new TransferError(w.code, w.message, options);
    case 'path': return new PathError(w.message, w.hint);
    case 'config': return new ConfigError(w.message, w.hint, w.code);
    case 'identity': return new IdentityError(w.code, w.message, options);
    case 'ticketing': return new TicketingError(w.code, w.message, options);
    case 'store': return new StoreError(w.code, w.message, options);
    case 'notify': return new NotifyError(w.code, w.message, options);
    case 'secrets': return new SecretsError(w.code, w.message, options);
    default: return new FerryError(w.area, w.code, w.message, options);
  }
}
