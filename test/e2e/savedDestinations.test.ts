import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import type { SavedDestination } from '../../src/domain/savedDestination';
import { BotHarness, type ChatUser, type InvokeResult } from '../support/botHarness';
import { actionsOf, cardText } from '../support/cardQuery';
import type { FtpTestServer } from '../support/ftpTestServer';
import { seedSources, type SampleFile } from '../support/sampleSources';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';
import { startVsftpd } from '../support/vsftpdServer';

const FORM = { environment: 'PROD', cloud: 'AWS', region: 'us-east-1', assignmentGroup: 'DevOps', priority: '2', justification: 'Monthly delivery to a saved partner destination.' };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** FTP commands the server received (vsftpd's protocol log), as in test/integration/ftpDestination.test.ts. */
function commands(log: string, verb: string): string[] {
  return log.split('\n').filter((line) => new RegExp(`(FTP command: Client "[^"]*", "|\\d ,?)${verb}\\b`).test(line) || line.includes(` ${verb} `));
}

/** Everything a user's clicks got back as invoke answers (cards shown at once, never sent through the connector). */
type Answers = InvokeResult[];

/** Drives a new request up to the destination form for `key`; returns the request ID. */
async function toDestinationForm(user: ChatUser, key: string, answers: Answers): Promise<string> {
  await user.say('transfer');
  const form = await user.waitForAction('request.submit');
  answers.push(await user.click('request.submit', { inputs: FORM }));
  await user.waitForAction('signin.continue');
  answers.push(await user.click('signin.continue'));
  answers.push(await user.click('bucket.pick', { match: { container: 'sample-bucket' } }));
  const parts = key.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) answers.push(await user.click('files.open', { match: { prefix: parts.slice(0, i).join('/') + '/' } }));
  answers.push(await user.click('file.pick', { match: { objectKey: key } }));
  return String(form.action.data.requestId);
}

/**
 * Chooses the saved destination `name` on the form, confirms, and returns the ID of the message
 * whose card then shows the transfer's progress and end.
 */
async function sendToSaved(user: ChatUser, name: string, answers: Answers): Promise<string> {
  const form = user.findAction('dest.submit');
  assert.ok(form, 'the destination form is shown');
  assert.ok(cardText(form.card).includes(name) || JSON.stringify(form.card).includes(name), `the form offers "${name}"`);
  const confirm = await user.click('dest.submit', { inputs: { savedDestination: name, overwrite: 'fail' } });
  answers.push(confirm);
  assert.ok(!actionsOf(confirm.body?.value).some((a) => a.verb === 'dest.trustHostKey'), 'a saved destination never asks to trust a host key');
  assert.ok(actionsOf(confirm.body?.value).some((a) => a.verb === 'transfer.confirm'), `the confirm card follows; got:\n${cardText(confirm.body?.value)}`);
  const cardId = user.findAction('transfer.confirm')!.activityId;
  answers.push(await user.click('transfer.confirm'));
  return cardId;
}

async function waitForCompletion(user: ChatUser, fileName: string): Promise<void> {
  await user.waitFor(`the completion message for ${fileName}`, () => user.messages().find((m) => String(m.activity.text ?? '').includes(`${fileName} has been transferred successfully`)));
}

/** The card on `cardId` once its text matches `pattern` (the failed card replaces the progress card). */
function waitForCard(user: ChatUser, cardId: string, pattern: RegExp, what: string) {
  return user.waitFor(what, () => {
    const c = user.cards().find((x) => x.activityId === cardId);
    return c && pattern.test(cardText(c.card)) ? c : undefined;
  });
}

/**
 * The private key's body lines that are specific to this key: the first base64 line of an
 * unencrypted OpenSSH ed25519 key is the same for every such key, so it proves nothing.
 */
function keyCanaries(privateKey: string): string[] {
  const body = privateKey.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('-----'));
  const canaries = body.slice(1).filter((l) => l.length >= 16);
  assert.ok(canaries.length >= 2, 'the key has distinctive lines to look for');
  return canaries;
}

/** Asserts no canary is in any card (invoke answers and connector calls), audit record or log line. */
async function assertNowhere(harness: BotHarness, answers: Answers, canaries: string[], what: string): Promise<void> {
  const places: Record<string, string> = {
    'an invoke answer (card)': JSON.stringify(answers),
    'a connector call (card or message)': JSON.stringify(harness.connector.calls),
    'an audit record': JSON.stringify(await harness.app.audit.readAll()),
    'a log line': harness.logLines.join('\n'),
  };
  for (const [place, text] of Object.entries(places)) {
    for (const canary of canaries) assert.ok(!text.includes(canary), `${what} appears in ${place}`);
  }
}

