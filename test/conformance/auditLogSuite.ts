import { strict as assert } from 'node:assert';
import { verifyAuditChain } from '../../src/domain/auditChain';
import type { AuditEvent, AuditLog, AuditRecord } from '../../src/ports/auditLog';
import { FerryError } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';

/**
 * What an adapter's test file hands the shared suite. `readAll` and `reopen` work on the storage
 * of the most recent `create()`. `unwritable` is looked at when the suite is declared: its case is
 * registered only when the factory has it (nothing is skipped).
 */
export interface AuditLogFactory {
  /** An audit log over fresh, empty storage (a new file, table or container). Called before each test. */
  create(): Promise<AuditLog>;
  /** Every stored record, oldest first, read past the adapter under test (the file, the table). */
  readAll(): Promise<AuditRecord[]>;
  /** A new adapter instance over the same storage (a restart). Required: `append` resolves once durable. */
  reopen(): Promise<AuditLog>;
  /** An adapter whose storage refuses every write (a path it cannot create, a stopped server). */
  unwritable?(): Promise<AuditLog>;
}

/** ISO 8601 in UTC, as `Date#toISOString` writes it (fraction optional). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** The contract of `src/ports/auditLog.ts`, run against each audit store. */
export function auditLogConformance(name: string, factory: AuditLogFactory): void {
  describe(`AuditLog conformance: ${name}`, function () {
    let audit: AuditLog;

    beforeEach(async () => {
      audit = await factory.create();
    });

    const event = (i: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({ type: 'transfer.progress', requestId: 'FF-0000CAFE', actor: 'system', details: { i }, ...extra });

    /** The record is the event as given, plus its chain link: `chain`, `seq`, an ISO UTC `at`, `prevHash`, `hash`. */
    function checkRecord(record: AuditRecord, given: AuditEvent): void {
      assert.match(record.at, ISO_UTC, `at is an ISO UTC timestamp: ${record.at}`);
      assert.ok(!Number.isNaN(Date.parse(record.at)), `at parses: ${record.at}`);
      assert.ok(Number.isInteger(record.seq), `seq is an integer: ${record.seq}`);
      assert.match(record.hash, /^[0-9a-f]{64}$/);
      assert.match(record.prevHash, /^[0-9a-f]{64}$/);
      const { chain, seq, at, prevHash, hash, hmac, ...event } = record;
      void [chain, seq, at, prevHash, hash, hmac];
      assert.deepEqual(event, given);
    }

    function checkConsecutive(seqs: number[]): void {
      const sorted = [...seqs].sort((a, b) => a - b);
      assert.deepEqual(sorted, sorted.map((_, i) => sorted[0]! + i), `distinct consecutive seqs: ${sorted.join(',')}`);
    }

    it('append resolves with the event, an ISO UTC `at` and a strictly increasing `seq`', async () => {
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const given = event(i);
        const record = await audit.append(given);
        checkRecord(record, given);
        seqs.push(record.seq);
      }
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq increases: ${seqs.join(',')}`);
    });

    it('a record is in storage as soon as append resolves', async () => {
      const record = await audit.append(event(1, { type: 'request.created' }));
      assert.deepEqual((await factory.readAll()).at(-1), record);
    });

    it('records read back in order, exactly as append returned them', async () => {
      const returned: AuditRecord[] = [];
      returned.push(await audit.append({ type: 'request.created', requestId: 'FF-00000001', actor: '29:user-1', details: { environment: 'PROD' } }));
      returned.push(await audit.append({ type: 'signin.completed', actor: 'system' }));
      returned.push(await audit.append({ type: 'action.refused', requestId: 'FF-00000001', actor: '29:user-2' }));
      assert.deepEqual(await factory.readAll(), returned);
    });

    it('the records form one verifiable hash chain, also across a restart', async () => {
      for (let i = 0; i < 5; i++) await audit.append(event(i));
      const after = await factory.reopen();
      await Promise.all([1, 2, 3].map((i) => after.append(event(10 + i))));
      const verdict = await verifyAuditChain(await factory.readAll());
      assert.deepEqual(verdict.ok && verdict.count, 8, JSON.stringify(verdict));
    });

    it('50 appends in parallel all land, with distinct consecutive seqs, none lost', async () => {
      const given = Array.from({ length: 50 }, (_, i) => event(i));
      const records = await Promise.all(given.map((e) => audit.append(e)));
      records.forEach((r, i) => checkRecord(r, given[i]!));
      checkConsecutive(records.map((r) => r.seq));
      const stored = await factory.readAll();
      assert.equal(stored.length, 50);
      assert.deepEqual(stored, [...records].sort((a, b) => a.seq - b.seq), 'storage holds every record, in seq order');
    });

    it('a new instance over the same storage keeps the sequence going', async () => {
      const first = [await audit.append(event(1)), await audit.append(event(2)), await audit.append(event(3))];
      const again = await factory.reopen();
      const next = await again.append(event(4));
      assert.equal(next.seq, first.at(-1)!.seq + 1, 'the sequence continues after a restart');
      const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => again.append(event(5 + i))));
      checkConsecutive([first.at(-1)!.seq, next.seq, ...burst.map((r) => r.seq)]);
      const stored = await factory.readAll();
      assert.deepEqual(stored.map((r) => r.seq), [...first, next, ...burst].map((r) => r.seq).sort((a, b) => a - b));
    });

    it('details are preserved exactly: unicode, newlines, numbers, booleans, null', async () => {
      const given: AuditEvent = {
        type: 'transfer.completed',
        requestId: 'FF-0000BEEF',
        actor: '29:Zoë — 山田',
        details: {
          key: 'dossier été/rapport final ✓ 🚀.csv',
          multiline: 'line one\nline two\r\nline\tthree "quoted" \\ back\u2028sep',
          empty: '',
          rtl: 'שלום',
          combining: 'e\u0301',
          zero: 0,
          negative: -42,
          fraction: 0.1 + 0.2,
          large: Number.MAX_SAFE_INTEGER,
          tiny: 5e-324,
          yes: true,
          no: false,
          none: null,
        },
      };
      const record = await audit.append(given);
      checkRecord(record, given);
      assert.deepEqual(await factory.readAll(), [record]);
      const after = await factory.reopen();
      const next = await after.append({ type: 'x', actor: 'system' });
      assert.deepEqual((await factory.readAll())[0], record, 'still exact after a restart');
      assert.equal(next.seq, record.seq + 1);
    });

    if (factory.unwritable) {
      const unwritable = factory.unwritable.bind(factory);
      it('append fails with a FerryError when the storage refuses the write', async () => {
        const broken = await unwritable();
        await expectFailure(broken.append(event(1)), { type: FerryError });
      });
    }
  });
}
