import { strict as assert } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import type { AuditChannelMessage, Notifier } from '../../src/ports/notifier';

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
}

/** The contract of `src/ports/notifier.ts`, run against each notifier. */
export function notifierConformance(name: string, factory: NotifierFactory): void {
  describe(`Notifier conformance: ${name}`, function () {
    let notifier: Notifier;

    beforeEach(async () => {
      notifier = await factory.create();
    });

    const full: AuditChannelMessage = {
      title: 'Transfer completed',
      text: 'REQ0001001: ledger été.csv → sftp://partner.example/in\nSHA-256 verified ✓',
      requestId: 'FF-0000CAFE',
      facts: { Requester: 'Ann Example', Bytes: '1,234,567', Destination: 'Partner SFTP (« prod »)' },
    };

    it('a message with every field arrives as sent', async () => {
      await notifier.notify(full);
      assert.deepEqual(await factory.delivered(), [full]);
    });

    it('a message with only a title and text arrives with nothing added', async () => {
      const bare: AuditChannelMessage = { title: 'FileFerry started', text: 'Listening for requests.' };
      await notifier.notify(bare);
      assert.deepEqual(await factory.delivered(), [bare]);
    });

    it('several messages all arrive', async () => {
      const messages = Array.from({ length: 5 }, (_, i): AuditChannelMessage => ({ title: `Request ${i}`, text: `Step ${i} of 5`, requestId: `FF-0000000${i}` }));
      for (const m of messages) await notifier.notify(m);
      const got = await factory.delivered();
      assert.equal(got.length, messages.length);
      for (const m of messages) assert.ok(got.some((d) => isDeepStrictEqual(d, m)), `${m.title} arrived`);
    });

    it('notify never throws when the channel fails, also for several messages at once', async () => {
      const broken = await factory.broken();
      await broken.notify(full);
      await Promise.all([broken.notify(full), broken.notify({ title: 't', text: 'x' }), broken.notify(full)]);
    });
  });
}
