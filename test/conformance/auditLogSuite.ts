import { strict as assert } from 'node:assert';
import { sealAuditRecord, verifyAuditChain, type ChainProblem } from '../../src/domain/auditChain';
import type { AuditEvent, AuditLog, AuditRecord } from '../../src/ports/auditLog';
import { FerryError } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';

/**
 * What an adapter's test file hands the shared suite. `readAll`, `reopen` and `tamper` work on the
 * storage of the most recent `create()` or `createKeyed()`. `unwritable`, `createKeyed` and
 * `tamper` are looked at when the suite is declared: their cases are registered only when the
 * factory has them (nothing is skipped).
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
  /** Like `create`, with the adapter given `key` as its HMAC key (enables the HMAC cases, with `tamper`). */
  createKeyed?(key: Buffer): Promise<AuditLog>;
  /** Edits the storage directly, past the adapter, as someone with write access to it would (enables the tamper cases). */
  tamper?: AuditTamper;
}

/**
 * Edits of the stored chain, made past the adapter. `seq` names the stored record whose `seq`
 * field is that number; the cases tamper once with a chain nothing reordered yet, where that is
 * also the record's place in storage. Nothing re-seals: each edit is exactly what it says.
 */
export interface AuditTamper {
  /** Rewrites the record of `seq` in its place, as `mutate` left it (a changed field, a recomputed hash). */
  alter(seq: number, mutate: (record: AuditRecord) => void): Promise<void>;
  /** Deletes the record of `seq`; the records after it keep their place and content. */
  remove(seq: number): Promise<void>;
  /**
   * Stores `record`, as given, right after the record of `afterSeq` in storage order. Storage that
   * is keyed by seq makes room by moving the later rows' keys up one, never their content.
   */
  insert(afterSeq: number, record: AuditRecord): Promise<void>;
  /** Exchanges the places of the records of `seqA` and `seqB` (their content moves, storage keys stay). */
  swap(seqA: number, seqB: number): Promise<void>;
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

