import { strict as assert } from 'node:assert';
import type * as AdaptiveCards from 'adaptivecards';
import { CARD_BUDGET_BYTES, outcomeCard } from '../../src/adapters/notifier/outcomeCard';
import { TeamsWorkflowNotifier } from '../../src/adapters/notifier/teamsWorkflowNotifier';
import { notifierKinds } from '../../src/adapters/registry';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/domain/errors';
import type { AuditChannelMessage, NotifyResult } from '../../src/ports/notifier';
import { FakeWorkflowWebhook, WEBHOOK_LIMIT_BYTES } from '../support/fakeWorkflowWebhook';

const MESSAGE: AuditChannelMessage = {
  title: 'Transfer completed: q1-sales.csv',
  text: 'Transferred q1-sales.csv to Local outbox.',
  requestId: 'FF-ABCD2345',
  facts: { requester: 'Alice Example' },
  outcome: 'completed',
  links: [{ title: 'REQ0001001', url: 'https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=1' }],
};

// The UMD bundle parses and validates without a DOM (as test/unit/cards.test.ts does).
const AC: typeof AdaptiveCards = require('adaptivecards/dist/adaptivecards.js');

/** What the adaptivecards parser says about a card, against schema 1.4. */
function cardProblems(card: Record<string, unknown>): string[] {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_4);
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const e of parsed.validateProperties().validationEvents) problems.push(`validate: ${e.message}`);
  return problems;
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function failure(result: NotifyResult) {
  assert.equal(result.delivered, false, 'not delivered');
  if (result.delivered) throw new Error('unreachable');
  return result;
}

