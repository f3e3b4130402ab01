import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, TicketingError } from '../../domain/errors';
import type { NewTicketPair, TicketApprovalState, TicketApprovals, TicketPair, TicketRef, Ticketing } from '../../ports/ticketing';
import { serviceNowAuth, type ServiceNowAuthOptions } from './serviceNowAuth';
import { ServiceNowClient, fieldValue, type ServiceNowRecord } from './serviceNowClient';
import { impactAndUrgency, mappedFields, type FieldMap } from './serviceNowFieldMap';
import type { FetchLike } from './serviceNowHttp';

export type { ServiceNowAuthOptions } from './serviceNowAuth';
export type { FieldMap } from './serviceNowFieldMap';

export interface ServiceNowTicketingOptions {
  /** https://<instance>.service-now.com (plain http only for a loopback address). */
  instanceUrl: string;
  auth: ServiceNowAuthOptions;
  /** Table of the requester's ticket. Default `incident`. */
  requestTable?: string;
  /** Table of the audit team's ticket. Default `incident`. */
  auditTable?: string;
  /** The audit team's assignment group, by name. Unset: the audit ticket is left to ServiceNow's assignment rules. */
  auditGroup?: string;
  /** Extra fields from request values (SERVICENOW_FIELD_MAP_FILE, parsed by serviceNowFieldMap). */
  fieldMap?: FieldMap;
  /** `state` and `close_code` when a request completes. Defaults '6' (Resolved), 'Solved (Permanently)'. */
  closeState?: string;
  closeCode?: string;
  /** `state` and `close_code` when a request fails or is cancelled. Defaults '7' (Closed), 'Closed/Resolved by Caller'. */
  failState?: string;
  failCloseCode?: string;
  /** Deadline of each HTTP exchange. Default 15000 ms. */
  timeoutMs?: number;
  /** Attempts per call, the first included. Default 4. */
  maxAttempts?: number;
  /** The longest Retry-After waited for; a longer one fails THROTTLED at once. Default 60000 ms. */
  maxRetryAfterMs?: number;
  fetch?: FetchLike;
  /** For tests: the pause between attempts, the jitter and the clock (token expiry). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** FileFerry's name in `correlation_display`; with `correlation_id` = the request ID it finds a ticket again. */
export const CORRELATION_DISPLAY = 'FileFerry';
const SHORT_DESCRIPTION_MAX = 160;
const RECORD_FIELDS = ['sys_id', 'number', 'assignment_group', 'description', 'parent'];
const GROUP_CACHE_MS = 10 * 60_000;

type Kind = 'request' | 'audit';
interface Created {
  sysId: string;
  number: string;
  description: string;
  parent: string;
}
interface Located {
  table: string;
  sysId: string;
}

/**
 * ServiceNow through the Table API (`/api/now/table/{table}`). `createPair` opens the requester's
 * record, then the audit team's, both with `correlation_id` = the request ID and
 * `correlation_display` = FileFerry; the audit record's `parent` is the request record (sent as
 * a sys_id, and PATCHed when an instance that matches display values only left it empty), and each
 * record's `description` ends with the other's number (the request record's by a PATCH once the
 * audit number exists). Work notes are `work_notes` journal entries; resolve and fail set
 * `state`, `close_code` and `close_notes` and add a closing work note.
 *
 * A POST is not idempotent, so each record is looked up by its correlation before it is created,
 * and again after any failure that may have reached the server (timeout, dropped connection, 5xx)
 * before it is sent again: the request record by `…^parentISEMPTY`, the audit one by
 * `…^parent=<request sys_id>`. A resubmitted request therefore reuses the tickets an earlier,
 * failed attempt left. Links are `<instance>/nav_to.do?uri=<table>.do?sys_id=<sys_id>`; the
 * sys_id is read back from the link (or the number is looked up when the link is not ours).
 *
 * Throws TicketingError: AUTH_FAILED / ACCESS_DENIED naming the integration user, INVALID_CONFIG
 * (unknown assignment group or table, refused fields), NOT_FOUND, and the retryable NETWORK /
 * TIMEOUT / THROTTLED / SERVER_ERROR once the attempts are used up. Secrets never reach a
 * message, a ticket or a link.
 */
export class ServiceNowTicketing implements Ticketing, TicketApprovals {
  private readonly instance: URL;
  private readonly client: ServiceNowClient;
  private readonly requestTable: string;
  private readonly auditTable: string;
  private readonly now: () => number;
  private readonly groups = new Map<string, number>();

