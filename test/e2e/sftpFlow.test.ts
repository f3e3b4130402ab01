import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BotHarness } from '../support/botHarness';
import { actionsOf, cardOf, cardText } from '../support/cardQuery';
import type { ConnectorCall } from '../support/fakeConnector';
import { FaultProxy } from '../support/faultProxy';
import { toDestinationForm } from '../support/localRequest';
import { seedSources, type SampleFile } from '../support/sampleSources';
import { startSshd, type SshdServer } from '../support/sshdServer';

const FORM = { environment: 'PROD', cloud: 'AWS', region: 'us-east-1', assignmentGroup: 'DevOps', priority: '2', justification: 'Monthly delivery to the customer SFTP.' };

function sftpInputs(port: number, sshd: SshdServer, folder: string, password = sshd.password): Record<string, string> {
  return { savedDestination: 'adhoc', protocol: 'sftp', host: '127.0.0.1', port: String(port), username: sshd.user, password, remoteFolder: folder, overwrite: 'fail' };
}

describe('e2e: ad-hoc SFTP destinations into a real sshd', function () {
  this.timeout(180_000);
  let sshd: SshdServer;
  let harness: BotHarness;
  let files: Record<string, SampleFile>;

  before(async () => {
    sshd = await startSshd();
    harness = await BotHarness.start({
      seed: async (dir) => void (files = await seedSources(dir, { binaryBytes: 48 * 1024 * 1024 })),
      overrides: { progressIntervalMs: 300, tuning: { backoffBaseMs: 50, backoffMaxMs: 200 } },
    });
  });
  after(async () => {
    try {
      await harness?.close();
    } finally {
      await sshd?.stop();
    }
  });

  it('shows the unknown host key, pins it once trusted, and delivers the file', async () => {
    const user = harness.user('Carol Example');
    const requestId = await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const prompted = await user.click('dest.submit', { inputs: sftpInputs(sshd.port, sshd, join(sshd.rootDir, 'in')) });
    const trust = actionsOf(prompted.body?.value).find((a) => a.verb === 'dest.trustHostKey');
    assert.ok(trust, 'the form asks to trust the host key');
    assert.equal(trust.data.fingerprint, sshd.hostKeyFingerprint);
    assert.ok(!JSON.stringify(prompted.body).includes(sshd.password), 'the password never comes back on a card');
    assert.equal((await readdir(sshd.rootDir)).length, 0, 'nothing was written before the key was trusted');

    const confirm = await user.click('dest.trustHostKey');
    assert.ok(actionsOf(confirm.body?.value).some((a) => a.verb === 'transfer.confirm'));
    await user.click('transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')));

    const sample = files['sample-bucket/reports/q1-sales.csv']!;
    const delivered = await readFile(join(sshd.rootDir, 'in', 'q1-sales.csv'));
    assert.equal(createHash('sha256').update(delivered).digest('hex'), sample.sha256);

    const audit = await harness.app.audit.readAll();
    const mine = audit.filter((r) => r.requestId === requestId).map((r) => r.type);
    for (const type of ['request.created', 'request.submitted', 'signin.completed', 'source.chosen', 'destination.hostkey-trusted', 'destination.set', 'transfer.started', 'transfer.completed']) {
      assert.ok(mine.includes(type), `audit has ${type}`);
    }
    const auditText = JSON.stringify(audit);
    assert.ok(!auditText.includes(sshd.password), 'no password in the audit log');
    assert.ok(!harness.logLines.join('\n').includes(sshd.password), 'no password in the logs');

    // The confirmed key is remembered: the next request to the same server goes straight to confirm.
    const next = harness.user('Carol Example', { aadObjectId: user.account.aadObjectId, conversationId: user.conversationId });
    await toDestinationForm(next, FORM, 'reports/2024/summary.json');
    const direct = await next.click('dest.submit', { inputs: sftpInputs(sshd.port, sshd, join(sshd.rootDir, 'in')) });
    assert.ok(actionsOf(direct.body?.value).some((a) => a.verb === 'transfer.confirm'), 'no second host-key prompt');
  });

  it('a wrong password ends in a failed card with the reason and what to do', async () => {
    const user = harness.user('Dan Example');
    await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const prompted = await user.click('dest.submit', { inputs: sftpInputs(sshd.port, sshd, join(sshd.rootDir, 'wrong'), 'not-the-password') });
    // Same server as the first test: its key is already trusted, so this goes straight to confirm.
    if (actionsOf(prompted.body?.value).some((a) => a.verb === 'dest.trustHostKey')) await user.click('dest.trustHostKey');
    const progressMessage = user.findAction('transfer.confirm')!.activityId;
    await user.click('transfer.confirm');
    const failed = await user.waitFor('the failed card', () => {
      const c = user.cards().find((x) => x.activityId === progressMessage);
      return c && /AUTH_FAILED/.test(cardText(c.card)) ? c : undefined;
    });
    const text = cardText(failed.card);
    assert.match(text, /password|log in|login|authenticat/i, 'the reason names the login');
    assert.ok(!actionsOf(failed.card).some((a) => a.verb === 'transfer.retry'), 'no Retry for a wrong password');
    await user.waitFor('the failure notice', () => user.messages().find((m) => String(m.activity.text ?? '').includes('could not be transferred')));
  });

  it('cancel mid-transfer stops it, leaves nothing on the server, and says so', async () => {
    const proxy = await FaultProxy.start(sshd.port);
    try {
      const user = harness.user('Erin Example');
      const requestId = await toDestinationForm(user, FORM, 'exports/blob.bin');
      const folder = join(sshd.rootDir, 'cancel');
      await user.click('dest.submit', { inputs: sftpInputs(proxy.port, sshd, folder) });
      await user.click('dest.trustHostKey');
      proxy.setFault({ action: 'stall', afterBytes: 4 * 1024 * 1024, direction: 'up' });
      const progress = await user.click('transfer.confirm');
      assert.ok(actionsOf(progress.body?.value).some((a) => a.verb === 'transfer.cancel'));
      await user.waitFor('the upload to stall', () => proxy.faultsFired > 0);
      const cardId = user.findAction('transfer.cancel')!.activityId;
      // The invoke is answered at once ("Cancelling…", no second Cancel); the transfer's own end
      // then puts the cancelled card on the same message.
      const answer = await user.click('transfer.cancel');
      assert.match(cardText(answer.body?.value), /Cancelling/);
      assert.ok(!actionsOf(answer.body?.value).some((a) => a.verb === 'transfer.cancel'), 'the answer has no Cancel button');
      await user.waitFor('the cancelled card on the transfer\'s message', () => {
        const m = user.messages().find((x) => x.activityId === cardId);
        return m && /cancelled/i.test(cardText(cardOf(m.activity)));
      });
      const audit = await harness.app.audit.readAll();
      assert.ok(audit.some((r) => r.requestId === requestId && r.type === 'transfer.cancelled'));
      const left = await readdir(folder).catch(() => []);
      assert.deepEqual(left, [], 'no final file and no temporary file left');
      assert.ok(!user.messages().some((m) => String(m.activity.text ?? '').includes('blob.bin has been transferred')));
    } finally {
      await proxy.close();
    }
  });

  it('Test connection reports each step, and a failing login at its own step', async () => {
    const user = harness.user('Fay Example');
    await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const folder = join(sshd.rootDir, 'probe');
    const ok = await user.click('dest.test', { inputs: sftpInputs(sshd.port, sshd, folder) });
    const okText = cardText(ok.body?.value);
    for (const step of ['Reach the server', 'Check the host identity', 'Log in', 'Write a probe file', 'Rename the probe file', 'Remove the probe file']) {
      assert.ok(okText.includes(step), `shows "${step}"`);
    }
    assert.deepEqual(await readdir(folder), [], 'the probe file is gone');
    const bad = await user.click('dest.test', { inputs: sftpInputs(sshd.port, sshd, folder, 'wrong-password') });
    const badText = cardText(bad.body?.value);
    assert.ok(badText.includes('Log in'));
    assert.ok(!badText.includes('Write a probe file'), 'stops at the failed login');
    assert.ok(actionsOf(bad.body?.value).some((a) => a.verb === 'dest.submit'), 'the form stays usable');
  });

  it('a transient failure offers Retry, and Retry finishes the transfer', async () => {
    const proxy = await FaultProxy.start(sshd.port);
    try {
      const user = harness.user('Gus Example');
      const requestId = await toDestinationForm(user, FORM, 'exports/blob.bin');
      const folder = join(sshd.rootDir, 'retry');
      await user.click('dest.submit', { inputs: sftpInputs(proxy.port, sshd, folder) });
      await user.click('dest.trustHostKey');
      proxy.setFault({ action: 'cut', afterBytes: 2 * 1024 * 1024, direction: 'up', times: 4 });
      const cardId = user.findAction('transfer.confirm')!.activityId;
      await user.click('transfer.confirm');
      const failed = await user.waitFor('the failed card with Retry', () => {
        const c = user.cards().find((x) => x.activityId === cardId);
        return c && actionsOf(c.card).some((a) => a.verb === 'transfer.retry') ? c : undefined;
      });
      assert.match(cardText(failed.card), /NETWORK|connection/i);
      // The retried run stalls once, part-way, so its progress has time to reach the same card
      // that showed the failure (the meter keeps ticking while bytes stand still). Once the card
      // shows it, the fault is disarmed and the stalled connection dropped: the run resumes and
      // finishes. Nothing here depends on how fast the machine is.
      proxy.setFault({ action: 'stall', afterBytes: 8 * 1024 * 1024, direction: 'up', times: 1 });
      const since = harness.connector.calls.length;
      const progressUpdates = () =>
        harness.connector.calls.slice(since).filter((c) => c.kind === 'update' && c.status === 200 && c.activityId === cardId && actionsOf(cardOf(c.activity)).some((a) => a.verb === 'transfer.cancel'));
      const percentOf = (c: ConnectorCall) => Number(/(\d+)%/.exec(cardText(cardOf(c.activity)))?.[1] ?? NaN);
      await user.click('transfer.retry', { activityId: cardId });
      await user.waitFor('the retried run to report progress past 0% on the same card', () => progressUpdates().some((c) => percentOf(c) > 0));
      proxy.setFault(undefined);
      proxy.dropAll();
      await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('blob.bin has been transferred successfully')));
      const sample = files['sample-bucket/exports/blob.bin']!;
      const delivered = await readFile(join(folder, 'blob.bin'));
      assert.equal(createHash('sha256').update(delivered).digest('hex'), sample.sha256);
      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId).map((r) => r.type);
      assert.deepEqual(audit.filter((t) => t === 'transfer.started' || t === 'transfer.failed' || t === 'transfer.completed'), ['transfer.started', 'transfer.failed', 'transfer.started', 'transfer.completed']);
      assert.ok(audit.slice(audit.lastIndexOf('transfer.started')).includes('transfer.resumed'), 'the retried run resumed after the drop instead of starting over');
    } finally {
      await proxy.close();
    }
  });

  // Last: it changes the server's host key.
  it('refuses a server whose host key changed after it was trusted', async () => {
    await sshd.restartWithNewHostKey();
    const user = harness.user('Hal Example');
    await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const folder = join(sshd.rootDir, 'changed');
    const tested = await user.click('dest.test', { inputs: sftpInputs(sshd.port, sshd, folder) });
    assert.match(cardText(tested.body?.value), /Check the host identity/);
    assert.ok(!cardText(tested.body?.value).includes('Log in'), 'stops before sending the password');
    const confirm = await user.click('dest.submit', { inputs: sftpInputs(sshd.port, sshd, folder) });
    assert.ok(!actionsOf(confirm.body?.value).some((a) => a.verb === 'dest.trustHostKey'), 'a changed key is never offered for trust');
    const cardId = user.findAction('transfer.confirm')!.activityId;
    await user.click('transfer.confirm');
    const failed = await user.waitFor('the failed card', () => {
      const c = user.cards().find((x) => x.activityId === cardId);
      return c && /HOST_KEY_MISMATCH/.test(cardText(c.card)) ? c : undefined;
    });
    assert.ok(!actionsOf(failed.card).some((a) => a.verb === 'transfer.retry'));
    await assert.rejects(readdir(folder));
  });
});