    if (factory.tamper) {
      const tamper = factory.tamper;
      describe('tampering past the adapter is caught by verifyAuditChain', () => {
        const six = async (log: AuditLog): Promise<AuditRecord[]> => {
          const records: AuditRecord[] = [];
          for (let i = 1; i <= 6; i++) records.push(await log.append(event(i, { actor: `29:user-${i}` })));
          return records;
        };
        async function expectBroken(seq: number, problem: ChainProblem, key?: Buffer): Promise<void> {
          const verdict = await verifyAuditChain(await factory.readAll(), key);
          assert.deepEqual(verdict.ok ? verdict : { seq: verdict.seq, problem: verdict.problem }, { seq, problem }, JSON.stringify(verdict));
        }

        it('an intact chain of six verifies, with its head', async () => {
          const records = await six(audit);
          assert.deepEqual(await verifyAuditChain(await factory.readAll()), { ok: true, count: 6, head: { seq: 6, hash: records[5]!.hash } });
        });

        it('a changed detail: record 4 was altered', async () => {
          await six(audit);
          await tamper.alter(4, (r) => void (r.details = { ...r.details, i: 400 }));
          await expectBroken(4, 'altered');
        });

        it('a back-dated newest record: record 6 was altered', async () => {
          await six(audit);
          await tamper.alter(6, (r) => void (r.at = '2020-01-01T00:00:00.000Z'));
          await expectBroken(6, 'altered');
        });

        it('a changed record with its own hash recomputed no longer links: caught at record 5', async () => {
          const records = await six(audit);
          await tamper.alter(4, (r) => {
            r.actor = '29:someone-else';
            r.hash = sealAuditRecord({ type: r.type, actor: r.actor, requestId: r.requestId, details: r.details }, { seq: 3, hash: records[2]!.hash }, { chain: r.chain, at: new Date(r.at) }).hash;
          });
          await expectBroken(5, 'inserted');
        });

        it('a deleted record: record 3 was removed', async () => {
          await six(audit);
          await tamper.remove(3);
          await expectBroken(3, 'removed');
        });

        it('the newest record deleted leaves a shorter intact chain: only a head quoted elsewhere (the ticket note) shows it', async () => {
          const records = await six(audit);
          await tamper.remove(6);
          assert.deepEqual(await verifyAuditChain(await factory.readAll()), { ok: true, count: 5, head: { seq: 5, hash: records[4]!.hash } });
        });

        it('a forged record, properly sealed after record 3, inserted there: caught where the real record 4 repeats its seq', async () => {
          const records = await six(audit);
          const forged = sealAuditRecord({ type: 'transfer.completed', actor: 'system', requestId: 'FF-0000CAFE' }, { seq: 3, hash: records[2]!.hash }, { chain: records[0]!.chain, at: new Date(records[2]!.at) });
          await tamper.insert(3, forged);
          await expectBroken(4, 'inserted');
        });

        it('a copy of record 3 inserted after it: record 3 was inserted', async () => {
          const records = await six(audit);
          await tamper.insert(3, records[2]!);
          await expectBroken(3, 'inserted');
        });

        it('a copy of record 2 replayed after the newest: record 2 was reordered', async () => {
          const records = await six(audit);
          await tamper.insert(6, records[1]!);
          await expectBroken(2, 'reordered');
        });

        // Where record 2 should be the verifier finds record 5; record 2 turns up later, so it was moved.
        it('records 2 and 5 swapped: caught at record 2, as reordered', async () => {
          await six(audit);
          await tamper.swap(2, 5);
          await expectBroken(2, 'reordered');
        });

        it('two neighbours swapped (3 and 4): caught at record 3, as reordered', async () => {
          await six(audit);
          await tamper.swap(3, 4);
          await expectBroken(3, 'reordered');
        });
      });

      if (factory.createKeyed) {
        const createKeyed = factory.createKeyed.bind(factory);
        describe('with an HMAC key, a chain rebuilt without it is caught', () => {
          const key = Buffer.from('the real audit key: 32 bytes....');
          const otherKey = Buffer.from('an editor who guessed another key');

          /** Alters record `from`, then re-seals it and every later record with `sealKey`, as an editor who knows the format would. */
          async function rebuildFrom(from: number, sealKey: Buffer | undefined): Promise<void> {
            const stored = await factory.readAll();
            let head = from > 1 ? { seq: from - 1, hash: stored[from - 2]!.hash } : undefined;
            for (const old of stored.slice(from - 1)) {
              const details = old.seq === from ? { ...old.details, bytes: 1 } : old.details;
              const resealed = sealAuditRecord({ type: old.type, actor: old.actor, requestId: old.requestId, details }, head, { chain: old.chain, at: new Date(old.at), key: sealKey });
              await tamper.alter(old.seq, (r) => {
                for (const k of Object.keys(r)) delete (r as unknown as Record<string, unknown>)[k];
                Object.assign(r, resealed);
              });
              head = { seq: resealed.seq, hash: resealed.hash };
            }
          }

          it('a keyed chain verifies with its key; every record has an HMAC, and another key calls record 1 forged', async () => {
            const log = await createKeyed(key);
            for (let i = 1; i <= 6; i++) await log.append(event(i));
            const stored = await factory.readAll();
            assert.ok(stored.every((r) => /^[0-9a-f]{64}$/.test(r.hmac ?? '')), 'every record carries an HMAC');
            assert.deepEqual(await verifyAuditChain(stored, key), { ok: true, count: 6, head: { seq: 6, hash: stored[5]!.hash } });
            const other = await verifyAuditChain(stored, otherKey);
            assert.deepEqual(other.ok ? other : [other.seq, other.problem], [1, 'forged']);
          });

          it('records 4 to 6 rebuilt without a key: the hash chain holds, the key finds record 4 unsigned', async () => {
            const log = await createKeyed(key);
            for (let i = 1; i <= 6; i++) await log.append(event(i));
            await rebuildFrom(4, undefined);
            const plain = await verifyAuditChain(await factory.readAll());
            assert.equal(plain.ok, true, `without the key the rebuilt chain passes: ${JSON.stringify(plain)}`);
            const verdict = await verifyAuditChain(await factory.readAll(), key);
            assert.deepEqual(verdict.ok ? verdict : [verdict.seq, verdict.problem], [4, 'unsigned']);
          });

          it('the whole chain rebuilt with another key: the hash chain holds, the key finds record 1 forged', async () => {
            const log = await createKeyed(key);
            for (let i = 1; i <= 6; i++) await log.append(event(i));
            await rebuildFrom(1, otherKey);
            const plain = await verifyAuditChain(await factory.readAll());
            assert.equal(plain.ok, true, `without the key the rebuilt chain passes: ${JSON.stringify(plain)}`);
            const verdict = await verifyAuditChain(await factory.readAll(), key);
            assert.deepEqual(verdict.ok ? verdict : [verdict.seq, verdict.problem], [1, 'forged']);
          });
        });
      }
    }

    if (factory.unwritable) {
      const unwritable = factory.unwritable.bind(factory);
      it('append fails with a FerryError when the storage refuses the write', async () => {
        const broken = await unwritable();
        await expectFailure(broken.append(event(1)), { type: FerryError });
      });
    }
  });
}
