import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { SqliteAudit } from '../../src/adapters/store/sqliteAudit';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store/sqliteDatabase';
import { CSV_COLUMNS, runAudit } from '../../src/cli/auditCommand';
import { parseAuditRequest, type AuditRequest } from '../../src/cli/auditRequest';
import { main } from '../../src/cli/main';
import { canonicalAuditJson, sealAuditRecord } from '../../src/domain/auditChain';
import type { AuditEvent, AuditRecord } from '../../src/ports/auditLog';
import { tempDir } from '../support/tmp';

const T0 = Date.UTC(2031, 2, 14, 9, 0, 0, 0);
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString();
const KEY = Buffer.from('the audit key, as FILEFERRY_AUDIT_KEY_REF resolves it');

/**
 * A sink that keeps what it was given; `slow` makes every write wait a turn, so a writer that
 * ignores back-pressure piles up a buffer (`maxBuffered`, the most ever waiting in it).
 */
function sink(slow = false): { out: Writable; text: () => string; maxBuffered: () => number } {
  let text = '';
  let maxBuffered = 0;
  const out: Writable = new Writable({
    highWaterMark: slow ? 16 : 16_384,
    write(chunk, _enc, cb) {
      maxBuffered = Math.max(maxBuffered, out.writableLength);
      text += chunk.toString();
      if (slow) setImmediate(cb);
      else cb();
    },
  });
  return { out, text: () => text, maxBuffered: () => maxBuffered };
}

