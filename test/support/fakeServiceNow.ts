import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A ServiceNow instance as far as FileFerry uses it, speaking the real wire protocol
 * (../shared/PROTOCOLS.md §3): the Table API at `/api/now/table/{table}` (also `/api/now/v2/…`)
 * and `/oauth_token.do`, over HTTP on 127.0.0.1.
 *
 * - Tables are in memory, keyed by 32-hex `sys_id`; task tables (incident INC…, sc_request REQ…,
 *   problem PRB…) number records from 0010001. Every value is a string; reference fields
 *   (assignment_group, caller_id, parent, assigned_to, opened_by) hold a sys_id and read back as
 *   `{link, value}`, or the bare sys_id with `sysparm_exclude_reference_link=true`; empty ones read `""`.
 * - POST answers 201 with a Location header and `{"result":{…}}`; GET one and PATCH answer 200
 *   `{"result":{…}}`; GET list `{"result":[…]}` with X-Total-Count. `sysparm_query` understands
 *   `=`, `!=`, `LIKE`, `NOT LIKE`, `STARTSWITH`, `ENDSWITH`, `ISEMPTY`, `ISNOTEMPTY`, `^` (and),
 *   `^OR`, `ORDERBY`/`ORDERBYDESC`; a part it cannot read is ignored, as ServiceNow does.
 *   `sysparm_fields`, `sysparm_limit`, `sysparm_offset` work as documented.
 * - `sysparm_input_display_value=true` lets a reference be given by display value (a group's or
 *   user's name, a task's number) or sys_id (unless `sysIdAsDisplayValue` is false). A name that matches nothing leaves the field empty
 *   and the insert still succeeds (201): that is what an instance does with an unknown group name,
 *   which is why FileFerry checks sys_user_group first. Without the flag the value is stored as given.
 * - On incident, `priority` is computed from `impact` × `urgency` (defaults 3/3), as the default
 *   priority lookup rule does, and `state` 6 or 7 needs `close_code` and `close_notes` (the
 *   "close info mandatory" data policy, answered 403 "Data Policy Exception").
 * - Task records carry `approval` (`not requested` until FileFerry asks with `requested`); the
 *   test hook `setApproval` plays an approver deciding in ServiceNow: the task's `approval` and
 *   `sys_updated_by` change, and a `sysapproval_approver` record (state, `sysapproval` = the task)
 *   holds the decider, whose dot-walked `approver.user_name` is stored flat, as the API returns it.
 * - `work_notes` and `comments` are journal inputs: writing one appends a journal entry (see
 *   `journal`) and the field reads back `""`.
 * - An unknown table answers 400 `Invalid table <name>`; a missing record 404 "No Record found".
 *   Errors are `{"error":{"message","detail"},"status":"failure"}`.
 * - Authentication: Basic for the users given, or `Authorization: Bearer` with a token from
 *   `/oauth_token.do` (form-encoded `password`, `client_credentials` or `refresh_token` grant;
 *   answer `{access_token, refresh_token?, scope, token_type, expires_in}`). A token is refused
 *   once its `expires_in` has passed on the fake's clock. Anything else: 401 "User Not Authenticated".
 * - Faults, scripted per request (`failNext`): an HTTP status (429 with Retry-After and the
 *   X-RateLimit-* headers, 500, 401 …), `acceptThenDrop` (the request is carried out, then the
 *   connection is closed before any answer), `drop` (closed unanswered, not carried out), `stall`
 *   (never answered).
 * - `requests` records what was asked, when by the fake's clock, as whom and how it ended, with
 *   passwords, secrets and tokens left out, so a failing assertion never prints one.
 */
