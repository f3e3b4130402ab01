import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openSqliteStores, type SqliteStores } from '../../src/adapters/store/sqliteStores';
import { LocalTicketReader } from '../../src/adapters/ticketing/localTicketReader';
import { LocalTicketing } from '../../src/adapters/ticketing/localTicketing';
import { ServiceNowTicketReader } from '../../src/adapters/ticketing/serviceNowTicketReader';
import { ServiceNowTicketing } from '../../src/adapters/ticketing/serviceNowTicketing';
import { auditCommand, runAudit } from '../../src/cli/auditCommand';
import { parseAuditRequest } from '../../src/cli/auditRequest';
import type { AuditEvent } from '../../src/ports/auditLog';
import type { TicketPair, TicketReader, Ticketing } from '../../src/ports/ticketing';
import { AuditTrail } from '../../src/workflow/auditTrail';
import { sealedCloseNote } from '../../src/workflow/chainHeadNote';
import { FakeServiceNow } from '../support/fakeServiceNow';
import { RecordingWorkflowLog } from '../support/recordingWorkflowLog';
import { tempDir } from '../support/tmp';

const USER = 'svc_fileferry';
const PASSWORD = `canary-password-${randomBytes(8).toString('hex')}`;

function sink(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { out, text: () => text };
}

const requestId = (): string => `FF-${randomBytes(4).toString('hex').toUpperCase()}`;

/**
 * `fileferry audit verify --against-tickets` on a real SQLite audit store, against each
 * ticketing system FileFerry writes to: the local ticket file and ServiceNow (the fake Table API,
 * read by the real reader). The history is made as the bot makes it: tickets raised, the events
 * appended through the AuditTrail, the audit ticket closed with the head the trail knows then.
 */
