import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, TicketingError } from '../../domain/errors';
import type { IncidentRef, Incidents, NewIncident } from '../../ports/incidents';
import { serviceNowAuth, type ServiceNowAuthOptions } from './serviceNowAuth';
import { ServiceNowClient, fieldValue } from './serviceNowClient';
import type { FetchLike } from './serviceNowHttp';

export interface ServiceNowIncidentsOptions {
  instanceUrl: string;
  auth: ServiceNowAuthOptions;
  /** Default `incident`. */
  table?: string;
  /** Assignment group by name; unset leaves it to ServiceNow's assignment rules. */
  assignmentGroup?: string;
  timeoutMs?: number;
  fetch?: FetchLike;
}

const DISPLAY = 'FileFerry push';
const FIELDS = ['sys_id', 'number'];

/**
 * Push-mode incidents in ServiceNow through the Table API, with the same client (auth, retries,
 * error mapping) as the request tickets. Idempotent by `correlation_id`: the incident is looked
 * up before it is created, and again after a failure that may have reached the instance, so a
 * restart or a lost reply never opens a second one.
 */
export class ServiceNowIncidents implements Incidents {
  private readonly client: ServiceNowClient;
  private readonly instance: URL;
  private readonly table: string;

  constructor(private readonly options: ServiceNowIncidentsOptions) {
    this.instance = new URL(options.instanceUrl.endsWith('/') ? options.instanceUrl : `${options.instanceUrl}/`);
    this.table = options.table ?? 'incident';
    if (!/^[a-z0-9_]+$/.test(this.table)) throw new ConfigError(`The incident table "${this.table}" is not a table name.`, 'Use the table\'s name, such as incident.');
    const timeoutMs = options.timeoutMs ?? 15_000;
    const fetchFn: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
    this.client = new ServiceNowClient({
      instance: this.instance,
      auth: serviceNowAuth(options.auth, { instance: this.instance, fetch: fetchFn, timeoutMs, now: Date.now }),
      fetch: fetchFn,
      timeoutMs,
      maxAttempts: 4,
      maxRetryAfterMs: 60_000,
      sleep: (ms, signal) => delay(ms, undefined, { signal }),
      random: Math.random,
      now: Date.now,
    });
  }

  async open(incident: NewIncident, signal?: AbortSignal): Promise<IncidentRef> {
    if (!/^[A-Za-z0-9:._-]{1,100}$/.test(incident.correlationId)) {
      throw new TicketingError('INVALID_CONFIG', `The correlation ID ${JSON.stringify(incident.correlationId)} cannot be used in a ServiceNow query.`, { hint: 'Report this: push mode generates these IDs.' });
    }
    const query = `correlation_id=${incident.correlationId}^correlation_display=${DISPLAY}`;
    const found = await this.find(query, signal);
    if (found) return found;
    const priority = incident.priority ?? '3';
    const body: Record<string, string> = {
      short_description: incident.summary.slice(0, 160),
      description: incident.description,
      correlation_id: incident.correlationId,
      correlation_display: DISPLAY,
      impact: priority <= '2' ? '2' : '3',
      urgency: priority <= '2' ? '1' : '2',
      ...(this.options.assignmentGroup ? { assignment_group: this.options.assignmentGroup } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return this.ref(await this.client.insertOnce(this.table, body, FIELDS, 'opening a push incident', signal));
      } catch (e) {
        const wait = this.client.retryDelay(attempt, e);
        if (wait === undefined) throw e;
        await this.client.pause(wait, signal);
        // The POST may have been stored before its reply was lost.
        const again = await this.find(query, signal);
        if (again) return again;
      }
    }
  }

  private async find(query: string, signal?: AbortSignal): Promise<IncidentRef | undefined> {
    const records = await this.client.list(this.table, query, { fields: FIELDS, limit: 1 }, 'looking up a push incident', signal);
    return records[0] ? this.ref(records[0]) : undefined;
  }

  private ref(record: Record<string, unknown>): IncidentRef {
    const number = fieldValue(record, 'number');
    const sysId = fieldValue(record, 'sys_id');
    if (!number) throw new TicketingError('SERVER_ERROR', 'ServiceNow answered without the incident number.', { hint: 'Check the integration user may read the number field.' });
    return { number, ...(sysId ? { url: new URL(`nav_to.do?uri=${this.table}.do?sys_id=${sysId}`, this.instance).toString() } : {}) };
  }
}