describe('e2e: saved destinations (SFTP key authentication, FTPS with a private CA, secret references)', function () {
  this.timeout(180_000);
  let sshd: SshdServer;
  let ftps: FtpTestServer;
  let dir: { path: string; remove: () => Promise<void> };
  let keyFile: string;
  let caFile: string;

  before(async () => {
    [sshd, ftps, dir] = await Promise.all([startSshd(), startVsftpd({ tls: true, certificate: 'ca' }), tempDir('saved-dest')]);
    keyFile = join(dir.path, 'partner_ed25519');
    await writeFile(keyFile, sshd.userKey.privateKey, { mode: 0o600 });
    assert.ok(ftps.caPem, 'the FTPS server has a private CA');
    caFile = join(dir.path, 'partner-ca.pem');
    await writeFile(caFile, ftps.caPem);
  });
  after(async () => {
    try {
      await Promise.all([sshd?.stop(), ftps?.stop()]);
    } finally {
      await dir?.remove();
    }
  });

  describe('a saved SFTP destination with key authentication', () => {
    let harness: BotHarness;
    let files: Record<string, SampleFile>;
    let vanishingKey: string;
    const keyDest = (): SavedDestination => ({
      name: 'Partner SFTP (key)',
      spec: { protocol: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.user, folder: join(sshd.rootDir, 'key-in'), hostKey: { fingerprint: sshd.hostKeyFingerprint }, privateKeyRef: `file:${keyFile}` },
    });

    before(async () => {
      // A second copy of the key that exists at start-up (so the start-up check passes) and is
      // removed before its transfer: the reference must then fail at connect time, on the card.
      vanishingKey = join(dir.path, 'rotated_away_ed25519');
      await writeFile(vanishingKey, sshd.userKey.privateKey, { mode: 0o600 });
      harness = await BotHarness.start({
        config: {
          destinations: [
            keyDest(),
            {
              name: 'Partner SFTP (rotated key)',
              spec: { protocol: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.user, folder: join(sshd.rootDir, 'rotated'), hostKey: { fingerprint: sshd.hostKeyFingerprint }, privateKeyRef: `file:${vanishingKey}` },
            },
          ],
          allowAdHoc: false,
        },
        seed: async (d) => void (files = await seedSources(d)),
      });
    });
    after(async () => harness?.close());

    it('logs in with the key alone, delivers the file intact, audits it, and never shows the key', async () => {
      const answers: Answers = [];
      const user = harness.user('Kim Example');
      const requestId = await toDestinationForm(user, 'exports/blob.bin', answers);
      const mark = sshd.logMark();
      await sendToSaved(user, 'Partner SFTP (key)', answers);
      await waitForCompletion(user, 'blob.bin');

      const delivered = await readFile(join(sshd.rootDir, 'key-in', 'blob.bin'));
      assert.equal(sha256(delivered), files['sample-bucket/exports/blob.bin']!.sha256);
      const serverLog = sshd.logSince(mark);
      assert.match(serverLog, new RegExp(`Accepted publickey for ${sshd.user}`), 'sshd accepted the public key');
      assert.doesNotMatch(serverLog, new RegExp(`Accepted password for ${sshd.user}`), 'no password login happened');

      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId).map((r) => r.type);
      for (const type of ['destination.set', 'transfer.started', 'transfer.completed']) assert.ok(audit.includes(type), `audit has ${type}`);
      assert.ok(!audit.includes('destination.hostkey-trusted'), 'the pinned key needed no confirmation');
      await assertNowhere(harness, answers, keyCanaries(sshd.userKey.privateKey), 'a line of the private key');
    });

    it('a key file gone at transfer time fails on the card naming the reference, and the bot goes on', async () => {
      await rm(vanishingKey);
      const answers: Answers = [];
      const user = harness.user('Lee Example');
      const requestId = await toDestinationForm(user, 'reports/q1-sales.csv', answers);
      const cardId = await sendToSaved(user, 'Partner SFTP (rotated key)', answers);
      const failed = await waitForCard(user, cardId, /SECRET_NOT_FOUND|was not sent/, 'the failed card');
      const text = cardText(failed.card);
      assert.ok(text.includes(`file:${vanishingKey}`), `the card names the reference; it says:\n${text}`);
      assert.match(text, /SECRET_NOT_FOUND/);
      assert.match(text, /does not exist|not found|could not be found/i);
      await assert.rejects(readdir(join(sshd.rootDir, 'rotated')), 'nothing reached the server');
      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId).map((r) => r.type);
      assert.ok(audit.includes('transfer.failed'), 'audit has transfer.failed');
      assert.ok(!audit.includes('transfer.completed'));

      // Still serving: the same user starts another request and reaches the destination form.
      await toDestinationForm(user, 'reports/2024/summary.json', answers);
      assert.ok(user.findAction('dest.submit'), 'the bot still answers after the failure');
      await assertNowhere(harness, answers, keyCanaries(sshd.userKey.privateKey), 'a line of the private key');
    });
  });

  describe('saved destinations read from FILEFERRY_DESTINATIONS_FILE by loadConfig', () => {
    const VAR = 'FILEFERRY_TEST_SAVED_FTPS_PASSWORD_FROM_FILE';
    let harness: BotHarness;
    let files: Record<string, SampleFile>;

    before(async () => {
      process.env[VAR] = ftps.password;
      const file = join(dir.path, 'destinations.json');
      // Exactly what an operator writes, field names included.
      await writeFile(
        file,
        JSON.stringify([
          {
            name: 'Partner SFTP (key, from file)',
            protocol: 'sftp',
            host: '127.0.0.1',
            port: sshd.port,
            username: sshd.user,
            remoteFolder: join(sshd.rootDir, 'from-file'),
            hostKeyFingerprint: sshd.hostKeyFingerprint,
            privateKeyRef: `file:${keyFile}`,
          },
          {
            name: 'Partner FTPS (private CA, from file)',
            protocol: 'ftps',
            host: '127.0.0.1',
            port: ftps.port,
            username: ftps.user,
            remoteFolder: join(ftps.rootDir, 'from-file'),
            passwordRef: `env:${VAR}`,
            caFile,
          },
        ]),
      );
      const config = loadConfig({ FILEFERRY_DESTINATIONS_FILE: file, FILEFERRY_DATA_DIR: join(dir.path, 'unused-data') });
      const sftpSpec = config.destinations[0]!.spec;
      assert.equal(sftpSpec.protocol, 'sftp');
      assert.ok(sftpSpec.protocol === 'sftp' && !sftpSpec.passwordRef, 'the key is the only credential');
      harness = await BotHarness.start({ config: { destinations: config.destinations }, seed: async (d) => void (files = await seedSources(d)) });
    });
    after(async () => {
      try {
        await harness?.close();
      } finally {
        delete process.env[VAR];
      }
    });

    it('privateKeyRef, hostKeyFingerprint and remoteFolder from the JSON file deliver over SFTP with the key', async () => {
      const answers: Answers = [];
      const user = harness.user('Max Example');
      const requestId = await toDestinationForm(user, 'exports/blob.bin', answers);
      const mark = sshd.logMark();
      await sendToSaved(user, 'Partner SFTP (key, from file)', answers);
      await waitForCompletion(user, 'blob.bin');
      assert.equal(sha256(await readFile(join(sshd.rootDir, 'from-file', 'blob.bin'))), files['sample-bucket/exports/blob.bin']!.sha256);
      assert.match(sshd.logSince(mark), new RegExp(`Accepted publickey for ${sshd.user}`));
      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId).map((r) => r.type);
      assert.ok(audit.includes('transfer.completed'), 'audit has transfer.completed');
      await assertNowhere(harness, answers, keyCanaries(sshd.userKey.privateKey), 'a line of the private key');
    });

    it('passwordRef and caFile from the JSON file deliver over FTPS', async () => {
      const answers: Answers = [];
      const user = harness.user('Ned Example');
      await toDestinationForm(user, 'reports/q1-sales.csv', answers);
      await sendToSaved(user, 'Partner FTPS (private CA, from file)', answers);
      await waitForCompletion(user, 'q1-sales.csv');
      assert.equal(sha256(await readFile(join(ftps.rootDir, 'from-file', 'q1-sales.csv'))), files['sample-bucket/reports/q1-sales.csv']!.sha256);
      await assertNowhere(harness, answers, [ftps.password], 'the FTPS password');
    });
  });

  describe('a saved FTPS destination with a private CA', () => {
    const VAR = 'FILEFERRY_TEST_SAVED_FTPS_PASSWORD';
    let harness: BotHarness;
    let files: Record<string, SampleFile>;
    const ftpsDest = (name: string, folder: string, withCa: boolean): SavedDestination => ({
      name,
      spec: { protocol: 'ftps', host: ftps.host, port: ftps.port, username: ftps.user, folder: join(ftps.rootDir, folder), passwordRef: `env:${VAR}`, ...(withCa ? { caFile } : {}) },
    });

    before(async () => {
      process.env[VAR] = ftps.password;
      harness = await BotHarness.start({
        config: { destinations: [ftpsDest('Partner FTPS (private CA)', 'ca-in', true), ftpsDest('Partner FTPS (no CA)', 'no-ca', false)], allowAdHoc: false },
        seed: async (d) => void (files = await seedSources(d)),
      });
    });
    after(async () => {
      try {
        await harness?.close();
      } finally {
        delete process.env[VAR];
      }
    });

    it('trusts the server through caFile and delivers the file intact', async () => {
      const answers: Answers = [];
      const user = harness.user('Ola Example');
      const requestId = await toDestinationForm(user, 'exports/blob.bin', answers);
      await sendToSaved(user, 'Partner FTPS (private CA)', answers);
      await waitForCompletion(user, 'blob.bin');
      assert.equal(sha256(await readFile(join(ftps.rootDir, 'ca-in', 'blob.bin'))), files['sample-bucket/exports/blob.bin']!.sha256);
      const log = await ftps.logText();
      assert.ok(log.includes('"AUTH TLS"'), 'the session used TLS');
      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId).map((r) => r.type);
      assert.ok(audit.includes('transfer.completed'), 'audit has transfer.completed');
      await assertNowhere(harness, answers, [ftps.password], 'the FTPS password');
    });

    it('without caFile the certificate is refused: TLS_CERT_INVALID on the card, no login, no file', async () => {
      const answers: Answers = [];
      const user = harness.user('Pat Example');
      const requestId = await toDestinationForm(user, 'reports/q1-sales.csv', answers);
      const usersBefore = commands(await ftps.logText(), 'USER').length;
      const cardId = await sendToSaved(user, 'Partner FTPS (no CA)', answers);
      const failed = await waitForCard(user, cardId, /TLS_CERT_INVALID/, 'the failed card with TLS_CERT_INVALID');
      const text = cardText(failed.card);
      assert.match(text, /certificate/i, 'the reason or hint speaks of the certificate');
      assert.ok(!actionsOf(failed.card).some((a) => a.verb === 'transfer.retry'), 'no Retry for an untrusted certificate');
      assert.equal(commands(await ftps.logText(), 'USER').length, usersBefore, 'no user name reached the untrusted server');
      const left = await readdir(join(ftps.rootDir, 'no-ca')).catch(() => [] as string[]);
      assert.ok(!left.includes('q1-sales.csv'), 'nothing under the final name');
      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === requestId).map((r) => r.type);
      assert.ok(audit.includes('transfer.failed') && !audit.includes('transfer.completed'));
      await assertNowhere(harness, answers, [ftps.password], 'the FTPS password');
    });
  });

  describe('a saved reference that names nothing', () => {
    it('stops start-up with a ConfigError naming the destination and file:/nonexistent/key', async () => {
      await assert.rejects(
        BotHarness.start({
          config: {
            destinations: [
              {
                name: 'Partner SFTP (missing key)',
                spec: { protocol: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.user, folder: join(sshd.rootDir, 'missing'), hostKey: { fingerprint: sshd.hostKeyFingerprint }, privateKeyRef: 'file:/nonexistent/key' },
              },
            ],
          },
        }),
        (e: unknown) => {
          const err = e as { name?: string; code?: string; message?: string };
          assert.equal(err.code, 'INVALID_CONFIG', `a config error, got ${err.name}: ${err.message}`);
          assert.match(String(err.message), /Partner SFTP \(missing key\)/, 'names the destination');
          assert.ok(String(err.message).includes('file:/nonexistent/key'), `names the reference: ${err.message}`);
          return true;
        },
      );
      await assert.rejects(readdir(join(sshd.rootDir, 'missing')), 'nothing was written');
    });
  });
});