for (const kind of ['local', 'servicenow'] as const) {
  describe(`audit verify --against-tickets (${kind} tickets)`, () => {
    let dir: { path: string; remove: () => Promise<void> };
    let fake: FakeServiceNow | undefined;
    let ticketing: Ticketing;
    /** A reader as the CLI makes one: fresh, so it reads the ticket file as it is now. */
    let reader: () => TicketReader;
    const open: SqliteStores[] = [];

    before(async () => {
      dir = await tempDir('audit-tickets');
      if (kind === 'servicenow') {
        fake = await FakeServiceNow.start({ users: { [USER]: PASSWORD } });
        const auth = { kind: 'basic' as const, username: USER, password: async () => PASSWORD };
        ticketing = new ServiceNowTicketing({ instanceUrl: fake.url, auth });
        const snow = new ServiceNowTicketReader({ instanceUrl: fake.url, auth });
        reader = () => snow;
      } else {
        const local = new LocalTicketing({ file: join(dir.path, 'tickets.jsonl'), baseUrl: 'http://localhost:3978' });
        ticketing = local;
        reader = () => new LocalTicketReader(new LocalTicketing({ file: join(dir.path, 'tickets.jsonl'), baseUrl: 'http://localhost:3978' }));
      }
    });
    afterEach(() => {
      for (const s of open.splice(0)) s.close();
    });
    after(async () => {
      await fake?.close();
      await dir?.remove();
    });

    function store(): SqliteStores {
      const s = openSqliteStores({ file: join(dir.path, `audit-${randomBytes(4).toString('hex')}.db`) });
      open.push(s);
      return s;
    }

    async function raise(id: string): Promise<TicketPair> {
      return ticketing.createPair({ requestId: id, requester: { id: '29:u', name: 'Ann Example' }, summary: 'Send q1.csv', description: 'From the form.', assignmentGroup: 'DataOps', priority: '3', environment: 'QA' });
    }

    /** One completed request (audit ticket sealed with the head) and one still in progress; returns the events appended. */
    async function history(stores: SqliteStores): Promise<{ events: AuditEvent[]; done: string; pending: string; donePair: TicketPair }> {
      const trail = new AuditTrail(stores.audit, new RecordingWorkflowLog());
      const done = requestId();
      const pending = requestId();
      const donePair = await raise(done);
      const pendingPair = await raise(pending);
      const events: AuditEvent[] = [
        { type: 'request.created', requestId: done, actor: '29:u' },
        { type: 'request.submitted', requestId: done, actor: '29:u', details: { userTicket: donePair.user.number, auditTicket: donePair.audit.number } },
        { type: 'request.created', requestId: pending, actor: '29:u' },
        { type: 'request.submitted', requestId: pending, actor: '29:u', details: { userTicket: pendingPair.user.number, auditTicket: pendingPair.audit.number } },
        { type: 'transfer.completed', requestId: done, actor: 'system', details: { bytes: 1234 } },
      ];
      for (const e of events) await trail.record(e);
      await ticketing.resolve(donePair.user, 'Delivered 1,234 bytes.');
      await ticketing.resolve(donePair.audit, sealedCloseNote('Delivered 1,234 bytes.', trail.head));
      // Later events, after the head was quoted.
      const later: AuditEvent = { type: 'request.created', requestId: requestId(), actor: '29:v' };
      await trail.record(later);
      return { events: [...events, later], done, pending, donePair };
    }

    async function verify(stores: SqliteStores, json = false): Promise<{ code: number; text: string }> {
      const s = sink();
      const code = await runAudit(stores.audit, { action: 'verify', json, againstTickets: true }, { out: s.out, tickets: reader() });
      return { code, text: s.text() };
    }

    it('an intact store agrees with the tickets: exit 0, the counts, the open request left open', async () => {
      const stores = store();
      await history(stores);
      const { code, text } = await verify(stores);
      assert.equal(code, 0, text);
      assert.match(text, /^Audit chain intact: 6 records, head seq 6 hash [0-9a-f]{64}\n/);
      assert.match(text, /Tickets checked: 2 requests, 4 tickets found; 1 closing notes quote a chain head that matches the chain; 1 audit tickets still open\.\n$/);
      assert.ok(!text.includes(PASSWORD));
    });

    it('catches a store rewritten from the start, which audit verify alone passes', async () => {
      const original = store();
      const { events, done, donePair } = await history(original);
      // The same history with one detail changed and every hash recomputed: a consistent chain.
      const rewritten = store();
      for (const e of events) await rewritten.audit.append(e.type === 'transfer.completed' ? { ...e, details: { bytes: 999 } } : e);
      const plain = sink();
      assert.equal(await runAudit(rewritten.audit, { action: 'verify', json: false }, { out: plain.out }), 0, 'the chain alone looks intact');

      const { code, text } = await verify(rewritten);
      assert.equal(code, 1, text);
      assert.match(text, new RegExp(`request ${done}, ticket ${donePair.audit.number}: Record 5 of chain fileferry has the hash [0-9a-f]{64}, but the audit ticket ${donePair.audit.number} of ${done} quotes [0-9a-f]{64}: the audit store was rewritten`));
      assert.match(text, /1 problem against the tickets/);
    });

    it('catches a store cut short and rebuilt (the quoted record is gone)', async () => {
      const original = store();
      const { events, donePair } = await history(original);
      const cut = store();
      for (const e of events.slice(0, 3)) await cut.audit.append(e);
      const { code, text } = await verify(cut, true);
      assert.equal(code, 1, text);
      const verdict = JSON.parse(text) as { status: string; tickets: { problems: { problem: string; ticket: string }[] } };
      assert.equal(verdict.status, 'broken');
      assert.deepEqual(verdict.tickets.problems.map((p) => [p.problem, p.ticket]), [['removed', donePair.audit.number]]);
    });

    it('names a ticket the log mentions that the ticketing system does not have, and a close without a chain head', async () => {
      const stores = store();
      const trail = new AuditTrail(stores.audit, new RecordingWorkflowLog());
      const ghost = requestId();
      const unsealed = requestId();
      const pair = await raise(unsealed);
      await trail.record({ type: 'request.submitted', requestId: ghost, actor: '29:u', details: { userTicket: 'REQ9999999', auditTicket: 'AUD9999999' } });
      await trail.record({ type: 'request.submitted', requestId: unsealed, actor: '29:u', details: { userTicket: pair.user.number, auditTicket: pair.audit.number } });
      await ticketing.fail(pair.audit, 'Cancelled by the requester.');
      const { code, text } = await verify(stores, true);
      assert.equal(code, 1, text);
      const verdict = JSON.parse(text) as { tickets: { requests: number; found: number; problems: { problem: string; requestId: string; ticket: string }[] } };
      assert.equal(verdict.tickets.requests, 2);
      assert.equal(verdict.tickets.found, 2);
      assert.deepEqual(
        verdict.tickets.problems.map((p) => [p.problem, p.requestId, p.ticket]),
        [['missing', ghost, 'REQ9999999'], ['missing', ghost, 'AUD9999999'], ['unsealed', unsealed, pair.audit.number]],
      );
    });

    it('does not check tickets when the chain itself is broken: the chain verdict comes first', async () => {
      const stores = store();
      await history(stores);
      // A chain whose reader yields a tampered record.
      const records = await stores.audit.readAll();
      records[1] = { ...records[1]!, actor: 'someone-else' };
      const tampered = { read: async function* () { yield* records; }, head: stores.audit.head.bind(stores.audit), readAll: async () => records };
      let asked = 0;
      const inner = reader();
      const counting: TicketReader = { readTicket: async (n) => (asked++, inner.readTicket(n)) };
      const s = sink();
      assert.equal(await runAudit(tampered, { action: 'verify', json: false, againstTickets: true }, { out: s.out, tickets: counting }), 1);
      assert.match(s.text(), /^record 2 was altered/);
      assert.equal(asked, 0);
    });
  });
}

