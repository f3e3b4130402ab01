import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { RequestRecord } from '../../src/domain/requestRecord';
import { startAzuriteOAuth, type AzuriteOAuthServer } from '../support/azuriteOAuthServer';
import { BotHarness, type ChatUser, type InvokeResult } from '../support/botHarness';
import { actionsOf, cardOf, cardText } from '../support/cardQuery';
import { FakeAwsSso } from '../support/fakeAwsSso';
import { FakeEntra } from '../support/fakeEntra';
import { RecordingHttpProxy, type ProxiedRequest } from '../support/recordingHttpProxy';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';
import { seedSources } from '../support/sampleSources';
import { runTransfer } from '../../src/transfer/engine';
import type { AppConfig } from '../../src/config';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';
import { trustCaForFetch } from '../support/trustCaForFetch';
import { trustCaForPort } from '../support/trustCaForPort';

/**
 * Real sign-in through the bot over HTTP: the bot (configured only by `config.signIn`, as the
 * FILEFERRY_AWS_* / FILEFERRY_ENTRA_* variables would) runs a device-code sign-in against the
 * fakes with the real SDK clients, lists and reads S3 (s3rver) or Azure Blob (Azurite, OAuth over
 * HTTPS) with the requester's own credentials, and delivers to a real sshd.
 */

const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Sets (or, for undefined, removes) process.env entries and returns how to put them back. */
function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>): void => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  apply(vars);
  return () => apply(saved);
}

type Card = Record<string, unknown>;

/** The sign-in card's device code and link (Action.OpenUrl), as the user sees them. */
function deviceCodeOnCard(card: Card, codePattern: RegExp): { userCode: string; url: string } {
  const texts: string[] = [];
  let url: string | undefined;
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (typeof n !== 'object' || n === null) return;
    const o = n as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') texts.push(o.text.trim());
    if (o.type === 'Action.OpenUrl' && typeof o.url === 'string') url = o.url;
    for (const v of Object.values(o)) walk(v);
  };
  walk(card);
  const userCode = texts.find((t) => codePattern.test(t));
  assert.ok(userCode, `the sign-in card shows the user code; its text:\n${texts.join('\n')}`);
  assert.ok(url, 'the sign-in card has a button that opens the sign-in page');
  return { userCode, url };
}

/** The newest card in the chat whose text matches `pattern`. */
function waitForCardText(user: ChatUser, pattern: RegExp, what: string) {
  return user.waitFor(what, () => [...user.cards()].reverse().find((c) => pattern.test(cardText(c.card))));
}

function sftpInputs(sshd: SshdServer, folder: string): Record<string, string> {
  return { savedDestination: 'adhoc', protocol: 'sftp', host: '127.0.0.1', port: String(sshd.port), username: sshd.user, password: sshd.password, remoteFolder: folder, overwrite: 'fail' };
}