  constructor(private readonly options: ServiceNowTicketingOptions) {
    this.instance = instanceUrl(options.instanceUrl);
    this.requestTable = tableName(options.requestTable ?? 'incident', 'SERVICENOW_REQUEST_TABLE');
    this.auditTable = tableName(options.auditTable ?? 'incident', 'SERVICENOW_AUDIT_TABLE');
    if (options.auditGroup) queryValue(options.auditGroup, () => new ConfigError(`SERVICENOW_AUDIT_GROUP "${options.auditGroup}" cannot be looked up.`, 'Give the group name without ^ or line breaks.'));
    if (options.auth.kind === 'basic' && (!options.auth.username || options.auth.username.includes(':'))) {
      throw new ConfigError('SERVICENOW_USERNAME must be a ServiceNow user name without ":".', 'Set SERVICENOW_USERNAME to the integration user (User ID in ServiceNow).');
    }
    if (options.auth.kind === 'oauth' && !options.auth.clientId) throw new ConfigError('SERVICENOW_CLIENT_ID is empty.', 'Set it to the Client ID of the OAuth application registry entry.');
    const timeoutMs = options.timeoutMs ?? 15_000;
    if (!(timeoutMs > 0)) throw new ConfigError(`The ServiceNow timeout must be positive (got ${timeoutMs}).`, 'Leave it unset for 15 s.');
    this.now = options.now ?? Date.now;
    const fetchFn: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
    this.client = new ServiceNowClient({
      instance: this.instance,
      auth: serviceNowAuth(options.auth, { instance: this.instance, fetch: fetchFn, timeoutMs, now: this.now }),
      fetch: fetchFn,
      timeoutMs,
      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
      now: this.now,
    });
  }

  async createPair(input: NewTicketPair, signal?: AbortSignal): Promise<TicketPair> {
    const id = queryValue(input.requestId, () => new TicketingError('INVALID_CONFIG', `The request ID ${JSON.stringify(input.requestId)} cannot be used as a correlation ID.`, { hint: 'Report this: request IDs are generated by FileFerry.' }));
    await this.checkGroup(input.assignmentGroup, 'FILEFERRY_ASSIGNMENT_GROUPS', signal);
    if (this.options.auditGroup) await this.checkGroup(this.options.auditGroup, 'SERVICENOW_AUDIT_GROUP', signal);
    const correlation = `correlation_id=${id}^correlation_display=${CORRELATION_DISPLAY}`;
    const footer = `FileFerry request: ${input.requestId}`;

    const user = await this.ensure('request', this.requestTable, {
      ...this.common(input, 'request'),
      short_description: clip(input.summary, SHORT_DESCRIPTION_MAX),
      description: `${input.description}\n\n${footer}`,
      assignment_group: input.assignmentGroup,
    }, `${correlation}^parentISEMPTY`, input.requestId, signal);

    const audit = await this.ensure('audit', this.auditTable, {
      ...this.common(input, 'audit'),
      short_description: clip(`Audit: ${input.summary}`, SHORT_DESCRIPTION_MAX),
      description: `${input.description}\n\n${footer}\nRequest ticket: ${user.number}`,
      ...(this.options.auditGroup ? { assignment_group: this.options.auditGroup } : {}),
      parent: user.sysId,
    }, `${correlation}^parent=${user.sysId}`, input.requestId, signal);
    if (audit.parent !== user.sysId) {
      // An instance that takes display values only (no sys_id) in references left parent empty; the raw value always works.
      await this.client.patch(this.auditTable, audit.sysId, { parent: user.sysId }, ['sys_id'], `linking ${audit.number} to ${user.number}`, signal);
    }

    if (!user.description.includes(`Audit ticket: ${audit.number}`)) {
      await this.client.patch(this.requestTable, user.sysId, { description: `${input.description}\n\n${footer}\nAudit ticket: ${audit.number}` }, ['sys_id'],
        `naming the audit ticket ${audit.number} on ${user.number}`, signal);
    }
    return { user: this.ref(this.requestTable, user), audit: this.ref(this.auditTable, audit) };
  }

