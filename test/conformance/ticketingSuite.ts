import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { NewTicketPair, TicketPair, TicketRef, Ticketing } from '../../src/ports/ticketing';
import { FerryError } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';

/** A ticket as the ticketing system stores it, mapped by each adapter's test file from its own storage. */
export interface StoredTicket {
  number: string;
  /** What a person reads on the ticket (short description, description, …) joined as one text. */
  text: string;
  /** Work notes and closing notes, oldest first. */
  notes: string[];
  state: 'open' | 'resolved' | 'failed';
  /** The FileFerry request ID where the system keeps it in a field of its own (ServiceNow correlation_id). */
  correlationId?: string;
}

/**
 * What an adapter's test file hands the shared suite. `read` and `reopen` work on the storage of
 * the most recent `create()`. Optional members are looked at when the suite is declared: a case
 * that needs one is registered only when the factory has it (nothing is skipped).
 */
export interface TicketingFactory {
  /** An adapter over fresh storage (a new file, a fake instance with empty tables). Called before each test. */
  create(): Promise<Ticketing>;
  /** The stored ticket, read past the adapter under test (the fake's table, the file); undefined if there is none. */
  read(ticket: TicketRef): Promise<StoredTicket | undefined>;
  /** A new adapter over the same storage (a restart). Leave out when tickets do not outlive the instance. */
  reopen?(): Promise<Ticketing>;
  /** An assignment group the system does not have. Leave out when the adapter accepts any group (local numbers keep no group list). */
  unknownAssignmentGroup?: string;
  /**
   * The credentials the adapter was configured with (integration password, client secret, token).
   * They are the only secrets a ticketing adapter holds (NewTicketPair carries none), so the
   * suite checks that none of them reaches a ticket, a link or an error. Leave out when there are none.
   */
  credentials?: readonly string[];
}

