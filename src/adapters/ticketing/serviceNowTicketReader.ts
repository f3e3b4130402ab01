import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, TicketingError } from '../../domain/errors';
import type { TicketReader, TicketReading } from '../../ports/ticketing';
import { serviceNowAuth } from './serviceNowAuth';
import { ServiceNowClient, fieldValue } from './serviceNowClient';
import type { FetchLike } from './serviceNowHttp';
import type { ServiceNowTicketingOptions } from './serviceNowTicketing';

/** The connection settings of ServiceNowTicketing, the same instance and tables it raises tickets in. */
export type ServiceNowTicketReaderOptions = Pick<
  ServiceNowTicketingOptions,
  'instanceUrl' | 'auth' | 'requestTable' | 'auditTable' | 'timeoutMs' | 'maxAttempts' | 'fetch' | 'sleep' | 'random' | 'now'
>;

const FIELDS = ['sys_id', 'number', 'state', 'close_notes', 'correlation_id'];

/**
 * Reads FileFerry's tickets back from ServiceNow by number (the Table API, `number=<n>` in the
 * request table, then the audit table), with their `close_notes`: the second system that
 * `fileferry audit verify --against-tickets` checks the audit chain against. Read-only: the
 * integration user needs read access to those tables and nothing more for this. Uses the same
 * client as the ticketing adapter (timeouts, retries honouring Retry-After, OAuth or Basic).
 *
 * Throws TicketingError: AUTH_FAILED / ACCESS_DENIED naming the integration user, and the
 * retryable NETWORK / TIMEOUT / THROTTLED / SERVER_ERROR once the attempts are used up.
 */
export class ServiceNowTicketReader implements TicketReader {
  private readonly client: ServiceNowClient;
  private readonly tables: string[];

  constructor(options: ServiceNowTicketReaderOptions) {
    const instance = instanceUrl(options.instanceUrl);
    this.tables = [...new Set([tableName(options.requestTable ?? 'incident', 'SERVICENOW_REQUEST_TABLE'), tableName(options.auditTable ?? 'incident', 'SERVICENOW_AUDIT_TABLE')])];
    const timeoutMs = options.timeoutMs ?? 15_000;
    const now = options.now ?? Date.now;
    const fetchFn: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
    this.client = new ServiceNowClient({
      instance,
      auth: serviceNowAuth(options.auth, { instance, fetch: fetchFn, timeoutMs, now }),
      fetch: fetchFn,
      timeoutMs,
      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
      maxRetryAfterMs: 60_000,
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
      now,
    });
  }

  async readTicket(number: string, signal?: AbortSignal): Promise<TicketReading | undefined> {
    // A number is letters and digits; anything else could change the encoded query, and matches no ticket anyway.
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(number)) return undefined;
    for (const table of this.tables) {
      const [found] = await this.client.list(table, `number=${number}`, { fields: FIELDS, limit: 1 }, `reading ${number} in ${table}`, signal);
      if (!found) continue;
      const requestId = fieldValue(found, 'correlation_id');
      return { number: fieldValue(found, 'number') || number, state: fieldValue(found, 'state'), closeNotes: fieldValue(found, 'close_notes'), ...(requestId ? { requestId } : {}) };
    }
    return undefined;
  }
}

/** The instance's base URL, ending in `/`: https, or http on a loopback address. */
function instanceUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`SERVICENOW_INSTANCE_URL "${raw}" is not a URL.`, 'Set it to https://<instance>.service-now.com.');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.username || url.password || url.search || url.hash || (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))) {
    throw new ConfigError(`SERVICENOW_INSTANCE_URL must be the instance's https address only (got ${url.protocol}//${url.host}${url.pathname}).`, 'Set it to https://<instance>.service-now.com.');
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function tableName(table: string, variable: string): string {
  if (!/^[a-z0-9_]+$/.test(table)) throw new ConfigError(`${variable} "${table}" is not a ServiceNow table name.`, 'Use the table name (incident, sc_request, x_acme_transfer), not its label.');
  return table;
}

async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    throw new TicketingError('CANCELLED', 'Reading tickets from ServiceNow was cancelled while waiting to retry.', { hint: 'Run the check again when you are ready.' });
  }
}