  async addWorkNote(ticket: TicketRef, note: string, signal?: AbortSignal): Promise<void> {
    const at = await this.locate(ticket, signal);
    await this.client.patch(at.table, at.sysId, { work_notes: note }, ['sys_id'], `adding a work note to ${ticket.number}`, signal);
  }

  async resolve(ticket: TicketRef, note: string, signal?: AbortSignal): Promise<void> {
    const at = await this.locate(ticket, signal);
    await this.client.patch(at.table, at.sysId, {
      state: this.options.closeState ?? '6',
      close_code: this.options.closeCode ?? 'Solved (Permanently)',
      close_notes: note,
      work_notes: `Resolved: ${note}`,
    }, ['sys_id'], `resolving ${ticket.number}`, signal);
  }

  async fail(ticket: TicketRef, note: string, signal?: AbortSignal): Promise<void> {
    const at = await this.locate(ticket, signal);
    await this.client.patch(at.table, at.sysId, {
      state: this.options.failState ?? '7',
      close_code: this.options.failCloseCode ?? 'Closed/Resolved by Caller',
      close_notes: note,
      work_notes: `Closed as failed: ${note}`,
    }, ['sys_id'], `closing ${ticket.number} as failed`, signal);
  }

  /**
   * Asks for an approval on the requester's record: its `approval` field becomes `requested`, which
   * is what starts an instance's approval rules (and what an approver sees in their list). The
   * integration user needs write access to `approval` on the request table.
   */
  async requestApproval(ticket: TicketRef, signal?: AbortSignal): Promise<void> {
    const at = await this.locate(ticket, signal);
    await this.client.patch(at.table, at.sysId, { approval: 'requested' }, ['sys_id'], `asking for approval on ${ticket.number}`, signal);
  }

  /**
   * The record's `approval` field as it stands now, and who decided. The decider is read from the
   * approval record (`sysapproval_approver`) when the integration user may read it. Otherwise it is
   * the record's last updater, unless that is the user who created the record: FileFerry's own
   * work notes update the record too, and must never be named as the approver.
   */
  async approvalOf(ticket: TicketRef, signal?: AbortSignal): Promise<TicketApprovalState> {
    const at = await this.locate(ticket, signal);
    const [found] = await this.client.list(at.table, `sys_id=${at.sysId}`, { fields: ['sys_id', 'approval', 'sys_updated_by', 'sys_created_by'], limit: 1 }, `reading the approval of ${ticket.number}`, signal);
    if (!found) throw new TicketingError('NOT_FOUND', `ServiceNow has no ticket ${ticket.number} any more.`, { hint: 'The ticket may have been deleted in ServiceNow; start a new request.' });
    const value = fieldValue(found, 'approval');
    const known = ['not requested', 'requested', 'approved', 'rejected', 'cancelled'] as const;
    const state = (known as readonly string[]).includes(value) ? (value as TicketApprovalState['state']) : 'other';
    if (state !== 'approved' && state !== 'rejected') return { state };
    const updater = fieldValue(found, 'sys_updated_by');
    const by = (await this.decider(at.sysId, state, signal)) ?? (updater && updater !== fieldValue(found, 'sys_created_by') ? updater : undefined);
    return { state, ...(by ? { by } : {}) };
  }

