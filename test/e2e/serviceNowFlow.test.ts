import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import type { AuditRecord } from '../../src/ports/auditLog';
import { BotHarness, type ChatUser, type ClickOptions, type InvokeResult } from '../support/botHarness';
import { actionsOf, cardOf, cardText, inputValues } from '../support/cardQuery';
import { FakeServiceNow, type SeenServiceNowRequest } from '../support/fakeServiceNow';
import { FaultProxy } from '../support/faultProxy';
import { seedSources, type SampleFile } from '../support/sampleSources';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { SwitchableTcpProxy } from '../support/switchableTcpProxy';

/**
 * The bot with FILEFERRY_TICKETING=servicenow against the fake Table API (test/support/fakeServiceNow.ts),
 * driven over HTTP as Teams drives it: both tickets raised at submit, shown as links, written on
 * and closed at every way a request ends; an instance that is down at submit; and the
 * integration password kept out of every card, connector call, log line and audit record.
 */

const SN_USER = 'ff';
const PASSWORD = `canary-sn-password-${randomBytes(8).toString('hex')}`;
const BASIC = Buffer.from(`${SN_USER}:${PASSWORD}`).toString('base64');
const FAIL_CLOSE_CODE = 'Unsuccessful';
const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'The customer asked for the Q1 sales report.' };

type Row = Record<string, string>;

