import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { ServiceNowTicketing } from '../../src/adapters/ticketing/serviceNowTicketing';
import type { RequestRecord } from '../../src/domain/requestRecord';
import type { DocumentStore } from '../../src/ports/documentStore';
import type { TicketPair } from '../../src/ports/ticketing';
import { AuditTrail } from '../../src/workflow/auditTrail';
import { TICKET_OUTBOX } from '../../src/workflow/ticketOutbox';
import { TicketNotes } from '../../src/workflow/ticketNotes';
import { FakeServiceNow } from '../support/fakeServiceNow';
import { RecordingWorkflowLog } from '../support/recordingWorkflowLog';
import { tempDir } from '../support/tmp';

const USER = 'svc_fileferry';
const PASSWORD = `canary-password-${randomBytes(8).toString('hex')}`;

/**
 * The ticket outbox against the fake ServiceNow Table API, driven by the real adapter: an outage
 * (5xx, dropped connections) keeps the notes queued in the store and they arrive in order when it
 * ends; a final refusal is dropped, logged and audited without blocking the notes behind it; a
 * new process resumes what an earlier one left.
 */
describe('TicketNotes through the durable outbox (fake ServiceNow)', () => {
  let fake: FakeServiceNow;
  let dir: { path: string; remove: () => Promise<void> };
  const stopped: TicketNotes[] = [];

  before(async () => {
    fake = await FakeServiceNow.start({ users: { [USER]: PASSWORD } });
    dir = await tempDir('outbox');
  });
  after(async () => {
    await fake?.close();
    await dir?.remove();
  });
  beforeEach(() => fake.reset());
  afterEach(async () => {
    await Promise.all(stopped.splice(0).map((n) => n.stop()));
  });

  /** One attempt per call, so each queued write is one PATCH and the outbox does the retrying. */
  function ticketing(): ServiceNowTicketing {
    return new ServiceNowTicketing({ instanceUrl: fake.url, auth: { kind: 'basic', username: USER, password: async () => PASSWORD }, maxAttempts: 1, timeoutMs: 5_000 });
  }

  function notesOver(documents: DocumentStore, log = new RecordingWorkflowLog()) {
    const audit = new JsonlAudit(join(dir.path, `audit-${randomBytes(4).toString('hex')}.jsonl`));
    const notes = new TicketNotes(ticketing(), documents, new AuditTrail(audit, log), log, { baseDelayMs: 20, maxDelayMs: 100 });
    stopped.push(notes);
    return { notes, audit, log };
  }

  async function request(): Promise<RequestRecord> {
    const id = `FF-${randomBytes(4).toString('hex').toUpperCase()}`;
    const tickets: TicketPair = await ticketing().createPair({
      requestId: id, requester: { id: '29:u', name: 'Ann Example' }, summary: 'Send q1.csv', description: 'From the form.',
      assignmentGroup: 'DataOps', priority: '3', environment: 'QA',
    });
    const now = new Date().toISOString();
    return { id, state: 'transferring', revision: 3, owner: { userId: '29:u', name: 'Ann Example' }, conversation: {}, createdAt: now, updatedAt: now, tickets };
  }

  const journal = (number: string): string[] => fake.journal(fake.byNumber(number)!.sys_id!);

  it('keeps notes queued in the store through an outage and writes them in order when it ends', async () => {
    const documents = new MemoryDocuments();
    const { notes, log } = notesOver(documents);
    const record = await request();
    // The instance is down for the next 8 calls: 5xx and connections dropped unanswered.
    fake.failNext({ status: 503 }, 4);
    fake.failNext({ connection: 'drop' }, 4);
    notes.add(record, 'Signed in as Ann.');
    notes.add(record, 'Transfer started.');
    notes.add(record, 'Resumed from byte 1024.');

    // The end of the request does not wait for the outage: settled() returns while notes wait.
    await notes.settled(record.id);
    const queued = await documents.list(TICKET_OUTBOX, { prefix: `${record.id}/` });
    assert.ok(queued.length > 0, 'notes wait in the store during the outage');
    assert.deepEqual(
      queued.map((d) => d.id),
      [...queued.map((d) => d.id)].sort(),
      'ids sort in the order they were queued',
    );

    await notes.drained(record.id);
    for (const number of [record.tickets!.user.number, record.tickets!.audit.number]) {
      assert.deepEqual(journal(number), ['Signed in as Ann.', 'Transfer started.', 'Resumed from byte 1024.'], `${number}: every note once, in order`);
    }
    assert.deepEqual(await documents.list(TICKET_OUTBOX), [], 'the outbox is empty once written');
    assert.ok(log.find('ticket writes stay queued').length > 0, 'the outage is logged');
    assert.ok(!log.text().includes(PASSWORD), 'the integration password is in no log line');
  });

  it('queues the close behind the milestones, with the chain head on the audit ticket only', async () => {
    const { notes } = notesOver(new MemoryDocuments());
    const record = await request();
    fake.failNext({ status: 500 }, 3);
    notes.add(record, 'Transfer started.');
    await notes.close(record, 'resolve', 'Delivered 10 bytes.', 'Delivered 10 bytes.\nAudit chain head: seq 7, SHA-256 ab12 (chain fileferry).');
    await notes.drained(record.id);
    const user = fake.byNumber(record.tickets!.user.number)!;
    const audit = fake.byNumber(record.tickets!.audit.number)!;
    assert.equal(user.state, '6');
    assert.equal(audit.state, '6');
    assert.equal(user.close_notes, 'Delivered 10 bytes.');
    assert.match(audit.close_notes!, /Audit chain head: seq 7, SHA-256 ab12/);
    assert.deepEqual(journal(user.number!).slice(0, 2), ['Transfer started.', 'Delivered 10 bytes.'], 'the milestone comes before the end');
  });

  it('drops a write refused for good (401), logs and audits it, and still writes the notes behind it', async () => {
    const { notes, audit, log } = notesOver(new MemoryDocuments());
    const record = await request();
    fake.failNext({ status: 401 });
    notes.add(record, 'Lost to a bad credential.');
    notes.add(record, 'Written after it.');
    await notes.drained(record.id);
    assert.deepEqual(journal(record.tickets!.user.number), ['Written after it.']);
    assert.deepEqual(journal(record.tickets!.audit.number), ['Lost to a bad credential.', 'Written after it.']);
    const dropped = (await audit.readAll()).filter((r) => r.type === 'ticket.write-dropped');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.details?.ticket, record.tickets!.user.number);
    assert.equal(dropped[0]!.details?.code, 'AUTH_FAILED');
    assert.ok(log.find('refused for good').length === 1);
    assert.ok(!log.text().includes(PASSWORD) && !JSON.stringify(await audit.readAll()).includes(PASSWORD), 'no password in the log or the audit');
  });

  it('a new process resumes what an earlier one left queued, in order, and numbers new notes after them', async () => {
    const documents = new MemoryDocuments();
    const record = await request();
    const first = notesOver(documents).notes;
    // Down for as long as the first process lives.
    let down = true;
    fake.failNext({ status: 503, when: () => down }, 1000);
    first.add(record, 'Before the restart 1.');
    first.add(record, 'Before the restart 2.');
    await first.settled(record.id);
    await first.stop();
    assert.equal((await documents.list(TICKET_OUTBOX)).length, 4, 'two notes on two tickets wait in the store');

    down = false;
    fake.failNext({ status: 503 }, 1);
    const second = notesOver(documents).notes;
    assert.equal(await second.resume(), 4, 'the earlier writes are found at start-up');
    second.add(record, 'After the restart.');
    await second.drained(record.id);
    for (const number of [record.tickets!.user.number, record.tickets!.audit.number]) {
      assert.deepEqual(journal(number), ['Before the restart 1.', 'Before the restart 2.', 'After the restart.'], number);
    }
    assert.deepEqual(await documents.list(TICKET_OUTBOX), []);
  });

  it('survives a restart on SQLite: the queued notes are in the file and the next process writes them', async () => {
    const file = join(dir.path, `outbox-${randomBytes(4).toString('hex')}.db`);
    const record = await request();
    let down = true;
    fake.failNext({ status: 503, when: () => down }, 1000);
    const before = openSqliteStores({ file });
    const first = notesOver(before.documents).notes;
    first.add(record, 'Transfer started.');
    await first.close(record, 'fail', 'Failed: SOURCE_CHANGED.');
    // Stopped once the first write was refused (a call cut by the stop may have reached the server and is sent again: at least once).
    await first.settled(record.id);
    await first.stop();
    before.close();

    down = false;
    const after = openSqliteStores({ file });
    try {
      const second = notesOver(after.documents).notes;
      assert.equal(await second.resume(), 6, 'two notes and the close of both tickets, read back from the file');
      await second.drained(record.id);
      await second.stop();
      assert.deepEqual(journal(record.tickets!.user.number).slice(0, 2), ['Transfer started.', 'Failed: SOURCE_CHANGED.']);
      assert.equal(fake.byNumber(record.tickets!.audit.number)!.state, '7', 'the audit ticket is closed as failed');
      assert.deepEqual(await after.documents.list(TICKET_OUTBOX), []);
    } finally {
      after.close();
    }
  });

  it('one request stuck in an outage does not hold another request back', async () => {
    const documents = new MemoryDocuments();
    const { notes } = notesOver(documents);
    const stuck = await request();
    const other = await request();
    // Only the stuck request's user ticket keeps failing.
    const stuckSysId = fake.byNumber(stuck.tickets!.user.number)!.sys_id!;
    fake.failNext({ status: 503, when: (r) => r.sysId === stuckSysId }, 1000);
    notes.add(stuck, 'Waits.');
    notes.add(other, 'Goes through.');
    await notes.drained(other.id);
    assert.deepEqual(journal(other.tickets!.user.number), ['Goes through.']);
    assert.deepEqual(journal(stuck.tickets!.user.number), []);
    const waiting = await documents.list<{ ticket: { number: string } }>(TICKET_OUTBOX, { prefix: `${stuck.id}/` });
    assert.deepEqual(waiting.map((d) => d.body.ticket.number), [stuck.tickets!.user.number, stuck.tickets!.audit.number], 'the stuck note waits for both tickets, in order');
  });
});
