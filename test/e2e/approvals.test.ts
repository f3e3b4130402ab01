import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '../../src/config';
import type { AuditRecord } from '../../src/ports/auditLog';
import type { RequestRecord } from '../../src/domain/requestRecord';
import type { ApprovalPolicy } from '../../src/workflow/approvalPolicy';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { cardText } from '../support/cardQuery';
import { FakeServiceNow } from '../support/fakeServiceNow';
import { seedSources, type SampleFile } from '../support/sampleSources';

/**
 * Approval before a protected environment's file moves, over HTTP as Teams drives the bot: the
 * requester confirms a PROD request and waits; each approver gets the card in a 1:1 chat the bot
 * opens through the Bot Connector's createConversation; Approve starts the transfer, Reject ends
 * it with the reason on both ServiceNow tickets (the fake Table API); the requester can never
 * approve, a forged click from a non-approver is refused and audited, an unanswered approval
 * expires, and with SERVICENOW_APPROVAL=servicenow the request ticket's `approval` field decides.
 */

const SN_USER = 'ff';
const SN_PASSWORD = `canary-sn-password-${randomBytes(8).toString('hex')}`;
const FORM = { environment: 'PROD', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '2', justification: 'The auditors need the Q1 sales report today.' };
const KEY = 'reports/q1-sales.csv';

/**
 * The Bot Connector's createConversation (`POST /v3/conversations`), which the shared
 * FakeConnector does not serve, in front of it: answers a 1:1 conversation ID per member as Teams
 * does (the same member always gets the same chat) and forwards every other call to the
 * FakeConnector, which then holds the approvers' chats like any other.
 */