/** pino JSON lines, parsed (lines that are not JSON are skipped). */
function parsedLines(lines: string[]): Array<Record<string, unknown>> {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** The stored request, as the workflow reads it for its owner. */
async function storedRecord(harness: BotHarness, user: ChatUser, requestId: string): Promise<RequestRecord> {
  const screen = await harness.app.workflow.status({ userId: user.account.aadObjectId, tenantId: user.account.tenantId, name: user.account.name }, requestId);
  assert.equal(screen.kind, 'requestList');
  const record = screen.kind === 'requestList' ? screen.requests[0] : undefined;
  assert.ok(record, `request ${requestId} is stored`);
  return record;
}

/** Every file under `dir` (the harness data folder: SQLite database and its WAL, tickets, outbox). */
async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

/** Every Action.* in a card (OpenUrl too, which actionsOf leaves out), fallbacks included. */
function anyActions(card: unknown): string[] {
  const found: string[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (typeof n !== 'object' || n === null) return;
    const o = n as Record<string, unknown>;
    if (typeof o.type === 'string' && o.type.startsWith('Action.')) found.push(`${o.type} ${String(o.title ?? '')}`);
    Object.values(o).forEach(walk);
  };
  walk(card);
  return found;
}

const SESSION_CLOSED = /Session closed/;

/**
 * Waits until message `activityId` shows the closed sign-in card, updated in place by the bot (a
 * PUT to the connector, never a new message), and checks it: says the sign-in was wiped and what
 * to do, has no button of any kind, and no longer shows `userCode`.
 */
async function waitForClosedCard(harness: BotHarness, user: ChatUser, activityId: string, what: string, userCode?: string): Promise<Card> {
  const card = await user.waitFor(`${what} to say the session is closed`, () => {
    const shown = user.cards().find((c) => c.activityId === activityId)?.card;
    return shown && SESSION_CLOSED.test(cardText(shown)) ? shown : undefined;
  });
  const text = cardText(card);
  assert.match(text, /sign-in was wiped/, `${what} says the sign-in was wiped; got:\n${text}`);
  assert.match(text, /start a new request/i, `${what} says what to do next`);
  assert.deepEqual(anyActions(card), [], `${what} has no button left`);
  if (userCode) assert.ok(!JSON.stringify(card).includes(userCode), `${what} no longer shows the user code`);
  const closing = harness.connector.calls.filter((c) => SESSION_CLOSED.test(cardText(cardOf(c.activity))));
  assert.ok(closing.some((c) => c.kind === 'update' && c.activityId === activityId), `${what} was updated in place`);
  assert.ok(closing.every((c) => c.kind === 'update'), 'the closed card is never posted as a new message');
  return card;
}

/** What one user's request looks like up to the sign-in card. */
interface Started {
  requestId: string;
  /** The card the user must act on. */
  signInCard: Card;
  signInActivityId: string;
  userCode: string;
  url: string;
  answers: InvokeResult[];
}

async function startRequest(user: ChatUser, form: Record<string, string>, codePattern: RegExp): Promise<Started> {
  const answers: InvokeResult[] = [];
  await user.say('transfer');
  const formCard = await user.waitForAction('request.submit');
  const requestId = String(formCard.action.data.requestId);
  const submitted = await user.click('request.submit', { inputs: form });
  answers.push(submitted);
  assert.ok(cardText(submitted.body?.value).includes(requestId), `the tickets card answers the form; got:\n${cardText(submitted.body?.value)}`);
  const signIn = await user.waitFor('the sign-in card', () => user.cards().find((c) => actionsOf(c.card).some((a) => a.verb === 'signin.continue' && a.data.requestId === requestId)));
  const { userCode, url } = deviceCodeOnCard(signIn.card, codePattern);
  return { requestId, signInCard: signIn.card, signInActivityId: signIn.activityId, userCode, url, answers };
}

// -----------------------------------------------------------------------------------------------

const AWS_FORM = { environment: 'PROD', cloud: 'AWS', region: 'us-east-1', assignmentGroup: 'DevOps', priority: '2', justification: 'Quarterly ledger for the auditors, read with my own AWS sign-in.' };
const AWS_USER_CODE = /^[A-Z]{4}-[A-Z]{4}$/;
const BUCKETS = { data: 'ferry-data', logs: 'ferry-logs' };
const LEDGER = 'reports/q3-ledger.csv';
const BIG = 'exports/big.bin';

describe('e2e: AWS IAM Identity Center sign-in through the bot → S3 (s3rver) → sshd', function () {
  this.timeout(180_000);
  const tag = randomBytes(6).toString('hex');
  const canaries = { accessToken: `canary-access-${tag}-`, secret: `canary-secret-${tag}`, session: `canary-session-${tag}-` };
  let sshd: SshdServer;
  let s3: S3rverServer;
  let proxy: RecordingHttpProxy;
  let fake: FakeAwsSso;
  let harness: BotHarness;
  let restoreEnv: () => void = () => undefined;
  /** Every invoke answer the bot gave (cards shown at once, never sent through the connector). */
  const answers: InvokeResult[] = [];

  const s3Requests = (mark = 0): ProxiedRequest[] => proxy.since(mark);
  const tokenOf = (r: ProxiedRequest): string | undefined => r.headers['x-amz-security-token'] as string | undefined;

  /** An S3 object's SHA-256 as s3rver serves it (read back, not what was seeded). */
  async function s3Sha256(bucket: string, key: string): Promise<string> {
    const got = await s3.admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return sha256(await got.Body!.transformToByteArray());
  }

  function startHarness(overrides: { autoLogoutSeconds?: number; browseIdleSeconds?: number; account?: boolean; partSize?: number } = {}): Promise<BotHarness> {
    return BotHarness.start({
      config: {
        logLevel: 'trace',
        autoLogoutSeconds: overrides.autoLogoutSeconds ?? 10,
        browseIdleSeconds: overrides.browseIdleSeconds ?? 300,
        signIn: {
          aws: {
            startUrl: fake.startUrl,
            ssoRegion: fake.region,
            ...(overrides.account === false ? {} : { accountId: '111122223333', roleName: 'FileFerryReadOnly' }),
          },
        },
      },
      overrides: { progressIntervalMs: 200, tuning: { backoffBaseMs: 50, backoffMaxMs: 200, ...(overrides.partSize ? { partSize: overrides.partSize, readAhead: 0 } : {}) } },
    });
  }

  /** Runs `body` on a bot of its own, closed after it; a cleanup error never hides the test's own failure. */
  async function withOwnHarness(overrides: Parameters<typeof startHarness>[0], body: (h: BotHarness) => Promise<void>): Promise<void> {
    const h = await startHarness(overrides);
    let failure: unknown;
    try {
      await body(h);
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      await h.close().catch((e: unknown) => {
        if (failure === undefined) throw e;
      });
    }
  }

  before(async () => {
    sshd = await startSshd();
    s3 = await startS3rver();
    await s3.seed(BUCKETS.data, LEDGER, Buffer.from('account,amount\n4000,12.50\n4010,99.00\n'));
    await s3.seed(BUCKETS.data, BIG, randomBytes(6 * 1024 * 1024 + 12_345));
    await s3.seed(BUCKETS.logs, 'app.log', Buffer.from('started\n'));
    proxy = await RecordingHttpProxy.start({ port: s3.port });
    fake = await FakeAwsSso.start({
      interval: 1,
      accessTokenPrefix: canaries.accessToken,
      sessionTokenPrefix: canaries.session,
      // s3rver knows only its own access key ID and does not check SigV4 signatures, so the secret
      // can be a canary; the fake STS does check them, with this secret.
      credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: canaries.secret },
    });
    restoreEnv = setEnv({
      AWS_ENDPOINT_URL: undefined,
      ...fake.env,
      AWS_ENDPOINT_URL_S3: proxy.endpoint,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    });
    harness = await startHarness();
  });
  after(async () => {
    try {
      await harness?.close();
    } finally {
      restoreEnv();
      await fake?.close();
      await proxy?.close();
      await s3?.stop();
      await sshd?.stop();
    }
  });

  /** Keeps every invoke answer for the canary scan. */
  async function click(user: ChatUser, verb: string, options: Parameters<ChatUser['click']>[1] = {}): Promise<InvokeResult> {
    const result = await user.click(verb, options);
    answers.push(result);
    return result;
  }

  async function begin(user: ChatUser): Promise<Started> {
    const started = await startRequest(user, AWS_FORM, AWS_USER_CODE);
    answers.push(...started.answers);
    return started;
  }

  /** After the bucket picker: opens the bucket and folder, picks the file, sends it ad hoc to sshd; returns the confirm card's message. */
  async function pickAndSend(user: ChatUser, key: string, folder: string): Promise<string> {
    const files = await click(user, 'bucket.pick', { match: { container: BUCKETS.data } });
    assert.ok(actionsOf(files.body?.value).some((a) => a.verb === 'files.open' && a.data.prefix === `${key.split('/')[0]}/`), `the file picker lists the folder of ${key}`);
    await click(user, 'files.open', { match: { prefix: `${key.split('/')[0]}/` } });
    const destination = await click(user, 'file.pick', { match: { objectKey: key } });
    assert.ok(actionsOf(destination.body?.value).some((a) => a.verb === 'dest.submit'), 'the destination form follows the pick');
    const prompted = await click(user, 'dest.submit', { inputs: sftpInputs(sshd, folder) });
    if (actionsOf(prompted.body?.value).some((a) => a.verb === 'dest.trustHostKey')) await click(user, 'dest.trustHostKey');
    const confirm = user.findAction('transfer.confirm');
    assert.ok(confirm, `the confirm card is shown; chat:\n${user.describeChat()}`);
    return confirm.activityId;
  }

  async function waitForCompletion(user: ChatUser, fileName: string): Promise<void> {
    await user.waitFor(`the completion message for ${fileName}`, () => user.messages().find((m) => String(m.activity.text ?? '').includes(`${fileName} has been transferred successfully`)), 60_000);
  }

  it('happy path: device code card → approved as the UPN → the bucket picker arrives by itself → file → sshd → completed, same SHA-256', async () => {
    const user = harness.user('Alice Example', { upn: 'Alice@Example.com' });
    const s3Mark = proxy.requests.length;
    const registeredBefore = fake.count('RegisterClient');
    const started = await begin(user);

    // The card: the user code large, and a button opening verificationUriComplete.
    assert.equal(started.url, `${fake.endpoint}/device?user_code=${started.userCode}`, 'the button opens verificationUriComplete');
    assert.ok(fake.polls(started.userCode), 'the code on the card is the one IAM Identity Center issued');
    assert.match(cardText(started.signInCard), /AWS IAM Identity Center/, 'the card names the provider');
    assert.equal(s3Requests(s3Mark).length, 0, 'nothing is listed before the sign-in');

    // The person opens the link and approves as themselves; nobody presses a button in Teams.
    const sendsBefore = harness.connector.calls.length;
    fake.approve(started.userCode, 'alice@example.com');
    const picker = await user.waitForAction('bucket.pick', {}, 30_000);
    const posted = harness.connector.calls.slice(sendsBefore).find((c) => c.method === 'POST' && actionsOf(cardOf(c.activity)).some((a) => a.verb === 'bucket.pick'));
    assert.ok(posted, 'the bucket picker was posted by the bot itself (a proactive message to the connector), not an answer to a click');
    assert.equal(posted.conversationId, user.conversationId, "in the requester's own chat");
    const listed = actionsOf(picker.card).filter((a) => a.verb === 'bucket.pick').map((a) => a.data.container).sort();
    assert.deepEqual(listed, [BUCKETS.data, BUCKETS.logs], "the picker lists s3rver's buckets");

    // The SSO steps, in order, and the access token logged out right after the role credentials.
    const ops = fake.calls.filter((c) => c.op !== 'CreateToken' && c.op !== 'other').map((c) => c.op);
    assert.deepEqual(ops.slice(ops.lastIndexOf('StartDeviceAuthorization')), ['StartDeviceAuthorization', 'GetRoleCredentials', 'Logout', 'GetCallerIdentity']);
    assert.ok(fake.count('RegisterClient') - registeredBefore <= 1, 'at most one client registration');
    assert.equal(fake.activeTokens(), 0, 'the access token was logged out');
    const issued = fake.issued.at(-1)!;
    assert.equal(issued.userName, 'alice@example.com');

    // A second sign-in on the same request: the old card's button is refused and starts nothing.
    const devices = fake.count('StartDeviceAuthorization');
    const again = await click(user, 'signin.continue', { activityId: started.signInActivityId });
    assert.match(cardText(again.body?.value), /no longer active/, `a second sign-in is refused; got:\n${cardText(again.body?.value)}`);
    assert.equal(fake.count('StartDeviceAuthorization'), devices);

    const folder = join(sshd.rootDir, 'aws-happy');
    const confirmId = await pickAndSend(user, LEDGER, folder);
    await click(user, 'transfer.confirm', { activityId: confirmId });
    await waitForCompletion(user, 'q3-ledger.csv');

    const delivered = await readFile(join(folder, 'q3-ledger.csv'));
    const expected = await s3Sha256(BUCKETS.data, LEDGER);
    assert.equal(sha256(delivered), expected, "the delivered file's SHA-256 equals the S3 object's");

    // Every S3 call of this request was signed with Alice's own role session, and listing came first.
    const mine = s3Requests(s3Mark);
    assert.ok(mine.length >= 3, 'ListBuckets, ListObjectsV2 and the read went through the endpoint');
    assert.ok(mine.every((r) => tokenOf(r) === issued.sessionToken), 'every S3 request carried the session token issued to Alice');
    assert.ok(mine.some((r) => r.method === 'GET' && r.url.startsWith(`/${BUCKETS.data}/${LEDGER}`) && r.headers.range), 'the object was read with ranged GETs');

    const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === started.requestId);
    const types = audit.map((r) => r.type);
    for (const type of ['request.submitted', 'signin.completed', 'source.chosen', 'transfer.started', 'transfer.completed']) assert.ok(types.includes(type), `audit has ${type}`);
    const signedIn = audit.find((r) => r.type === 'signin.completed')!;
    assert.match(String((signedIn.details as Record<string, unknown>).principal), /^arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_FileFerryReadOnly_[0-9a-f]+\/alice@example\.com$/);
    assert.equal((audit.find((r) => r.type === 'transfer.completed')!.details as Record<string, unknown>).sha256, expected);
    assert.equal((await storedRecord(harness, user, started.requestId)).state, 'completed');
  });

  it('account/role picker: with no account or role configured and several assigned, the requester picks them on cards; forged picks are refused; the token is logged out after GetRoleCredentials', async () => {
    fake.setAccounts([
      { accountId: '111122223333', accountName: 'Data', emailAddress: 'aws-data@example.com', roles: ['FileFerryReadOnly', 'FileFerryAudit'] },
      { accountId: '444455556666', accountName: 'Logs', emailAddress: 'aws-logs@example.com', roles: ['FileFerryReadOnly'] },
    ]);
    const picking = await startHarness({ account: false });
    try {
      const user = picking.user('Paula Example', { upn: 'paula@example.com' });
      const fetchedBefore = fake.count('GetRoleCredentials');
      const started = await begin(user);
      fake.approve(started.userCode, 'paula@example.com');

      const accounts = await user.waitForAction('signin.pick', { step: 'account' }, 30_000);
      const offered = actionsOf(accounts.card).filter((a) => a.verb === 'signin.pick').map((a) => a.data.value);
      assert.deepEqual(offered, ['111122223333', '444455556666'], 'the card lists the accounts ListAccounts returned');
      assert.match(cardText(accounts.card), /Data[\s\S]*aws-data@example\.com[\s\S]*Logs/, 'with their names, IDs and emails');
      assert.equal(fake.count('GetRoleCredentials'), fetchedBefore, 'no credentials before the pick');

      // A forged card naming an account the portal did not list for this sign-in: refused, nothing fetched.
      const forged = await user.send('signin.pick', { requestId: started.requestId, step: 'account', value: '999999999999' }, accounts.activityId);
      assert.match(cardText(forged.body?.value), /no longer active/, `a forged account is refused; got:\n${cardText(forged.body?.value)}`);
      // Another user cannot pick for this request.
      const other = picking.user('Mallory Example', { upn: 'mallory@example.com' });
      const foreign = await other.send('signin.pick', { requestId: started.requestId, step: 'account', value: '111122223333' });
      assert.match(cardText(foreign.body?.value), /no longer active|not yours|belongs/i);

      const roles = await click(user, 'signin.pick', { match: { step: 'account', value: '111122223333' } });
      const roleNames = actionsOf(roles.body?.value).filter((a) => a.verb === 'signin.pick' && a.data.step === 'role').map((a) => a.data.value);
      assert.deepEqual(roleNames, ['FileFerryReadOnly', 'FileFerryAudit'], `the answer lists the roles of that account; got:\n${cardText(roles.body?.value)}`);
      const forgedRole = await user.send('signin.pick', { requestId: started.requestId, step: 'role', value: 'AdministratorAccess' }, accounts.activityId);
      assert.match(cardText(forgedRole.body?.value), /no longer active/);
      assert.equal(fake.count('GetRoleCredentials'), fetchedBefore);

      const picker = await click(user, 'signin.pick', { match: { step: 'role', value: 'FileFerryReadOnly' } });
      const buckets = actionsOf(picker.body?.value).filter((a) => a.verb === 'bucket.pick').map((a) => a.data.container).sort();
      assert.deepEqual(buckets, [BUCKETS.data, BUCKETS.logs], `the bucket picker follows the role pick; got:\n${cardText(picker.body?.value)}`);
      const issued = fake.issued.at(-1)!;
      assert.deepEqual([issued.userName, issued.accountId, issued.roleName], ['paula@example.com', '111122223333', 'FileFerryReadOnly']);
      const ops = fake.calls.filter((c) => c.op !== 'CreateToken' && c.op !== 'other').map((c) => c.op);
      assert.deepEqual(ops.slice(ops.lastIndexOf('StartDeviceAuthorization')), ['StartDeviceAuthorization', 'ListAccounts', 'ListAccountRoles', 'GetRoleCredentials', 'Logout', 'GetCallerIdentity']);
      assert.equal(fake.activeTokens(), 0, 'the access token was logged out');

      const audit = (await picking.app.audit.readAll()).filter((r) => r.requestId === started.requestId);
      assert.deepEqual(audit.filter((r) => r.type === 'signin.role-picked').map((r) => (r.details as Record<string, unknown>).value), ['111122223333', 'FileFerryReadOnly']);
      assert.ok(audit.filter((r) => r.type === 'action.refused').length >= 3, 'the forged picks are audited as refused');
      assert.ok(audit.some((r) => r.type === 'signin.completed'));
    } finally {
      fake.setAccounts([{ accountId: '111122223333', accountName: 'Data', emailAddress: 'aws-data@example.com', roles: ['FileFerryReadOnly'] }]);
      await picking.close();
    }
  });

  it('the wrong person signs in: IDENTITY_MISMATCH on the card, audited, no second sign-in, and nothing listed with those credentials', async () => {
    const user = harness.user('Bob Example', { upn: 'bob@example.com' });
    const started = await begin(user);
    const s3Mark = proxy.requests.length;
    const devicesBefore = fake.count('StartDeviceAuthorization');
    fake.approve(started.userCode, 'mallory@example.com');

    const failed = await waitForCardText(user, /IDENTITY_MISMATCH/, 'the mismatch card');
    const text = cardText(failed.card);
    assert.match(text, /mallory@example\.com/, 'the card names who signed in');
    assert.match(text, /bob@example\.com/, 'and whose request it is');
    assert.match(text, /new request/i, 'and says to start a new request');
    assert.ok(!actionsOf(failed.card).some((a) => a.verb === 'transfer.retry' || a.verb === 'signin.continue'), 'no way to sign in again from it');

    const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === started.requestId).map((r) => r.type);
    assert.ok(audit.includes('signin.identity-mismatch'), `audit has signin.identity-mismatch; got ${audit.join(', ')}`);
    assert.ok(!audit.includes('signin.completed'));
    assert.equal((await storedRecord(harness, user, started.requestId)).state, 'failed');

    // The old sign-in card's button: refused, and no new device authorization is started.
    const again = await click(user, 'signin.continue', { activityId: started.signInActivityId });
    assert.match(cardText(again.body?.value), /no longer active|IDENTITY_MISMATCH/, `pressing the old sign-in button is refused; got:\n${cardText(again.body?.value)}`);
    assert.ok(!actionsOf(again.body?.value).some((a) => a.verb === 'bucket.pick'), 'no bucket picker');
    assert.equal(fake.count('StartDeviceAuthorization'), devicesBefore, 'the request never signs in again');

    // Mallory's credentials were issued and checked (STS saw them) but never used against S3.
    const mallory = fake.issued.filter((c) => c.userName === 'mallory@example.com');
    assert.equal(mallory.length, 1, 'role credentials were issued for the wrong person');
    assert.ok(fake.calls.some((c) => c.op === 'GetCallerIdentity' && c.userName === 'mallory@example.com'), 'STS checked who they belong to');
    assert.deepEqual(s3Requests(s3Mark).filter((r) => tokenOf(r) === mallory[0]!.sessionToken), [], 'no S3 request was made with them');
    assert.deepEqual(s3Requests(s3Mark), [], 'no S3 request at all for this request');
    assert.ok(!user.findAction('bucket.pick'), 'no bucket picker in the chat');
  });

  for (const [how, decide, wording] of [
    ['denied', (code: string) => fake.deny(code), /refused/i],
    ['expired', (code: string) => fake.expire(code), /expired/i],
  ] as const) {
    it(`${how === 'expired' ? 'an' : 'a'} ${how} sign-in ends with a clear card, and polling stops`, async () => {
      const user = harness.user(`Carol ${how}`, { upn: `carol.${how}@example.com` });
      const started = await begin(user);
      const s3Mark = proxy.requests.length;
      decide(started.userCode);
      const failed = await waitForCardText(user, /AUTH_FAILED/, `the ${how} card`);
      const text = cardText(failed.card);
      assert.ok(text.includes(started.requestId), 'the card names the request');
      assert.match(text, wording, `the card says the sign-in was ${how}`);
      assert.match(text, /new request/i, 'and what to do next');
      const polls = fake.polls(started.userCode);
      assert.equal(polls.at(-1)!.answer, how === 'denied' ? 'access_denied' : 'expired_token');
      const audit = (await harness.app.audit.readAll()).filter((r) => r.requestId === started.requestId);
      const failure = audit.find((r) => r.type === 'signin.failed');
      assert.ok(failure, 'audit has signin.failed');
      assert.equal((failure.details as Record<string, unknown>).code, 'AUTH_FAILED');
      assert.equal((await storedRecord(harness, user, started.requestId)).state, 'failed');
      assert.deepEqual(s3Requests(s3Mark), [], 'nothing was listed');
      // Bounded check that no poll follows the end: more than two intervals (1 s each).
      const seen = polls.length;
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal(fake.polls(started.userCode).length, seen, 'no poll after the sign-in ended');
    });
  }

  it('cancelling the request while the sign-in is pending stops the polling at IAM Identity Center', async () => {
    const user = harness.user('Gail Example', { upn: 'gail@example.com' });
    const started = await begin(user);
    await user.waitFor('a pending poll', () => fake.polls(started.userCode).some((p) => p.answer === 'authorization_pending'));
    await user.say(`cancel ${started.requestId}`);
    await waitForCardText(user, /cancelled/i, 'the cancelled card');
    assert.equal((await storedRecord(harness, user, started.requestId)).state, 'cancelled');
    // Approving now changes nothing: no poll collects it (bounded: more than two 1 s intervals).
    const seen = fake.polls(started.userCode).length;
    fake.approve(started.userCode, 'gail@example.com');
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(fake.polls(started.userCode).length, seen, 'no poll after the request was cancelled');
    assert.ok(!fake.issued.some((c) => c.userName === 'gail@example.com'), 'no role credentials were fetched for it');
    assert.ok(!user.findAction('bucket.pick'), 'no bucket picker arrives');
  });

  it('auto-logout: the session ends while the transfer runs, and the transfer still completes with the user’s credentials', async () => {
    await withOwnHarness({ autoLogoutSeconds: 1, account: false }, async (h) => {
      const user = h.user('Dana Example', { upn: 'dana@example.com' });
      const started = await startRequest(user, AWS_FORM, AWS_USER_CODE);
      fake.approve(started.userCode, 'dana@example.com');
      const pickerId = (await user.waitForAction('bucket.pick')).activityId;
      const issued = fake.issued.at(-1)!;
      assert.equal(issued.userName, 'dana@example.com');
      const folder = join(sshd.rootDir, 'aws-autologout');
      const confirmId = await pickAndSend(user, BIG, folder);

      // Every ranged read of the object waits at the S3 endpoint until the session has ended.
      const held = proxy.hold((r) => r.method === 'GET' && r.url.startsWith(`/${BUCKETS.data}/${BIG}`) && !!r.headers.range);
      let heldReads = 0;
      try {
        await user.click('transfer.confirm', { activityId: confirmId });
        await user.waitFor('the transfer to start reading the object', () => held.count > 0);
        const ended = await user.waitFor('the auto-logout', () =>
          parsedLines(h.logLines).find((l) => l.msg === 'sign-in session ended' && l.requestId === started.requestId && /auto-logout/.test(String(l.reason))),
        );
        assert.ok(ended);
        assert.equal(ended.cause, 'auto-logout');
        assert.ok(parsedLines(h.logLines).some((l) => l.msg === 'AWS session signed out' && l.requestId === started.requestId), 'the provider signed the session out');
        // The sign-in card says so in place, while the transfer still runs; the stored record knows
        // both cards the bot posted for the session (the sign-in card, the picker it posted itself).
        await waitForClosedCard(h, user, started.signInActivityId, 'the sign-in card', started.userCode);
        const kept = (await storedRecord(h, user, started.requestId)).sessionCardIds ?? [];
        assert.deepEqual([...kept].sort(), [started.signInActivityId, pickerId].sort(), 'the sign-in and picker messages are on the stored record');
        // The transfer is still running: started, not finished, and its reads are waiting.
        const audit = (await h.app.audit.readAll()).filter((r) => r.requestId === started.requestId).map((r) => r.type);
        assert.ok(audit.includes('transfer.started'));
        assert.ok(!audit.includes('transfer.completed') && !audit.includes('transfer.failed'), `the transfer has not ended yet; audit: ${audit.join(', ')}`);
        assert.equal((await storedRecord(h, user, started.requestId)).state, 'transferring');
        heldReads = held.count;
      } finally {
        held.release();
      }
      const releasedAt = Date.now();
      await waitForCompletion(user, 'big.bin');

      const delivered = await readFile(join(folder, 'big.bin'));
      assert.equal(sha256(delivered), await s3Sha256(BUCKETS.data, BIG), "the delivered file's SHA-256 equals the S3 object's");
      const reads = proxy.requests.filter((r) => r.method === 'GET' && r.url.startsWith(`/${BUCKETS.data}/${BIG}`) && r.headers.range);
      assert.ok(heldReads > 0 && reads.length >= heldReads);
      assert.ok(reads.every((r) => tokenOf(r) === issued.sessionToken && (r.status === 206 || r.status === 200)), "the reads after the logout still ran, with Dana's session, and succeeded");
      // After the logout, nothing but the one object was read.
      const after = proxy.requests.filter((r) => r.at >= releasedAt);
      assert.ok(after.every((r) => r.url.startsWith(`/${BUCKETS.data}/${BIG}`)), `only the transferred object was touched after the logout: ${after.map((r) => `${r.method} ${r.url}`).join(', ')}`);
      // The browsing cards are inert.
      const stale = await user.send('bucket.pick', { requestId: started.requestId, container: BUCKETS.logs }, pickerId);
      assert.match(cardText(stale.body?.value), /no longer active/);
      const again = await user.send('signin.continue', { requestId: started.requestId }, started.signInActivityId);
      assert.match(cardText(again.body?.value), /no longer active/, 'the closed sign-in card cannot sign in again');
      // The picker grew into the working card (confirm, progress, completed): the closing left it alone.
      assert.equal(confirmId, pickerId);
      await user.waitFor('the working card to end completed', () => /SHA-256/.test(cardText(cardOf(h.connector.messages.get(confirmId)!.activity))));
      assert.ok(h.connector.messages.get(confirmId)!.versions.every((v) => !SESSION_CLOSED.test(cardText(cardOf(v)))), 'the working card was never closed');
    });
  });

  it('credentials that expire mid-transfer: the transfer stops with SESSION_EXPIRED and how far it got, and no read is sent with them after', async () => {
    // 1 MiB parts, so the 6 MiB object needs reads after the first; the first is held until the
    // role credentials (20 s, handed out at sign-in) have run out.
    await withOwnHarness({ partSize: 1024 * 1024 }, async (h) => {
      fake.scriptNext({ credentialLifetimeMs: 20_000 });
      const user = h.user('Gail Example', { upn: 'gail@example.com' });
      const started = await startRequest(user, AWS_FORM, AWS_USER_CODE);
      fake.approve(started.userCode, 'gail@example.com');
      await user.waitForAction('bucket.pick');
      const issued = fake.issued.at(-1)!;
      const folder = join(sshd.rootDir, 'aws-expired');
      const confirmId = await pickAndSend(user, BIG, folder);
      const isRead = (r: ProxiedRequest) => r.method === 'GET' && r.url.startsWith(`/${BUCKETS.data}/${BIG}`) && !!r.headers.range;
      const held = proxy.hold(isRead);
      let readsBefore = 0;
      try {
        await user.click('transfer.confirm', { activityId: confirmId });
        await user.waitFor('the first read to be held', () => held.count > 0);
        await user.waitFor('the role credentials to expire', () => Date.now() > issued.expiration + 50, 60_000);
        readsBefore = proxy.requests.filter(isRead).length;
      } finally {
        held.release();
      }
      const failed = await user.waitFor('the failed card', () => {
        const c = user.cards().find((x) => x.activityId === confirmId);
        return c && /SESSION_EXPIRED/.test(cardText(c.card)) ? c : undefined;
      }, 60_000);
      assert.match(cardText(failed.card), /Your sign-in expired after \S+ \S+ of 6\.0 MiB had been sent; start a new request to finish\./);
      assert.ok(!actionsOf(failed.card).some((a) => a.verb === 'transfer.retry'), 'no Retry: only a new sign-in can go on');
      assert.equal(proxy.requests.filter(isRead).length, readsBefore, 'no read went out with the expired credentials (and none was retried)');
      assert.ok(!(await readdir(folder).catch(() => [] as string[])).includes('big.bin'), 'nothing under the final name');
      const audit = (await h.app.audit.readAll()).filter((r) => r.requestId === started.requestId);
      assert.ok(audit.some((r) => r.type === 'transfer.failed' && (r.details as Record<string, unknown>).code === 'SESSION_EXPIRED'));
    });
  });

  it('browse window: nobody browses, the session ends, and the sign-in card and the picker the bot posted say so in place, with no buttons', async () => {
    await withOwnHarness({ browseIdleSeconds: 2 }, async (h) => {
      const user = h.user('Hana Example', { upn: 'hana@example.com' });
      const started = await startRequest(user, AWS_FORM, AWS_USER_CODE);
      fake.approve(started.userCode, 'hana@example.com');
      const picker = await user.waitForAction('bucket.pick');
      const s3Mark = proxy.requests.length;
      const ended = await user.waitFor('the browse window to end the session', () =>
        parsedLines(h.logLines).find((l) => l.msg === 'sign-in session ended' && l.requestId === started.requestId),
      );
      assert.equal(ended.cause, 'browse-window');
      assert.match(String(ended.reason), /no browsing for 2 s/);
      await waitForClosedCard(h, user, started.signInActivityId, 'the sign-in card', started.userCode);
      await waitForClosedCard(h, user, picker.activityId, 'the bucket picker');
      assert.equal(user.findAction('bucket.pick'), undefined, 'no live browsing button is left in the chat');
      // Clicks on what the cards showed are refused server-side and list nothing.
      const stale = await user.send('bucket.pick', { requestId: started.requestId, container: BUCKETS.data }, picker.activityId);
      assert.match(cardText(stale.body?.value), /no longer active/);
      assert.deepEqual(s3Requests(s3Mark), [], 'nothing was listed after the session ended');
      const audit = (await h.app.audit.readAll()).filter((r) => r.requestId === started.requestId);
      assert.ok(audit.some((r) => r.type === 'signin.ended' && /no browsing/.test(String((r.details as Record<string, unknown>).reason))), 'audit has signin.ended');
    });
  });

  it('canaries: no access token, secret access key or session token in any log line (trace), activity, invoke answer, audit record or stored state', async () => {
    // A full run and a refused one in this test's own right, on top of whatever ran before.
    const alice = harness.user('Erin Example', { upn: 'erin@example.com' });
    const ok = await begin(alice);
    // Approved only after IAM Identity Center answered "pending" once, so the poll's debug lines are in the log too.
    await alice.waitFor('a pending poll', () => fake.polls(ok.userCode).some((p) => p.answer === 'authorization_pending'));
    fake.approve(ok.userCode, 'erin@example.com');
    await alice.waitForAction('bucket.pick');
    const confirmId = await pickAndSend(alice, LEDGER, join(sshd.rootDir, 'aws-canary'));
    await click(alice, 'transfer.confirm', { activityId: confirmId });
    await waitForCompletion(alice, 'q3-ledger.csv');
    const bob = harness.user('Finn Example', { upn: 'finn@example.com' });
    const refused = await begin(bob);
    fake.approve(refused.userCode, 'mallory@example.com');
    await waitForCardText(bob, /IDENTITY_MISMATCH/, 'the mismatch card');

    // The canaries really flowed through the bot: minted by the fake, sent to S3 and STS.
    const erin = fake.issued.filter((c) => c.userName === 'erin@example.com');
    assert.equal(erin.length, 1);
    assert.ok(erin[0]!.sessionToken.startsWith(canaries.session) && erin[0]!.secretAccessKey === canaries.secret);
    assert.ok(proxy.requests.some((r) => tokenOf(r) === erin[0]!.sessionToken), 'S3 saw the canary session token');
    assert.ok(fake.calls.some((c) => c.op === 'GetCallerIdentity' && c.status === 200 && c.userName === 'erin@example.com'), 'STS verified a signature made with the canary secret');
    assert.ok(fake.count('Logout') >= 2, 'access tokens (canaries) were minted and logged out');
    const lines = parsedLines(harness.logLines);
    assert.equal(harness.app.config.logLevel, 'trace');
    assert.ok(lines.some((l) => Number(l.level) <= 20 && l.msg === 'AWS sign-in still pending'), 'the pending polls were logged at debug level');

    const forbidden = [canaries.accessToken, canaries.secret, canaries.session, 'fake-device-code-', 'fake-client-secret-'];
    const scan = (where: string, text: string): void => {
      for (const secret of forbidden) {
        const at = text.indexOf(secret);
        assert.ok(at < 0, `${where} holds ${secret.slice(0, 20)}…: …${text.slice(Math.max(0, at - 120), at + 60)}…`);
      }
    };
    scan('a log line', harness.logLines.join('\n'));
    scan('an activity the bot sent', JSON.stringify(harness.connector.calls.map((c) => c.activity)));
    scan('an invoke answer', JSON.stringify(answers.map((a) => a.body)));
    scan('the audit log', JSON.stringify(await harness.app.audit.readAll()));
    scan('a stored request', JSON.stringify(await Promise.all([ok, refused].map((s) => storedRecord(harness, s === ok ? alice : bob, s.requestId)))));
    const stored = await filesUnder(harness.dataDir);
    assert.ok(stored.some((f) => f.path.endsWith('fileferry.db')), 'the SQLite store is in the data folder');
    for (const f of stored) scan(`the stored file ${f.path}`, f.bytes.toString('latin1'));
  });
});