describe('audit verify --against-tickets: the command line', () => {
  it('is a verify flag, refused on export', () => {
    assert.deepEqual(parseAuditRequest(['verify'], { 'against-tickets': true }), { action: 'verify', json: false, againstTickets: true });
    assert.deepEqual(parseAuditRequest(['verify'], {}), { action: 'verify', json: false });
    const refused = parseAuditRequest(['export'], { 'against-tickets': true, format: 'csv', since: '2031-01-01', until: '2031-02-01' });
    assert.ok('usage' in refused && /--against-tickets is for audit verify/.test(refused.usage));
  });

  it('runs against the store and tickets the environment configures (local tickets in the data folder)', async () => {
    const dir = await tempDir('audit-cmd');
    try {
      const env = { FILEFERRY_DATA_DIR: dir.path, FILEFERRY_STORE: 'sqlite' };
      const stores = openSqliteStores({ file: join(dir.path, 'fileferry.db') });
      const tickets = new LocalTicketing({ file: join(dir.path, 'tickets.jsonl'), baseUrl: 'http://localhost:3978' });
      const id = requestId();
      const pair = await tickets.createPair({ requestId: id, requester: { id: '29:u', name: 'Ann' }, summary: 's', description: 'd', assignmentGroup: 'DataOps', priority: '3', environment: 'DEV' });
      const trail = new AuditTrail(stores.audit, new RecordingWorkflowLog());
      await trail.record({ type: 'request.submitted', requestId: id, actor: '29:u', details: { userTicket: pair.user.number, auditTicket: pair.audit.number } });
      await tickets.resolve(pair.audit, sealedCloseNote('Done.', trail.head));
      stores.close();

      const s = sink();
      const ticketReader = (config: { dataDir: string }) => new LocalTicketReader(new LocalTicketing({ file: join(config.dataDir, 'tickets.jsonl'), baseUrl: 'http://localhost' }));
      const code = await auditCommand({ action: 'verify', json: false, againstTickets: true }, { out: s.out, env, ticketReader });
      assert.equal(code, 0, s.text());
      assert.match(s.text(), /Tickets checked: 1 requests, 2 tickets found; 1 closing notes quote a chain head that matches the chain; 0 audit tickets still open\./);

      // Without an injected reader, the registry's reader for FILEFERRY_TICKETING (local here) is used.
      const plain = sink();
      assert.equal(await auditCommand({ action: 'verify', json: false, againstTickets: true }, { out: plain.out, env }), 0, plain.text());
      assert.match(plain.text(), /Tickets checked: 1 requests, 2 tickets found; 1 closing notes quote a chain head/);
    } finally {
      await dir.remove();
    }
  });
});