describe('TeamsWorkflowNotifier against a Workflows webhook stand-in', function () {
  this.timeout(60_000);
  let webhook: FakeWorkflowWebhook;

  before(async () => {
    webhook = await FakeWorkflowWebhook.start();
  });
  beforeEach(() => webhook.reset());
  after(async () => webhook?.stop());

  const notifier = (options: Partial<ConstructorParameters<typeof TeamsWorkflowNotifier>[0]> = {}) =>
    new TeamsWorkflowNotifier({ url: async () => webhook.url, baseDelayMs: 20, maxDelayMs: 5_000, ...options });

  it('posts one Adaptive Card in the body the flow expects; 202 with an empty body is delivered', async () => {
    const result = await notifier().notify(MESSAGE);
    assert.deepEqual(result, { delivered: true, attempts: 1 });
    assert.deepEqual(webhook.calls.map((c) => c.status), [202]);
    const [card] = webhook.cards;
    assert.equal(card!.type, 'AdaptiveCard');
    assert.equal(card!.version, '1.4');
    assert.deepEqual(webhook.messages(), [MESSAGE]);
  });

  it('429 with Retry-After: 1, then 202: waits at least the second the service asked for', async () => {
    webhook.fail({ status: 429, retryAfterSeconds: 1, times: 1 });
    const result = await notifier().notify(MESSAGE);
    assert.deepEqual(result, { delivered: true, attempts: 2 });
    assert.deepEqual(webhook.calls.map((c) => c.status), [429, 202]);
    const gap = webhook.calls[1]!.at - webhook.calls[0]!.at;
    assert.ok(gap >= 950, `waited ${gap} ms`);
    assert.equal(webhook.cards.length, 1);
  });

  it('500 and 503 are retried with backoff until the card is accepted', async () => {
    webhook.fail({ status: 500, times: 1 });
    webhook.fail({ status: 503, times: 1 });
    const result = await notifier().notify(MESSAGE);
    assert.deepEqual(result, { delivered: true, attempts: 3 });
    assert.deepEqual(webhook.calls.map((c) => c.status), [500, 503, 202]);
  });

  it('gives up after its attempts on a webhook that keeps failing, with SERVER_ERROR', async () => {
    webhook.fail({ status: 502, times: 100 });
    const result = failure(await notifier({ attempts: 3 }).notify(MESSAGE));
    assert.equal(result.attempts, 3);
    assert.equal(result.error.code, 'SERVER_ERROR');
    assert.equal(webhook.calls.length, 3);
  });

  for (const [status, code] of [[400, 'INVALID_CONFIG'], [403, 'ACCESS_DENIED'], [404, 'NOT_FOUND']] as const) {
    it(`${status} is not retried (${code}) and the error names the variable, never the URL`, async () => {
      webhook.fail({ status, times: 1 });
      const result = failure(await notifier().notify(MESSAGE));
      assert.equal(result.error.code, code);
      assert.equal(result.error.retryable, false);
      assert.equal(webhook.calls.length, 1);
      const said = `${result.error.message} ${result.error.hint}`;
      assert.match(said, /FILEFERRY_AUDIT_WEBHOOK_URL/);
      assert.ok(!said.includes(webhook.sig) && !said.includes(new URL(webhook.url).pathname), 'no part of the URL');
    });
  }

  it('a wrong signature (401) is AUTH_FAILED, not retried, and the message holds no part of the URL', async () => {
    const wrong = webhook.url.replace(webhook.sig, 'not-the-signature');
    const result = failure(await notifier({ url: async () => wrong }).notify(MESSAGE));
    assert.equal(result.error.code, 'AUTH_FAILED');
    assert.equal(webhook.calls.length, 1);
    assert.ok(!`${result.error.message} ${result.error.hint}`.includes('not-the-signature'));
  });

  it('a webhook that never answers: each attempt ends at its deadline, and the next one gets through', async () => {
    webhook.fail({ status: 0, hang: true, times: 1 });
    const result = await notifier({ timeoutMs: 300 }).notify(MESSAGE);
    assert.deepEqual(result, { delivered: true, attempts: 2 });
    webhook.reset();
    webhook.fail({ status: 0, hang: true, times: 10 });
    const gaveUp = failure(await notifier({ timeoutMs: 200, attempts: 2 }).notify(MESSAGE));
    assert.equal(gaveUp.error.code, 'TIMEOUT');
  });

  it('a server that is gone: NETWORK, retried, then reported', async () => {
    const gone = await FakeWorkflowWebhook.start();
    const url = gone.url;
    await gone.stop();
    const result = failure(await notifier({ url: async () => url, attempts: 2 }).notify(MESSAGE));
    assert.equal(result.error.code, 'NETWORK');
    assert.equal(result.attempts, 2);
    assert.ok(!result.error.message.includes(gone.sig));
  });

  it('a huge message becomes a card under 28 KB, cut with an ellipsis, that the flow accepts', async () => {
    const huge: AuditChannelMessage = {
      title: 'T'.repeat(5_000),
      text: '🚀"\\\u0002'.repeat(40_000),
      requestId: 'FF-HUGE0001',
      facts: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`fact ${i} ${'k'.repeat(200)}`, '€'.repeat(5_000)])),
      links: Array.from({ length: 50 }, (_, i) => ({ title: `link ${i}`, url: `https://example.com/${'p'.repeat(1_900)}${i}` })),
    };
    assert.deepEqual(await notifier().notify(huge), { delivered: true, attempts: 1 });
    const call = webhook.calls[0]!;
    assert.ok(call.bytes <= CARD_BUDGET_BYTES && CARD_BUDGET_BYTES < WEBHOOK_LIMIT_BYTES, `${call.bytes} bytes`);
    const [got] = webhook.messages();
    assert.ok(got!.title.endsWith('…') && got!.title.startsWith('TTTT'));
    assert.ok(got!.text.endsWith('…') && got!.text.startsWith('🚀"\\'));
    assert.ok(!got!.text.includes('\ud83d…'), 'no emoji is cut in half');
    assert.ok(Object.keys(got!.facts!).length < 500, 'facts are capped');
    assert.equal(got!.requestId, 'FF-HUGE0001');
  });

  it('the outcome card is a valid Adaptive Card 1.4 for every outcome, with and without links', () => {
    for (const outcome of ['completed', 'failed', 'cancelled', 'interrupted', 'expired', 'approved', 'rejected'] as const) {
      assert.deepEqual(cardProblems(outcomeCard({ ...MESSAGE, outcome })), [], outcome);
    }
    assert.deepEqual(cardProblems(outcomeCard({ title: 'bare', text: '' })), []);
  });

  it('the fake itself refuses a body over 28 KB with 413 (what the limit protects against)', async () => {
    const res = await fetch(webhook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'message', attachments: [], pad: 'x'.repeat(WEBHOOK_LIMIT_BYTES) }) });
    assert.equal(res.status, 413);
  });

  describe('configuration: FILEFERRY_AUDIT_WEBHOOK_URL is a secret reference', () => {
    it('a bare URL is refused at start-up, naming the variable and not repeating the URL', () => {
      assert.throws(
        () => loadConfig({ FILEFERRY_NOTIFIER: 'teams-workflow', FILEFERRY_AUDIT_WEBHOOK_URL: webhook.url }),
        (e: unknown) => e instanceof ConfigError && /FILEFERRY_AUDIT_WEBHOOK_URL/.test(e.message) && /secret/.test(e.message) && !`${e.message} ${e.hint}`.includes(webhook.sig),
      );
      assert.throws(() => loadConfig({ FILEFERRY_NOTIFIER: 'teams-workflow' }), /FILEFERRY_AUDIT_WEBHOOK_URL/);
    });

    it('env: is read through the SecretStore on every card, so a rotated URL applies to the next one', async () => {
      const second = await FakeWorkflowWebhook.start();
      try {
        const env: NodeJS.ProcessEnv = { FILEFERRY_NOTIFIER: 'teams-workflow', FILEFERRY_AUDIT_WEBHOOK_URL: 'env:AUDIT_WEBHOOK', AUDIT_WEBHOOK: webhook.url };
        const config = loadConfig(env);
        assert.equal(config.notifier.kind, 'teams-workflow');
        const built = notifierKinds['teams-workflow'](config.notifier as Extract<typeof config.notifier, { kind: 'teams-workflow' }>, { config, env, log: silent, baseUrl: () => 'http://localhost' });
        assert.equal((await built.notify(MESSAGE)).delivered, true);
        env.AUDIT_WEBHOOK = second.url;
        assert.equal((await built.notify(MESSAGE)).delivered, true);
        assert.equal(webhook.cards.length, 1);
        assert.equal(second.cards.length, 1);
        delete env.AUDIT_WEBHOOK;
        const missing = failure(await built.notify(MESSAGE));
        assert.equal(missing.error.code, 'SECRET_NOT_FOUND');
        assert.match(missing.error.message, /env:AUDIT_WEBHOOK/);
      } finally {
        await second.stop();
      }
    });

    it('a secret that holds no https URL is INVALID_CONFIG and its value is not repeated', async () => {
      const result = failure(await notifier({ url: async () => `ftp://example.com/${webhook.sig}` }).notify(MESSAGE));
      assert.equal(result.error.code, 'INVALID_CONFIG');
      assert.ok(!result.error.message.includes(webhook.sig));
      assert.equal(webhook.calls.length, 0);
    });
  });
});
