import { FerryError } from '../../domain/errors';
import type { ServiceNowAuth } from './serviceNowAuth';
import { ServiceNowHttpError, tableApiError, type CallContext } from './serviceNowErrors';
import { timedFetch, type FetchLike } from './serviceNowHttp';

/** A Table API record: every value a string, or `{value, link}` for references (we ask for plain values). */
export type ServiceNowRecord = Record<string, unknown>;

export interface ServiceNowClientOptions {
  /** The instance's base URL, ending in `/`. */
  instance: URL;
  auth: ServiceNowAuth;
  fetch: FetchLike;
  /** Deadline of each HTTP exchange, body included. */
  timeoutMs: number;
  /** Attempts per call, the first included (429, 5xx, timeouts and dropped connections are retried). */
  maxAttempts: number;
  /** A Retry-After longer than this is not waited for: the call fails THROTTLED at once. */
  maxRetryAfterMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/**
 * The few Table API calls the ticketing adapter makes (`/api/now/table/{table}`), with one retry
 * policy: 429 and 5xx, timeouts and dropped connections are tried again up to `maxAttempts`
 * times, after an exponential backoff with equal jitter that is never shorter than the server's
 * Retry-After; 4xx are final. `list` and `patch` retry on their own. `insertOnce` never does,
 * because a POST the server stored but never answered must not be sent again blindly: the caller
 * looks the record up first (see ServiceNowTicketing.ensure), using `retryDelay` and `pause`.
 */
export class ServiceNowClient {
  constructor(private readonly options: ServiceNowClientOptions) {}

  /** GET the records matching an encoded query (`sysparm_query`). */
  list(table: string, query: string, params: { fields: string[]; limit: number }, what: string, signal?: AbortSignal): Promise<ServiceNowRecord[]> {
    const search = { sysparm_query: query, sysparm_fields: params.fields.join(','), sysparm_limit: String(params.limit), sysparm_exclude_reference_link: 'true' };
    return this.retried(async () => {
      const result = await this.once('GET', table, undefined, search, undefined, { table, target: 'list', what }, signal);
      return Array.isArray(result) ? (result as ServiceNowRecord[]) : [];
    }, signal);
  }

  /**
   * POST one record, one attempt. Reference and choice fields may be given by display value
   * (`sysparm_input_display_value=true`: an assignment group by its name).
   */
  async insertOnce(table: string, body: Record<string, string>, fields: string[], what: string, signal?: AbortSignal): Promise<ServiceNowRecord> {
    const search = { sysparm_input_display_value: 'true', sysparm_exclude_reference_link: 'true', sysparm_fields: fields.join(',') };
    return this.record(await this.once('POST', table, undefined, search, body, { table, target: 'insert', what }, signal), what);
  }

  /** PATCH one record by sys_id (work notes, state, close fields, description). */
  patch(table: string, sysId: string, body: Record<string, string>, fields: string[], what: string, signal?: AbortSignal): Promise<ServiceNowRecord> {
    const search = { sysparm_exclude_reference_link: 'true', sysparm_fields: fields.join(',') };
    return this.retried(async () => this.record(await this.once('PATCH', table, sysId, search, body, { table, target: 'record', what }, signal), what), signal);
  }

  /**
   * How long to wait before attempt `attempt + 1` after `error`, or undefined when it is final
   * (not retryable, attempts used up, or a Retry-After beyond `maxRetryAfterMs`).
   */
  retryDelay(attempt: number, error: unknown): number | undefined {
    if (!(error instanceof FerryError) || !error.retryable || attempt >= this.options.maxAttempts) return undefined;
    const retryAfter = error instanceof ServiceNowHttpError ? error.retryAfterMs : undefined;
    if (retryAfter !== undefined && retryAfter > this.options.maxRetryAfterMs) return undefined;
    const window = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
    const backoff = Math.round(window / 2 + this.options.random() * (window / 2));
    return Math.max(backoff, retryAfter ?? 0);
  }

  pause(ms: number, signal?: AbortSignal): Promise<void> {
    return this.options.sleep(ms, signal);
  }

  private async retried<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const wait = this.retryDelay(attempt, e);
        if (wait === undefined) throw e;
        await this.pause(wait, signal);
      }
    }
  }

  /** One exchange (plus one more with a fresh token when ServiceNow refused a cached one); the `result` of a 2xx. */
  private async once(
    method: 'GET' | 'POST' | 'PATCH',
    table: string,
    sysId: string | undefined,
    search: Record<string, string>,
    body: Record<string, string> | undefined,
    call: Pick<CallContext, 'table' | 'target' | 'what'>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const { auth, instance, now } = this.options;
    const url = new URL(`api/now/table/${table}${sysId ? `/${sysId}` : ''}`, instance);
    for (const [k, v] of Object.entries(search)) url.searchParams.set(k, v);
    const ctx: CallContext = { ...call, origin: instance.origin, who: auth.who, authHint: auth.authHint, now };
    for (let fresh = false; ; fresh = true) {
      const authorization = await auth.authorization(signal);
      const answer = await timedFetch(this.options.fetch, url, {
        method,
        headers: { accept: 'application/json', authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }, { timeoutMs: this.options.timeoutMs, signal, what: call.what });
      if (answer.status === 401 && !fresh && auth.rejected(authorization)) continue;
      if (answer.status < 200 || answer.status > 299) throw tableApiError(answer, ctx);
      try {
        return (JSON.parse(answer.text) as { result?: unknown }).result;
      } catch {
        // A 2xx without its JSON (cut off, or a proxy's page): the server may have acted, so it is retryable.
        throw new ServiceNowHttpError('SERVER_ERROR', `ServiceNow (${instance.origin}) answered ${answer.status} without a readable body while ${call.what}.`, {
          status: answer.status, hint: 'This is worth retrying; check that SERVICENOW_INSTANCE_URL points at the instance itself, not a proxy or login page.',
        });
      }
    }
  }

  private record(result: unknown, what: string): ServiceNowRecord {
    if (result && typeof result === 'object' && !Array.isArray(result)) return result as ServiceNowRecord;
    throw new ServiceNowHttpError('SERVER_ERROR', `ServiceNow (${this.options.instance.origin}) answered without the record while ${what}.`, {
      status: 200, hint: 'This is worth retrying; check that no proxy strips the response body (X-no-response-body).',
    });
  }
}

/** A field's plain value: references come as strings with sysparm_exclude_reference_link, or as `{value}` without it. */
export function fieldValue(record: ServiceNowRecord, field: string): string {
  const v = record[field];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'string') return (v as { value: string }).value;
  return '';
}