export interface FakeServiceNowOptions {
  /** Basic-auth users and their passwords (also the users of the password grant). */
  users?: Record<string, string>;
  /** OAuth clients: secret, and the OAuth Application User for the client-credentials grant. */
  oauthClients?: Record<string, { secret: string; applicationUser?: string }>;
  /** Assignment groups (sys_user_group names) that exist. Default: DataOps, DevOps, Infrastructure, Audit. */
  groups?: string[];
  /** People in sys_user, by name (for caller_id by display value). */
  people?: string[];
  /** `expires_in` of the access tokens it issues. Default 1799. */
  tokenLifetimeSeconds?: number;
  /** The fake's clock (request times, token expiry, sys_created_on). Default Date.now. */
  now?: () => number;
  /**
   * Whether a sys_id is accepted where `sysparm_input_display_value=true` expects a display value
   * (default true). False plays an instance that matches display values only.
   */
  sysIdAsDisplayValue?: boolean;
  /** Where to record every access and refresh token issued (default: a new array, `issuedTokens`). */
  issuedTokens?: string[];
}

export interface ServiceNowFault {
  /** Answer with this HTTP status and a ServiceNow error body. */
  status?: number;
  /** With status 429 (or 503): the Retry-After header, in seconds. */
  retryAfter?: number;
  /**
   * How the connection ends instead: `acceptThenDrop` carries the request out, then closes the
   * connection unanswered; `acceptThenStall` carries it out and never answers; `drop` closes it
   * unanswered and `stall` never answers, neither carrying it out.
   */
  connection?: 'acceptThenDrop' | 'acceptThenStall' | 'drop' | 'stall';
  /** Which requests the fault is for. Default: the next request of any kind. */
  when?: (request: SeenServiceNowRequest) => boolean;
}

export interface SeenServiceNowRequest {
  method: string;
  /** The path without the query: `/api/now/table/incident`, `/oauth_token.do`. */
  path: string;
  table?: string;
  sysId?: string;
  query: Record<string, string>;
  /** The JSON body, or the form of a token request with password, client_secret and tokens removed. */
  body?: unknown;
  /** `basic:<user>`, `bearer:<user>`, `bearer:expired`, `bearer:unknown`, `basic:refused`, `none`. */
  auth: string;
  /** The fake's clock when the request arrived. */
  at: number;
  /** The status answered, or how the connection ended. */
  outcome?: number | 'dropped' | 'stalled';
}

export interface JournalEntry {
  table: string;
  sysId: string;
  element: 'work_notes' | 'comments';
  value: string;
  by: string;
  at: number;
}

type Row = Record<string, string>;

const TASK_PREFIX: Record<string, string> = { incident: 'INC', sc_request: 'REQ', problem: 'PRB' };
const REFERENCES: Record<string, string> = { assignment_group: 'sys_user_group', caller_id: 'sys_user', assigned_to: 'sys_user', opened_by: 'sys_user', parent: 'task' };
const JOURNAL = new Set(['work_notes', 'comments']);
const PRIORITY: Record<string, string> = { '11': '1', '12': '2', '21': '2', '13': '3', '22': '3', '31': '3', '23': '4', '32': '4', '33': '5' };
const SECRET_FORM_FIELDS = new Set(['password', 'client_secret', 'refresh_token']);

