import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * What every log line written while serving one HTTP request or one FileFerry request carries:
 * `correlationId` (one per incoming HTTP request, shown to users on the error card) and
 * `requestId` (the FileFerry request being worked on). Carried by AsyncLocalStorage, so background
 * work started inside a context (the transfer, its progress updates) keeps it.
 */
export interface LogContext {
  correlationId?: string;
  requestId?: string;
}

const store = new AsyncLocalStorage<LogContext>();

const SECRET_KEYS = ['password', 'secret', 'token', 'authorization', 'privateKey', 'passphrase', 'clientSecret', 'appPassword', 'MicrosoftAppPassword'];

/**
 * Redaction paths: the secret keys at the top level and up to three levels deep, plus HTTP
 * headers. A secret should never be handed to the logger at all; this is the second net.
 */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]).concat([
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
]);

/**
 * The one logger factory. Every line gets the current LogContext mixed in. `destination` lets
 * tests capture lines; the default writes JSON lines to stdout.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { app: 'fileferry' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: () => ({ ...store.getStore() }),
    },
    options.destination,
  );
}

/** Runs `fn` with `context` merged over the current one. */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return store.run({ ...store.getStore(), ...context }, fn);
}

/** Sets the FileFerry request ID for the rest of the current context (once a turn knows it). */
export function setLogRequestId(requestId: string): void {
  const current = store.getStore();
  if (current) current.requestId = requestId;
}

export function currentLogContext(): LogContext {
  return { ...store.getStore() };
}

/** The error's safe parts for a log line: class, code, message, no cause chain or request bodies. */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { error: String(e) };
  const fields: Record<string, unknown> = { errorName: e.name, error: e.message };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) fields.errorCode = code;
  const status = (e as { statusCode?: unknown }).statusCode;
  if (status !== undefined) fields.statusCode = status;
  if (e.stack) fields.stack = e.stack.split('\n').slice(0, 8).join('\n');
  return fields;
}
