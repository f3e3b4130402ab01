import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { FakeServiceNow } from '../support/fakeServiceNow';
import { seedSources, type SampleFile } from '../support/sampleSources';
import { SwitchableTcpProxy } from '../support/switchableTcpProxy';

const SN_USER = 'ff';
const PASSWORD = `canary-sn-password-${randomBytes(8).toString('hex')}`;
const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'Outage during a transfer.' };

/**
 * Issue 12: "A ServiceNow outage during a transfer never stops the transfer: the notes are queued
 * in the store and written, in order, when it comes back." The bot over HTTP with
 * FILEFERRY_TICKETING=servicenow; the instance is taken offline (connections refused) after the
 * tickets are raised; the file is delivered and the user told while the notes wait in the SQLite
 * store; once the instance is back both tickets get every note, in order, and are resolved.
 */
describe('e2e: a ServiceNow outage during a transfer', function () {
  this.timeout(240_000);
  let fake: FakeServiceNow;
  let instance: SwitchableTcpProxy;
  let harness: BotHarness;
  let files: Record<string, SampleFile>;
  let previousPassword: string | undefined;

  before(async () => {
    fake = await FakeServiceNow.start({ users: { [SN_USER]: PASSWORD } });
    instance = await SwitchableTcpProxy.start(fake.port);
    previousPassword = process.env.SN_OUTAGE_PW;
    process.env.SN_OUTAGE_PW = PASSWORD;
    const ticketing = loadConfig({
      FILEFERRY_TICKETING: 'servicenow',
      SERVICENOW_INSTANCE_URL: instance.url,
      SERVICENOW_USERNAME: SN_USER,
      SERVICENOW_PASSWORD_REF: 'env:SN_OUTAGE_PW',
      SERVICENOW_AUDIT_GROUP: 'Audit',
      SERVICENOW_TIMEOUT_SECONDS: '5',
    }).ticketing;
    harness = await BotHarness.start({
      config: { ticketing },
      seed: async (dir) => void (files = await seedSources(dir, { binaryBytes: 64 * 1024 })),
      overrides: { progressIntervalMs: 300 },
    });
  });
  after(async () => {
    try {
      await harness?.close();
    } finally {
      await instance?.close();
      await fake?.close();
      if (previousPassword === undefined) delete process.env.SN_OUTAGE_PW;
      else process.env.SN_OUTAGE_PW = previousPassword;
    }
  });

  /** The ticket writes waiting in the bot's store, read from its SQLite file as an operator would. */
  function queued(requestId: string): { id: string; text: string }[] {
    const db = new Database(join(harness.dataDir, 'fileferry.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT id, body FROM documents WHERE collection = 'ticket-outbox' AND id LIKE ? ORDER BY id").all(`${requestId}/%`) as { id: string; body: string }[];
      return rows.map((r) => ({ id: r.id, text: (JSON.parse(r.body) as { text: string }).text }));
    } finally {
      db.close();
    }
  }

  async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('delivers the file and tells the user while ServiceNow is down; the notes follow, in order, when it is back', async () => {
    const user: ChatUser = harness.user('Olga Outage');
    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    const requestId = String(form.action.data.requestId);
    await user.click('request.submit', { inputs: FORM });
    const rows = fake.rows('incident').filter((r) => r.correlation_id === requestId);
    assert.equal(rows.length, 2, 'both tickets raised while the instance is up');

    await instance.down();
    await user.waitForAction('signin.continue');
    await user.click('signin.continue');
    await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    await user.click('files.open', { match: { prefix: 'reports/' } });
    await user.click('file.pick', { match: { objectKey: 'reports/q1-sales.csv' } });
    await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
    await user.click('transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')));
    const delivered = await readFile(join(harness.dataDir, 'outbox', 'q1-sales.csv'));
    assert.equal(createHash('sha256').update(delivered).digest('hex'), files['sample-bucket/reports/q1-sales.csv']!.sha256, 'the transfer was not held up');

    const waiting = queued(requestId);
    assert.ok(waiting.length >= 4, `the notes and the close of both tickets wait in the store: ${JSON.stringify(waiting)}`);
    assert.ok(waiting.some((w) => w.text.startsWith('Transferred q1-sales.csv')), 'the completion note is among them');
    assert.ok(!JSON.stringify(waiting).includes(PASSWORD), 'no password in the queued notes');
    for (const row of fake.rows('incident').filter((r) => r.correlation_id === requestId)) assert.notEqual(row.state, '6', 'not resolved while the instance is down');

    await instance.up();
    const resolved = await until('both tickets resolved', () => {
      const now = fake.rows('incident').filter((r) => r.correlation_id === requestId);
      return now.length === 2 && now.every((r) => r.state === '6') && now;
    });
    await until('the outbox to empty', () => queued(requestId).length === 0);
    for (const row of resolved) {
      const notes = fake.journal(row.sys_id!);
      const completion = notes.findIndex((n) => n.startsWith('Transferred q1-sales.csv'));
      assert.ok(completion >= 0, `the completion note is written: ${JSON.stringify(notes)}`);
      assert.ok(notes.slice(0, completion).some((n) => /started|Started/.test(n)), `the transfer-started note comes before it: ${JSON.stringify(notes)}`);
      assert.equal(notes.at(-1), `Resolved: ${row.close_notes}`, 'the resolution is last');
      assert.equal(new Set(notes).size, notes.length, 'no note twice');
    }
    const audit = resolved.find((r) => Boolean(r.parent))!;
    assert.match(audit.close_notes!, /Audit chain head: seq \d+, SHA-256 [0-9a-f]{64}/, 'the audit ticket is sealed with the chain head');
    assert.ok(!harness.logLines.join('\n').includes(PASSWORD), 'no password in the log');
  });
});
