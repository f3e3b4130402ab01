import { strict as assert } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { NotifyError } from '../../src/domain/errors';
import type { AuditChannelMessage, Notifier, NotifyResult } from '../../src/ports/notifier';

/**
 * What an adapter's test file hands the shared suite. `delivered` reads the channel of the most
 * recent `create()`.
 */
export interface NotifierFactory {
  /** A notifier over a working channel (a fake Teams connector, a webhook receiver, a log stream). Called before each test. */
  create(): Promise<Notifier>;
  /** What reached that channel so far, oldest first, mapped back to messages from what the channel received. */
  delivered(): Promise<AuditChannelMessage[]>;
  /** A notifier whose channel fails (connection refused, HTTP 500, a log stream that throws). */
  broken(): Promise<Notifier>;
  /** Values that must never appear in a result's error (the webhook URL and its signature). */
  secrets?: () => string[];
}

/** The contract of `src/ports/notifier.ts`, run against each notifier. */
export function notifierConformance(name: string, factory: NotifierFactory): void {
  describe(`Notifier conformance: ${name}`, function () {
    this.timeout(30_000);
    let notifier: Notifier;

    beforeEach(async () => {
      notifier = await factory.create();
    });

    const full: AuditChannelMessage = {
      title: 'Transfer completed: ledger été.csv',
      text: 'REQ0001001: ledger été.csv → sftp://partner.example/in\nSHA-256 verified ✓',
      requestId: 'FF-0000CAFE',
      facts: { Requester: 'Ann Example', Bytes: '1,234,567', Destination: 'Partner SFTP (« prod »)' },
      outcome: 'completed',
      links: [
        { title: 'REQ0001001', url: 'https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=0123456789abcdef0123456789abcdef' },
        { title: 'AUD0001002', url: 'https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=fedcba9876543210fedcba9876543210' },
      ],
    };

    it('a message with every field arrives as sent, and notify says it was delivered', async () => {
      const result = await notifier.notify(full);
      assert.equal(result.delivered, true);
      assert.ok(result.attempts >= 1);
      assert.deepEqual(await factory.delivered(), [full]);
    });

    it('a message with only a title and text arrives with nothing added', async () => {
      const bare: AuditChannelMessage = { title: 'FileFerry started', text: 'Listening for requests.' };
      assert.equal((await notifier.notify(bare)).delivered, true);
      assert.deepEqual(await factory.delivered(), [bare]);
    });

    it('each outcome arrives with its outcome', async () => {
      const outcomes = ['failed', 'cancelled', 'interrupted', 'expired', 'approved', 'rejected'] as const;
      for (const outcome of outcomes) await notifier.notify({ title: `Request ${outcome}`, text: 'x', outcome });
      assert.deepEqual((await factory.delivered()).map((m) => m.outcome), [...outcomes]);
    });

    it('several messages all arrive', async () => {
      const messages = Array.from({ length: 5 }, (_, i): AuditChannelMessage => ({ title: `Request ${i}`, text: `Step ${i} of 5`, requestId: `FF-0000000${i}` }));
      for (const m of messages) await notifier.notify(m);
      const got = await factory.delivered();
      assert.equal(got.length, messages.length);
      for (const m of messages) assert.ok(got.some((d) => isDeepStrictEqual(d, m)), `${m.title} arrived`);
    });

    it('a huge message still arrives, beginning as sent', async () => {
      const huge: AuditChannelMessage = {
        title: `Transfer failed: ${'very-long-name-'.repeat(100)}.csv`,
        text: '€ and 🚀 and "quotes" and \u0001 '.repeat(5_000),
        requestId: 'FF-HUGE0001',
        facts: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`fact ${i}`, '🚀'.repeat(2_000)])),
      };
      assert.equal((await notifier.notify(huge)).delivered, true);
      const [got] = await factory.delivered();
      assert.ok(got!.title.startsWith('Transfer failed: very-long-name-'), got!.title.slice(0, 60));
      assert.ok(got!.text.startsWith('€ and 🚀 and "quotes"'));
      assert.equal(got!.requestId, 'FF-HUGE0001');
    });

    it('a failing channel: notify resolves undelivered with a NotifyError, never throws, also for several at once', async () => {
      const broken = await factory.broken();
      const results: NotifyResult[] = [await broken.notify(full), ...(await Promise.all([broken.notify(full), broken.notify({ title: 't', text: 'x' }), broken.notify(full)]))];
      for (const r of results) {
        assert.equal(r.delivered, false);
        if (r.delivered) continue;
        assert.ok(r.error instanceof NotifyError, 'a NotifyError');
        assert.match(r.error.code, /^[A-Z_]+$/);
        assert.ok(r.error.message.length > 0 && r.error.hint.length > 0, 'it says what failed and what to do');
        for (const secret of factory.secrets?.() ?? []) {
          assert.ok(!`${r.error.message} ${r.error.hint}`.includes(secret), 'no secret in the error');
        }
      }
    });
  });
}