export class FakeServiceNow {
  readonly requests: SeenServiceNowRequest[] = [];
  readonly journalEntries: JournalEntry[] = [];
  /** Every access and refresh token issued, for "no token leaked" checks. */
  readonly issuedTokens: string[];
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly counters = new Map<string, number>();
  private readonly faults: ServiceNowFault[] = [];
  private readonly tokens = new Map<string, { user: string; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, { user: string; clientId: string }>();
  private readonly stalled = new Set<ServerResponse>();
  private readonly users: Record<string, string>;
  private readonly clients: Record<string, { secret: string; applicationUser?: string }>;
  readonly now: () => number;
  /** See FakeServiceNowOptions.sysIdAsDisplayValue; tests may change it. */
  sysIdAsDisplayValue: boolean;
  /** `expires_in` of the next tokens; tests may change it. */
  tokenLifetimeSeconds: number;

  private constructor(private readonly server: Server, readonly port: number, options: FakeServiceNowOptions) {
    this.users = { ...options.users };
    this.clients = { ...options.oauthClients };
    this.now = options.now ?? Date.now;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 1799;
    this.issuedTokens = options.issuedTokens ?? [];
    this.sysIdAsDisplayValue = options.sysIdAsDisplayValue ?? true;
    for (const table of ['incident', 'sc_request', 'problem', 'sys_user_group', 'sys_user', 'sysapproval_approver']) this.tables.set(table, new Map());
    for (const name of options.groups ?? ['DataOps', 'DevOps', 'Infrastructure', 'Audit']) this.addGroup(name);
    for (const name of options.people ?? []) this.insertRow('sys_user', { name, user_name: name.toLowerCase().replace(/\s+/g, '.') });
  }

  static async start(options: FakeServiceNowOptions = {}): Promise<FakeServiceNow> {
    let fake!: FakeServiceNow;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => fake.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeServiceNow(server, (server.address() as { port: number }).port, options);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queues a fault for the next `times` requests it matches (faults are tried in the order queued). */
  failNext(fault: ServiceNowFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  /** Empties every table except users and groups, the journal, the request log and the fault queue. */
  reset(): void {
    for (const table of [...Object.keys(TASK_PREFIX), 'sysapproval_approver']) this.tables.get(table)!.clear();
    this.journalEntries.length = 0;
    this.requests.length = 0;
    this.faults.length = 0;
    this.sysIdAsDisplayValue = true;
  }

  addGroup(name: string): string {
    return this.insertRow('sys_user_group', { name, active: 'true' }).sys_id!;
  }

  /** Deletes a group (a rename in ServiceNow looks the same to a client holding the old name). */
  removeGroup(name: string): void {
    const groups = this.tables.get('sys_user_group')!;
    for (const [sysId, row] of groups) if (row.name === name) groups.delete(sysId);
  }

  /** Revokes every access token issued so far (refresh tokens stay valid). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** The stored rows of a table (references as sys_ids, journal fields not included). */
  rows(table: string): Row[] {
    return [...(this.tables.get(table)?.values() ?? [])].map((r) => ({ ...r }));
  }

  /** The stored row with this number, in whichever task table holds it. */
  byNumber(number: string): (Row & { table: string }) | undefined {
    for (const table of Object.keys(TASK_PREFIX)) {
      const row = [...this.tables.get(table)!.values()].find((r) => r.number === number);
      if (row) return { ...row, table };
    }
    return undefined;
  }

  /** The journal of a record (work notes by default), oldest first. */
  journal(sysId: string, element: 'work_notes' | 'comments' = 'work_notes'): string[] {
    return this.journalEntries.filter((e) => e.sysId === sysId && e.element === element).map((e) => e.value);
  }

  /**
   * Plays an approver deciding in ServiceNow: sets the task's `approval` field (`approved`,
   * `rejected` …) as that user, as the approval engine does when the last approver acts.
   */
  setApproval(number: string, approval: string, by = 'approver.admin'): void {
    for (const table of Object.keys(TASK_PREFIX)) {
      const row = [...this.tables.get(table)!.values()].find((r) => r.number === number);
      if (!row) continue;
      Object.assign(row, { approval, sys_updated_by: by, sys_updated_on: stamp(this.now()), sys_mod_count: String(Number(row.sys_mod_count ?? 0) + 1) });
      this.insertRow('sysapproval_approver', { sysapproval: row.sys_id!, state: approval, 'approver.user_name': by }, by);
      return;
    }
    throw new Error(`The fake ServiceNow has no task ${number}.`);
  }

  /** A group's name from its sys_id ('' when none). */
  groupName(sysId: string): string {
    return this.tables.get('sys_user_group')!.get(sysId)?.name ?? '';
  }

  // ---------------------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', this.url);
    const seen: SeenServiceNowRequest = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), auth: 'none', at: this.now() };
    const table = /^\/api\/now\/(?:v[12]\/)?table\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (table) {
      seen.table = decodeURIComponent(table[1]!);
      if (table[2]) seen.sysId = decodeURIComponent(table[2]);
    }
    const form = url.pathname === '/oauth_token.do' ? new URLSearchParams(text) : undefined;
    if (form) seen.body = Object.fromEntries([...form].filter(([k]) => !SECRET_FORM_FIELDS.has(k)));
    else if (text) seen.body = safeJson(text);
    seen.auth = this.who(req.headers.authorization);
    this.requests.push(seen);

    const index = this.faults.findIndex((f) => !f.when || f.when(seen));
    const fault = index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
    if (fault?.connection === 'drop') return this.drop(seen, res);
    if (fault?.connection === 'stall') {
      seen.outcome = 'stalled';
      this.stalled.add(res);
      return;
    }
    if (fault?.status) return this.faultAnswer(seen, res, fault);

    const answer = form ? this.token(form) : table ? this.tableApi(req, seen, url, text) : error(400, 'Requested URI does not represent any resource', url.pathname);
    if (fault?.connection === 'acceptThenDrop') return this.drop(seen, res);
    if (fault?.connection === 'acceptThenStall') {
      seen.outcome = 'stalled';
      this.stalled.add(res);
      return;
    }
    seen.outcome = answer.status;
    res.writeHead(answer.status, { 'content-type': 'application/json;charset=UTF-8', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private drop(seen: SeenServiceNowRequest, res: ServerResponse): void {
    seen.outcome = 'dropped';
    res.socket?.destroy();
  }

  private faultAnswer(seen: SeenServiceNowRequest, res: ServerResponse, fault: ServiceNowFault): void {
    const status = fault.status!;
    const headers: Record<string, string> = { 'content-type': 'application/json;charset=UTF-8' };
    let body = error(status, status === 401 ? 'User Not Authenticated' : status === 429 ? 'Rate limit exceeded' : 'Internal server error',
      status === 401 ? 'Required to provide Auth information' : status === 429 ? 'Rate limit of 10 requests per hour for Table API exceeded' : 'The transaction failed').body;
    if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
    if (status === 429) {
      headers['x-ratelimit-limit'] = '10';
      headers['x-ratelimit-reset'] = String(Math.floor(this.now() / 1000) + (fault.retryAfter ?? 3600));
      headers['x-ratelimit-rule'] = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    }
    if (seen.path === '/oauth_token.do') body = { error: status === 401 ? 'access_denied' : 'server_error', error_description: status === 401 ? 'access_denied' : 'temporarily unavailable' };
    seen.outcome = status;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  }

  /** Who the Authorization header names, checked. */
  private who(header: string | undefined): string {
    if (!header) return 'none';
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      return colon > 0 && this.users[user] !== undefined && this.users[user] === decoded.slice(colon + 1) ? `basic:${user}` : 'basic:refused';
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const token = this.tokens.get(value);
      if (!token) return 'bearer:unknown';
      return this.now() >= token.expiresAt ? 'bearer:expired' : `bearer:${token.user}`;
    }
    return 'none';
  }

  private token(form: URLSearchParams): Answer {
    const refused = { status: 401, body: { error: 'access_denied', error_description: 'access_denied' } };
    const client = this.clients[form.get('client_id') ?? ''];
    if (!client || client.secret !== form.get('client_secret')) return refused;
    let user: string | undefined;
    let refresh = true;
    const grant = form.get('grant_type');
    if (grant === 'password') {
      const name = form.get('username') ?? '';
      if (this.users[name] === undefined || this.users[name] !== form.get('password')) return refused;
      user = name;
    } else if (grant === 'client_credentials') {
      if (!client.applicationUser) return refused;
      user = client.applicationUser;
      refresh = false;
    } else if (grant === 'refresh_token') {
      const known = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!known || known.clientId !== form.get('client_id')) return refused;
      user = known.user;
      refresh = false; // the same refresh token stays valid
    } else {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: String(grant) } };
    }
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { user, expiresAt: this.now() + this.tokenLifetimeSeconds * 1000 });
    this.issuedTokens.push(accessToken);
    const body: Record<string, unknown> = { access_token: accessToken, scope: 'useraccount', token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds };
    if (refresh) {
      const refreshToken = randomBytes(32).toString('base64url');
      this.refreshTokens.set(refreshToken, { user, clientId: form.get('client_id')! });
      this.issuedTokens.push(refreshToken);
      body.refresh_token = refreshToken;
    } else if (grant === 'refresh_token') {
      body.refresh_token = form.get('refresh_token');
    }
    return { status: 200, body };
  }

  private tableApi(req: IncomingMessage, seen: SeenServiceNowRequest, url: URL, text: string): Answer {
    if (!/^(basic|bearer):/.test(seen.auth) || ['basic:refused', 'bearer:unknown', 'bearer:expired'].includes(seen.auth)) {
      return { ...error(401, 'User Not Authenticated', 'Required to provide Auth information'), headers: { 'www-authenticate': 'BASIC realm="Service-now"' } };
    }
    const user = seen.auth.split(':')[1]!;
    const name = seen.table!;
    const rows = this.tables.get(name);
    if (!rows) return error(400, `Invalid table ${name}`, null);
    const params = url.searchParams;
    const method = req.method ?? 'GET';

    if (method === 'GET' && !seen.sysId) {
      const matched = select([...rows.values()], params.get('sysparm_query') ?? '');
      const offset = Number(params.get('sysparm_offset') ?? 0) || 0;
      const limit = Number(params.get('sysparm_limit') ?? 10000) || 10000;
      return { status: 200, headers: { 'x-total-count': String(matched.length) }, body: { result: matched.slice(offset, offset + limit).map((r) => this.render(name, r, params)) } };
    }
    if (method === 'GET') {
      const row = rows.get(seen.sysId!);
      return row ? { status: 200, body: { result: this.render(name, row, params) } } : noRecord();
    }
    const body = seen.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return error(400, 'Exception while reading request', 'The payload is not valid JSON.');
    const display = params.get('sysparm_input_display_value') === 'true';
    if (method === 'POST' && !seen.sysId) {
      const row = this.insertRow(name, {}, user);
      const refused = this.write(name, row, body as Record<string, unknown>, display, user);
      if (refused) {
        rows.delete(row.sys_id!);
        return refused;
      }
      return { status: 201, headers: { location: `${this.url}/api/now/table/${name}/${row.sys_id}` }, body: { result: this.render(name, row, params) } };
    }
    if ((method === 'PATCH' || method === 'PUT') && seen.sysId) {
      const row = rows.get(seen.sysId);
      if (!row) return noRecord();
      const before = { ...row };
      const refused = this.write(name, row, body as Record<string, unknown>, display, user);
      if (refused) {
        Object.assign(row, before);
        return refused;
      }
      row.sys_mod_count = String(Number(row.sys_mod_count ?? 0) + 1);
      row.sys_updated_on = stamp(this.now());
      row.sys_updated_by = user;
      return { status: 200, body: { result: this.render(name, row, params) } };
    }
    return error(405, 'Method not Supported', `${method} is not supported for this resource`);
  }

  private insertRow(table: string, fields: Row, by = 'system'): Row {
    const sysId = randomBytes(16).toString('hex');
    const now = stamp(this.now());
    const row: Row = { sys_id: sysId, sys_created_on: now, sys_updated_on: now, sys_created_by: by, sys_updated_by: by, sys_mod_count: '0', ...fields };
    const prefix = TASK_PREFIX[table];
    if (prefix) {
      const n = (this.counters.get(table) ?? 10000) + 1;
      this.counters.set(table, n);
      Object.assign(row, { number: `${prefix}${String(n).padStart(7, '0')}`, state: '1', active: 'true', approval: 'not requested', opened_at: now, impact: '3', urgency: '3', priority: '5', correlation_id: '', correlation_display: '' });
    }
    this.tables.get(table)!.set(sysId, row);
    return row;
  }

  /** Applies a POST/PATCH body; an error answer when the instance would refuse it. */
  private write(table: string, row: Row, body: Record<string, unknown>, display: boolean, by: string): Answer | undefined {
    const notes: Array<[JournalEntry['element'], string]> = [];
    for (const [field, raw] of Object.entries(body)) {
      if (['sys_id', 'number', 'sys_created_on', 'sys_created_by'].includes(field)) continue;
      const value = raw === null || raw === undefined ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
      if (JOURNAL.has(field)) {
        if (value) notes.push([field as JournalEntry['element'], value]);
        continue;
      }
      const target = REFERENCES[field];
      row[field] = target && display ? this.reference(target, value) : value;
    }
    if (table === 'incident') {
      row.priority = PRIORITY[`${row.impact}${row.urgency}`] ?? row.priority ?? '5';
      if (['6', '7'].includes(row.state!) && (!row.close_code || !row.close_notes)) {
        return error(403, 'Operation Failed', 'Data Policy Exception: The following fields are mandatory: Resolution code, Resolution notes');
      }
      row.active = ['6', '7', '8'].includes(row.state!) ? 'false' : 'true';
    }
    for (const [element, value] of notes) this.journalEntries.push({ table, sysId: row.sys_id!, element, value, by, at: this.now() });
    return undefined;
  }

  /** A reference given by display value (or sys_id) as the sys_id it names, '' when it names nothing. */
  private reference(target: string, value: string): string {
    if (!value) return '';
    const tables = target === 'task' ? Object.keys(TASK_PREFIX) : [target];
    for (const table of tables) {
      for (const row of this.tables.get(table)!.values()) {
        if ((this.sysIdAsDisplayValue && row.sys_id === value) || (target === 'task' ? row.number === value : row.name === value || row.user_name === value)) return row.sys_id!;
      }
    }
    return '';
  }

  private render(table: string, row: Row, params: URLSearchParams): Record<string, unknown> {
    const exclude = params.get('sysparm_exclude_reference_link') === 'true';
    const wanted = params.get('sysparm_fields')?.split(',').map((f) => f.trim()).filter(Boolean);
    const all: Record<string, unknown> = { ...row };
    if (TASK_PREFIX[table]) for (const j of JOURNAL) all[j] = '';
    const out: Record<string, unknown> = {};
    for (const field of wanted ?? Object.keys(all)) {
      if (!(field in all)) continue;
      const value = String(all[field]);
      const target = REFERENCES[field];
      out[field] = target && value && !exclude ? { link: `${this.url}/api/now/table/${target}/${value}`, value } : value;
    }
    return out;
  }
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