  /** The user name on the newest approval record of `state` for the task, if it can be read. */
  private async decider(sysId: string, state: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const [approval] = await this.client.list('sysapproval_approver', `sysapproval=${sysId}^state=${state}^ORDERBYDESCsys_updated_on`, { fields: ['approver.user_name'], limit: 1 }, 'reading who decided the approval', signal);
      return (approval && fieldValue(approval, 'approver.user_name')) || undefined;
    } catch (e) {
      // No read access to approval records (or no such table on this instance): the decision
      // itself is on the task, so it still counts; only the name falls back.
      if (signal?.aborted) throw e;
      return undefined;
    }
  }

  /** The record of this kind for the request: found by its correlation, or created; looked up again after an answer that may have been lost. */
  private async ensure(kind: Kind, table: string, body: Record<string, string>, query: string, requestId: string, signal?: AbortSignal): Promise<Created> {
    for (let attempt = 1; ; attempt++) {
      const [found] = await this.client.list(table, `${query}^ORDERBYsys_created_on`, { fields: RECORD_FIELDS, limit: 1 }, `looking up the ${kind} ticket of ${requestId} in ${table}`, signal);
      if (found) return this.created(found, table, kind);
      let record: ServiceNowRecord;
      try {
        record = await this.client.insertOnce(table, body, RECORD_FIELDS, `creating the ${kind} ticket of ${requestId} in ${table}`, signal);
      } catch (e) {
        const wait = this.client.retryDelay(attempt, e);
        if (wait === undefined) throw e;
        await this.client.pause(wait, signal);
        continue;
      }
      const made = this.created(record, table, kind);
      if (body.assignment_group && !fieldValue(record, 'assignment_group')) {
        throw new TicketingError('INVALID_CONFIG', `ServiceNow created the ${kind} ticket ${made.number} without the assignment group "${body.assignment_group}": the group name matched no group it would assign.`, {
          hint: `Check that "${body.assignment_group}" is the exact name of an active group in ServiceNow, then assign ${made.number} by hand.`,
        });
      }
      return made;
    }
  }

  private created(record: ServiceNowRecord, table: string, kind: Kind): Created {
    const sysId = fieldValue(record, 'sys_id');
    const number = fieldValue(record, 'number');
    if (!/^[0-9a-f]{32}$/.test(sysId)) {
      throw new TicketingError('SERVER_ERROR', `ServiceNow answered for the ${kind} ticket in ${table} without a sys_id.`, { hint: 'Check that no proxy or scripted REST override changes Table API answers.', retryable: false });
    }
    if (!number) {
      throw new TicketingError('INVALID_CONFIG', `The ${table} table gave the ${kind} ticket no number.`, { hint: `Use a task table with a number field (incident, sc_request …) in ${kind === 'request' ? 'SERVICENOW_REQUEST_TABLE' : 'SERVICENOW_AUDIT_TABLE'}.` });
    }
    return { sysId, number, description: fieldValue(record, 'description'), parent: fieldValue(record, 'parent') };
  }

  /** The group must exist by that exact name before anything is created (no ticket is left unassigned). */
  private async checkGroup(name: string, variable: string, signal?: AbortSignal): Promise<void> {
    const at = this.groups.get(name);
    if (at !== undefined && this.now() - at < GROUP_CACHE_MS) return;
    const unknown = (): TicketingError => new TicketingError('INVALID_CONFIG', `ServiceNow has no assignment group named "${name}".`, {
      hint: `Check ${variable}: each group must exist in ServiceNow (User Administration > Groups) under exactly that name.`,
    });
    const value = queryValue(name, unknown);
    const [group] = await this.client.list('sys_user_group', `name=${value}`, { fields: ['sys_id', 'name'], limit: 1 }, `looking up the assignment group "${name}"`, signal);
    if (!group) throw unknown();
    this.groups.set(name, this.now());
  }