class CreateConversationFront {
  readonly created: Record<string, unknown>[] = [];
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(behind: string): Promise<CreateConversationFront> {
    let front!: CreateConversationFront;
    const server = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        if (req.method === 'POST' && req.url === '/v3/conversations') {
          const params = JSON.parse(body) as { members?: { id: string }[] };
          front.created.push(params as Record<string, unknown>);
          res.writeHead(201, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ id: chatOf(params.members?.[0]?.id ?? '') }));
        }
        const answer = await fetch(`${behind}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, ...(body ? { body } : {}) });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(await answer.text());
      })().catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    front = new CreateConversationFront(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return front;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const chatOf = (memberId: string): string => `a:approval-chat-${memberId}`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface Setup {
  harness: BotHarness;
  front: CreateConversationFront;
  files: Record<string, SampleFile>;
}

/** The bot with ServiceNow ticketing on `fake` and `approval`, its connector behind a createConversation front. */
async function startBot(fake: FakeServiceNow, approval: ApprovalPolicy, extra: Partial<AppConfig> = {}): Promise<Setup> {
  process.env.FF_TEST_SN_PW = SN_PASSWORD;
  const ticketing = loadConfig({
    FILEFERRY_TICKETING: 'servicenow',
    SERVICENOW_INSTANCE_URL: fake.url,
    SERVICENOW_USERNAME: SN_USER,
    SERVICENOW_PASSWORD_REF: 'env:FF_TEST_SN_PW',
    SERVICENOW_AUDIT_GROUP: 'Audit',
  }).ticketing;
  let files: Record<string, SampleFile> = {};
  const harness = await BotHarness.start({
    config: { ticketing, approval, ...extra },
    seed: async (dir) => void (files = await seedSources(dir)),
    overrides: { progressIntervalMs: 200 },
  });
  const front = await CreateConversationFront.start(harness.connector.url);
  // Every activity the users send names this as its serviceUrl, so the bot's replies and its createConversation go through the front.
  harness.connector.url = front.url;
  return { harness, front, files };
}

async function stopBot(setup: Setup | undefined): Promise<void> {
  try {
    await setup?.harness.close();
  } finally {
    await setup?.front.close();
  }
}

/** `transfer` → form → sign-in → file → Local outbox → Confirm; returns the request ID and what Confirm answered. */
async function confirmProtected(user: ChatUser, form: Record<string, string> = FORM): Promise<{ requestId: string; answer: Record<string, unknown> | undefined }> {
  await user.say('transfer');
  const shown = await user.waitForAction('request.submit');
  const requestId = String(shown.action.data.requestId);
  assert.equal((await user.click('request.submit', { inputs: form })).body?.statusCode, 200);
  await user.waitForAction('signin.continue');
  await user.click('signin.continue');
  await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
  await user.click('files.open', { match: { prefix: 'reports/' } });
  await user.click('file.pick', { match: { objectKey: KEY } });
  await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'replace' } });
  const answer = await user.click('transfer.confirm');
  return { requestId, answer: answer.body?.value };
}

async function recordOf(harness: BotHarness, user: ChatUser, requestId: string): Promise<RequestRecord> {
  const screen = await harness.app.workflow.status({ userId: user.account.aadObjectId, tenantId: user.account.tenantId, name: user.account.name }, requestId);
  assert.equal(screen.kind, 'requestList');
  return (screen as { requests: RequestRecord[] }).requests[0]!;
}

async function auditOf(harness: BotHarness, requestId: string): Promise<AuditRecord[]> {
  return (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId);
}

/** The request's two incident records in the fake: the requester's and the audit team's. */
function ticketsOf(fake: FakeServiceNow, requestId: string): { request: Record<string, string>; audit: Record<string, string> } {
  const rows = fake.rows('incident').filter((r) => r.correlation_id === requestId);
  const request = rows.find((r) => !r.parent);
  const audit = rows.find((r) => Boolean(r.parent));
  assert.ok(request && audit, `both tickets of ${requestId}`);
  return { request, audit };
}

/** Polls an async condition (ChatUser.waitFor takes a synchronous one). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function outbox(harness: BotHarness): Promise<string[]> {
  return readdir(join(harness.dataDir, 'outbox')).catch(() => []);
}

describe('e2e: approval for protected environments', function () {
  this.timeout(240_000);
  let fake: FakeServiceNow;
  const bob: string = randomUUID();
  const dana: string = randomUUID();
  const alice: string = randomUUID();

  before(async () => {
    fake = await FakeServiceNow.start({ users: { [SN_USER]: SN_PASSWORD } });
  });
  after(async () => {
    await fake?.close();
    delete process.env.FF_TEST_SN_PW;
  });

  describe('approvers in Teams', () => {
    let setup: Setup;
    before(async () => {
      setup = await startBot(fake, {
        environments: ['PROD'],
        via: 'teams',
        // Dana is listed by UPN too; Alice, who requests, is also an approver of DevOps.
        approvers: {
          DataOps: [{ kind: 'user', objectId: bob }, { kind: 'upn', upn: 'dana@contoso.com' }, { kind: 'user', objectId: dana }],
          DevOps: [{ kind: 'user', objectId: alice }, { kind: 'user', objectId: bob }],
        },
        hours: 24,
        pollSeconds: 60,
      });
    });
    after(async () => stopBot(setup));

    const requester = () => setup.harness.user('Alice Example', { aadObjectId: alice, upn: 'alice@contoso.com' });
    const approver = (name: string, id: string, upn: string) => setup.harness.user(name, { aadObjectId: id, conversationId: chatOf(id), upn });

    it('approve: the requester waits, the approver gets the card 1:1, Approve starts the transfer and both tickets say who approved', async () => {
      const { harness, front, files } = setup;
      const user = requester();
      const { requestId, answer } = await confirmProtected(user);

      // The requester's card: waiting, by whom, until when, with both tickets and Cancel.
      const waiting = cardText(answer);
      assert.match(waiting, /Waiting for approval by .*dana@contoso\.com/, waiting);
      const { request, audit } = ticketsOf(fake, requestId);
      assert.ok(waiting.includes(request.number!) && waiting.includes(audit.number!), 'the waiting card links both tickets');
      const record = await recordOf(harness, user, requestId);
      assert.equal(record.state, 'awaiting-approval');
      assert.equal(record.approval?.group, 'DataOps');
      assert.deepEqual(await outbox(harness), [], 'nothing moved before the approval');

      // Bob and Dana each get the card in their own 1:1 chat, opened by object ID in the tenant.
      const bobChat = approver('Bob Approver', bob, 'bob@contoso.com');
      const danaChat = approver('Dana Approver', dana, 'dana@contoso.com');
      const card = await bobChat.waitForAction('approval.approve', { requestId });
      await danaChat.waitForAction('approval.approve', { requestId });
      const opened = front.created.map((p) => (p.members as { id: string }[])[0]!.id).filter((id) => [bob, dana, alice].includes(id));
      assert.deepEqual(opened.sort(), [bob, dana].sort(), 'one chat per approver listed by object ID, none for the requester');
      assert.ok(front.created.every((p) => p.tenantId === user.account.tenantId), 'in the requester\'s tenant');
      const text = cardText(card.card);
      for (const expected of ['Alice Example', 'q1-sales.csv', 'Local outbox', FORM.justification, request.number!, audit.number!]) {
        assert.ok(text.includes(expected), `the approval card shows ${expected}:\n${text}`);
      }

      // Bob approves with a comment: his card says so, the transfer runs into the outbox.
      const approved = await bobChat.click('approval.approve', { inputs: { comment: 'Checked with the audit lead.' }, match: { requestId } });
      assert.match(cardText(approved.body?.value), /Approved by you/);
      await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')));
      const delivered = await readFile(join(harness.dataDir, 'outbox', 'q1-sales.csv'));
      assert.equal(createHash('sha256').update(delivered).digest('hex'), files[`sample-bucket/${KEY}`]!.sha256);
      // Dana's card shows it was decided, and by whom.
      await danaChat.waitFor('Dana\'s card to show the approval', () => danaChat.cards().some((c) => /Approved by Bob Approver/.test(cardText(c.card))));
      assert.ok(user.messages().some((m) => /Bob Approver approved request/.test(String(m.activity.text ?? ''))), 'the requester is told who approved');

      // Both tickets: the approval asked, then who approved with the comment, then resolved.
      await user.waitFor('both tickets resolved', () => {
        const t = ticketsOf(fake, requestId);
        return t.request.state === '6' && t.audit.state === '6';
      });
      for (const row of [request, audit]) {
        const journal = fake.journal(row.sys_id!).join('\n');
        assert.match(journal, /Approval requested .*PROD is a protected environment/);
        assert.match(journal, /Approved by Bob Approver: "Checked with the audit lead\."/);
      }
      const types = (await auditOf(harness, requestId)).map((r) => r.type);
      for (const t of ['approval.requested', 'approval.delivered', 'approval.approved', 'transfer.started', 'transfer.completed']) assert.ok(types.includes(t), `audited ${t}: ${types.join(', ')}`);
      assert.ok(types.indexOf('approval.approved') < types.indexOf('transfer.started'), 'approved before any byte moved');
      const approvedEvent = (await auditOf(harness, requestId)).find((r) => r.type === 'approval.approved')!;
      assert.equal(approvedEvent.actor, bob);
    });

    it('reject: a reason is required; nothing is transferred and both tickets are closed with it', async () => {
      const { harness } = setup;
      const user = requester();
      const before = await outbox(harness);
      const { requestId } = await confirmProtected(user);
      const danaChat = approver('Dana Approver', dana, 'dana@contoso.com');
      await danaChat.waitForAction('approval.reject', { requestId });

      const noReason = await danaChat.click('approval.reject', { inputs: { comment: '   ' }, match: { requestId } });
      assert.match(cardText(noReason.body?.value), /Say why you reject it/);
      assert.equal((await recordOf(harness, user, requestId)).state, 'awaiting-approval', 'a reject without a reason changes nothing');

      const rejected = await danaChat.click('approval.reject', { inputs: { comment: 'Customer contract expired.' }, match: { requestId } });
      assert.match(cardText(rejected.body?.value), /Rejected by you/);
      assert.equal((await recordOf(harness, user, requestId)).state, 'cancelled');
      // The requester's card shows the rejection and the reason.
      await user.waitFor('the requester\'s card to show the rejection', () => user.cards().some((c) => /rejected the request: "Customer contract expired\."/.test(cardText(c.card))));
      await user.waitFor('both tickets closed', () => {
        const t = ticketsOf(fake, requestId);
        return t.request.state === '7' && t.audit.state === '7';
      });
      const { request, audit } = ticketsOf(fake, requestId);
      for (const row of [request, audit]) assert.match(row.close_notes!, /Rejected by Dana Approver: "Customer contract expired\."/);
      assert.deepEqual(await outbox(harness), before, 'nothing was transferred');
      assert.ok((await auditOf(harness, requestId)).some((r) => r.type === 'approval.rejected' && r.actor === dana));
      // Pressed again later: the card says how it ended, and nothing changes.
      const again = await danaChat.send('approval.approve', { requestId, comment: '' }, undefined);
      assert.match(cardText(again.body?.value), /Rejected by you/);
    });

    it('self-approval is refused: the requester gets no approval card and a forged Approve is refused and audited', async () => {
      const { harness, front } = setup;
      const user = requester();
      const chatsBefore = front.created.length;
      const { requestId } = await confirmProtected(user, { ...FORM, assignmentGroup: 'DevOps' });
      const bobChat = approver('Bob Approver', bob, 'bob@contoso.com');
      await bobChat.waitForAction('approval.approve', { requestId });
      assert.ok(front.created.slice(chatsBefore).every((p) => (p.members as { id: string }[])[0]!.id !== alice), 'no approval card for the requester, though she is an approver of DevOps');

      // Alice forges the click in her own chat, as an approver of the group.
      const forged = await user.send('approval.approve', { requestId, comment: 'fine by me' });
      assert.match(cardText(forged.body?.value), /no longer active/);
      assert.equal((await recordOf(harness, user, requestId)).state, 'awaiting-approval');
      const refused = (await auditOf(harness, requestId)).filter((r) => r.type === 'action.refused');
      assert.ok(refused.some((r) => r.actor === alice && /requester cannot approve/.test(String(r.details?.why))), JSON.stringify(refused));

      // Bob may: it is still his to decide.
      const approved = await bobChat.click('approval.approve', { match: { requestId } });
      assert.match(cardText(approved.body?.value), /Approved by you/);
      await until('the transfer to complete', async () => (await recordOf(harness, user, requestId)).state === 'completed');
    });

    it('a forged approval from someone who is not an approver is refused and audited, and changes nothing', async () => {
      const { harness } = setup;
      const user = requester();
      const { requestId } = await confirmProtected(user);
      // Eve is in the tenant and knows the request ID, but is no approver of DataOps (though she approves DevOps? no: nothing).
      const eve = setup.harness.user('Eve Outsider', { upn: 'eve@contoso.com' });
      const forged = await eve.send('approval.approve', { requestId, comment: 'approved' });
      assert.match(cardText(forged.body?.value), /no longer active/);
      // Claiming to be Bob in the card data changes nothing: the approver is who Teams says clicked.
      const spoof = await eve.send('approval.approve', { requestId, userId: bob, aadObjectId: bob, upn: 'bob@contoso.com' });
      assert.match(cardText(spoof.body?.value), /no longer active/);
      assert.equal((await recordOf(harness, user, requestId)).state, 'awaiting-approval');
      const refused = (await auditOf(harness, requestId)).filter((r) => r.type === 'action.refused' && r.actor === eve.account.aadObjectId);
      assert.equal(refused.length, 2);
      assert.ok(refused.every((r) => /not an approver of DataOps/.test(String(r.details?.why))));
      // The requester withdraws it: the approvers' cards say so.
      const cancelled = await user.click('transfer.cancel', { match: { requestId } });
      assert.match(cardText(cancelled.body?.value), /cancelled while it waited for approval/);
      const bobChat = approver('Bob Approver', bob, 'bob@contoso.com');
      await bobChat.waitFor('Bob\'s card to say it was withdrawn', () => bobChat.cards().some((c) => /Withdrawn/.test(cardText(c.card)) && cardText(c.card).includes(requestId)));
    });

    it('a protected request whose group has no approvers is refused at submit, with the form kept', async () => {
      const user = requester();
      await user.say('transfer');
      await user.waitForAction('request.submit');
      const answer = await user.click('request.submit', { inputs: { ...FORM, assignmentGroup: 'Infrastructure' } });
      const text = cardText(answer.body?.value);
      assert.match(text, /PROD requests need an approval, and no approver is configured for Infrastructure/);
      assert.ok(text.includes('FILEFERRY_APPROVERS'));
      // A non-protected environment in the same group goes on as before.
      const dev = await user.click('request.submit', { inputs: { ...FORM, environment: 'DEV', assignmentGroup: 'Infrastructure' } });
      assert.match(cardText(dev.body?.value), /Tickets created/);
    });

    it('keeps the integration password out of every log line and connector call', () => {
      const { harness } = setup;
      assert.ok(!harness.logLines.some((l) => l.includes(SN_PASSWORD)), 'not in the log');
      assert.ok(!JSON.stringify(harness.connector.calls).includes(SN_PASSWORD), 'not on any card or message');
    });
  });

  describe('an approval nobody answers', () => {
    let setup: Setup;
    before(async () => {
      // A window of about a second, so the expiry sweep finds it without waiting a day.
      setup = await startBot(fake, { environments: ['PROD'], via: 'teams', approvers: { DataOps: [{ kind: 'user', objectId: bob }] }, hours: 1 / 3600, pollSeconds: 60 });
    });
    after(async () => stopBot(setup));

    it('expires after the window: the request ends as expired, tickets closed, and the approver\'s card says so, also when pressed later', async () => {
      const { harness } = setup;
      const user = harness.user('Alice Example', { aadObjectId: alice });
      const { requestId } = await confirmProtected(user);
      const bobChat = harness.user('Bob Approver', { aadObjectId: bob, conversationId: chatOf(bob) });
      await bobChat.waitForAction('approval.approve', { requestId });
      const record = await recordOf(harness, user, requestId);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(record.approval!.expiresAt) - Date.now()) + 200));
      assert.ok((await harness.app.workflow.expireStale()) >= 1);
      assert.equal((await recordOf(harness, user, requestId)).state, 'expired');
      await bobChat.waitFor('Bob\'s card to say it expired', () => bobChat.cards().some((c) => /Expired/.test(cardText(c.card)) && cardText(c.card).includes(requestId)));
      await user.waitFor('the requester\'s card to say it expired', () => user.cards().some((c) => /No approver decided within/.test(cardText(c.card))));
      // Bob presses Approve on the old card after all: it says the approval expired and starts nothing.
      const late = await bobChat.send('approval.approve', { requestId, comment: '' });
      assert.match(cardText(late.body?.value), /Expired/);
      assert.equal((await recordOf(harness, user, requestId)).state, 'expired');
      await user.waitFor('both tickets closed', () => {
        const t = ticketsOf(fake, requestId);
        return t.request.state === '7' && t.audit.state === '7';
      });
      assert.match(ticketsOf(fake, requestId).request.close_notes!, /No approver decided within 1 s/);
      assert.ok((await auditOf(harness, requestId)).some((r) => r.type === 'approval.expired'));
      assert.deepEqual(await outbox(harness), []);
    });
  });

  describe('approval in ServiceNow (SERVICENOW_APPROVAL=servicenow)', () => {
    let setup: Setup;
    before(async () => {
      setup = await startBot(fake, { environments: ['PROD'], via: 'servicenow', approvers: {}, hours: 24, pollSeconds: 1 });
    });
    after(async () => stopBot(setup));

    it('asks on the request ticket, polls its approval field, and starts the transfer when it is approved there', async () => {
      const { harness, front, files } = setup;
      const user = harness.user('Alice Example', { aadObjectId: alice });
      const created = front.created.length;
      const { requestId, answer } = await confirmProtected(user);
      assert.match(cardText(answer), /ServiceNow/);
      const { request } = ticketsOf(fake, requestId);
      assert.equal(request.approval, 'requested', 'FileFerry asked for the approval on the request ticket');
      assert.equal(front.created.length, created, 'no approval card in Teams');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await recordOf(harness, user, requestId)).state, 'awaiting-approval', 'still waiting while ServiceNow says requested');

      // A Teams click cannot decide a ServiceNow approval, even from a listed-looking user.
      const forged = await harness.user('Bob Approver', { aadObjectId: bob }).send('approval.approve', { requestId });
      assert.match(cardText(forged.body?.value), /no longer active/);

      fake.setApproval(request.number!, 'approved', 'carol.approver');
      await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')), 60_000);
      const delivered = await readFile(join(harness.dataDir, 'outbox', 'q1-sales.csv'));
      assert.equal(createHash('sha256').update(delivered).digest('hex'), files[`sample-bucket/${KEY}`]!.sha256);
      assert.match(fake.journal(request.sys_id!).join('\n'), /Approved by carol\.approver \(in ServiceNow\)/);
      assert.ok((await auditOf(harness, requestId)).some((r) => r.type === 'approval.approved' && r.actor === 'servicenow:carol.approver'));
    });

    it('ends the request with the tickets closed when ServiceNow rejects it', async () => {
      const { harness } = setup;
      const user = harness.user('Alice Example', { aadObjectId: alice });
      const { requestId } = await confirmProtected(user);
      const { request } = ticketsOf(fake, requestId);
      fake.setApproval(request.number!, 'rejected', 'carol.approver');
      await user.waitFor('the rejection on the requester\'s card', () => user.cards().some((c) => /carol\.approver \(in ServiceNow\) rejected the request/.test(cardText(c.card))), 60_000);
      assert.equal((await recordOf(harness, user, requestId)).state, 'cancelled');
      await user.waitFor('both tickets closed', () => {
        const t = ticketsOf(fake, requestId);
        return t.request.state === '7' && t.audit.state === '7';
      });
      assert.match(ticketsOf(fake, requestId).audit.close_notes!, /Rejected by carol\.approver \(in ServiceNow\)/);
    });
  });
});
