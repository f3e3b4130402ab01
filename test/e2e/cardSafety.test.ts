import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTransfer } from '../../src/transfer/engine';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { actionsOf, cardOf, cardText } from '../support/cardQuery';
import { seedSources } from '../support/sampleSources';

const FORM = { environment: 'UAT', cloud: 'AWS', region: 'eu-central-1', assignmentGroup: 'Infrastructure', priority: '4', justification: 'Testing what a forged card can do.' };
const INACTIVE = /no longer active/i;

describe('e2e: forged, stale and repeated card actions', () => {
  let harness: BotHarness;
  /** While set, every transfer waits for it before the real engine runs. */
  let transferGate: Promise<void> | undefined;
  /** Transfers handed to the engine so far. */
  let transfersRun = 0;

  before(async () => {
    harness = await BotHarness.start({
      seed: async (dir) => {
        await seedSources(dir, { extraFiles: 45 });
      },
      overrides: {
        runTransfer: async (request) => {
          transfersRun++;
          await transferGate;
          return runTransfer(request);
        },
      },
    });
  });
  after(async () => harness?.close());

  async function signedIn(user: ChatUser): Promise<string> {
    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    await user.click('request.submit', { inputs: FORM });
    await user.waitForAction('signin.continue');
    await user.click('signin.continue');
    return String(form.action.data.requestId);
  }

  async function refusals(requestId: string): Promise<string[]> {
    return (await harness.app.audit.readAll()).filter((r) => r.type === 'action.refused' && r.requestId === requestId).map((r) => String(r.details?.code));
  }

  it('refuses a bucket, folder or file this session never listed, and lists nothing', async () => {
    const user = harness.user();
    const requestId = await signedIn(user);
    // A bucket that exists on disk but appeared after the listing: real, yet never listed.
    await mkdir(join(harness.app.config.sourcesDir, 'late-bucket'), { recursive: true });
    await writeFile(join(harness.app.config.sourcesDir, 'late-bucket', 'secret.csv'), 'secret\n');
    const pickerId = user.findAction('bucket.pick')!.activityId;

    let res = await user.send('bucket.pick', { requestId, container: 'late-bucket' }, pickerId);
    assert.match(cardText(res.body?.value), INACTIVE);
    assert.ok(!cardText(res.body?.value).includes('secret.csv'));

    await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    res = await user.send('files.open', { requestId, prefix: 'hidden/' }, pickerId);
    assert.match(cardText(res.body?.value), INACTIVE);
    res = await user.send('file.pick', { requestId, objectKey: 'reports/q1-sales.csv' }, pickerId);
    assert.match(cardText(res.body?.value), INACTIVE, 'a real key not listed yet (it is one folder down) is refused');
    res = await user.send('file.pick', { requestId, objectKey: '../late-bucket/secret.csv' }, pickerId);
    assert.match(cardText(res.body?.value), INACTIVE);
    res = await user.send('files.page', { requestId, direction: 'previous' }, pickerId);
    assert.match(cardText(res.body?.value), INACTIVE, 'no previous page on page 1');

    assert.deepEqual(await refusals(requestId), ['NOT_LISTED', 'NOT_LISTED', 'NOT_LISTED', 'NOT_LISTED', 'NOT_LISTED']);
    // The picker the user sees is untouched by the refusals and still works.
    const opened = await user.click('files.open', { match: { prefix: 'reports/' } });
    assert.match(cardText(opened.body?.value), /q1-sales\.csv/);
  });

  it("refuses another user's request ID, including the same Teams user in another tenant", async () => {
    const alice = harness.user('Alice');
    const requestId = await signedIn(alice);
    const mallory = harness.user('Mallory');
    for (const [verb, data] of [
      ['bucket.pick', { requestId, container: 'sample-bucket' }],
      ['signin.continue', { requestId }],
      ['transfer.cancel', { requestId }],
      ['request.status', { requestId }],
    ] as const) {
      const res = await mallory.send(verb, data);
      assert.match(cardText(res.body?.value), INACTIVE, `${verb} is refused`);
    }
    const otherTenant = harness.user('Alice', { aadObjectId: alice.account.aadObjectId, tenantId: 'tenant-9999' });
    const res = await otherTenant.send('bucket.pick', { requestId, container: 'sample-bucket' });
    assert.match(cardText(res.body?.value), INACTIVE);
    assert.equal(await mallory.say(`status ${requestId}`), 200);
    const reply = await mallory.waitFor('the status reply', () => mallory.cards().at(-1));
    assert.match(cardText(reply.card), INACTIVE);
    assert.deepEqual(await refusals(requestId), ['NOT_YOURS', 'NOT_YOURS', 'NOT_YOURS', 'NOT_YOURS', 'NOT_YOURS', 'NOT_YOURS']);
    // Alice's request is unharmed.
    const ok = await alice.click('bucket.pick', { match: { container: 'sample-bucket' } });
    assert.ok(actionsOf(ok.body?.value).some((a) => a.verb === 'files.open'));
  });

  it('a stale card (an earlier step) answers "no longer active"', async () => {
    const user = harness.user();
    const requestId = await signedIn(user);
    const res = await user.send('request.submit', { requestId, ...FORM });
    assert.match(cardText(res.body?.value), INACTIVE);
    const unknown = await user.send('bucket.pick', { requestId: 'FF-AAAAAAAA', container: 'sample-bucket' });
    assert.match(cardText(unknown.body?.value), INACTIVE);
  });

  it('pages and filters through the server-side listing only', async () => {
    const user = harness.user();
    await signedIn(user);
    await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    let page = await user.click('files.open', { match: { prefix: 'many/' } });
    assert.match(cardText(page.body?.value), /file-000\.txt/);
    page = await user.click('files.page', { match: { direction: 'next' } });
    assert.match(cardText(page.body?.value), /file-020\.txt/);
    assert.ok(!cardText(page.body?.value).includes('file-000.txt'));
    page = await user.click('files.page', { match: { direction: 'previous' } });
    assert.match(cardText(page.body?.value), /file-000\.txt/);
    page = await user.click('files.filter', { inputs: { filter: 'file-04' } });
    const names = actionsOf(page.body?.value).filter((a) => a.verb === 'file.pick').map((a) => a.data.objectKey);
    assert.deepEqual(names, ['many/file-040.txt', 'many/file-041.txt', 'many/file-042.txt', 'many/file-043.txt', 'many/file-044.txt']);
    const up = await user.click('files.open', { match: { prefix: '' } });
    assert.ok(actionsOf(up.body?.value).some((a) => a.verb === 'files.open' && a.data.prefix === 'reports/'));
  });

  it('a double click or a re-sent invoke on Start transfer runs one transfer', async () => {
    const user = harness.user();
    const requestId = await signedIn(user);
    await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    await user.click('files.open', { match: { prefix: 'exports/' } });
    await user.click('file.pick', { match: { objectKey: 'exports/blob.bin' } });
    await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'rename' } });
    // Held until both clicks are answered: a transfer that ended in between would leave the second
    // click a completed request (refused) instead of the running one (answered from the memo).
    let release!: () => void;
    transferGate = new Promise<void>((resolve) => (release = resolve));
    const runsBefore = transfersRun;
    try {
      const [a, b] = await Promise.all([user.click('transfer.confirm'), user.click('transfer.confirm')]);
      assert.deepEqual(a.body?.value, b.body?.value, 'both clicks get the same progress card');
    } finally {
      release();
      transferGate = undefined;
    }
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('blob.bin has been transferred')));
    const late = await user.send('transfer.confirm', { requestId });
    assert.match(cardText(late.body?.value), INACTIVE, 'a resend after the end starts nothing');
    const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId);
    assert.equal(transfersRun - runsBefore, 1, 'one transfer reached the engine');
    assert.equal(audit.filter((r) => r.type === 'transfer.started').length, 1);
    assert.equal(audit.filter((r) => r.type === 'transfer.completed').length, 1);
    assert.equal(user.messages().filter((m) => String(m.activity.text ?? '').includes('has been transferred')).length, 1);
    const outbox = await readdir(join(harness.dataDir, 'outbox'));
    assert.equal(outbox.filter((n) => n.startsWith('blob')).length, 1);
  });

  it('a double submit of the request form opens one ticket pair', async () => {
    const user = harness.user();
    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    const requestId = String(form.action.data.requestId);
    const [a, b] = await Promise.all([user.click('request.submit', { inputs: FORM }), user.click('request.submit', { inputs: FORM })]);
    assert.deepEqual(a.body?.value, b.body?.value);
    const submitted = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId && r.type === 'request.submitted');
    assert.equal(submitted.length, 1);
    await user.waitForAction('signin.continue');
    assert.equal(user.cards().filter((c) => actionsOf(c.card).some((x) => x.verb === 'signin.continue')).length, 1, 'one sign-in card');
  });

  it('works with Action.Submit messages too: the clicked card is replaced by an update', async () => {
    const user = harness.user();
    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    const res = await user.click('request.submit', { inputs: FORM, via: 'submit' });
    assert.equal(res.status, 200);
    await user.waitFor('the form to become the tickets card', () => {
      const m = harness.connector.messages.get(form.activityId)!;
      return /REQ\d{7}/.test(cardText(cardOf(m.activity))) ? m : undefined;
    });
    await user.waitForAction('signin.continue');
    await user.click('signin.continue', { via: 'submit' });
    await user.waitForAction('bucket.pick');
    const forged = await user.send('bucket.pick', { requestId: 'FF-ZZZZZZZZ', container: 'sample-bucket' }, undefined, 'submit');
    assert.equal(forged.status, 200);
    await user.waitFor('the inactive reply', () => user.cards().find((c) => INACTIVE.test(cardText(c.card))));
  });

  it('answers unknown text with help, and help, status and cancel by text', async () => {
    const user = harness.user();
    await user.say('hello there');
    const help = await user.waitFor('help', () => user.cards().find((c) => /history/.test(cardText(c.card))));
    assert.ok(actionsOf(help.card).some((a) => a.verb === 'request.new'));
    assert.ok(user.messages().some((m) => String(m.activity.text ?? '').includes('did not understand')));
    const requestId = await signedIn(user);
    await user.say('status');
    await user.waitFor('status', () => user.cards().find((c) => cardText(c.card).includes(requestId) && actionsOf(c.card).some((a) => a.verb === 'request.status')));
    await user.say(`cancel ${requestId.toLowerCase()}`);
    await user.waitFor('the cancelled card', () => user.cards().find((c) => /cancelled/i.test(cardText(c.card))));
    const after = await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    assert.match(cardText(after.body?.value), INACTIVE, 'a cancelled request cannot be browsed');
  });
});
