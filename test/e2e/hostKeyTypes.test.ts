import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { actionsOf, cardText } from '../support/cardQuery';
import { toDestinationForm } from '../support/localRequest';
import { seedSources, type SampleFile } from '../support/sampleSources';
import { startSshd, type SshdServer } from '../support/sshdServer';

const FORM = { environment: 'DEV', cloud: 'AWS', region: 'us-east-1', assignmentGroup: 'DevOps', priority: '3', justification: 'Delivery to a server with two host keys.' };
/** sshd offers only the named host key algorithms, so it presents that one of its keys. */
const PRESENT_ED25519 = ['HostKeyAlgorithms ssh-ed25519'];
const PRESENT_RSA = ['HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256'];

/**
 * Host keys are confirmed per (host, port, key type), end to end: the real sshd holds an ed25519
 * and an RSA key and is restarted to present one or the other on the same port. The tests run in
 * order, each building on the keys the one before confirmed.
 */
describe('e2e: SFTP host keys pinned per key type', function () {
  this.timeout(180_000);
  let sshd: SshdServer;
  let harness: BotHarness;
  let files: Record<string, SampleFile>;
  let n = 0;

  const inputs = (folder: string): Record<string, string> => ({
    savedDestination: 'adhoc', protocol: 'sftp', host: '127.0.0.1', port: String(sshd.port), username: sshd.user, password: sshd.password, remoteFolder: folder, overwrite: 'fail',
  });

  /** Confirms the transfer shown on the user's latest confirm card and waits for the file to arrive intact. */
  async function deliver(user: ChatUser, folder: string): Promise<void> {
    await user.click('transfer.confirm');
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')));
    const delivered = await readFile(join(folder, 'q1-sales.csv'));
    assert.equal(createHash('sha256').update(delivered).digest('hex'), files['sample-bucket/reports/q1-sales.csv']!.sha256);
  }

  /** The keys the bot's store holds for the server, read from its SQLite file by a second connection. */
  async function storedKeys(): Promise<{ ed25519?: string; rsa?: string }> {
    const stores = openSqliteStores({ file: join(harness.dataDir, 'fileferry.db') });
    try {
      return { ed25519: await stores.hostKeys.get('127.0.0.1', sshd.port, 'ssh-ed25519'), rsa: await stores.hostKeys.get('127.0.0.1', sshd.port, 'ssh-rsa') };
    } finally {
      stores.close();
    }
  }

  before(async () => {
    sshd = await startSshd({ extraConfig: PRESENT_ED25519 });
    harness = await BotHarness.start({ seed: async (dir) => void (files = await seedSources(dir, { binaryBytes: 1024 })) });
  });
  after(async () => {
    try {
      await harness?.close();
    } finally {
      await sshd?.stop();
    }
  });

  it('shows the key type beside the fingerprint, and stores the trusted key under that type', async () => {
    const user = harness.user('Ivy Example');
    const requestId = await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const folder = join(sshd.rootDir, `in-${++n}`);
    const prompted = await user.click('dest.submit', { inputs: inputs(folder) });
    const trust = actionsOf(prompted.body?.value).find((a) => a.verb === 'dest.trustHostKey');
    assert.equal(trust?.data.fingerprint, sshd.hostKeyFingerprints.ed25519);
    const text = cardText(prompted.body?.value);
    assert.ok(text.includes('ssh-ed25519') && text.includes(sshd.hostKeyFingerprints.ed25519), text);

    await user.click('dest.trustHostKey');
    await deliver(user, folder);
    assert.deepEqual(await storedKeys(), { ed25519: sshd.hostKeyFingerprints.ed25519, rsa: undefined });
    const trusted = (await harness.app.audit.readAll()).find((r) => r.requestId === requestId && r.type === 'destination.hostkey-trusted');
    assert.equal(trusted?.details?.keyType, 'ssh-ed25519');
    assert.equal(trusted?.details?.fingerprint, sshd.hostKeyFingerprints.ed25519);
  });

  it('a key of another type on the same host and port is a new key: prompted with its type, not refused', async () => {
    await sshd.restartWithConfig(PRESENT_RSA);
    const user = harness.user('Jon Example');
    await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const folder = join(sshd.rootDir, `in-${++n}`);
    const prompted = await user.click('dest.submit', { inputs: inputs(folder) });
    const trust = actionsOf(prompted.body?.value).find((a) => a.verb === 'dest.trustHostKey');
    assert.ok(trust, `the form asks to trust the RSA key: ${cardText(prompted.body?.value)}`);
    assert.equal(trust.data.fingerprint, sshd.hostKeyFingerprints.rsa);
    assert.ok(cardText(prompted.body?.value).includes('ssh-rsa'));

    await user.click('dest.trustHostKey');
    await deliver(user, folder);
    assert.deepEqual(await storedKeys(), { ed25519: sshd.hostKeyFingerprints.ed25519, rsa: sshd.hostKeyFingerprints.rsa }, 'both keys are confirmed, each under its type');
  });

  it('each confirmed type is used again without asking: Test connection and submit go through', async () => {
    for (const config of [PRESENT_ED25519, PRESENT_RSA]) {
      await sshd.restartWithConfig(config);
      const user = harness.user('Kim Example');
      await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
      const folder = join(sshd.rootDir, `in-${++n}`);
      const tested = await user.click('dest.test', { inputs: inputs(folder) });
      const testedText = cardText(tested.body?.value);
      assert.ok(testedText.includes('Remove the probe file'), `every step ran: ${testedText}`);
      assert.ok(!actionsOf(tested.body?.value).some((a) => a.verb === 'dest.trustHostKey'), 'Test connection does not ask again');
      const submitted = await user.click('dest.submit', { inputs: inputs(folder) });
      assert.ok(!actionsOf(submitted.body?.value).some((a) => a.verb === 'dest.trustHostKey'), `no prompt for ${config.join(' ')}`);
      await deliver(user, folder);
    }
  });

  it('another key of a confirmed type is refused as HOST_KEY_MISMATCH, and nothing is written', async () => {
    const pinnedBefore = await storedKeys();
    await sshd.restartWithNewHostKey();
    await sshd.restartWithConfig(PRESENT_ED25519);
    assert.notEqual(sshd.hostKeyFingerprints.ed25519, pinnedBefore.ed25519);
    const user = harness.user('Lea Example');
    await toDestinationForm(user, FORM, 'reports/q1-sales.csv');
    const folder = join(sshd.rootDir, `in-${++n}`);
    const tested = await user.click('dest.test', { inputs: inputs(folder) });
    assert.ok(!cardText(tested.body?.value).includes('Log in'), 'stops before sending the password');
    assert.ok(!actionsOf(tested.body?.value).some((a) => a.verb === 'dest.trustHostKey'), 'a changed key is never offered for trust');
    const submitted = await user.click('dest.submit', { inputs: inputs(folder) });
    assert.ok(!actionsOf(submitted.body?.value).some((a) => a.verb === 'dest.trustHostKey'), 'a changed key is never offered for trust');
    const cardId = user.findAction('transfer.confirm')!.activityId;
    await user.click('transfer.confirm');
    const failed = await user.waitFor('the failed card', () => {
      const c = user.cards().find((x) => x.activityId === cardId);
      return c && /HOST_KEY_MISMATCH/.test(cardText(c.card)) ? c : undefined;
    });
    assert.ok(cardText(failed.card).includes(sshd.hostKeyFingerprints.ed25519) || /changed/i.test(cardText(failed.card)), cardText(failed.card));
    await assert.rejects(readdir(folder));
    assert.deepEqual(await storedKeys(), pinnedBefore, 'the confirmed keys are unchanged');
  });
});