/** The contract of `src/ports/ticketing.ts`, run against each ticketing adapter. */
export function ticketingConformance(name: string, factory: TicketingFactory): void {
  describe(`Ticketing conformance: ${name}`, function () {
    let ticketing: Ticketing;

    beforeEach(async () => {
      ticketing = await factory.create();
    });

    function newPair(extra: Partial<NewTicketPair> = {}): NewTicketPair {
      const requestId = `FF-${randomBytes(4).toString('hex').toUpperCase()}`;
      return {
        requestId,
        requester: { id: '29:user-0001', name: 'Ann Example' },
        summary: `Copy s3://finance-exports/q3/ledger.csv to the partner SFTP (${requestId})`,
        description: 'Environment: PROD\nSource: s3://finance-exports/q3/ledger.csv (eu-west-1)\nJustification: quarterly close for the auditors — « rapport » ✓',
        assignmentGroup: 'DataOps',
        priority: '3',
        environment: 'PROD',
        ...extra,
      };
    }

    async function stored(ticket: TicketRef): Promise<StoredTicket> {
      const t = await factory.read(ticket);
      assert.ok(t, `ticket ${ticket.number} is stored`);
      assert.equal(t.number, ticket.number);
      return t;
    }

    it('createPair returns two distinct numbers, each with its own link, both open', async () => {
      const pair = await ticketing.createPair(newPair());
      assert.ok(pair.user.number.length > 0 && pair.audit.number.length > 0, 'both tickets have a number');
      assert.notEqual(pair.user.number, pair.audit.number);
      for (const ref of [pair.user, pair.audit]) assert.match(new URL(ref.url).protocol, /^https?:$/, `${ref.url} is a web link`);
      assert.notEqual(pair.user.url, pair.audit.url);
      assert.equal((await stored(pair.user)).state, 'open');
      assert.equal((await stored(pair.audit)).state, 'open');
    });

    it('each ticket of the pair names the other, and both carry the request', async () => {
      const input = newPair();
      const pair = await ticketing.createPair(input);
      const user = await stored(pair.user);
      const audit = await stored(pair.audit);
      assert.ok(user.text.includes(pair.audit.number), `the request ticket names ${pair.audit.number}: ${user.text}`);
      assert.ok(audit.text.includes(pair.user.number), `the audit ticket names ${pair.user.number}: ${audit.text}`);
      for (const t of [user, audit]) {
        assert.ok(t.text.includes(input.description), `${t.number} carries the description as given`);
        assert.ok(t.correlationId === input.requestId || t.text.includes(input.requestId), `${t.number} leads back to ${input.requestId}`);
      }
    });

    it('every pair gets numbers of its own', async () => {
      const a = await ticketing.createPair(newPair());
      const b = await ticketing.createPair(newPair());
      const numbers = [a.user.number, a.audit.number, b.user.number, b.audit.number];
      assert.equal(new Set(numbers).size, 4, `numbers: ${numbers.join(', ')}`);
    });

    it('work notes arrive in order, verbatim, on that ticket only', async () => {
      const pair = await ticketing.createPair(newPair());
      const notes = ['Signed in as Ann Example.', 'Transfer started: 1.2 GiB\nto sftp://partner.example/in', 'Progress 50 % — « en cours » ✓'];
      for (const note of notes) await ticketing.addWorkNote(pair.user, note);
      assert.deepEqual((await stored(pair.user)).notes, notes);
      assert.deepEqual((await stored(pair.audit)).notes, [], 'the other ticket of the pair is untouched');
    });

    it('resolve closes the ticket as resolved with its note, and leaves the other open', async () => {
      const pair = await ticketing.createPair(newPair());
      await ticketing.addWorkNote(pair.user, 'Transfer started.');
      await ticketing.resolve(pair.user, 'Delivered 1,234 bytes, SHA-256 verified.');
      const user = await stored(pair.user);
      assert.equal(user.state, 'resolved');
      assert.equal(user.notes[0], 'Transfer started.');
      assert.ok(user.notes.at(-1)?.includes('Delivered 1,234 bytes, SHA-256 verified.'), `closing note recorded: ${JSON.stringify(user.notes)}`);
      assert.equal((await stored(pair.audit)).state, 'open');
    });

    it('fail closes the ticket as failed with the reason', async () => {
      const pair = await ticketing.createPair(newPair());
      await ticketing.fail(pair.audit, 'Cancelled by the requester before the transfer started.');
      const audit = await stored(pair.audit);
      assert.equal(audit.state, 'failed');
      assert.ok(audit.notes.at(-1)?.includes('Cancelled by the requester before the transfer started.'), `reason recorded: ${JSON.stringify(audit.notes)}`);
      assert.equal((await stored(pair.user)).state, 'open');
    });

    it('a note on a ticket that does not exist fails with a FerryError', async () => {
      // The TSDoc lists no code for this case (see the report): only the error type is the contract.
      const pair = await ticketing.createPair(newPair());
      const missing: TicketRef = { number: `${pair.user.number}9`, url: `${pair.user.url}9` };
      await expectFailure(ticketing.addWorkNote(missing, 'lost?'), { type: FerryError });
    });

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      it('after a restart, earlier tickets take notes and close, and new pairs get new numbers', async () => {
        const before = await ticketing.createPair(newPair());
        const again = await reopen();
        await again.addWorkNote(before.user, 'Picked up after a restart.');
        await again.resolve(before.user, 'Done after a restart.');
        const user = await stored(before.user);
        assert.equal(user.notes[0], 'Picked up after a restart.');
        assert.equal(user.state, 'resolved');
        const after = await again.createPair(newPair());
        const numbers = [before.user.number, before.audit.number, after.user.number, after.audit.number];
        assert.equal(new Set(numbers).size, 4, `numbers are not reused after a restart: ${numbers.join(', ')}`);
      });
    }

    if (factory.unknownAssignmentGroup !== undefined) {
      const group = factory.unknownAssignmentGroup;
      it('an unknown assignment group fails with INVALID_CONFIG', async () => {
        await expectFailure(ticketing.createPair(newPair({ assignmentGroup: group })), { code: 'INVALID_CONFIG', withHint: true });
      });
    }

    if (factory.credentials?.length) {
      const credentials = factory.credentials;
      it("the adapter's own credentials appear in no ticket, link or error", async () => {
        const pair: TicketPair = await ticketing.createPair(newPair());
        await ticketing.addWorkNote(pair.user, 'Transfer started.');
        await ticketing.resolve(pair.user, 'Done.');
        const missing = await expectFailure(ticketing.addWorkNote({ number: `${pair.user.number}9`, url: `${pair.user.url}9` }, 'x'));
        const seen = JSON.stringify([pair, await factory.read(pair.user), await factory.read(pair.audit), missing.message, missing.hint]);
        for (const secret of credentials) assert.ok(!seen.includes(secret), 'a configured credential leaked into a ticket, a link or an error');
      });
    }
  });
}