function error(status: number, message: string, detail: string | null): Answer {
  return { status, body: { error: { message, detail }, status: 'failure' } };
}

function noRecord(): Answer {
  return error(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** ServiceNow's date-time format, UTC: 2016-01-22 14:28:24. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

type Condition = (row: Row) => boolean;
const OPERATORS: Array<[string, (a: string, b: string) => boolean]> = [
  ['ISNOTEMPTY', (a) => a !== ''],
  ['ISEMPTY', (a) => a === ''],
  ['STARTSWITH', (a, b) => a.startsWith(b)],
  ['ENDSWITH', (a, b) => a.endsWith(b)],
  ['NOT LIKE', (a, b) => !a.toLowerCase().includes(b.toLowerCase())],
  ['LIKE', (a, b) => a.toLowerCase().includes(b.toLowerCase())],
  ['!=', (a, b) => a !== b],
  ['=', (a, b) => a === b],
];

/** The rows an encoded query selects, in its order (insertion order otherwise). */
function select(rows: Row[], query: string): Row[] {
  const groups: Condition[][] = []; // AND of ORs
  const order: Array<{ field: string; desc: boolean }> = [];
  for (const part of query.split('^')) {
    if (!part) continue;
    if (part.startsWith('ORDERBYDESC')) order.push({ field: part.slice(11), desc: true });
    else if (part.startsWith('ORDERBY')) order.push({ field: part.slice(7), desc: false });
    else if (part.startsWith('OR') && groups.length) {
      const c = condition(part.slice(2));
      if (c) groups.at(-1)!.push(c);
    } else {
      const c = condition(part);
      if (c) groups.push([c]);
    }
  }
  const matched = rows.filter((row) => groups.every((any) => any.some((c) => c(row))));
  for (const { field, desc } of order.reverse()) matched.sort((a, b) => (a[field] ?? '').localeCompare(b[field] ?? '') * (desc ? -1 : 1));
  return matched;
}

/** One `field<op>value` part, or undefined for a part ServiceNow would ignore. */
function condition(part: string): Condition | undefined {
  const field = /^[a-z0-9_]+/.exec(part)?.[0];
  if (!field) return undefined;
  const rest = part.slice(field.length);
  for (const [op, test] of OPERATORS) {
    if (rest.startsWith(op)) {
      const value = rest.slice(op.length);
      return (row) => test(row[field] ?? '', value);
    }
  }
  return undefined;
}