  private ref(table: string, record: { sysId: string; number: string }): TicketRef {
    return { number: record.number, url: `${this.instance.href}nav_to.do?uri=${table}.do?sys_id=${record.sysId}` };
  }

  /** Table and sys_id from the ticket's link; by its number when the link is not one of ours. */
  private async locate(ticket: TicketRef, signal?: AbortSignal): Promise<Located> {
    const fromLink = this.parseLink(ticket.url);
    if (fromLink) return fromLink;
    const missing = (): TicketingError => new TicketingError('NOT_FOUND', `ServiceNow has no ticket ${ticket.number} in ${[...new Set([this.requestTable, this.auditTable])].join(' or ')}.`, {
      hint: 'Check the ticket number; the ticket may have been deleted in ServiceNow.',
    });
    if (!/^[A-Za-z0-9_.-]+$/.test(ticket.number)) throw missing();
    for (const table of new Set([this.requestTable, this.auditTable])) {
      const [found] = await this.client.list(table, `number=${ticket.number}`, { fields: ['sys_id', 'number'], limit: 1 }, `looking up ${ticket.number} in ${table}`, signal);
      const sysId = found && fieldValue(found, 'sys_id');
      if (sysId) return { table, sysId };
    }
    throw missing();
  }

  private parseLink(link: string): Located | undefined {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      return undefined;
    }
    if (url.origin !== this.instance.origin || url.pathname !== `${this.instance.pathname}nav_to.do`) return undefined;
    const match = /^([a-z0-9_]+)\.do\?sys_id=([0-9a-f]{32})$/.exec(url.searchParams.get('uri') ?? '');
    if (!match || (match[1] !== this.requestTable && match[1] !== this.auditTable)) return undefined;
    return { table: match[1], sysId: match[2]! };
  }

  private common(input: NewTicketPair, kind: Kind): Record<string, string> {
    const { impact, urgency } = impactAndUrgency(input.priority);
    return {
      ...mappedFields(this.options.fieldMap, kind, {
        requestId: input.requestId, requesterId: input.requester.id, requesterName: input.requester.name, summary: input.summary,
        assignmentGroup: input.assignmentGroup, priority: input.priority, impact, urgency, environment: input.environment, kind,
      }),
      correlation_id: input.requestId,
      correlation_display: CORRELATION_DISPLAY,
    };
  }
}

/** The instance's base URL, ending in `/`: https, or http on a loopback address (tests, a local tunnel). */
function instanceUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`SERVICENOW_INSTANCE_URL "${raw}" is not a URL.`, 'Set it to https://<instance>.service-now.com.');
  }
  if (url.username || url.password) {
    throw new ConfigError('SERVICENOW_INSTANCE_URL must not carry a user name or password.', 'Remove them from the URL; give the credentials through SERVICENOW_USERNAME and SERVICENOW_PASSWORD_REF.');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(`SERVICENOW_INSTANCE_URL must use https (got ${url.protocol}//${url.host}).`, 'Set it to https://<instance>.service-now.com.');
  }
  if (url.search || url.hash) throw new ConfigError(`SERVICENOW_INSTANCE_URL ${url.origin}${url.pathname} must not have a query or fragment.`, 'Set it to the instance address only.');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function tableName(table: string, variable: string): string {
  if (!/^[a-z0-9_]+$/.test(table)) throw new ConfigError(`${variable} "${table}" is not a ServiceNow table name.`, 'Use the table name (incident, sc_request, x_acme_transfer), not its label.');
  return table;
}

/** A value for an encoded query: `^` and line breaks would change the query, so they are refused. */
function queryValue(value: string, refuse: () => Error): string {
  if (!value || /[\^\r\n]/.test(value)) throw refuse();
  return value;
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    throw new TicketingError('CANCELLED', 'The call to ServiceNow was cancelled while waiting to retry.', { hint: 'Start the action again when you are ready.' });
  }
}
