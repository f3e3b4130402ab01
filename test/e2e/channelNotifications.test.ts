import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditRecord } from '../../src/ports/auditLog';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { cardText } from '../support/cardQuery';
import { FakeWorkflowWebhook, messageOfCard } from '../support/fakeWorkflowWebhook';
import { seedSources, type SampleFile } from '../support/sampleSources';

const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'The audit channel must see this.' };
const CHANNEL = '19:e2eauditchannel0000000000000000@thread.tacv2';
const TENANT = 'tenant-0001';

/** One request through the cards to the end; resolves with its ID once the short completion message is in the chat. */
async function transfer(user: ChatUser, key: string): Promise<string> {
  await user.say('transfer');
  const form = await user.waitForAction('request.submit');
  const requestId = String(form.action.data.requestId);
  await user.click('request.submit', { inputs: FORM });
  await user.waitForAction('signin.continue');
  await user.click('signin.continue');
  await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  if (folder) await user.click('files.open', { match: { prefix: folder } });
  await user.click('file.pick', { match: { objectKey: key } });
  await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'rename' } });
  await user.click('transfer.confirm');
  const name = key.split('/').pop()!;
  await user.waitFor(`the completion message for ${name}`, () => user.messages().find((m) => String(m.activity.text ?? '').includes(`Your file ${name} has been transferred successfully`) && String(m.activity.text).includes(requestId)), 60_000);
  return requestId;
}

/** The conversationUpdate Teams sends when the app is added to a team (in its General channel). */
function teamInstall(user: ChatUser, membersAdded: { id: string; name?: string }[]) {
  return user.post({
    type: 'conversationUpdate',
    membersAdded,
    conversation: { id: CHANNEL, conversationType: 'channel', isGroup: true, tenantId: TENANT },
    channelData: { team: { id: CHANNEL, name: 'Audit team' }, eventType: 'teamMemberAdded', tenant: { id: TENANT } },
  });
}