// -----------------------------------------------------------------------------------------------

const AZURE_FORM = { environment: 'PROD', cloud: 'Azure', region: 'westeurope', assignmentGroup: 'DataOps', priority: '3', justification: 'Ledger for the auditors, read with my own Microsoft sign-in.' };
const ENTRA_USER_CODE = /^[0-9A-F]{9}$/;
const AZ_CONTAINER = 'finance';
const AZ_KEY = 'q3/ledger.csv';

describe('e2e: Entra ID sign-in through the bot (MSAL over HTTPS) → Azure Blob (Azurite, OAuth) → sshd', function () {
  this.timeout(180_000);
  let dir: { path: string; remove: () => Promise<void> };
  let sshd: SshdServer;
  let entra: FakeEntra;
  let azurite: AzuriteOAuthServer;
  let harness: BotHarness;
  let untrustBlob: () => void = () => undefined;
  let untrustFetch: () => Promise<void> = async () => undefined;
  const body = Buffer.from(`account,amount\n4000,12.50\n${randomBytes(2048).toString('hex')}\n`);

  before(async () => {
    dir = await tempDir('e2e-entra');
    sshd = await startSshd();
    entra = await FakeEntra.start({ certDir: dir.path });
    azurite = await startAzuriteOAuth();
    await azurite.seed(AZ_CONTAINER, AZ_KEY, body);
    await azurite.seed('archive', 'old.txt', Buffer.from('old\n'));
    // The bot's MSAL uses its default network client (global fetch) and the blob client its https
    // agent: each is made to trust its server's test CA, for that server only.
    untrustFetch = await trustCaForFetch(entra.authority, entra.caPem);
    untrustBlob = trustCaForPort(azurite.port, azurite.caPem);
    harness = await BotHarness.start({
      config: {
        logLevel: 'trace',
        signIn: { entra: { tenantId: entra.tenantId, clientId: entra.clientId, authority: entra.authority, storageAccounts: { westeurope: azurite.accountUrl } } },
      },
      overrides: { progressIntervalMs: 200, tuning: { backoffBaseMs: 50, backoffMaxMs: 200 } },
    });
  });
  after(async () => {
    try {
      await harness?.close();
    } finally {
      untrustBlob();
      await untrustFetch();
      await entra?.close();
      await azurite?.stop();
      await sshd?.stop();
      await dir?.remove();
    }
  });

  it('happy path: device code card → approved as the UPN → the container picker arrives by itself → blob → sshd → completed, same SHA-256; no token anywhere', async () => {
    const user = harness.user('Alice Example', { upn: 'Alice@Contoso.example' });
    const answers: InvokeResult[] = [];
    const started = await startRequest(user, AZURE_FORM, ENTRA_USER_CODE);
    answers.push(...started.answers);
    assert.equal(started.url, `https://127.0.0.1:${entra.port}/devicelogin`, 'the button opens the verification page');
    assert.ok(entra.pollsFor(started.userCode), 'the code on the card is the one Entra ID issued');
    assert.match(cardText(started.signInCard), /Microsoft Entra ID/);

    const sendsBefore = harness.connector.calls.length;
    entra.approve(started.userCode, { upn: 'alice@contoso.example' });
    const picker = await user.waitForAction('bucket.pick', {}, 30_000);
    assert.ok(harness.connector.calls.slice(sendsBefore).some((c) => c.method === 'POST' && actionsOf(cardOf(c.activity)).some((a) => a.verb === 'bucket.pick')), 'posted by the bot itself');
    assert.deepEqual(actionsOf(picker.card).filter((a) => a.verb === 'bucket.pick').map((a) => a.data.container).sort(), ['archive', AZ_CONTAINER], "the picker lists Azurite's containers");
    assert.equal(entra.pollsFor(started.userCode).at(-1)!.answer, 'granted');

    answers.push(await user.click('bucket.pick', { match: { container: AZ_CONTAINER } }));
    answers.push(await user.click('files.open', { match: { prefix: 'q3/' } }));
    answers.push(await user.click('file.pick', { match: { objectKey: AZ_KEY } }));
    const folder = join(sshd.rootDir, 'azure-happy');
    const prompted = await user.click('dest.submit', { inputs: sftpInputs(sshd, folder) });
    answers.push(prompted);
    if (actionsOf(prompted.body?.value).some((a) => a.verb === 'dest.trustHostKey')) answers.push(await user.click('dest.trustHostKey'));
    answers.push(await user.click('transfer.confirm'));
    await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('ledger.csv has been transferred successfully')), 60_000);

    const delivered = await readFile(join(folder, 'ledger.csv'));
    assert.equal(sha256(delivered), sha256(body), "the delivered file's SHA-256 equals the blob's");
    const audit = await harness.app.audit.readAll();
    const mine = audit.filter((r) => r.requestId === started.requestId);
    assert.equal((mine.find((r) => r.type === 'signin.completed')?.details as Record<string, unknown> | undefined)?.principal, 'alice@contoso.example');
    assert.ok(mine.some((r) => r.type === 'transfer.completed'));

    const token = entra.issuedAccessTokens.at(-1)!;
    const forbidden = [entra.accessTokenSignature, entra.refreshToken, token.split('.')[1]!, ...entra.issuedDeviceCodes()];
    const texts: Array<[string, string]> = [
      ['a log line', harness.logLines.join('\n')],
      ['an activity the bot sent', JSON.stringify(harness.connector.calls.map((c) => c.activity))],
      ['an invoke answer', JSON.stringify(answers.map((a) => a.body))],
      ['the audit log', JSON.stringify(audit)],
      ...(await filesUnder(harness.dataDir)).map((f): [string, string] => [`the stored file ${f.path}`, f.bytes.toString('latin1')]),
    ];
    for (const [where, text] of texts) for (const secret of forbidden) assert.ok(!text.includes(secret), `${where} holds ${secret.slice(0, 16)}…`);
  });
});