/** RFC 4180: quoted fields may hold commas, CRLF and doubled quotes; lines end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  assert.equal(field + row.join(''), '', 'the text ends with CRLF');
  return rows;
}

describe('fileferry audit (against a real SQLite file)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let n = 0;
  let db: SqliteDatabase;
  let file: string;
  const raw = <T>(use: (d: Database.Database) => T): T => {
    const d = new Database(file);
    try {
      return use(d);
    } finally {
      d.close();
    }
  };

  before(async () => {
    dir = await tempDir('audit-cli');
  });
  beforeEach(() => {
    file = join(dir.path, `fileferry-${++n}.db`);
    db = openSqliteDatabase(file);
  });
  afterEach(() => db.close());
  after(async () => dir.remove());

  /** Appends `count` events one minute apart from T0 (event i at minute i). */
  async function fill(count: number, options: { key?: Buffer; event?: (i: number) => AuditEvent } = {}): Promise<AuditRecord[]> {
    let minute = 0;
    const audit = new SqliteAudit(db, { key: options.key, now: () => new Date(T0 + minute++ * 60_000) });
    const records: AuditRecord[] = [];
    for (let i = 0; i < count; i++) records.push(await audit.append(options.event?.(i) ?? { type: 'transfer.progress', requestId: i % 3 === 0 ? 'FF-0000000A' : 'FF-0000000B', actor: 'system', details: { i } }));
    return records;
  }
  const reader = (): SqliteAudit => new SqliteAudit(db);
  async function run(request: AuditRequest, key?: Buffer, slow = false): Promise<{ code: number; out: string; maxBuffered: number }> {
    const s = sink(slow);
    const code = await runAudit(reader(), request, { out: s.out, key });
    return { code, out: s.text(), maxBuffered: s.maxBuffered() };
  }
  const verify: AuditRequest = { action: 'verify', json: false };
  const alter = (seq: number, mutate: (r: AuditRecord) => void): void =>
    raw((d) => {
      const row = d.prepare<[number], { record: string }>("SELECT record FROM audit_records WHERE chain = 'fileferry' AND seq = ?").get(seq)!;
      const record = JSON.parse(row.record) as AuditRecord;
      mutate(record);
      d.prepare("UPDATE audit_records SET record = ? WHERE chain = 'fileferry' AND seq = ?").run(JSON.stringify(record), seq);
    });

  describe('verify', () => {
    it('an intact chain: exit 0, the count and the head', async () => {
      const records = await fill(17);
      const { code, out } = await run(verify);
      assert.equal(code, 0, out);
      assert.equal(out, `Audit chain intact: 17 records, head seq 17 hash ${records[16]!.hash}\nHMACs not checked: FILEFERRY_AUDIT_KEY_REF is not set.\n`);
    });

    it('an empty chain is intact', async () => {
      const { code, out } = await run(verify);
      assert.equal(code, 0);
      assert.match(out, /^Audit chain intact: 0 records \(the chain is empty\)\n/);
    });

    it('a record altered in the file: exit 1, naming it', async () => {
      await fill(20);
      alter(17, (r) => void (r.details = { i: 1700 }));
      const { code, out } = await run(verify);
      assert.equal(code, 1);
      assert.equal(out.split('\n')[0], 'record 17 was altered: its content no longer matches its hash.');
      assert.match(out, /16 records before it verified/);
    });

    it('a record deleted from the file: exit 1, naming the missing one', async () => {
      await fill(8);
      raw((d) => d.prepare("DELETE FROM audit_records WHERE chain = 'fileferry' AND seq = 5").run());
      const { code, out } = await run(verify);
      assert.equal(code, 1);
      assert.equal(out.split('\n')[0], 'record 5 was removed: Record 5 is missing: record 4 is followed by record 6.');
    });

    it('--json: one object, intact or broken', async () => {
      const records = await fill(3);
      const intact = await run({ action: 'verify', json: true });
      assert.deepEqual([intact.code, JSON.parse(intact.out)], [0, { status: 'intact', count: 3, head: { seq: 3, hash: records[2]!.hash }, hmac: 'not-checked' }]);
      alter(2, (r) => void (r.actor = 'mallory'));
      const broken = await run({ action: 'verify', json: true });
      const report = JSON.parse(broken.out);
      assert.deepEqual([broken.code, report.status, report.seq, report.problem], [1, 'broken', 2, 'altered']);
      assert.match(report.message, /Record 2 was altered/);
    });

    it('with the key: a signed chain passes, one rebuilt without the key fails as unsigned, one signed with another as forged', async () => {
      await fill(6, { key: KEY });
      const ok = await run(verify, KEY);
      assert.equal(ok.code, 0, ok.out);
      assert.match(ok.out, /\nHMACs checked with the audit key/);
      // An editor changes record 3 and re-seals the rest without the key: the plain hash chain holds.
      const stored = await reader().readAll();
      let head = { seq: 2, hash: stored[1]!.hash };
      for (const old of stored.slice(2)) {
        const resealed = sealAuditRecord({ type: old.type, actor: old.seq === 3 ? 'mallory' : old.actor, requestId: old.requestId, details: old.details }, head, { chain: old.chain, at: new Date(old.at) });
        alter(old.seq, (r) => {
          delete r.hmac;
          Object.assign(r, resealed);
        });
        head = { seq: resealed.seq, hash: resealed.hash };
      }
      assert.equal((await run(verify)).code, 0, 'without the key nothing shows');
      const caught = await run(verify, KEY);
      assert.equal(caught.code, 1);
      assert.match(caught.out, /^record 3 was unsigned: /);
      assert.match((await run(verify, Buffer.from('another key'))).out, /^record 1 was forged: /);
    });
  });

  describe('export', () => {
    const exportOf = (format: 'csv' | 'jsonl', filter: { since?: string; until?: string; requestId?: string }): AuditRequest => ({ action: 'export', format, filter });

    it('jsonl: the records in [since, until), exactly as stored, each one checkable by hand', async () => {
      const records = await fill(10);
      const { code, out } = await run(exportOf('jsonl', { since: at(3), until: at(7) }));
      assert.equal(code, 0);
      const lines = out.split('\n');
      assert.equal(lines.pop(), '', 'ends with a newline');
      assert.deepEqual(lines.map((l) => JSON.parse(l)), records.slice(3, 7));
      for (const line of lines) {
        const r = JSON.parse(line) as AuditRecord;
        assert.equal(createHash('sha256').update(canonicalAuditJson(r)).digest('hex'), r.hash, 'sort keys, drop hash and hmac, SHA-256');
      }
    });

    it('jsonl with --request: only that request, across the whole period', async () => {
      const records = await fill(10);
      const { out } = await run(exportOf('jsonl', { since: at(0), until: at(100), requestId: 'FF-0000000A' }));
      assert.deepEqual(out.trim().split('\n').map((l) => (JSON.parse(l) as AuditRecord).seq), records.filter((r) => r.requestId === 'FF-0000000A').map((r) => r.seq));
    });

    it('csv: a header, one RFC 4180 row per record, details as compact JSON, absent fields empty', async () => {
      const tricky: AuditEvent = { type: 'transfer.completed', requestId: 'FF-0000000C', actor: '29:Zoë, "the" auditor', details: { key: 'a,b "c"\r\nd ✓.csv', bytes: 5, ok: true, none: null } };
      const records = await fill(3, { event: (i) => (i === 1 ? tricky : { type: 'signin.completed', actor: 'system' }) });
      const { code, out } = await run(exportOf('csv', { since: at(0), until: at(3) }));
      assert.equal(code, 0);
      const rows = parseCsv(out);
      assert.deepEqual(rows[0], [...CSV_COLUMNS]);
      assert.equal(rows.length, 4);
      const [, first, second] = rows;
      assert.deepEqual(first, ['fileferry', '1', at(0), 'signin.completed', 'system', '', '', records[0]!.prevHash, records[0]!.hash, '']);
      assert.deepEqual(second!.slice(0, 6), ['fileferry', '2', at(1), 'transfer.completed', tricky.actor, 'FF-0000000C']);
      assert.equal(second![6], JSON.stringify(tricky.details), 'details as compact JSON');
      assert.deepEqual(JSON.parse(second![6]!), tricky.details);
      assert.deepEqual(second!.slice(7), [records[1]!.prevHash, records[1]!.hash, '']);
      assert.ok(out.includes('"29:Zoë, ""the"" auditor"'), 'quotes doubled inside a quoted field');
    });

    it('csv with an HMAC key: the hmac column is filled', async () => {
      const records = await fill(2, { key: KEY });
      const rows = parseCsv((await run(exportOf('csv', { since: at(0), until: at(9) }))).out);
      assert.deepEqual(rows.slice(1).map((r) => r[9]), records.map((r) => r.hmac));
    });

    it('streams more records than one page into a slow reader, every one in order, waiting for it to drain', async () => {
      await fill(1203);
      const { code, out, maxBuffered } = await run(exportOf('jsonl', { since: at(0), until: at(5000) }), undefined, true);
      assert.equal(code, 0);
      assert.ok(maxBuffered < 1000, `at most about one line waits in the output buffer, not ${maxBuffered} bytes`);
      const seqs = out.trim().split('\n').map((l) => (JSON.parse(l) as AuditRecord).seq);
      assert.deepEqual(seqs, Array.from({ length: 1203 }, (_, i) => i + 1));
    });

    it('nothing in the period: csv is the header alone, jsonl is empty', async () => {
      await fill(3);
      assert.equal((await run(exportOf('csv', { since: at(50), until: at(60) }))).out, `${CSV_COLUMNS.join(',')}\r\n`);
      assert.equal((await run(exportOf('jsonl', { since: at(50), until: at(60) }))).out, '');
    });
  });

  describe('arguments', () => {
    it('export: ISO dates and zoned times are normalised to UTC milliseconds; --request kept', () => {
      assert.deepEqual(parseAuditRequest(['export'], { format: 'csv', since: '2031-03-14', until: '2031-03-14T11:30:00+02:00', request: 'FF-0000CAFE' }), {
        action: 'export',
        format: 'csv',
        filter: { since: '2031-03-14T00:00:00.000Z', until: '2031-03-14T09:30:00.000Z', requestId: 'FF-0000CAFE' },
      });
      assert.deepEqual(parseAuditRequest(['verify'], { json: true }), { action: 'verify', json: true });
    });

    const usage = (args: string[], flags: Parameters<typeof parseAuditRequest>[1]): string => {
      const parsed = parseAuditRequest(args, flags);
      assert.ok('usage' in parsed, `expected a usage problem, got ${JSON.stringify(parsed)}`);
      return parsed.usage;
    };
    const good = { since: '2031-03-14', until: '2031-03-15', format: 'jsonl' };

    it('export: refuses a missing or unknown format, a bad or zoneless time, a date that does not exist, and an empty period', () => {
      assert.match(usage(['export'], { ...good, format: undefined }), /--format csv or --format jsonl\.$/);
      assert.match(usage(['export'], { ...good, format: 'xml' }), /not "xml"/);
      assert.match(usage(['export'], { ...good, since: undefined }), /^--since needs an ISO 8601 date/);
      assert.match(usage(['export'], { ...good, until: 'yesterday' }), /^--until needs .* not "yesterday"/);
      assert.match(usage(['export'], { ...good, since: '2031-03-14T09:30:00' }), /^--since needs/, 'a time without a zone is ambiguous');
      assert.match(usage(['export'], { ...good, since: '2031-02-30' }), /^--since needs/);
      assert.match(usage(['export'], { ...good, since: '2031-03-15' }), /must be before --until/);
      assert.match(usage(['export'], { ...good, json: true }), /--format jsonl instead of --json/);
    });

    it('verify takes no export flags; audit needs verify or export', () => {
      assert.match(usage(['verify'], { since: '2031-03-14' }), /--since is for audit export/);
      assert.match(usage([], {}), /verify, export/);
      assert.match(usage(['rewrite'], {}), /verify, export/);
    });

    it('main: a usage problem exits 2 and prints the usage, touching no store', async () => {
      const err = sink();
      const code = await main(['audit', 'export', '--format', 'csv'], { out: sink().out, err: err.out, env: {} });
      assert.equal(code, 2);
      assert.match(err.text(), /^fileferry: --since needs an ISO 8601 date[\s\S]*fileferry audit export --since ISO --until ISO --format csv\|jsonl/);
    });
  });
});