describe('e2e: the bot raises, updates and closes ServiceNow tickets', function () {
  this.timeout(180_000);
  let fake: FakeServiceNow;
  /** The instance's address as FileFerry knows it: a forwarder that can take the instance offline. */
  let instance: SwitchableTcpProxy;
  let harness: BotHarness;
  let files: Record<string, SampleFile>;
  let previousPassword: string | undefined;
  /** Every invoke answer (the cards shown at once), for the leak check at the end. */
  const answers: InvokeResult[] = [];

  before(async () => {
    fake = await FakeServiceNow.start({ users: { [SN_USER]: PASSWORD } });
    instance = await SwitchableTcpProxy.start(fake.port);
    previousPassword = process.env.SN_PW;
    process.env.SN_PW = PASSWORD;
    const ticketing = loadConfig({
      FILEFERRY_TICKETING: 'servicenow',
      SERVICENOW_INSTANCE_URL: instance.url,
      SERVICENOW_USERNAME: SN_USER,
      SERVICENOW_PASSWORD_REF: 'env:SN_PW',
      SERVICENOW_AUDIT_GROUP: 'Audit',
      SERVICENOW_FAIL_CLOSE_CODE: FAIL_CLOSE_CODE,
    }).ticketing;
    harness = await BotHarness.start({
      config: { ticketing },
      seed: async (dir) => void (files = await seedSources(dir, { binaryBytes: 8 * 1024 * 1024 })),
      overrides: { progressIntervalMs: 300, tuning: { backoffBaseMs: 50, backoffMaxMs: 200 } },
    });
  });
  after(async () => {
    try {
      await harness?.close();
    } finally {
      await instance?.close();
      await fake?.close();
      if (previousPassword === undefined) delete process.env.SN_PW;
      else process.env.SN_PW = previousPassword;
    }
  });

  // --- helpers ----------------------------------------------------------------------------------

  async function click(user: ChatUser, verb: string, options?: ClickOptions): Promise<InvokeResult> {
    const answer = await user.click(verb, options);
    answers.push(answer);
    return answer;
  }

  /** `transfer` → the form; returns the request ID and the form's message. */
  async function openForm(user: ChatUser): Promise<{ requestId: string; formMessage: string }> {
    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    return { requestId: String(form.action.data.requestId), formMessage: form.activityId };
  }

  /** Signs in and picks `container/key`, up to the destination form. */
  async function toDestinationForm(user: ChatUser, container: string, key: string): Promise<void> {
    await user.waitForAction('signin.continue');
    await click(user, 'signin.continue');
    await click(user, 'bucket.pick', { match: { container } });
    const parts = key.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) await click(user, 'files.open', { match: { prefix: `${parts.slice(0, i).join('/')}/` } });
    await click(user, 'file.pick', { match: { objectKey: key } });
  }

  /** A new request submitted with FORM; returns its ID and the tickets card. */
  async function submitted(user: ChatUser): Promise<{ requestId: string; ticketsCard: Record<string, unknown> | undefined }> {
    const { requestId } = await openForm(user);
    const answer = await click(user, 'request.submit', { inputs: FORM });
    assert.equal(answer.body?.statusCode, 200);
    return { requestId, ticketsCard: answer.body?.value };
  }

  /** The request's two records in the fake: the requester's (no parent) and the audit team's. */
  function ticketsOf(requestId: string): { request: Row[]; audit: Row[] } {
    const rows = fake.rows('incident').filter((r) => r.correlation_id === requestId);
    return { request: rows.filter((r) => !r.parent), audit: rows.filter((r) => Boolean(r.parent)) };
  }

  function pairOf(requestId: string): { request: Row; audit: Row } {
    const { request, audit } = ticketsOf(requestId);
    assert.equal(request.length, 1, `one request ticket for ${requestId}`);
    assert.equal(audit.length, 1, `one audit ticket for ${requestId}`);
    return { request: request[0]!, audit: audit[0]! };
  }

  function link(row: Row): string {
    return `${instance.url}/nav_to.do?uri=incident.do?sys_id=${row.sys_id}`;
  }

  /** Waits until both tickets of the request are in `state` (the closing PATCHes follow the end of the request). */
  async function bothIn(user: ChatUser, requestId: string, state: string): Promise<{ request: Row; audit: Row }> {
    await user.waitFor(`both tickets of ${requestId} in state ${state}`, () => {
      const { request, audit } = ticketsOf(requestId);
      return request[0]?.state === state && audit[0]?.state === state;
    });
    return pairOf(requestId);
  }

  /** The request as the workflow holds it now. */
  async function recordOf(user: ChatUser, requestId: string) {
    const screen = await harness.app.workflow.status({ userId: user.account.aadObjectId, tenantId: user.account.tenantId, name: user.account.name }, requestId);
    assert.equal(screen.kind, 'requestList');
    return (screen as { requests: { state: string; tickets?: { user: { number: string }; audit: { number: string } } }[] }).requests[0]!;
  }

  async function auditOf(requestId: string): Promise<AuditRecord[]> {
    return (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId);
  }

  /**
   * The audit ticket's closing note names the audit chain head: a record that exists in the store
   * with that seq and SHA-256, written no earlier than this request's own ending event.
   */
  async function assertChainHead(closeNotes: string, requestId: string, endingType: string): Promise<void> {
    const m = /Audit chain head: seq (\d+), SHA-256 ([0-9a-f]{64})/.exec(closeNotes);
    assert.ok(m, `the audit ticket's closing note names the chain head; it says:\n${closeNotes}`);
    const all = await harness.app.audit.readAll();
    const named = all.find((r) => r.seq === Number(m[1]));
    assert.ok(named, `seq ${m[1]} is in the audit store`);
    assert.equal(named.hash, m[2], 'with that SHA-256');
    const ending = all.find((r) => r.requestId === requestId && r.type === endingType);
    assert.ok(ending, `the audit store has ${endingType} for ${requestId}`);
    assert.ok(named.seq >= ending.seq, `the head quoted (seq ${named.seq}) is not older than the request's end (seq ${ending.seq})`);
  }

  const posts = (): SeenServiceNowRequest[] => fake.requests.filter((r) => r.method === 'POST' && r.table === 'incident');

  // --- the tests --------------------------------------------------------------------------------

  it('a whole request: both tickets raised, shown as links, cross-referenced, then resolved with the completion note and the audit chain head', async () => {
    const user = harness.user('Alice Example');
    const { requestId, ticketsCard } = await submitted(user);
    const { request, audit } = pairOf(requestId);

    // The tickets card: both numbers, each a link to its record.
    const text = cardText(ticketsCard);
    assert.ok(text.includes(`[${request.number}](${link(request)})`), `the card links ${request.number} to its record; it says:\n${text}`);
    assert.ok(text.includes(`[${audit.number}](${link(audit)})`), `the card links ${audit.number} to its record; it says:\n${text}`);
    const urls = JSON.stringify(ticketsCard).match(/"url":"[^"]+"/g) ?? [];
    assert.deepEqual(urls.sort(), [`"url":"${link(request)}"`, `"url":"${link(audit)}"`].sort(), 'the Open buttons go to the same records');
    assert.match(request.number!, /^INC\d{7}$/);
    assert.notEqual(request.number, audit.number);

    // The records: correlated with the request, cross-referenced, each with its group.
    for (const row of [request, audit]) {
      assert.equal(row.correlation_id, requestId);
      assert.equal(row.correlation_display, 'FileFerry');
      assert.ok(row.description!.includes(`FileFerry request: ${requestId}`));
      assert.ok(row.description!.includes('The customer asked for the Q1 sales report.'), 'the description carries the form');
    }
    assert.equal(audit.parent, request.sys_id, 'the audit ticket\'s parent is the request ticket');
    assert.ok(request.description!.includes(`Audit ticket: ${audit.number}`), 'the request ticket names the audit ticket');
    assert.ok(audit.description!.includes(`Request ticket: ${request.number}`), 'the audit ticket names the request ticket');
    assert.equal(fake.groupName(request.assignment_group!), 'DataOps');
    assert.equal(fake.groupName(audit.assignment_group!), 'Audit', 'the audit ticket is assigned to SERVICENOW_AUDIT_GROUP');
    assert.ok(fake.requests.filter((r) => r.table).every((r) => r.auth === `basic:${SN_USER}`), 'every call was made as the integration user');

    // Through to the Local outbox.
    await toDestinationForm(user, 'sample-bucket', 'reports/q1-sales.csv');
    await click(user, 'dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
    await click(user, 'transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')));
    const sample = files['sample-bucket/reports/q1-sales.csv']!;
    const delivered = await readFile(join(harness.dataDir, 'outbox', 'q1-sales.csv'));
    assert.equal(createHash('sha256').update(delivered).digest('hex'), sample.sha256);

    // Both resolved, with the completion note (size, SHA-256, verification) as close notes and work notes.
    const closed = await bothIn(user, requestId, '6');
    const completed = (await auditOf(requestId)).find((r) => r.type === 'transfer.completed');
    assert.ok(completed, 'the audit log has the completion');
    const verification = String((completed.details as Record<string, unknown>).verification);
    for (const row of [closed.request, closed.audit]) {
      assert.equal(row.close_code, 'Solved (Permanently)');
      assert.equal(row.active, 'false');
      assert.ok(row.close_notes!.includes(`${sample.bytes.length} bytes`), `the close notes give the size: ${row.close_notes}`);
      assert.ok(row.close_notes!.includes(`SHA-256 ${sample.sha256}`), 'and the SHA-256');
      assert.ok(row.close_notes!.includes(`verified: ${verification}`), 'and the verification level');
    }
    const completionNote = closed.request.close_notes!;
    assert.ok(completionNote.startsWith('Transferred q1-sales.csv'));
    assert.ok(completionNote.includes('Local outbox'), 'the note says where it went');

    // The work notes FileFerry writes today: the completion note, then the resolution. (No
    // sign-in or transfer-started milestone is written yet: see the report.)
    const userNotes = fake.journal(closed.request.sys_id!);
    const auditNotes = fake.journal(closed.audit.sys_id!);
    assert.deepEqual(userNotes.slice(-2), [completionNote, `Resolved: ${completionNote}`]);
    assert.equal(auditNotes.at(-2), completionNote);
    assert.equal(auditNotes.at(-1), `Resolved: ${closed.audit.close_notes}`);

    // The audit ticket's closing note also seals the audit chain head; the request ticket's does not need to.
    assert.ok(closed.audit.close_notes!.startsWith(completionNote));
    await assertChainHead(closed.audit.close_notes!, requestId, 'transfer.completed');
    assert.equal(ticketsOf(requestId).request.length + ticketsOf(requestId).audit.length, 2, 'still exactly one ticket of each kind');
  });

  describe('the instance cannot be reached when the form is submitted', () => {
    /** Submits the form and checks what the user sees and that nothing moved on. */
    async function failingSubmit(user: ChatUser, requestId: string): Promise<string> {
      const postsBefore = posts().length;
      const answer = await click(user, 'request.submit', { inputs: FORM });
      assert.equal(answer.body?.statusCode, 200);
      const text = cardText(answer.body?.value);
      assert.doesNotMatch(text, /no longer active/i, 'not the "no longer active" card');
      assert.match(text, /ServiceNow/, `the card says ServiceNow is the problem; it says:\n${text}`);
      assert.doesNotMatch(text, /Tickets created/);
      // Nothing moved on: no tickets, no sign-in, still a draft, nothing in the audit trail beyond the draft.
      assert.deepEqual(ticketsOf(requestId), { request: [], audit: [] });
      assert.equal(posts().length, postsBefore, 'no ticket was even sent');
      assert.equal((await recordOf(user, requestId)).state, 'draft');
      assert.deepEqual((await auditOf(requestId)).map((r) => r.type).filter((t) => t !== 'action.refused'), ['request.created', 'tickets.failed'], 'the failed attempt is audited, nothing else happened');
      assert.equal(user.findAction('signin.continue'), undefined, 'no sign-in card');
      return text;
    }

    it('down (connection refused): a clear card, nothing done; the same form submitted again once it is back raises exactly one pair', async () => {
      const user = harness.user('Dora Example');
      const { requestId, formMessage } = await openForm(user);
      const formCard = user.findAction('request.submit')!;
      const outbox = await readdir(join(harness.dataDir, 'outbox'));
      await instance.down();
      let text: string;
      try {
        text = await failingSubmit(user, requestId);
      } finally {
        await instance.up();
      }
      assert.match(text, /reach|connect|ECONNREFUSED/i, 'the card says the instance could not be reached');
      assert.deepEqual(await readdir(join(harness.dataDir, 'outbox')), outbox, 'nothing was transferred');

      // The same card, clicked again with the same values (the message the bot posted is unchanged).
      const stored = harness.connector.messages.get(formMessage)!;
      assert.ok(actionsOf(cardOf(stored.activity)).some((a) => a.verb === 'request.submit'), 'the bot did not replace the form message');
      const again = await user.send('request.submit', { ...inputValues(formCard.card), ...FORM, ...formCard.action.data }, formMessage);
      answers.push(again);
      assert.match(cardText(again.body?.value), /Tickets created/, `the second submit raises the tickets; got:\n${cardText(again.body?.value)}`);
      const { request, audit } = pairOf(requestId);
      assert.ok(cardText(again.body?.value).includes(`[${request.number}](${link(request)})`));
      assert.ok(cardText(again.body?.value).includes(`[${audit.number}](${link(audit)})`));
      assert.equal((await recordOf(user, requestId)).state, 'ticketed');
      await user.waitForAction('signin.continue');

      // A repeat of the same click (a double click, Teams re-sending the invoke) raises nothing more.
      answers.push(await user.send('request.submit', { ...FORM, ...formCard.action.data }, formMessage));
      assert.deepEqual([ticketsOf(requestId).request.length, ticketsOf(requestId).audit.length], [1, 1]);
    });

    it('down: the form stays on the user\'s screen to be submitted again (Teams replaces the clicked card with the invoke answer)', async () => {
      const user = harness.user('Dina Example');
      const { requestId, formMessage } = await openForm(user);
      await instance.down();
      try {
        await failingSubmit(user, requestId);
      } finally {
        await instance.up();
      }
      const onScreen = user.cards().find((c) => c.activityId === formMessage)!;
      assert.ok(
        actionsOf(onScreen.card).some((a) => a.verb === 'request.submit' && a.data.requestId === requestId),
        `after the failed submit the user should still see the form (or a card that can submit ${requestId} again); the message now shows:\n${cardText(onScreen.card)}\nwith actions: ${actionsOf(onScreen.card).map((a) => a.verb).join(', ')}`,
      );
      await click(user, 'request.submit', { activityId: formMessage });
      pairOf(requestId);
    });

    it('answering 500 to every call: a clear card, nothing done; resubmitted once it recovers, exactly one pair', async () => {
      const user = harness.user('Evan Example');
      const { requestId, formMessage } = await openForm(user);
      const formCard = user.findAction('request.submit')!;
      let failing = true;
      fake.failNext({ status: 500, when: () => failing }, 1_000);
      let text: string;
      try {
        text = await failingSubmit(user, requestId);
      } finally {
        failing = false;
      }
      assert.match(text, /500/, 'the card says what ServiceNow answered');
      const again = await user.send('request.submit', { ...FORM, ...formCard.action.data }, formMessage);
      answers.push(again);
      assert.match(cardText(again.body?.value), /Tickets created/);
      pairOf(requestId);
    });

    it('failing half-way (the request ticket stored, the audit ticket refused): resubmitting completes the pair, one of each', async () => {
      const user = harness.user('Fran Example');
      const { requestId, formMessage } = await openForm(user);
      const formCard = user.findAction('request.submit')!;
      let failing = true;
      fake.failNext({ status: 500, when: (r) => failing && r.method === 'POST' && Boolean((r.body as Row | undefined)?.parent) }, 1_000);
      let answer: InvokeResult;
      try {
        answer = await click(user, 'request.submit', { inputs: FORM });
      } finally {
        failing = false;
      }
      assert.doesNotMatch(cardText(answer.body?.value), /no longer active|Tickets created/i);
      assert.match(cardText(answer.body?.value), /ServiceNow/);
      assert.equal(ticketsOf(requestId).request.length, 1, 'the request ticket was stored');
      assert.equal(ticketsOf(requestId).audit.length, 0, 'the audit ticket was not');
      assert.equal((await recordOf(user, requestId)).state, 'draft');
      const firstNumber = ticketsOf(requestId).request[0]!.number;

      const again = await user.send('request.submit', { ...FORM, ...formCard.action.data }, formMessage);
      answers.push(again);
      assert.match(cardText(again.body?.value), /Tickets created/);
      const { request, audit } = pairOf(requestId);
      assert.equal(request.number, firstNumber, 'the request ticket of the first attempt is reused');
      assert.equal(audit.parent, request.sys_id);
      assert.ok(request.description!.includes(`Audit ticket: ${audit.number}`));
    });
  });

  it('a failed transfer (the outbox already holds the name, overwrite "fail") closes both tickets as failed with the error code', async () => {
    const existing = Buffer.from('{"already":"here"}\n');
    await writeFile(join(harness.dataDir, 'outbox', 'summary.json'), existing);
    const user = harness.user('Gus Example');
    const { requestId } = await submitted(user);
    await toDestinationForm(user, 'sample-bucket', 'reports/2024/summary.json');
    await click(user, 'dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
    const cardId = user.findAction('transfer.confirm')!.activityId;
    await click(user, 'transfer.confirm');
    const failedCard = await user.waitFor('the failed card', () => {
      const c = user.cards().find((x) => x.activityId === cardId);
      return c && /ALREADY_EXISTS/.test(cardText(c.card)) ? c : undefined;
    });
    assert.ok(!actionsOf(failedCard.card).some((a) => a.verb === 'transfer.retry'), 'no Retry: the name is taken');
    assert.deepEqual(await readFile(join(harness.dataDir, 'outbox', 'summary.json')), existing, 'the existing file is untouched');

    const { request, audit } = await bothIn(user, requestId, '7');
    for (const row of [request, audit]) {
      assert.equal(row.close_code, FAIL_CLOSE_CODE, 'the configured SERVICENOW_FAIL_CLOSE_CODE');
      assert.equal(row.active, 'false');
      assert.match(row.close_notes!, /summary\.json/);
      assert.match(row.close_notes!, /\(ALREADY_EXISTS\)/, `the close notes carry the error code: ${row.close_notes}`);
    }
    const note = request.close_notes!;
    assert.deepEqual(fake.journal(request.sys_id!).slice(-2), [note, `Closed as failed: ${note}`]);
    assert.deepEqual(fake.journal(audit.sys_id!).slice(-2), [note, `Closed as failed: ${audit.close_notes}`]);
    await assertChainHead(audit.close_notes!, requestId, 'transfer.failed');
  });

  it('a request cancelled at the confirm card closes both tickets with the cancellation', async () => {
    const user = harness.user('Hana Example');
    const { requestId } = await submitted(user);
    await toDestinationForm(user, 'other-bucket', 'readme.txt');
    await click(user, 'dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
    const answer = await click(user, 'transfer.cancel');
    assert.match(cardText(answer.body?.value), /cancelled/i);
    const { request, audit } = await bothIn(user, requestId, '7');
    for (const row of [request, audit]) {
      assert.equal(row.close_code, FAIL_CLOSE_CODE);
      assert.ok(row.close_notes!.includes(`Request ${requestId} was cancelled by the requester`), `the close notes say it was cancelled: ${row.close_notes}`);
    }
    assert.deepEqual(fake.journal(request.sys_id!).slice(-2), [request.close_notes, `Closed as failed: ${request.close_notes}`]);
    await assertChainHead(audit.close_notes!, requestId, 'request.cancelled');
    assert.ok(!(await readdir(join(harness.dataDir, 'outbox'))).includes('readme.txt'), 'nothing was transferred');
  });

  describe('a running transfer cancelled (SFTP, the upload stalled by a proxy)', () => {
    let sshd: SshdServer;
    before(async () => {
      sshd = await startSshd();
    });
    after(async () => sshd?.stop());

    it('closes both tickets with the transfer\'s cancellation', async () => {
      const proxy = await FaultProxy.start(sshd.port);
      try {
        const user = harness.user('Ivan Example');
        const { requestId } = await submitted(user);
        await toDestinationForm(user, 'sample-bucket', 'exports/blob.bin');
        const folder = join(sshd.rootDir, 'cancel');
        const prompted = await click(user, 'dest.submit', {
          inputs: { savedDestination: 'adhoc', protocol: 'sftp', host: '127.0.0.1', port: String(proxy.port), username: sshd.user, password: sshd.password, remoteFolder: folder, overwrite: 'fail' },
        });
        if (actionsOf(prompted.body?.value).some((a) => a.verb === 'dest.trustHostKey')) await click(user, 'dest.trustHostKey');
        proxy.setFault({ action: 'stall', afterBytes: 2 * 1024 * 1024, direction: 'up' });
        const cardId = user.findAction('transfer.confirm')!.activityId;
        await click(user, 'transfer.confirm');
        await user.waitFor('the upload to stall', () => proxy.faultsFired > 0);
        await click(user, 'transfer.cancel');
        await user.waitFor('the cancelled card', () => {
          const m = user.messages().find((x) => x.activityId === cardId);
          return m && /cancelled/i.test(cardText(cardOf(m.activity)));
        });
        const { request, audit } = await bothIn(user, requestId, '7');
        for (const row of [request, audit]) {
          assert.equal(row.close_code, FAIL_CLOSE_CODE);
          assert.ok(row.close_notes!.includes('The transfer of blob.bin was cancelled by the requester.'), `the close notes say the transfer was cancelled: ${row.close_notes}`);
        }
        await assertChainHead(audit.close_notes!, requestId, 'transfer.cancelled');
      } finally {
        await proxy.close();
      }
    });
  });

  // Last (mocha runs a suite's own tests before its nested suites): it searches everything the tests above produced.
  describe('secrets', () => {
    it('the integration password appears in no card, connector call, log line, audit record or ticket', async () => {
      // The canary was really used: every call to the instance authenticated with it.
      const api = fake.requests.filter((r) => r.table);
      assert.ok(api.length > 10 && api.every((r) => r.auth === `basic:${SN_USER}`), 'the password was what the bot authenticated with');
      assert.ok(answers.length > 10 && harness.connector.calls.length > 10 && harness.logLines.length > 10, 'there is something to search');
      const places: Record<string, string> = {
        'an invoke answer (card)': JSON.stringify(answers),
        'a connector call (card or message)': JSON.stringify(harness.connector.calls),
        'a log line': harness.logLines.join('\n'),
        'an audit record': JSON.stringify(await harness.app.audit.readAll()),
        'a ticket or work note': JSON.stringify([fake.rows('incident'), fake.journalEntries]),
        'a ServiceNow request body or query': JSON.stringify(fake.requests.map((r) => [r.path, r.query, r.body])),
      };
      for (const [place, text] of Object.entries(places)) {
        assert.ok(!text.includes(PASSWORD), `the integration password appears in ${place}`);
        assert.ok(!text.includes(BASIC), `the Basic authorization value appears in ${place}`);
      }
      // The search covers the lines that speak of ServiceNow, its outage at submit included.
      assert.ok(harness.logLines.some((l) => l.includes('Could not reach ServiceNow')), 'the log has the outage at submit');
    });
  });
});