// -----------------------------------------------------------------------------------------------

const LOCAL_FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'The customer asked for the Q1 sales report.' };

describe('e2e: the local sign-in card when its session ends by itself', function () {
  this.timeout(60_000);

  /** A local-mode bot (no sign-in configured); with `gate`, each transfer waits for it before the real engine runs. */
  function localHarness(config: Partial<AppConfig>, gate?: Promise<void>): Promise<BotHarness> {
    return BotHarness.start({
      config,
      seed: async (dir) => void (await seedSources(dir)),
      overrides: gate ? { runTransfer: async (request) => (await gate, runTransfer(request)) } : {},
    });
  }

  /** Up to the bucket picker, which takes the place of the "Continue as" card in the same message. */
  async function signIn(user: ChatUser): Promise<{ requestId: string; signInActivityId: string }> {
    await user.say('transfer');
    await user.waitForAction('request.submit');
    await user.click('request.submit', { inputs: LOCAL_FORM });
    const card = await user.waitForAction('signin.continue');
    const buckets = await user.click('signin.continue');
    assert.ok(actionsOf(buckets.body?.value).some((a) => a.verb === 'bucket.pick'), 'the bucket picker replaces the sign-in card');
    return { requestId: String(card.action.data.requestId), signInActivityId: card.activityId };
  }

  it('browse window: the sign-in message, a picker by now, says the session is closed and has no button', async () => {
    const h = await localHarness({ browseIdleSeconds: 1 });
    try {
      const user = h.user('Ivy Example');
      const { requestId, signInActivityId } = await signIn(user);
      await waitForClosedCard(h, user, signInActivityId, 'the picker in the sign-in message');
      assert.equal(user.findAction('bucket.pick'), undefined, 'no live browsing button is left in the chat');
      const stale = await user.send('bucket.pick', { requestId, container: 'sample-bucket' }, signInActivityId);
      assert.match(cardText(stale.body?.value), /no longer active/);
    } finally {
      await h.close();
    }
  });

  it('auto-logout: the sign-in message grew into the working card, which is never closed and ends completed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await localHarness({ autoLogoutSeconds: 1 }, gate);
    try {
      const user = h.user('Jon Example');
      const { requestId, signInActivityId } = await signIn(user);
      await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
      await user.click('files.open', { match: { prefix: 'reports/' } });
      await user.click('file.pick', { match: { objectKey: 'reports/q1-sales.csv' } });
      await user.click('dest.submit', { inputs: { savedDestination: 'Local outbox', overwrite: 'fail' } });
      assert.equal(user.findAction('transfer.confirm')?.activityId, signInActivityId, 'the confirm card is in the sign-in message');
      await user.click('transfer.confirm');
      await user.waitFor('the auto-logout', () =>
        parsedLines(h.logLines).find((l) => l.msg === 'sign-in session ended' && l.requestId === requestId && l.cause === 'auto-logout'),
      );
      // Bounded wait for a wrong closing to reach the connector (it would follow the log line within milliseconds).
      await new Promise((r) => setTimeout(r, 500));
      release();
      await user.waitFor('the completion message', () => user.messages().find((m) => String(m.activity.text ?? '').includes('q1-sales.csv has been transferred successfully')));
      const record = await storedRecord(h, user, requestId);
      assert.equal(record.cardActivityId, signInActivityId);
      assert.deepEqual(record.sessionCardIds, [signInActivityId], 'the sign-in card was kept on the record');
      assert.ok((await h.app.audit.readAll()).some((r) => r.requestId === requestId && r.type === 'signin.ended'), 'the session end is audited');
      assert.ok(!h.connector.calls.some((c) => SESSION_CLOSED.test(cardText(cardOf(c.activity)))), 'no card was closed: the working card is left alone');
      await user.waitFor('the working card to end completed', () => /SHA-256/.test(cardText(cardOf(h.connector.messages.get(signInActivityId)!.activity))));
    } finally {
      release();
      await h.close();
    }
  });
});
