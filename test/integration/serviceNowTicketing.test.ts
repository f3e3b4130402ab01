import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { parseFieldMap, fieldMapFromJson } from '../../src/adapters/ticketing/serviceNowFieldMap';
import { ServiceNowTicketing, type ServiceNowTicketingOptions } from '../../src/adapters/ticketing/serviceNowTicketing';
import { ConfigError, FerryError, SecretsError, TicketingError } from '../../src/domain/errors';
import type { NewTicketPair, TicketPair } from '../../src/ports/ticketing';
import { expectFailure } from '../support/expectFailure';
import { FakeServiceNow, type SeenServiceNowRequest } from '../support/fakeServiceNow';

const USER = 'svc_fileferry';
const CLIENT = 'fileferry-client';
const PASSWORD = `canary-password-${randomBytes(8).toString('hex')}`;
const CLIENT_SECRET = `canary-secret-${randomBytes(8).toString('hex')}`;
const START = Date.UTC(2026, 4, 4, 9, 0, 0);

describe('ServiceNowTicketing, specific to ServiceNow', () => {
  let fake: FakeServiceNow;
  /** One clock for the fake and the adapter; only the injected sleep moves it, so no test waits for real. */
  let clock = START;
  let sleeps: number[] = [];
  const tokens: string[] = [];

  before(async () => {
    fake = await FakeServiceNow.start({
      users: { [USER]: PASSWORD },
      oauthClients: { [CLIENT]: { secret: CLIENT_SECRET, applicationUser: USER } },
      people: ['Ann Example'],
      now: () => clock,
      issuedTokens: tokens,
    });
  });
  after(async () => fake.close());
  beforeEach(() => {
    fake.reset();
    fake.tokenLifetimeSeconds = 1799;
    clock = START;
    sleeps = [];
  });

  function adapter(options: Partial<ServiceNowTicketingOptions> = {}): ServiceNowTicketing {
    return new ServiceNowTicketing({
      instanceUrl: fake.url,
      auth: { kind: 'basic', username: USER, password: async () => PASSWORD },
      auditGroup: 'Audit',
      now: () => clock,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      ...options,
    });
  }

  function pair(extra: Partial<NewTicketPair> = {}): NewTicketPair {
    const requestId = `FF-${randomBytes(4).toString('hex').toUpperCase()}`;
    return {
      requestId,
      requester: { id: '29:user-0001', name: 'Ann Example' },
      summary: `Copy s3://finance-exports/q3/ledger.csv to the partner SFTP (${requestId})`,
      description: 'Environment: PROD\nSource: s3://finance-exports/q3/ledger.csv\nJustification: quarterly close',
      assignmentGroup: 'DataOps',
      priority: '2',
      environment: 'PROD',
      ...extra,
    };
  }

  /** The stored records of a request, by kind: the audit record is the one whose parent is set. */
  function ticketsOf(requestId: string, table = 'incident'): { request: Record<string, string>[]; audit: Record<string, string>[] } {
    const rows = fake.rows(table).filter((r) => r.correlation_id === requestId);
    return { request: rows.filter((r) => !r.parent), audit: rows.filter((r) => r.parent) };
  }

  const table = (method: string) => (r: SeenServiceNowRequest): boolean => r.method === method && r.table === 'incident';

  describe('the pair', () => {
    it('carries the request, the correlation and the audit group, and each names the other', async () => {
      const input = pair();
      const tickets = await adapter().createPair(input);
      const user = fake.byNumber(tickets.user.number)!;
      const audit = fake.byNumber(tickets.audit.number)!;
      assert.match(user.number!, /^INC\d{7}$/);
      assert.equal(user.short_description, input.summary);
      assert.equal(user.description, `${input.description}\n\nFileFerry request: ${input.requestId}\nAudit ticket: ${audit.number}`);
      assert.equal(audit.short_description, `Audit: ${input.summary}`);
      assert.equal(audit.description, `${input.description}\n\nFileFerry request: ${input.requestId}\nRequest ticket: ${user.number}`);
      assert.equal(fake.groupName(user.assignment_group!), 'DataOps');
      assert.equal(fake.groupName(audit.assignment_group!), 'Audit');
      assert.equal(audit.parent, user.sys_id, 'the audit record is a child of the request record');
      for (const row of [user, audit]) {
        assert.equal(row.correlation_id, input.requestId);
        assert.equal(row.correlation_display, 'FileFerry');
        assert.deepEqual([row.impact, row.urgency, row.priority], ['1', '2', '2'], 'priority 2 sent as impact 1 × urgency 2, which the instance computes back to 2');
        assert.deepEqual(fake.journal(row.sys_id!), [], 'the cross-reference is in the description, not a work note');
      }
      assert.equal(tickets.user.url, `${fake.url}/nav_to.do?uri=incident.do?sys_id=${user.sys_id}`);
      assert.equal(tickets.audit.url, `${fake.url}/nav_to.do?uri=incident.do?sys_id=${audit.sys_id}`);
    });

    it('links the audit record to its parent by a plain PATCH when the instance took no sys_id as a display value', async () => {
      fake.sysIdAsDisplayValue = false;
      const tickets = await adapter().createPair(pair());
      const user = fake.byNumber(tickets.user.number)!;
      assert.equal(fake.byNumber(tickets.audit.number)!.parent, user.sys_id);
      const patches = fake.requests.filter(table('PATCH')).map((r) => Object.keys(r.body as object).join(','));
      assert.deepEqual(patches, ['parent', 'description']);
    });

    it('sends the assignment group by name, after checking it exists, as a display value', async () => {
      await adapter().createPair(pair());
      const posts = fake.requests.filter(table('POST'));
      assert.equal(posts.length, 2);
      for (const post of posts) assert.equal(post.query.sysparm_input_display_value, 'true');
      assert.equal((posts[0]!.body as Record<string, string>).assignment_group, 'DataOps');
      const lookups = fake.requests.filter((r) => r.table === 'sys_user_group').map((r) => r.query.sysparm_query);
      assert.deepEqual(lookups, ['name=DataOps', 'name=Audit']);
    });

    it('adds the field map, per ticket, and leaves out fields mapped to null', async () => {
      const fieldMap = parseFieldMap({
        u_environment: '${environment}',
        category: 'software',
        caller_id: '${requesterName}',
        u_requester: '${requesterId} (${kind})',
        impact: null,
        urgency: null,
        audit: { category: 'audit' },
      });
      const input = pair({ priority: '3' });
      const tickets = await adapter({ fieldMap }).createPair(input);
      const user = fake.byNumber(tickets.user.number)!;
      const audit = fake.byNumber(tickets.audit.number)!;
      const ann = fake.rows('sys_user').find((u) => u.name === 'Ann Example')!;
      assert.deepEqual([user.u_environment, user.category, user.caller_id, user.u_requester], ['PROD', 'software', ann.sys_id, '29:user-0001 (request)']);
      assert.deepEqual([audit.u_environment, audit.category, audit.u_requester], ['PROD', 'audit', '29:user-0001 (audit)']);
      const sent = fake.requests.filter(table('POST')).map((r) => r.body as Record<string, string>);
      for (const body of sent) {
        assert.equal(body.priority, '3');
        assert.ok(!('impact' in body) && !('urgency' in body), `impact and urgency left out: ${JSON.stringify(body)}`);
      }
    });

    it('refuses a field map that names a reserved field, an unknown value or a non-string', () => {
      for (const raw of [{ correlation_id: 'x' }, { u_env: '${region}' }, { urgency: 2 }, { 'Short Description': 'x' }, []]) {
        assert.throws(() => parseFieldMap(raw, 'SERVICENOW_FIELD_MAP_FILE (map.json)'), (e: unknown) => e instanceof ConfigError && e.message.includes('SERVICENOW_FIELD_MAP_FILE') && e.hint.length > 0, JSON.stringify(raw));
      }
      assert.throws(() => fieldMapFromJson('{ nope', 'map.json'), /map\.json/);
    });

    it('keeps each ticket in its own table, and finds them by link or by number', async () => {
      const ticketing = adapter({ requestTable: 'sc_request', auditTable: 'incident' });
      const tickets = await ticketing.createPair(pair());
      assert.match(tickets.user.number, /^REQ\d{7}$/);
      assert.match(tickets.audit.number, /^INC\d{7}$/);
      assert.ok(tickets.user.url.includes('uri=sc_request.do?sys_id='), tickets.user.url);
      await ticketing.addWorkNote(tickets.user, 'by link');
      await ticketing.addWorkNote({ number: tickets.audit.number, url: 'https://elsewhere.example/ticket' }, 'by number');
      assert.deepEqual(fake.journal(fake.byNumber(tickets.user.number)!.sys_id!), ['by link']);
      assert.deepEqual(fake.journal(fake.byNumber(tickets.audit.number)!.sys_id!), ['by number']);
    });

    it('an unknown audit group fails with INVALID_CONFIG naming SERVICENOW_AUDIT_GROUP, and creates nothing', async () => {
      const e = await expectFailure(adapter({ auditGroup: 'Compliance Team' }).createPair(pair()), { type: TicketingError, code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /Compliance Team/);
      assert.match(e.hint, /SERVICENOW_AUDIT_GROUP/);
      assert.equal(fake.rows('incident').length, 0);
    });

    it('a group that vanished after it was checked: ServiceNow leaves the field empty, FileFerry says INVALID_CONFIG', async () => {
      fake.addGroup('Short Lived');
      const ticketing = adapter();
      await ticketing.createPair(pair({ assignmentGroup: 'Short Lived' }));
      fake.removeGroup('Short Lived');
      const e = await expectFailure(ticketing.createPair(pair({ assignmentGroup: 'Short Lived' })), { code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /without the assignment group "Short Lived"/);
    });

    it('an unknown table is INVALID_CONFIG naming the table (400 Invalid table, or 404)', async () => {
      const e = await expectFailure(adapter({ auditTable: 'u_no_such_table' }).createPair(pair()), { code: 'INVALID_CONFIG', withHint: true });
      assert.match(e.message, /u_no_such_table/);
      assert.match(e.message, /Invalid table u_no_such_table/);
      const notFound = async (): Promise<Response> => new Response(JSON.stringify({ error: { message: 'Not found', detail: null }, status: 'failure' }), { status: 404 });
      const e404 = await expectFailure(adapter({ requestTable: 'u_gone', fetch: notFound }).addWorkNote({ number: 'X1', url: 'https://elsewhere.example/' }, 'n'), { code: 'INVALID_CONFIG' });
      assert.match(e404.message, /u_gone/);
    });
  });

  describe('a POST whose answer is lost', () => {
    it('the request POST stored then dropped: looked up, not sent again; exactly one ticket of each kind', async () => {
      const input = pair();
      fake.failNext({ connection: 'acceptThenDrop', when: table('POST') });
      const tickets = await adapter().createPair(input);
      const { request, audit } = ticketsOf(input.requestId);
      assert.equal(request.length, 1, 'one request ticket');
      assert.equal(audit.length, 1, 'one audit ticket');
      assert.equal(tickets.user.number, request[0]!.number);
      const calls = fake.requests.filter((r) => r.table === 'incident').map((r) => `${r.method} ${r.outcome}`);
      assert.deepEqual(calls, ['GET 200', 'POST dropped', 'GET 200', 'GET 200', 'POST 201', 'PATCH 200']);
      assert.match(fake.requests.find((r) => r.table === 'incident' && r.method === 'GET')!.query.sysparm_query!, new RegExp(`^correlation_id=${input.requestId}\\^correlation_display=FileFerry\\^parentISEMPTY`));
    });

    it('the audit POST stored then dropped: exactly one ticket of each kind, cross-referenced', async () => {
      const input = pair();
      fake.failNext({ connection: 'acceptThenDrop', when: (r) => table('POST')(r) && Boolean((r.body as Record<string, string>).parent) });
      const tickets = await adapter().createPair(input);
      const { request, audit } = ticketsOf(input.requestId);
      assert.equal(request.length, 1);
      assert.equal(audit.length, 1);
      assert.equal(tickets.audit.number, audit[0]!.number);
      assert.ok(request[0]!.description!.endsWith(`Audit ticket: ${audit[0]!.number}`));
    });

    it('stored but never answered (a timeout): exactly one ticket of each kind', async () => {
      const input = pair();
      fake.failNext({ connection: 'acceptThenStall', when: table('POST') });
      await adapter({ timeoutMs: 300 }).createPair(input);
      const { request, audit } = ticketsOf(input.requestId);
      assert.deepEqual([request.length, audit.length], [1, 1]);
    });

    it('a dropped POST that was not stored is sent again after the lookup', async () => {
      const input = pair();
      fake.failNext({ connection: 'drop', when: table('POST') });
      await adapter().createPair(input);
      const { request, audit } = ticketsOf(input.requestId);
      assert.deepEqual([request.length, audit.length], [1, 1]);
      assert.equal(fake.requests.filter(table('POST')).length, 3);
    });

    it('a pair that failed half-way is completed by the next attempt, reusing the request ticket', async () => {
      const input = pair();
      fake.failNext({ status: 500, when: (r) => table('POST')(r) && Boolean((r.body as Record<string, string>).parent) }, 2);
      const first = await expectFailure(adapter({ maxAttempts: 2 }).createPair(input), { code: 'SERVER_ERROR' });
      assert.equal(first.retryable, true);
      assert.deepEqual([ticketsOf(input.requestId).request.length, ticketsOf(input.requestId).audit.length], [1, 0]);
      const tickets = await adapter().createPair(input);
      const { request, audit } = ticketsOf(input.requestId);
      assert.deepEqual([request.length, audit.length], [1, 1]);
      assert.equal(tickets.user.number, request[0]!.number);
    });
  });

  describe('retries', () => {
    it('429 with Retry-After: 2 — the next attempt comes at least 2 s later on the fake clock', async () => {
      const ticketing = adapter();
      const tickets = await ticketing.createPair(pair());
      fake.failNext({ status: 429, retryAfter: 2, when: table('PATCH') });
      await ticketing.addWorkNote(tickets.user, 'Transfer started.');
      const patches = fake.requests.filter(table('PATCH')).slice(-2);
      assert.deepEqual(patches.map((p) => p.outcome), [429, 200]);
      assert.ok(patches[1]!.at - patches[0]!.at >= 2000, `waited ${patches[1]!.at - patches[0]!.at} ms`);
      assert.deepEqual(sleeps, [2000], 'one pause, the Retry-After (longer than the first backoff)');
      assert.deepEqual(fake.journal(fake.byNumber(tickets.user.number)!.sys_id!), ['Transfer started.']);
    });

    it('a Retry-After beyond the limit is not waited for: THROTTLED at once, retryable', async () => {
      const ticketing = adapter();
      const tickets = await ticketing.createPair(pair());
      fake.failNext({ status: 429, retryAfter: 3600, when: table('PATCH') });
      const e = await expectFailure(ticketing.addWorkNote(tickets.user, 'x'), { code: 'THROTTLED', withHint: true });
      assert.equal(e.retryable, true);
      assert.match(e.message, /3600 s/);
      assert.deepEqual(sleeps, []);
    });

    it('500 twice, then success: three attempts with growing backoff, one note', async () => {
      const ticketing = adapter();
      const tickets = await ticketing.createPair(pair());
      fake.failNext({ status: 500, when: table('PATCH') }, 2);
      await ticketing.addWorkNote(tickets.audit, 'Completed.');
      assert.deepEqual(fake.requests.filter(table('PATCH')).slice(-3).map((p) => p.outcome), [500, 500, 200]);
      assert.deepEqual(sleeps, [375, 750], 'equal jitter at random 0.5: 500 ms then 1 s windows');
      assert.deepEqual(fake.journal(fake.byNumber(tickets.audit.number)!.sys_id!), ['Completed.']);
    });

    it('500 on every attempt: SERVER_ERROR after maxAttempts, retryable', async () => {
      const ticketing = adapter({ maxAttempts: 3 });
      const tickets = await ticketing.createPair(pair());
      const before = fake.requests.length;
      fake.failNext({ status: 500 }, 5);
      const e = await expectFailure(ticketing.resolve(tickets.user, 'done'), { code: 'SERVER_ERROR', withHint: true });
      assert.equal(e.retryable, true);
      assert.equal(fake.requests.length - before, 3);
    });

    it('401 is not retried: AUTH_FAILED naming the integration user and what to fix', async () => {
      const e = await expectFailure(adapter({ auth: { kind: 'basic', username: USER, password: async () => 'not-the-password' } }).createPair(pair()), { type: TicketingError, code: 'AUTH_FAILED', withHint: true });
      assert.equal(e.retryable, false);
      assert.match(e.message, /svc_fileferry/);
      assert.match(e.hint, /SERVICENOW_PASSWORD_REF/);
      assert.equal(fake.requests.length, 1, 'one request, no retry');
      assert.deepEqual(sleeps, []);
    });

    it('403 is not retried: ACCESS_DENIED naming the user and the table', async () => {
      const ticketing = adapter();
      const tickets = await ticketing.createPair(pair());
      fake.failNext({ status: 403, when: table('PATCH') });
      const e = await expectFailure(ticketing.fail(tickets.user, 'x'), { code: 'ACCESS_DENIED', withHint: true });
      assert.match(e.message, /svc_fileferry/);
      assert.match(e.hint, /incident/);
      assert.equal(fake.requests.filter(table('PATCH')).length, 2, 'the cross-reference PATCH, then the refused one only');
    });

    it('a call that never answers times out (TIMEOUT, retryable) and is tried again', async () => {
      const tickets = await adapter().createPair(pair());
      fake.failNext({ connection: 'stall', when: table('PATCH') });
      await adapter({ timeoutMs: 300 }).addWorkNote(tickets.user, 'after a stall');
      assert.equal(sleeps.length, 1, 'one pause before the second attempt');
      assert.deepEqual(fake.requests.filter(table('PATCH')).slice(-2).map((p) => p.outcome), ['stalled', 200]);
    });
  });

  describe('OAuth', () => {
    const oauth = (withUser: boolean): Partial<ServiceNowTicketingOptions> => ({
      auth: withUser
        ? { kind: 'oauth', clientId: CLIENT, clientSecret: async () => CLIENT_SECRET, username: USER, password: async () => PASSWORD }
        : { kind: 'oauth', clientId: CLIENT, clientSecret: async () => CLIENT_SECRET },
    });
    const tokenRequests = (): SeenServiceNowRequest[] => fake.requests.filter((r) => r.path === '/oauth_token.do');

    it('caches the token, and replaces it by the refresh token before it expires', async () => {
      fake.tokenLifetimeSeconds = 30;
      const ticketing = adapter(oauth(true));
      const tickets = await ticketing.createPair(pair());
      assert.deepEqual(tokenRequests().map((r) => (r.body as Record<string, string>).grant_type), ['password']);
      clock += 20_000; // 10 s left: still used
      await ticketing.addWorkNote(tickets.user, 'one');
      assert.equal(tokenRequests().length, 1);
      clock += 5_000; // 5 s left, inside the last fifth of its life: replaced before use
      await ticketing.addWorkNote(tickets.user, 'two');
      assert.deepEqual(tokenRequests().map((r) => (r.body as Record<string, string>).grant_type), ['password', 'refresh_token']);
      const api = fake.requests.filter((r) => r.table);
      assert.ok(api.every((r) => r.auth === `bearer:${USER}`), `every call carried a live token: ${[...new Set(api.map((r) => r.auth))].join(', ')}`);
      assert.ok(api.every((r) => r.outcome !== 401));
      assert.deepEqual(fake.journal(fake.byNumber(tickets.user.number)!.sys_id!), ['one', 'two']);
    });

    it('client credentials: no refresh token, so a new grant before expiry', async () => {
      fake.tokenLifetimeSeconds = 30;
      const ticketing = adapter(oauth(false));
      const tickets = await ticketing.createPair(pair());
      clock += 26_000;
      await ticketing.addWorkNote(tickets.audit, 'later');
      assert.deepEqual(tokenRequests().map((r) => (r.body as Record<string, string>).grant_type), ['client_credentials', 'client_credentials']);
      assert.ok(fake.requests.filter((r) => r.table).every((r) => r.outcome !== 401));
    });

    it('a revoked token: one new token and one more try', async () => {
      const ticketing = adapter(oauth(true));
      const tickets = await ticketing.createPair(pair());
      fake.revokeTokens();
      await ticketing.addWorkNote(tickets.user, 'after revocation');
      const last = fake.requests.slice(-3).map((r) => `${r.method} ${r.path === '/oauth_token.do' ? 'token' : r.table} ${r.outcome}`);
      assert.deepEqual(last, ['PATCH incident 401', 'POST token 200', 'PATCH incident 200']);
    });

    it('a wrong client secret: AUTH_FAILED naming the client, not retried', async () => {
      const e = await expectFailure(adapter({ auth: { kind: 'oauth', clientId: CLIENT, clientSecret: async () => 'wrong' } }).createPair(pair()), { code: 'AUTH_FAILED', withHint: true });
      assert.match(e.message, /fileferry-client/);
      assert.match(e.hint, /SERVICENOW_CLIENT_SECRET_REF/);
      assert.equal(tokenRequests().length, 1);
    });
  });

  it('the password, client secret and tokens appear in no error, link, record or journal', async () => {
    const errors: unknown[] = [];
    const collect = async (p: Promise<unknown>): Promise<void> => {
      errors.push(await expectFailure(p));
    };
    const basic = adapter({ maxAttempts: 2 });
    const viaOAuth = adapter({ auth: { kind: 'oauth', clientId: CLIENT, clientSecret: async () => CLIENT_SECRET, username: USER, password: async () => PASSWORD }, maxAttempts: 2 });
    const pairs: TicketPair[] = [await basic.createPair(pair()), await viaOAuth.createPair(pair())];
    await basic.addWorkNote(pairs[0]!.user, 'note');
    await viaOAuth.resolve(pairs[1]!.user, 'done');
    await collect(adapter({ auth: { kind: 'basic', username: USER, password: async () => `${PASSWORD}x` } }).createPair(pair()));
    await collect(adapter({ auth: { kind: 'oauth', clientId: CLIENT, clientSecret: async () => `${CLIENT_SECRET}x` } }).createPair(pair()));
    await collect(viaOAuth.addWorkNote({ number: 'INC9999999', url: 'https://elsewhere.example/' }, 'x'));
    await collect(basic.createPair(pair({ assignmentGroup: 'Nobody' })));
    fake.failNext({ status: 500 }, 2);
    await collect(viaOAuth.addWorkNote(pairs[1]!.audit, 'x'));
    fake.failNext({ status: 429, retryAfter: 7200 });
    await collect(basic.fail(pairs[0]!.audit, 'x'));
    fake.failNext({ status: 403 });
    await collect(viaOAuth.createPair(pair()));
    assert.equal(errors.length, 7);
    assert.ok(errors.every((e) => e instanceof FerryError));
    assert.ok(tokens.length >= 2, 'tokens were issued, so the check below covers them');
    const seen = [
      inspect(errors, { depth: 5 }),
      JSON.stringify(errors.map((e) => [(e as FerryError).toJSON(), String(e), (e as Error).stack])),
      JSON.stringify(pairs),
      JSON.stringify([fake.rows('incident'), fake.journalEntries]),
    ].join('\n');
    for (const secret of [PASSWORD, CLIENT_SECRET, ...tokens]) assert.ok(!seen.includes(secret), 'a credential leaked');
    assert.ok(seen.includes(USER), 'the errors do name the integration user');
  });

  it('a password reference that resolves to nothing: TicketingError with the secret store\'s code and hint, no call made', async () => {
    const missing = async (): Promise<string> => {
      throw new SecretsError('SECRET_NOT_FOUND', 'env:SN_PASSWORD is not set.', { hint: 'Set SN_PASSWORD.' });
    };
    const e = await expectFailure(adapter({ auth: { kind: 'basic', username: USER, password: missing } }).createPair(pair()), { type: TicketingError, code: 'SECRET_NOT_FOUND', withHint: true });
    assert.match(e.message, /SERVICENOW_PASSWORD_REF/);
    assert.match(e.message, /env:SN_PASSWORD/);
    assert.equal(fake.requests.length, 0);
  });

  describe('configuration', () => {
    const bad: Array<[string, Partial<ServiceNowTicketingOptions>, RegExp]> = [
      ['plain http to a real host', { instanceUrl: 'http://acme.service-now.com' }, /https/],
      ['credentials in the URL', { instanceUrl: 'https://svc:pw@acme.service-now.com' }, /user name or password/],
      ['a table label', { requestTable: 'Incident Table' }, /SERVICENOW_REQUEST_TABLE/],
      ['a user name with a colon', { auth: { kind: 'basic', username: 'a:b', password: async () => 'p' } }, /SERVICENOW_USERNAME/],
    ];
    for (const [what, options, message] of bad) {
      it(`refuses ${what} with a ConfigError`, () => {
        assert.throws(() => adapter(options), (e: unknown) => e instanceof ConfigError && e.code === 'INVALID_CONFIG' && message.test(e.message) && !e.message.includes(':pw@'));
      });
    }

    it('resolve and fail use the configured states and close codes', async () => {
      const ticketing = adapter({ closeState: '7', closeCode: 'Solution provided', failState: '8', failCloseCode: 'No resolution provided' });
      const tickets = await ticketing.createPair(pair());
      await ticketing.resolve(tickets.user, 'Delivered.');
      await ticketing.fail(tickets.audit, 'Cancelled.');
      const user = fake.byNumber(tickets.user.number)!;
      const audit = fake.byNumber(tickets.audit.number)!;
      assert.deepEqual([user.state, user.close_code, user.close_notes, user.active], ['7', 'Solution provided', 'Delivered.', 'false']);
      assert.deepEqual([audit.state, audit.close_code, audit.close_notes], ['8', 'No resolution provided', 'Cancelled.']);
      assert.deepEqual(fake.journal(user.sys_id!), ['Resolved: Delivered.']);
      assert.deepEqual(fake.journal(audit.sys_id!), ['Closed as failed: Cancelled.']);
    });
  });

  describe('who decided an approval', () => {
    it('is read from the approval record, so a FileFerry note written after the decision is never named as the approver', async () => {
      const sn = adapter();
      const tickets = await sn.createPair(pair());
      await sn.requestApproval(tickets.user);
      fake.setApproval(tickets.user.number, 'rejected', 'carol.approver');
      await sn.addWorkNote(tickets.user, 'Waiting for approval.');
      assert.deepEqual(await sn.approvalOf(tickets.user), { state: 'rejected', by: 'carol.approver' });
    });

    it('without read access to approval records: the last updater, unless that is the integration user itself', async () => {
      const sn = adapter();
      const tickets = await sn.createPair(pair());
      await sn.requestApproval(tickets.user);
      fake.setApproval(tickets.user.number, 'approved', 'dana.approver');
      const approvals = (r: SeenServiceNowRequest): boolean => r.table === 'sysapproval_approver';
      fake.failNext({ status: 403, when: approvals });
      assert.deepEqual(await sn.approvalOf(tickets.user), { state: 'approved', by: 'dana.approver' }, 'the decider was the last to touch the record');
      await sn.addWorkNote(tickets.user, 'A note after the decision.');
      fake.failNext({ status: 403, when: approvals });
      assert.deepEqual(await sn.approvalOf(tickets.user), { state: 'approved' }, 'FileFerry itself is never named; the decision still counts');
    });
  });
});
