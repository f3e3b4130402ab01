import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { actionsOf, cardText } from '../support/cardQuery';
import { seedSources, type SampleFile } from '../support/sampleSources';

const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'The customer asked for the Q1 sales report.' };

describe('e2e: the whole request over HTTP into the local outbox', () => {
  let harness: BotHarness;
  let files: Record<string, SampleFile>;

  before(async () => {
    harness = await BotHarness.start({ seed: async (dir) => void (files = await seedSources(dir)) });
  });
  after(async () => harness?.close());

  async function toConfirm(user: ChatUser, key: string): Promise<void> {
    await user.say('transfer');
    await user.waitForAction('request.submit');
    const submitted = await user.click('request.submit', { inputs: FORM });
    assert.equal(submitted.status, 200);
    await user.waitForAction('signin.continue');
    await user.click('signin.continue');
    await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    if (folder) await user.click('files.open', { match: { prefix: folder } });
    await user.click('file.pick', { match: { objectKey: key } });
    await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
  }

  it('welcomes on install, runs the flow card by card, and delivers the file with the completion message', async () => {
    const user = harness.user('Alice Example');
    assert.equal(await user.install(), 200);
    const welcome = await user.waitForAction('request.new');
    assert.match(cardText(welcome.card), /Alice Example/);

    await user.say('transfer');
    const form = await user.waitForAction('request.submit');
    const requestId = String(form.action.data.requestId);
    assert.match(requestId, /^FF-[A-Z2-9]{8}$/);

    const submitted = await user.click('request.submit', { inputs: FORM });
    assert.equal(submitted.body?.statusCode, 200);
    assert.equal(submitted.body?.type, 'application/vnd.microsoft.card.adaptive');
    const ticketsText = cardText(submitted.body?.value);
    assert.match(ticketsText, /REQ\d{7}/);
    assert.match(ticketsText, /AUD\d{7}/);

    const signIn = await user.waitForAction('signin.continue');
    assert.match(signIn.action.title, /Continue as Alice Example/);
    const buckets = await user.click('signin.continue');
    const bucketNames = actionsOf(buckets.body?.value).filter((a) => a.verb === 'bucket.pick').map((a) => a.data.container);
    assert.deepEqual(bucketNames.sort(), ['other-bucket', 'sample-bucket']);

    const top = await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
    assert.ok(actionsOf(top.body?.value).some((a) => a.verb === 'files.open' && a.data.prefix === 'reports/'));
    const reports = await user.click('files.open', { match: { prefix: 'reports/' } });
    const listed = cardText(reports.body?.value);
    assert.match(listed, /q1-sales\.csv/);
    const destForm = await user.click('file.pick', { match: { objectKey: 'reports/q1-sales.csv' } });
    assert.ok(actionsOf(destForm.body?.value).some((a) => a.verb === 'dest.submit'));
    const confirm = await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
    assert.match(cardText(confirm.body?.value), /q1-sales\.csv/);

    const confirmMessage = user.findAction('transfer.confirm')!;
    const progress = await user.click('transfer.confirm');
    assert.ok(actionsOf(progress.body?.value).some((a) => a.verb === 'transfer.cancel'), 'the progress card has Cancel');

    const done = await user.waitFor('the completion message', () =>
      user.messages().find((m) => String(m.activity.text ?? '').includes('Your file q1-sales.csv has been transferred successfully')),
    );
    const sample = files['sample-bucket/reports/q1-sales.csv']!;
    const doneText = String(done.activity.text);
    assert.ok(doneText.includes(requestId), 'the message names the request');
    assert.match(doneText, /\[REQ\d{7}\]\(http[^)]+\)/, 'and links the requester\'s ticket');
    assert.match(doneText, /\[AUD\d{7}\]\(http[^)]+\)/, 'and the audit ticket');
    assert.equal(done.activity.attachments, undefined, 'the completion card is not posted a second time');
    const completedCards = user.cards().filter((c) => cardText(c.card).includes(sample.sha256));
    assert.equal(completedCards.length, 1, 'the chat shows the completion card once');

    const delivered = await readFile(join(harness.dataDir, 'outbox', 'q1-sales.csv'));
    assert.equal(createHash('sha256').update(delivered).digest('hex'), sample.sha256);

    // The confirm message was replaced in place and ends as the completed card: its buttons are gone.
    await user.waitFor('the working card to end completed', () => {
      const m = harness.connector.messages.get(confirmMessage.activityId)!;
      const verbs = actionsOf((m.activity.attachments as { content: unknown }[])[0]!.content).map((a) => a.verb);
      return !verbs.includes('transfer.cancel') && !verbs.includes('transfer.confirm') && cardText((m.activity.attachments as { content: unknown }[])[0]!.content).includes(sample.sha256);
    });

    const history = await user.say('history');
    assert.equal(history, 200);
    const list = await user.waitFor('the history card', () => user.cards().find((c) => actionsOf(c.card).some((a) => a.verb === 'request.status' && a.data.requestId === requestId)));
    assert.match(cardText(list.card), /Completed/);
  });

  it('cannot sign in a second time for the same request', async () => {
    const user = harness.user('Bob Example');
    await toConfirm(user, 'reports/q1-sales.csv');
    const again = await user.send('signin.continue', { requestId: String(user.findAction('transfer.confirm')!.action.data.requestId) });
    assert.match(cardText(again.body?.value), /no longer active/i);
  });

  it("the welcome card's New transfer button turns the welcome into the request form", async () => {
    const user = harness.user('Wendy Example');
    await user.install();
    const welcome = await user.waitForAction('request.new');
    const res = await user.click('request.new');
    const submit = actionsOf(res.body?.value).find((a) => a.verb === 'request.submit');
    assert.match(String(submit?.data.requestId), /^FF-/);
    // The invoke response is what replaces the card (Universal Actions); the bot sends no second
    // update of it, which would re-render the form under the user's next click.
    const stored = (harness.connector.messages.get(welcome.activityId)!.activity.attachments as { content: unknown }[])[0]!.content;
    assert.ok(actionsOf(stored).some((a) => a.verb === 'request.new'), 'no extra update of the clicked card');
    const tickets = await user.click('request.submit', { inputs: FORM });
    assert.match(cardText(tickets.body?.value), /REQ\d{7}/);
  });
});
