import { TicketingError, type ErrorCode, type FerryErrorOptions } from '../../domain/errors';
import type { HttpAnswer } from './serviceNowHttp';

/** A TicketingError from an HTTP answer, with what the retry policy needs: the status and any Retry-After. */
export class ServiceNowHttpError extends TicketingError {
  readonly status: number;
  /** Retry-After as milliseconds (429, sometimes 503), when the server sent one. */
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: FerryErrorOptions & { status: number; retryAfterMs?: number }) {
    super(code, message, options);
    this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** What a Table API call was, for the message. */
export interface CallContext {
  /** The instance's origin as people know it (https://acme.service-now.com). */
  origin: string;
  /** Who ServiceNow sees: `the integration user "svc_fileferry"`. */
  who: string;
  /** What to check when ServiceNow refuses the credentials (401). */
  authHint: string;
  table: string;
  /** `list` (GET with a query), `insert` (POST) or `record` (GET/PATCH of one sys_id). */
  target: 'list' | 'insert' | 'record';
  /** "adding a work note to INC0010001": the action, for the message. */
  what: string;
  now: () => number;
}

/**
 * A Table API failure answer as the TicketingError the port promises. ServiceNow's error body is
 * `{"error":{"message","detail"},"status":"failure"}`; its message is quoted (trimmed), since it
 * says which ACL, data policy or field refused. Nothing from the request is repeated.
 */
export function tableApiError(answer: HttpAnswer, ctx: CallContext): ServiceNowHttpError {
  const { status } = answer;
  const said = serverMessage(answer);
  const base = `ServiceNow (${ctx.origin}) answered ${status}${said ? ` "${said}"` : ''} while ${ctx.what}`;
  const make = (code: ErrorCode, message: string, hint: string, retryAfterMs?: number): ServiceNowHttpError =>
    new ServiceNowHttpError(code, message, { hint, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

  if (status === 401) return make('AUTH_FAILED', `${base}: it did not accept ${ctx.who}.`, ctx.authHint);
  if (status === 403) {
    return make('ACCESS_DENIED', `${base}: ${ctx.who} may not do this on the ${ctx.table} table.`,
      `Give ${ctx.who} a role that may read, create and update ${ctx.table} records and their work notes (itil covers incident, and reading sys_user_group), or check the ACLs and data policies on ${ctx.table}.`);
  }
  if (status === 404 && ctx.target === 'record') {
    return make('NOT_FOUND', `${base}: the record does not exist in ${ctx.table}, or an ACL hides it from ${ctx.who}.`, 'Check the ticket number; the ticket may have been deleted in ServiceNow.');
  }
  if (status === 404 || (status === 400 && /invalid table/i.test(said))) {
    return make('INVALID_CONFIG', `${base}: the instance has no table "${ctx.table}" that ${ctx.who} can use.`,
      `Check SERVICENOW_REQUEST_TABLE and SERVICENOW_AUDIT_TABLE (table names such as incident, not labels), and that ${ctx.who} may read ${ctx.table}.`);
  }
  if (status === 429) {
    const wait = retryAfterMs(answer.headers.get('retry-after'), ctx.now);
    return make('THROTTLED', `${base}: a rate limit rule stopped ${ctx.who}${wait !== undefined ? `; it asks to wait ${Math.ceil(wait / 1000)} s` : ''}.`,
      'This is worth retrying after the pause; if it keeps happening, raise the inbound REST rate limit for the integration user in ServiceNow.', wait);
  }
  if (status >= 500) {
    return make('SERVER_ERROR', `${base}.`, 'This is worth retrying; if it keeps failing, check the instance status and its system log.',
      retryAfterMs(answer.headers.get('retry-after'), ctx.now));
  }
  if (status === 400) {
    return make('INVALID_CONFIG', `${base}: the ${ctx.table} table refused the record.`,
      `Check SERVICENOW_FIELD_MAP_FILE (field names and values) and the mandatory fields and data policies of ${ctx.table}.`);
  }
  return make('INTERNAL', `${base}.`, 'Report this with the FileFerry log; the Table API answered in a way FileFerry does not expect.');
}

/** ServiceNow's own message and detail, one line, at most 300 characters. */
export function serverMessage(answer: HttpAnswer): string {
  let text = '';
  try {
    const body = JSON.parse(answer.text) as { error?: { message?: unknown; detail?: unknown } | string; error_description?: unknown };
    const error = body.error;
    if (typeof error === 'object' && error) text = [error.message, error.detail].filter((s) => typeof s === 'string' && s).join(': ');
    else if (typeof error === 'string') text = [error, body.error_description].filter((s) => typeof s === 'string' && s).join(': ');
  } catch {
    // Not JSON (a proxy's HTML page): the status says enough.
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: () => number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now());
}
