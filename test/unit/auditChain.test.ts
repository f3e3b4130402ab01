import { strict as assert } from 'node:assert';
import { createHash, createHmac } from 'node:crypto';
import { GENESIS, canonicalAuditJson, sealAuditRecord, verifyAuditChain, type AuditRecord, type ChainVerdict } from '../../src/domain/auditChain';

const T0 = Date.UTC(2031, 2, 14, 9, 30, 0, 0);
const KEY = Buffer.from('unit-test audit key');

/** A hand-built, intact chain of `n` records (sealed with `key` when given). */
function chain(n: number, key?: Buffer): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const prev = records.at(-1);
    records.push(sealAuditRecord({ type: 'step', actor: `29:user-${i}`, requestId: 'FF-00000001', details: { i } }, prev && { seq: prev.seq, hash: prev.hash }, { chain: 'unit', at: new Date(T0 + i * 1000), key }));
  }
  return records;
}

/** The verdict as [seq, problem], or the whole verdict when the chain passed (so a pass fails the assertion readably). */
const broken = (v: ChainVerdict): unknown => (v.ok ? v : [v.seq, v.problem]);

describe('verifyAuditChain', () => {
  it('an empty chain is intact, with no head', async () => {
    assert.deepEqual(await verifyAuditChain([]), { ok: true, count: 0 });
  });

  it('an intact chain passes and reports its head: the last seq and hash', async () => {
    const records = chain(5);
    assert.deepEqual(await verifyAuditChain(records), { ok: true, count: 5, head: { seq: 5, hash: records[4]!.hash } });
  });

  it('reads an async iterable as well as an array', async () => {
    const records = chain(3);
    async function* stream(): AsyncIterable<AuditRecord> {
      yield* records;
    }
    assert.deepEqual(await verifyAuditChain(stream()), { ok: true, count: 3, head: { seq: 3, hash: records[2]!.hash } });
  });

  it('the first record links to GENESIS; hash = SHA-256 of the canonical form, hmac = HMAC-SHA-256(key, hash hex)', async () => {
    const [first] = chain(1, KEY);
    assert.equal(first!.hash, createHash('sha256').update(canonicalAuditJson(first!), 'utf8').digest('hex'));
    assert.equal(first!.hmac, createHmac('sha256', KEY).update(first!.hash, 'utf8').digest('hex'));
    assert.equal(first!.prevHash, GENESIS);
    assert.equal(canonicalAuditJson(first!), '{"actor":"29:user-1","at":"2031-03-14T09:30:01.000Z","chain":"unit","details":{"i":1},"prevHash":"' + GENESIS + '","requestId":"FF-00000001","seq":1,"type":"step"}');
  });

  it('altered: a changed field, named by its seq, with a message saying so', async () => {
    const records = chain(5);
    records[2] = { ...records[2]!, details: { i: 33 } };
    const verdict = await verifyAuditChain(records);
    assert.deepEqual(broken(verdict), [3, 'altered']);
    assert.match(!verdict.ok ? verdict.message : '', /Record 3 was altered/);
    assert.equal(verdict.count, 3, 'counted up to the broken record');
  });

  it('altered: a field added (absent is not the same as present)', async () => {
    const records = chain(3);
    records[1] = { ...records[1]!, details: { ...records[1]!.details, extra: null } };
    assert.deepEqual(broken(await verifyAuditChain(records)), [2, 'altered']);
  });

  it('removed: a gap in seq names the missing record', async () => {
    const records = chain(5);
    records.splice(3, 1);
    assert.deepEqual(broken(await verifyAuditChain(records)), [4, 'removed']);
  });

  it('removed: a chain that does not start at 1', async () => {
    assert.deepEqual(broken(await verifyAuditChain(chain(4).slice(1))), [1, 'removed']);
  });

  it('inserted: a seq repeated right after itself', async () => {
    const records = chain(4);
    records.splice(2, 0, records[1]!);
    assert.deepEqual(broken(await verifyAuditChain(records)), [2, 'inserted']);
  });

  it('inserted: a well-sealed record with the right seq that links to the wrong predecessor', async () => {
    const records = chain(4);
    const stranger = sealAuditRecord({ type: 'forged', actor: 'system' }, { seq: 2, hash: 'f'.repeat(64) }, { chain: 'unit', at: new Date(T0) });
    records[2] = stranger;
    assert.deepEqual(broken(await verifyAuditChain(records)), [3, 'inserted']);
  });

  it('reordered: an earlier record appearing again after later ones', async () => {
    const records = chain(5);
    records.push(records[1]!);
    const verdict = await verifyAuditChain(records);
    assert.deepEqual(broken(verdict), [2, 'reordered']);
    assert.match(!verdict.ok ? verdict.message : '', /Record 2 appears after record 5/);
  });

  // Where record 2 should be it meets record 4; record 2 comes later, so it was moved, not removed.
  it('a swap of two records is reported at the first place out of order, as reordered', async () => {
    const records = chain(5);
    [records[1], records[3]] = [records[3]!, records[1]!];
    assert.deepEqual(broken(await verifyAuditChain(records)), [2, 'reordered']);
  });

  it('with a key: a keyed chain passes; a record without an HMAC is unsigned', async () => {
    const records = chain(4, KEY);
    assert.equal((await verifyAuditChain(records, KEY)).ok, true);
    const { hmac: _dropped, ...bare } = records[2]!;
    records[2] = bare;
    assert.deepEqual(broken(await verifyAuditChain(records, KEY)), [3, 'unsigned']);
  });

  it('with a key: a chain sealed without one is unsigned from record 1, though it passes without the key', async () => {
    const records = chain(3);
    assert.equal((await verifyAuditChain(records)).ok, true);
    assert.deepEqual(broken(await verifyAuditChain(records, KEY)), [1, 'unsigned']);
  });

  it('with a key: an HMAC made with another key, or malformed, is forged', async () => {
    assert.deepEqual(broken(await verifyAuditChain(chain(3, Buffer.from('another key')), KEY)), [1, 'forged']);
    const records = chain(3, KEY);
    records[1] = { ...records[1]!, hmac: 'abc' };
    assert.deepEqual(broken(await verifyAuditChain(records, KEY)), [2, 'forged']);
  });

  it('without a key the HMAC is not looked at', async () => {
    const records = chain(3, KEY);
    records[1] = { ...records[1]!, hmac: 'not even hex' };
    assert.equal((await verifyAuditChain(records)).ok, true);
  });
});