async function auditOf(harness: BotHarness, type: string, requestId: string, timeoutMs = 60_000): Promise<AuditRecord> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = (await harness.app.audit.readAll()).find((r) => r.type === type && r.requestId === requestId);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no ${type} audit record for ${requestId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('e2e: audit-channel notifications and the completion message', function () {
  this.timeout(180_000);

  describe('FILEFERRY_NOTIFIER=teams-channel: the bot posts into the team channel it was added to', () => {
    let harness: BotHarness;
    let files: Record<string, SampleFile>;

    before(async () => {
      harness = await BotHarness.start({ config: { notifier: { kind: 'teams-channel' } }, seed: async (dir) => void (files = await seedSources(dir)) });
    });
    after(async () => harness?.close());

    it('stores the channel on install, welcomes nobody there, and answers a typed command there with where requests go', async () => {
      const admin = harness.user('Ada Admin');
      assert.equal((await teamInstall(admin, [{ id: 'bot-fileferry' }])).status, 200);
      // Someone joining the team later is not greeted in the channel.
      await teamInstall(admin, [{ id: '29:new-member', name: 'Nina New' }]);
      await admin.post({
        type: 'message',
        text: '<at>FileFerry</at> transfer',
        conversation: { id: `${CHANNEL};messageid=1`, conversationType: 'channel', isGroup: true, tenantId: TENANT },
        channelData: { team: { id: CHANNEL }, channel: { id: CHANNEL }, tenant: { id: TENANT } },
      });
      const inChannel = () => harness.connector.calls.filter((c) => c.conversationId.startsWith(CHANNEL));
      await admin.waitFor('the reply in the channel', () => inChannel().length > 0);
      assert.equal(inChannel().length, 1, 'one reply, no welcome card');
      assert.match(String(inChannel()[0]!.activity.text), /personal chat/);
      assert.ok(harness.logLines.some((l) => l.includes('FileFerry was added to a team')));
    });

    it('a completed transfer: one outcome card in the channel with both ticket links, the completion card once and the short message once in the chat', async () => {
      const user = harness.user('Alice Example');
      const requestId = await transfer(user, 'reports/q1-sales.csv');
      const post = await user.waitFor('the channel post', () => harness.connector.created.find((c) => JSON.stringify(c.parameters).includes(requestId)));
      assert.equal(post.channelId, CHANNEL);
      assert.equal(post.parameters.isGroup, true);
      const card = (post.parameters.activity as { attachments: { contentType: string; content: Record<string, unknown> }[] }).attachments[0]!;
      assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
      const notice = messageOfCard(card.content);
      assert.equal(notice.outcome, 'completed');
      assert.equal(notice.requestId, requestId);
      assert.match(notice.title, /q1-sales\.csv/);
      assert.deepEqual(notice.links?.map((l) => l.title.slice(0, 3)), ['REQ', 'AUD']);
      for (const link of notice.links ?? []) assert.match(link.url, /^http/);

      // The completion message, once: the working card became the completion card (shown once),
      // and one short proactive message follows, without the card.
      const sha256 = files['sample-bucket/reports/q1-sales.csv']!.sha256;
      const short = user.messages().filter((m) => String(m.activity.text ?? '').includes('Your file q1-sales.csv has been transferred successfully'));
      assert.equal(short.length, 1, 'the short message is posted once');
      assert.equal(short[0]!.activity.attachments, undefined, 'and carries no second card');
      assert.equal(user.cards().filter((c) => cardText(c.card).includes(sha256)).length, 1, 'the completion card appears once');
      assert.equal(harness.connector.created.filter((c) => JSON.stringify(c.parameters).includes(requestId)).length, 1, 'one channel post per outcome');
    });

    it('a channel that refuses the post (the app was removed): the transfer still completes; the failure is logged and audited', async () => {
      harness.connector.fail({ method: 'POST', path: 'conversations', status: 403, times: 50 });
      try {
        const user = harness.user('Bob Example');
        const requestId = await transfer(user, 'reports/q1-sales.csv');
        const record = await auditOf(harness, 'notify.failed', requestId);
        assert.equal(record.details?.code, 'ACCESS_DENIED');
        assert.ok((await harness.app.audit.readAll()).some((r) => r.type === 'transfer.completed' && r.requestId === requestId));
        assert.ok(harness.logLines.some((l) => l.includes('the audit channel notification could not be delivered') && l.includes(requestId)));
      } finally {
        harness.connector.clearFailures();
      }
    });
  });

  describe('teams-channel with FILEFERRY_AUDIT_CHANNEL_ID, through installationUpdate add and remove', () => {
    let harness: BotHarness;
    const OTHER = '19:configuredauditchannel00000000@thread.tacv2';

    before(async () => {
      harness = await BotHarness.start({ config: { notifier: { kind: 'teams-channel', FILEFERRY_AUDIT_CHANNEL_ID: OTHER } }, seed: async (dir) => void (await seedSources(dir)) });
    });
    after(async () => harness?.close());

    const installation = (user: ChatUser, action: 'add' | 'remove') =>
      user.post({
        type: 'installationUpdate',
        action,
        conversation: { id: CHANNEL, conversationType: 'channel', isGroup: true, tenantId: TENANT },
        channelData: { team: { id: CHANNEL, name: 'Audit team' }, channel: { id: CHANNEL }, tenant: { id: TENANT } },
      });

    it('not installed anywhere: NOT_FOUND is audited; once installed, cards go to the configured channel; once removed, NOT_FOUND again', async () => {
      const user = harness.user('Carol Example');
      const before = await transfer(user, 'reports/q1-sales.csv');
      const missing = await auditOf(harness, 'notify.failed', before);
      assert.equal(missing.details?.code, 'NOT_FOUND');

      assert.equal((await installation(user, 'add')).status, 200);
      const during = await transfer(user, 'reports/q1-sales.csv');
      const post = await user.waitFor('the channel post', () => harness.connector.created.find((c) => JSON.stringify(c.parameters).includes(during)));
      assert.equal(post.channelId, OTHER, 'the configured channel, reached through the installed team\'s route');
      assert.equal((post.parameters.channelData as { tenant?: { id?: string } }).tenant?.id, TENANT);

      assert.equal((await installation(user, 'remove')).status, 200);
      const after = await transfer(user, 'reports/q1-sales.csv');
      assert.equal((await auditOf(harness, 'notify.failed', after)).details?.code, 'NOT_FOUND');
    });
  });

  describe('FILEFERRY_NOTIFIER=teams-workflow: the card goes to the Workflows webhook, whose URL is a secret', () => {
    let harness: BotHarness;
    let webhook: FakeWorkflowWebhook;
    const variable = 'FF_E2E_AUDIT_WEBHOOK';

    before(async () => {
      webhook = await FakeWorkflowWebhook.start();
      process.env[variable] = webhook.url;
      harness = await BotHarness.start({ config: { notifier: { kind: 'teams-workflow', FILEFERRY_AUDIT_WEBHOOK_URL: `env:${variable}` } }, seed: async (dir) => void (await seedSources(dir)) });
    });
    after(async () => {
      delete process.env[variable];
      await harness?.close();
      await webhook?.stop();
    });

    it('posts the completed card; a webhook that keeps failing never fails the transfer, is audited, and its URL is in no log, audit record, ticket or card', async () => {
      const alice = harness.user('Alice Example');
      const first = await transfer(alice, 'reports/q1-sales.csv');
      const delivered = await alice.waitFor('the webhook card', () => webhook.messages().find((m) => m.requestId === first));
      assert.equal(delivered.outcome, 'completed');
      assert.equal(delivered.links?.length, 2);

      webhook.fail({ status: 503, times: 100 });
      const bob = harness.user('Bob Example');
      const second = await transfer(bob, 'reports/q1-sales.csv');
      // Bob heard first: the webhook's four attempts need at least 3.5 s of backoff between them.
      assert.ok(!(await harness.app.audit.readAll()).some((r) => r.type === 'notify.failed' && r.requestId === second), 'the completion message did not wait for the notifier');
      const failed = await auditOf(harness, 'notify.failed', second);
      assert.equal(failed.details?.code, 'SERVER_ERROR');
      assert.equal(failed.details?.attempts, 4);

      const everything = [
        harness.logLines.join('\n'),
        JSON.stringify(await harness.app.audit.readAll()),
        await readFile(join(harness.dataDir, 'tickets.jsonl'), 'utf8').catch(() => ''),
        JSON.stringify([...harness.connector.messages.values()].map((m) => m.versions)),
      ].join('\n');
      assert.ok(!everything.includes(webhook.sig), 'the webhook signature appears nowhere');
      assert.ok(!everything.includes(new URL(webhook.url).pathname), 'nor its path');
    });
  });
});
