import assert from 'node:assert/strict';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { actionsOf, cardOf, cardText } from '../support/cardQuery';
import type { ConnectorCall } from '../support/fakeConnector';
import { seedSources, type SampleFile } from '../support/sampleSources';

const FORM = { environment: 'DEV', cloud: 'AWS', region: 'us-west-2', assignmentGroup: 'DataOps', priority: '3', justification: 'Protocol tests need a transfer.' };

async function toConfirm(user: ChatUser, container: string, key: string): Promise<void> {
  await user.say('transfer');
  await user.waitForAction('request.submit');
  await user.click('request.submit', { inputs: FORM });
  await user.waitForAction('signin.continue');
  await user.click('signin.continue');
  await user.click('bucket.pick', { match: { container } });
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  if (folder) await user.click('files.open', { match: { prefix: folder } });
  await user.click('file.pick', { match: { objectKey: key } });
  await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'rename' } });
}

const isProgress = (call: ConnectorCall): boolean => actionsOf(cardOf(call.activity)).some((a) => a.verb === 'transfer.cancel');

describe('e2e: the HTTP surface and the channel protocol', function () {
  this.timeout(120_000);
  let harness: BotHarness;
  let files: Record<string, SampleFile>;

  before(async () => {
    harness = await BotHarness.start({ seed: async (dir) => void (files = await seedSources(dir)) });
  });
  after(async () => harness?.close());

  it('serves /healthz and /readyz', async () => {
    const health = await fetch(`${harness.app.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${harness.app.url}/readyz`);
    assert.equal(ready.status, 200);
  });

  it('links tickets to a local ticket page that shows both numbers cross-referenced', async () => {
    const user = harness.user();
    await user.say('transfer');
    await user.waitForAction('request.submit');
    const res = await user.click('request.submit', { inputs: FORM });
    const text = cardText(res.body?.value);
    const number = /REQ\d{7}/.exec(text)![0];
    const page = await fetch(`${harness.app.url}/tickets/${number}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, new RegExp(number.replace('REQ', 'AUD')));
    assert.equal((await fetch(`${harness.app.url}/tickets/REQ9999999`)).status, 404);
    assert.equal((await fetch(`${harness.app.url}/tickets/..%2Fetc`)).status, 404);
  });

  it('counts transfers, bytes and duration in /metrics', async () => {
    const user = harness.user();
    await toConfirm(user, 'other-bucket', 'readme.txt');
    await user.click('transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('readme.txt has been transferred')));
    const res = await fetch(`${harness.app.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1]);
    assert.ok(value(/^fileferry_transfers_total\{outcome="completed"\} (\d+)/m) >= 1);
    assert.ok(value(/^fileferry_transfer_bytes_total (\d+)/m) >= files['other-bucket/readme.txt']!.bytes.length);
    assert.ok(value(/^fileferry_transfer_duration_seconds_count\{outcome="completed"\} (\d+)/m) >= 1);
    assert.equal(value(/^fileferry_active_transfers (\d+)/m), 0);
  });

  it('an unexpected failure shows the error card with the correlation ID that is on the log lines', async () => {
    const user = harness.user();
    await user.say('transfer');
    await user.waitForAction('request.submit');
    // The local ticket file becomes a folder: creating the tickets fails inside the turn.
    const file = join(harness.dataDir, 'tickets.jsonl');
    const existed = await rename(file, `${file}.saved`).then(() => true, () => false);
    await mkdir(file);
    try {
      const res = await user.click('request.submit', { inputs: FORM });
      assert.equal(res.status, 200);
      const text = cardText(res.body?.value);
      const id = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(text)?.[1];
      assert.ok(id, `the card shows a correlation ID: ${text}`);
      const lines = harness.logLines.filter((l) => l.includes(id));
      assert.ok(lines.some((l) => JSON.parse(l).level >= 50), 'an error line carries the correlation ID');
      assert.ok(lines.every((l) => JSON.parse(l).correlationId === id));
    } finally {
      await rm(file, { recursive: true, force: true });
      if (existed) await rename(`${file}.saved`, file);
    }
  });

  it('carries the request ID on the log lines of a card action', async () => {
    const user = harness.user();
    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    const requestId = String(form.action.data.requestId);
    await user.click('request.submit', { inputs: FORM });
    const handled = harness.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'card action handled' && l.requestId === requestId);
    assert.equal(handled.length, 1);
    assert.ok(handled[0]!.correlationId);
  });

  it('on 429 waits as long as Retry-After says, then updates the card; never re-posts it', async () => {
    const user = harness.user();
    await toConfirm(user, 'sample-bucket', 'exports/blob.bin');
    const cardId = user.findAction('transfer.confirm')!.activityId;
    const from = harness.connector.calls.length;
    harness.connector.fail({ method: 'PUT', status: 429, retryAfterSeconds: 1, times: 5 });
    await user.click('transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('blob.bin has been transferred')));
    await user.waitFor('the card to end completed', () => /SHA-256|sha256/i.test(cardText(cardOf(harness.connector.messages.get(cardId)!.activity))) || undefined);
    const calls = harness.connector.calls.slice(from);
    const puts = calls.filter((c) => c.method === 'PUT' && c.activityId === cardId);
    assert.equal(puts.filter((c) => c.status === 429).length, 5);
    for (let i = 1; i < puts.length; i++) {
      if (puts[i - 1]!.status === 429) {
        assert.ok(puts[i]!.at - puts[i - 1]!.at >= 950, `attempt ${i + 1} came ${puts[i]!.at - puts[i - 1]!.at} ms after a 429 with Retry-After: 1`);
      }
    }
    assert.ok(puts.some((c) => c.status === 200), 'the card was updated once allowed');
    const throttled = harness.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'card update throttled; waiting as the channel asked');
    assert.ok(throttled.length >= 1 && throttled.every((l) => l.retryAfterMs === 1000), 'the reporter read Retry-After from the 429 the connector client gave up on');
    assert.ok(!calls.some((c) => c.method === 'POST' && isProgress(c)), 'no progress card was posted as a new message');
  });

  it('on 5xx gives the update up and never re-posts the card', async () => {
    const user = harness.user();
    await toConfirm(user, 'sample-bucket', 'reports/q1-sales.csv');
    const cardId = user.findAction('transfer.confirm')!.activityId;
    const from = harness.connector.calls.length;
    harness.connector.fail({ method: 'PUT', status: 502, times: 4 });
    await user.click('transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred')));
    const calls = harness.connector.calls.slice(from);
    assert.equal(calls.filter((c) => c.method === 'PUT' && c.activityId === cardId && c.status === 502).length, 4);
    assert.ok(!calls.some((c) => c.method === 'POST' && isProgress(c)), 'no progress card was posted as a new message');
    assert.equal(calls.filter((c) => c.method === 'POST' && String(c.activity.text ?? '').includes('has been transferred')).length, 1);
  });
});
