import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SSOClient } from '@aws-sdk/client-sso';
import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsSsoIdentity, type AwsSsoIdentityOptions } from '../../src/adapters/identity/awsSsoIdentity';
import type { AwsRoleCredentials } from '../../src/adapters/identity/awsSsoClients';
import { FerryError, IdentityError, type ErrorCode } from '../../src/domain/errors';
import { createLogger } from '../../src/log';
import type { IdentitySession, SignInChallenge, SignInScope, SignInUser } from '../../src/ports/identityProvider';
import type { StorageSource } from '../../src/ports/storageSource';
import type { RoleQuestion } from '../../src/ports/roleChoice';
import { expectFailure } from '../support/expectFailure';
import { FakeAwsSso, virtualClock, type FakeAwsSsoOptions } from '../support/fakeAwsSso';
import { freePort } from '../support/ports';

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

const ALICE: SignInUser = { id: '29:1aad-alice', tenantId: 'tenant-0001', name: 'Alice Example', upn: 'Alice@Example.com' };
const ENDPOINT_VARS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SSO_OIDC', 'AWS_ENDPOINT_URL_SSO', 'AWS_ENDPOINT_URL_STS'];

/** A source that only records what it was built with; these tests are about signing in. */
interface RecordingSource extends StorageSource {
  credentials: AwsRoleCredentials;
  region: string;
}

function recordingSource(credentials: AwsRoleCredentials, region: string): RecordingSource {
  const never = (): never => {
    throw new Error('not used in these tests');
  };
  return { scheme: 's3', parallelReads: 1, credentials, region, listContainers: never, list: never, stat: never, read: never };
}

/** Every text an error may be shown or logged as: message, hint, JSON, stack, causes and inspect. */
function errorTexts(e: unknown): string {
  const parts: string[] = [inspect(e, { depth: 10, showHidden: true })];
  for (let at = e as (Error & Partial<FerryError>) | undefined, depth = 0; at && depth < 5; depth++, at = at.cause as typeof at) {
    parts.push(String(at), at.message ?? '', at.stack ?? '', at.hint ?? '');
    if (at instanceof FerryError) parts.push(JSON.stringify(at.toJSON()));
  }
  return parts.join('\n');
}

describe('AwsSsoIdentity against the fake IAM Identity Center (real SDK clients, virtual clock)', () => {
  let fake: FakeAwsSso;
  let clock: ReturnType<typeof virtualClock>;
  let restoreEnv: () => void;
  let providers: AwsSsoIdentity[];
  let opened: RecordingSource[];
  let logLines: string[];

  async function startFake(options: FakeAwsSsoOptions = {}): Promise<void> {
    await fake?.close();
    restoreEnv?.();
    fake = await FakeAwsSso.start({ now: clock.nowMs, ...options });
    restoreEnv = setEnv({
      ...Object.fromEntries(ENDPOINT_VARS.map((k) => [k, undefined])),
      ...fake.env,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    });
  }

  beforeEach(async () => {
    clock = virtualClock();
    providers = [];
    opened = [];
    logLines = [];
    await startFake();
  });
  afterEach(async () => {
    for (const p of providers) p.destroy();
    restoreEnv();
    await fake.close();
  });

  function provider(options: Partial<AwsSsoIdentityOptions> = {}): AwsSsoIdentity {
    const p = new AwsSsoIdentity({
      startUrl: fake.startUrl,
      ssoRegion: fake.region,
      openSource: (credentials, region) => {
        const s = recordingSource(credentials, region);
        opened.push(s);
        return s;
      },
      now: clock.now,
      sleep: clock.sleep,
      log: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }),
      ...options,
    });
    providers.push(p);
    return p;
  }

  const scope = (user: SignInUser = ALICE): SignInScope => ({ requestId: `FF-${randomBytes(4).toString('hex').toUpperCase()}`, user, cloud: 'AWS', region: 'eu-west-1' });

  type DeviceChallenge = Extract<SignInChallenge, { kind: 'device-code' }>;
  function device(challenge: SignInChallenge): DeviceChallenge {
    if (challenge.kind !== 'device-code') assert.fail(`a device-code challenge was expected, got ${challenge.kind}`);
    return challenge;
  }
  const userCodeOf = (challenge: SignInChallenge): string => device(challenge).userCode;

  /** begin → the fake approves as `userName` → awaitSignIn → completeSignIn (the same session). */
  async function signIn(p: AwsSsoIdentity, s: SignInScope, userName = 'alice@example.com'): Promise<IdentitySession> {
    fake.scriptNext({ then: { approve: userName } });
    await p.beginSignIn(s);
    const session = await p.awaitSignIn(s);
    const result = await p.completeSignIn(s);
    assert.equal(result.status, 'signed-in');
    if (result.status === 'signed-in') assert.equal(result.session, session, 'completeSignIn hands out the session awaitSignIn saw');
    return session;
  }

  async function fails(promise: Promise<unknown>, code: ErrorCode): Promise<IdentityError> {
    return expectFailure(promise, { type: IdentityError, code, withHint: true });
  }

  /**
   * Lets the background poller run until `done` holds; fails naming `what` after 20 s of real time
   * (its calls to the fake are real HTTP, however fast the virtual clock runs). Checked on every
   * turn, not on a timer: the test then acts (aborts) before the poller's next call, where on a
   * timer the poller, whose virtual sleeps take no real time, is caught in the middle of one.
   */
  async function until(what: string, done: () => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!done()) {
      if (Date.now() > deadline) assert.fail(`timed out after 20 s waiting for ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  describe('client registration', () => {
    it('registers once for many sign-ins, sequential and concurrent', async () => {
      const p = provider();
      await signIn(p, scope());
      await signIn(p, scope());
      await signIn(p, scope());
      await Promise.all([signIn(p, scope()), signIn(p, scope())]);
      assert.equal(fake.count('RegisterClient'), 1, 'one RegisterClient for five sign-ins');
      assert.equal(fake.count('StartDeviceAuthorization'), 5);
      assert.deepEqual(fake.registrations.map((r) => [r.clientName, r.clientType]), [['FileFerry', 'public']]);
    });

    it('registers again only when the client secret nears its expiry, or AWS stops accepting it', async () => {
      await startFake({ clientSecretLifetimeSeconds: 3600 });
      const p = provider();
      await signIn(p, scope());
      clock.advance(40 * 60_000);
      await signIn(p, scope());
      assert.equal(fake.count('RegisterClient'), 1, '20 minutes left: still the same registration');
      clock.advance(10 * 60_000);
      await signIn(p, scope());
      assert.equal(fake.count('RegisterClient'), 2, '10 minutes left (less than a device code lives): registered again');
      fake.failNext('StartDeviceAuthorization', { status: 401, type: 'InvalidClientException' });
      await fails(p.beginSignIn(scope()), 'AUTH_FAILED');
      await signIn(p, scope());
      assert.equal(fake.count('RegisterClient'), 3, 'InvalidClientException drops the registration');
    });
  });

  describe('polling CreateToken', () => {
    it('the challenge carries the complete verification link, the user code and the expiry', async () => {
      const p = provider();
      const s = scope();
      const challenge = await p.beginSignIn(s);
      assert.equal(challenge.kind, 'device-code');
      if (challenge.kind !== 'device-code') return;
      assert.equal(challenge.provider, 'AWS IAM Identity Center');
      assert.equal(challenge.verificationUrl, `${fake.endpoint}/device?user_code=${challenge.userCode}`);
      assert.match(challenge.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
      const started = fake.calls.find((c) => c.op === 'StartDeviceAuthorization')!.at;
      assert.equal(challenge.expiresAt.getTime(), started + 600_000, 'expiresAt = now + expiresIn');
      await fails(p.beginSignIn(s), 'AUTH_FAILED');
    });

    it('pending ×3 then slow_down ×2 then success: gaps grow by 5 s after each slow_down and never shrink', async () => {
      const p = provider();
      const s = scope();
      fake.scriptNext({ steps: ['pending', 'pending', 'pending', 'slow_down', 'slow_down'], then: { approve: 'alice@example.com' } });
      const challenge = await p.beginSignIn(s);
      const session = await p.awaitSignIn(s);
      assert.equal(session.requestId, s.requestId);
      const polls = fake.polls(userCodeOf(challenge));
      assert.deepEqual(polls.map((x) => x.answer), ['authorization_pending', 'authorization_pending', 'authorization_pending', 'slow_down', 'slow_down', 'granted']);
      const started = fake.calls.find((c) => c.op === 'StartDeviceAuthorization')!.at;
      const times = [started, ...polls.map((x) => x.at)];
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      assert.deepEqual(gaps, [5000, 5000, 5000, 5000, 10_000, 15_000], 'interval 5 s, +5 s after each slow_down');
      for (let i = 1; i < gaps.length; i++) {
        assert.ok(gaps[i]! >= gaps[i - 1]!, `gap ${i} shrank: ${gaps.join(', ')}`);
        if (polls[i - 1]!.answer === 'slow_down') assert.equal(gaps[i], gaps[i - 1]! + 5000, `the gap after slow_down #${i} grew by 5 s`);
      }
    });

    it("honours the server's interval", async () => {
      await startFake({ interval: 2 });
      const p = provider();
      const s = scope();
      fake.scriptNext({ steps: ['pending', 'pending'], then: { approve: 'alice@example.com' } });
      const challenge = await p.beginSignIn(s);
      await p.awaitSignIn(s);
      const at = fake.polls(userCodeOf(challenge)).map((x) => x.at);
      assert.deepEqual(at.slice(1).map((t, i) => t - at[i]!), [2000, 2000]);
    });

    it('an ExpiredTokenException ends the sign-in with AUTH_FAILED, and no role is asked for', async () => {
      const p = provider();
      const s = scope();
      fake.scriptNext({ steps: ['pending'], then: 'expire' });
      await p.beginSignIn(s);
      const error = await fails(p.awaitSignIn(s), 'AUTH_FAILED');
      assert.match(error.message, /expired/);
      await fails(p.completeSignIn(s), 'AUTH_FAILED');
      assert.equal(fake.count('GetRoleCredentials'), 0);
    });

    it('stops polling when the code expires, with no request at or after expiresIn', async () => {
      const p = provider();
      const s = scope();
      fake.scriptNext({ expiresIn: 30 });
      const challenge = device(await p.beginSignIn(s));
      const error = await fails(p.awaitSignIn(s), 'AUTH_FAILED');
      assert.match(error.message, /expired/);
      const polls = fake.polls(userCodeOf(challenge));
      assert.deepEqual(polls.map((x) => x.answer), Array(5).fill('authorization_pending'), 'polls at 5, 10, 15, 20 and 25 s');
      for (const poll of polls) assert.ok(poll.at < challenge.expiresAt.getTime(), 'no poll at or after the expiry');
      assert.ok(clock.nowMs() >= challenge.expiresAt.getTime(), 'the sign-in ended at the expiry, not before');
    });

    it('a denied sign-in is AUTH_FAILED, and no token is issued', async () => {
      const p = provider();
      const s = scope();
      fake.scriptNext({ steps: ['pending', 'pending'], then: 'deny' });
      await p.beginSignIn(s);
      const error = await fails(p.completeSignIn(s).then(() => p.completeSignIn(s)).then(() => p.completeSignIn(s)), 'AUTH_FAILED');
      assert.match(error.message, /refused/);
      assert.equal(fake.count('GetRoleCredentials'), 0);
      assert.equal(fake.count('Logout'), 0);
    });

    it("completeSignIn is 'pending' until the person approves, then signs in", async () => {
      const p = provider();
      const s = scope();
      const challenge = await p.beginSignIn(s);
      assert.deepEqual(await p.completeSignIn(s), { status: 'pending' });
      assert.deepEqual(await p.completeSignIn(s), { status: 'pending' });
      fake.approve(userCodeOf(challenge), 'alice@example.com');
      const result = await p.completeSignIn(s);
      assert.equal(result.status, 'signed-in');
    });

    it('a dropped connection is tried again at the next interval; three in a row end it with NETWORK', async () => {
      const p = provider();
      const s = scope();
      fake.failNext('CreateToken', 'drop');
      await signIn(p, s);
      assert.equal(fake.calls.filter((c) => c.op === 'CreateToken' && c.status === -1).length, 1);

      const t = scope();
      for (let i = 0; i < 3; i++) fake.failNext('CreateToken', 'drop');
      await p.beginSignIn(t);
      const error = await fails(p.awaitSignIn(t), 'NETWORK');
      assert.equal(error.retryable, true);
    });

    it('without x-amzn-ErrorType the SDK cannot tell a pending poll from a failure (it never reads the body\'s "error")', async () => {
      await startFake({ errorTypeHeader: false });
      const p = provider();
      const s = scope();
      await p.beginSignIn(s);
      const error = await expectFailure(p.awaitSignIn(s), { type: IdentityError });
      assert.notEqual(error.code, 'AUTH_FAILED');
      assert.match(error.message, /Unknown, HTTP 400/, 'the SDK names an error it cannot classify "Unknown"');
      assert.equal(fake.count('CreateToken'), 1, 'the first pending answer already ended the poll');
    });
  });

  describe('cancellation', () => {
    it("aborting beginSignIn's signal stops the polling; the sign-in ends CANCELLED", async () => {
      const p = provider();
      const s = scope();
      const controller = new AbortController();
      const challenge = await p.beginSignIn(s, controller.signal);
      await until('a second CreateToken poll', () => fake.polls(userCodeOf(challenge)).length >= 2);
      controller.abort();
      await fails(p.awaitSignIn(s), 'CANCELLED');
      const seen = fake.count('CreateToken');
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
      assert.equal(fake.count('CreateToken'), seen, 'no poll after the abort');
      await fails(p.completeSignIn(s), 'CANCELLED');
      await fails(p.completeSignIn(s), 'AUTH_FAILED');
    });

    it('an abort after success drops the uncollected session', async () => {
      const p = provider();
      const s = scope();
      const controller = new AbortController();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s, controller.signal);
      await p.awaitSignIn(s);
      controller.abort();
      await fails(p.completeSignIn(s), 'AUTH_FAILED');
    });

    it("awaitSignIn's own signal ends only the wait", async () => {
      const p = provider();
      const s = scope();
      const challenge = await p.beginSignIn(s);
      const wait = new AbortController();
      const waiting = p.awaitSignIn(s, wait.signal);
      wait.abort();
      await fails(waiting, 'CANCELLED');
      fake.approve(userCodeOf(challenge), 'alice@example.com');
      assert.equal((await p.completeSignIn(s)).status, 'signed-in');
    });
  });

  describe('account, role and credentials', () => {
    it('with nothing configured, takes the only account and role; Logout follows GetRoleCredentials at once, before STS', async () => {
      await startFake({ credentialLifetimeMs: 15 * 60_000 });
      const p = provider();
      const s = scope();
      const session = await signIn(p, s);
      const after = fake.calls.slice(fake.calls.findIndex((c) => c.op === 'CreateToken' && c.status === 200) + 1).map((c) => c.op);
      assert.deepEqual(after, ['ListAccounts', 'ListAccountRoles', 'GetRoleCredentials', 'Logout', 'GetCallerIdentity']);
      assert.equal(fake.activeTokens(), 0, 'the access token was logged out');
      const issued = fake.issued[0]!;
      assert.deepEqual([issued.accountId, issued.roleName, issued.userName], ['111122223333', 'FileFerryReadOnly', 'alice@example.com']);
      assert.match(session.principal, /^arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_FileFerryReadOnly_[0-9a-f]+\/alice@example\.com$/);
      assert.equal(session.expiresAt?.getTime(), issued.expiration, 'the session ends when the credentials do');
      assert.equal(opened.length, 1);
      assert.deepEqual(opened[0]!.credentials, { accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken, expiration: new Date(issued.expiration) });
      assert.equal(opened[0]!.region, 'eu-west-1', "the source reads in the request's region");
    });

    it('configured account and role are used as they are: no listing', async () => {
      const p = provider({ accountId: '111122223333', roleName: 'FileFerryReadOnly' });
      await signIn(p, scope());
      assert.equal(fake.count('ListAccounts') + fake.count('ListAccountRoles'), 0);
      assert.equal(fake.count('Logout'), 1);
    });

    it('several accounts (over pages), then several roles: the sign-in waits for picks, takes only listed options, then GetRoleCredentials and Logout', async () => {
      await startFake({
        pageSize: 1,
        accounts: [
          { accountId: '111122223333', accountName: 'Data', emailAddress: 'a@example.com', roles: ['FileFerryReadOnly', 'Admin'] },
          { accountId: '444455556666', accountName: 'Logs', emailAddress: 'b@example.com', roles: ['FileFerryReadOnly'] },
        ],
      });
      const p = provider();
      const asked: Array<{ requestId: string; question: RoleQuestion }> = [];
      p.onRoleQuestion((requestId, question) => asked.push({ requestId, question }));
      const s = scope();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      await until('the role question', () => asked.length === 1);
      const accounts = asked[0]!;
      assert.equal(accounts.requestId, s.requestId);
      assert.equal(accounts.question.step, 'account');
      assert.deepEqual(accounts.question.options, [
        { value: '111122223333', title: 'Data', detail: '111122223333 · a@example.com' },
        { value: '444455556666', title: 'Logs', detail: '444455556666 · b@example.com' },
      ]);
      assert.equal(fake.count('ListAccounts'), 2, 'the second page was read');
      assert.equal(p.roleQuestion(s), accounts.question);
      assert.deepEqual(await p.completeSignIn(s), { status: 'pending' }, '"I have signed in" while a pick waits is pending');

      assert.deepEqual(await p.answerRole(s, 'role', 'Admin'), { status: 'not-waiting' }, 'a role before the account is refused');
      assert.deepEqual(await p.answerRole(s, 'account', '999999999999'), { status: 'not-offered' }, 'an account the portal did not list is refused');
      assert.deepEqual(await p.answerRole(scope(), 'account', '111122223333'), { status: 'not-waiting' }, "another request's pick is refused");
      const roles = await p.answerRole(s, 'account', '111122223333');
      assert.equal(roles.status, 'asked');
      if (roles.status === 'asked') {
        assert.equal(roles.question.step, 'role');
        assert.equal(roles.question.accountId, '111122223333');
        assert.deepEqual(roles.question.options.map((o) => o.value), ['FileFerryReadOnly', 'Admin']);
      }
      assert.deepEqual(await p.answerRole(s, 'role', 'NotListed'), { status: 'not-offered' });
      assert.equal(fake.count('GetRoleCredentials'), 0, 'nothing is fetched before both picks');
      assert.equal(fake.activeTokens(), 1, 'the token is alive (in memory) while the person picks');

      assert.deepEqual(await p.answerRole(s, 'role', 'Admin'), { status: 'chosen' });
      const result = await p.completeSignIn(s);
      assert.equal(result.status, 'signed-in');
      const issued = fake.issued[0]!;
      assert.deepEqual([issued.accountId, issued.roleName], ['111122223333', 'Admin'], 'the credentials are for the picked account and role');
      const after = fake.calls.slice(fake.calls.findIndex((c) => c.op === 'CreateToken' && c.status === 200) + 1).map((c) => c.op);
      assert.deepEqual(after, ['ListAccounts', 'ListAccounts', 'ListAccountRoles', 'ListAccountRoles', 'GetRoleCredentials', 'Logout', 'GetCallerIdentity'], 'both pages of each list, one page a call');
      assert.equal(fake.activeTokens(), 0, 'the access token was logged out once the credentials were in hand');
      assert.equal(asked.length, 1, 'the role question went to the pick that asked for it, not to the listener');
      assert.equal(p.roleQuestion(s), undefined);
    });

    it('one account with several roles asks only for the role; a pick not made in time ends AUTH_FAILED and the token is logged out', async () => {
      await startFake({ accounts: [{ accountId: '111122223333', accountName: 'Data', emailAddress: 'a@example.com', roles: ['FileFerryReadOnly', 'Admin'] }] });
      const p = provider({ pickTimeoutSeconds: 0.2 });
      const asked: RoleQuestion[] = [];
      p.onRoleQuestion((_id, question) => asked.push(question));
      const s = scope();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      const error = await fails(p.awaitSignIn(s), 'AUTH_FAILED');
      assert.match(error.message, /No role in AWS account 111122223333 was picked in time/);
      assert.deepEqual(asked.map((q) => [q.step, q.accountId]), [['role', '111122223333']]);
      assert.equal(fake.count('GetRoleCredentials'), 0);
      assert.equal(fake.count('Logout'), 1);
      assert.equal(fake.activeTokens(), 0);
      assert.deepEqual(await p.answerRole(s, 'role', 'Admin'), { status: 'not-waiting' }, 'a pick after the time is up changes nothing');
    });

    it('cancelling the request while a pick waits ends the sign-in CANCELLED and logs the token out', async () => {
      await startFake({
        accounts: [
          { accountId: '111122223333', accountName: 'Data', emailAddress: 'a@example.com', roles: ['FileFerryReadOnly'] },
          { accountId: '444455556666', accountName: 'Logs', emailAddress: 'b@example.com', roles: ['FileFerryReadOnly'] },
        ],
      });
      const p = provider();
      const asked: RoleQuestion[] = [];
      p.onRoleQuestion((_id, question) => asked.push(question));
      const s = scope();
      const lifetime = new AbortController();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s, lifetime.signal);
      await until('the role question', () => asked.length === 1);
      lifetime.abort();
      await fails(p.awaitSignIn(s), 'CANCELLED');
      await until('the Logout of the token', () => fake.count('Logout') === 1);
      assert.equal(fake.activeTokens(), 0);
      assert.equal(fake.count('GetRoleCredentials'), 0);
    });

    it('more accounts than a card can list is ACCESS_DENIED naming the variables to set', async () => {
      const many = Array.from({ length: 51 }, (_, i) => ({ accountId: String(100000000000 + i), accountName: `A${i}`, emailAddress: `a${i}@example.com`, roles: ['FileFerryReadOnly'] }));
      await startFake({ accounts: many });
      const p = provider();
      const s = scope();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      const error = await fails(p.awaitSignIn(s), 'ACCESS_DENIED');
      assert.match(error.hint, /FILEFERRY_AWS_ACCOUNT_ID/);
      assert.equal(fake.activeTokens(), 0);
    });

    it('a role that is not assigned is ACCESS_DENIED, and the token is logged out', async () => {
      const p = provider({ accountId: '111122223333', roleName: 'NotMine' });
      const s = scope();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      const error = await fails(p.awaitSignIn(s), 'ACCESS_DENIED');
      assert.match(error.message, /NotMine/);
      assert.equal(fake.count('Logout'), 1);
      assert.equal(opened.length, 0);
    });

    it('a throttled portal call is tried twice more after the grant; the third failure ends the sign-in THROTTLED', async () => {
      const p = provider();
      fake.failNext('ListAccounts', { status: 429, type: 'TooManyRequestsException' });
      fake.failNext('GetRoleCredentials', { status: 500, type: 'InternalServerException' });
      fake.failNext('GetRoleCredentials', { status: 429, type: 'TooManyRequestsException' });
      await signIn(p, scope());
      assert.deepEqual([fake.count('ListAccounts'), fake.count('GetRoleCredentials')], [2, 3]);

      const s = scope();
      for (let i = 0; i < 3; i++) fake.failNext('GetRoleCredentials', { status: 429, type: 'TooManyRequestsException' });
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      const error = await fails(p.awaitSignIn(s), 'THROTTLED');
      assert.equal(error.retryable, true);
      assert.equal(fake.count('GetRoleCredentials'), 6);
      assert.equal(fake.activeTokens(), 0, 'logged out all the same');
    });

    it('a failed Logout is logged and does not fail the sign-in', async () => {
      const p = provider();
      fake.failNext('Logout', { status: 500, type: 'InternalServerException' });
      await signIn(p, scope());
      assert.ok(logLines.some((l) => /logout failed/i.test(l)), 'the failure is logged');
    });
  });

  describe('identity check', () => {
    it('the wrong person: IDENTITY_MISMATCH, the credentials are never used for a listing', async () => {
      const p = provider();
      const s = scope();
      fake.scriptNext({ then: { approve: 'mallory@example.com' } });
      await p.beginSignIn(s);
      const error = await fails(p.completeSignIn(s).then(() => p.completeSignIn(s)), 'IDENTITY_MISMATCH');
      assert.match(error.message, /mallory@example\.com/);
      assert.match(error.message, /Alice@Example\.com/);
      assert.equal(opened.length, 0, 'openSource was never called');
      const sts = fake.calls.filter((c) => c.op === 'GetCallerIdentity');
      assert.deepEqual(sts.map((c) => [c.status, c.userName]), [[200, 'mallory@example.com']], 'STS saw the role credentials, signed');
      assert.equal(fake.activeTokens(), 0);
      await fails(p.completeSignIn(s), 'AUTH_FAILED');
    });

    it('no Teams UPN (local mode) is a mismatch that says the UPN could not be read', async () => {
      const p = provider();
      const s = scope({ id: '29:local-user', name: 'Ann Example' });
      fake.scriptNext({ then: { approve: 'ann@example.com' } });
      await p.beginSignIn(s);
      const error = await fails(p.awaitSignIn(s), 'IDENTITY_MISMATCH');
      assert.match(error.message, /could not read your Teams UPN/);
      assert.equal(opened.length, 0);
    });

    it('matchUser replaces the default rule', async () => {
      const p = provider({ matchUser: (name, user) => name === `${user.id.slice(3)}@corp.example` });
      const session = await signIn(p, scope({ id: '29:ann', name: 'Ann' }), 'ann@corp.example');
      assert.match(session.principal, /\/ann@corp\.example$/);
    });

    it('STS refusing the credentials ends the sign-in without a session', async () => {
      const p = provider();
      const s = scope();
      fake.failNext('GetCallerIdentity', { status: 403, type: 'InvalidClientTokenId' });
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      await fails(p.awaitSignIn(s), 'AUTH_FAILED');
      assert.equal(opened.length, 0);
    });
  });

  describe('sessions and sign-out', () => {
    it('signOut never throws, twice included; a session only awaitSignIn saw is then gone', async () => {
      const p = provider();
      const s = scope();
      fake.scriptNext({ then: { approve: 'alice@example.com' } });
      await p.beginSignIn(s);
      const session = await p.awaitSignIn(s);
      await p.signOut(session);
      await p.signOut(session);
      await fails(p.completeSignIn(s), 'AUTH_FAILED');
    });
  });

  describe('endpoints', () => {
    it('AWS_ENDPOINT_URL alone reaches all three services', async () => {
      restoreEnv();
      restoreEnv = setEnv({ ...Object.fromEntries(ENDPOINT_VARS.map((k) => [k, undefined])), AWS_ENDPOINT_URL: fake.endpoint, AWS_CONFIG_FILE: '/nonexistent/aws-config' });
      await signIn(provider(), scope());
      assert.equal(fake.count('GetCallerIdentity'), 1);
    });

    it('explicit clients win over the endpoint variables', async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      restoreEnv();
      restoreEnv = setEnv({ AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_SSO_OIDC: dead, AWS_ENDPOINT_URL_SSO: dead, AWS_ENDPOINT_URL_STS: dead, AWS_CONFIG_FILE: '/nonexistent/aws-config' });
      const region = fake.region;
      const oidcClient = new SSOOIDCClient({ region, endpoint: fake.endpoint, maxAttempts: 1 });
      const ssoClient = new SSOClient({ region, endpoint: fake.endpoint, maxAttempts: 1 });
      try {
        const p = provider({ oidcClient, ssoClient, stsClient: (credentials, r) => new STSClient({ region: r, endpoint: fake.endpoint, credentials, maxAttempts: 1 }) });
        await signIn(p, scope());
        assert.equal(fake.count('GetCallerIdentity'), 1);
      } finally {
        oidcClient.destroy();
        ssoClient.destroy();
      }
    });

    it('an unreachable IAM Identity Center is NETWORK, retryable, at beginSignIn', async () => {
      restoreEnv();
      restoreEnv = setEnv({ AWS_ENDPOINT_URL_SSO_OIDC: `http://127.0.0.1:${await freePort()}`, AWS_CONFIG_FILE: '/nonexistent/aws-config' });
      const error = await fails(provider().beginSignIn(scope()), 'NETWORK');
      assert.equal(error.retryable, true);
    });
  });

  describe('secrets', () => {
    it('no access token, secret key, session token, device code or user code in any error or log line', async () => {
      const tag = randomBytes(6).toString('hex');
      const canaries = { accessToken: `canary-access-${tag}-`, secret: `canary-secret-${tag}`, session: `canary-session-${tag}-` };
      await startFake({
        accessTokenPrefix: canaries.accessToken,
        sessionTokenPrefix: canaries.session,
        credentials: { accessKeyId: 'ASIAFILEFERRYCANARY', secretAccessKey: canaries.secret },
      });
      const errors: unknown[] = [];
      const challenges: SignInChallenge[] = [];
      const p = provider();
      const collect = async (s: SignInScope, setup: () => void, expectOk: boolean): Promise<void> => {
        setup();
        challenges.push(await p.beginSignIn(s));
        try {
          const session = await p.awaitSignIn(s);
          assert.ok(expectOk, 'this sign-in should have failed');
          await p.completeSignIn(s);
          await p.signOut(session);
        } catch (e) {
          if (!(e instanceof IdentityError)) throw e;
          assert.ok(!expectOk, `unexpected failure: ${e.message}`);
          errors.push(e);
        }
      };
      const approve = (user: string) => () => fake.scriptNext({ steps: ['pending', 'slow_down'], then: { approve: user } });
      await collect(scope(), approve('alice@example.com'), true);
      await collect(scope(), approve('mallory@example.com'), false);
      await collect(scope(), () => (approve('alice@example.com')(), fake.failNext('GetCallerIdentity', { status: 403, type: 'InvalidClientTokenId' })), false);
      const throttle = (): void => {
        for (let i = 0; i < 3; i++) fake.failNext('GetRoleCredentials', { status: 429, type: 'TooManyRequestsException' });
      };
      await collect(scope(), () => (approve('alice@example.com')(), throttle()), false);
      await collect(scope(), () => (approve('alice@example.com')(), fake.failNext('Logout', { status: 500, type: 'InternalServerException' })), true);
      await collect(scope(), () => fake.scriptNext({ then: 'deny' }), false);
      await collect(scope(), () => fake.scriptNext({ then: 'expire' }), false);
      errors.push(await expectFailure(p.completeSignIn(scope())));

      // The canaries really flowed: the tokens were minted and the source got the canary credentials.
      assert.equal(fake.count('Logout'), 5);
      assert.ok(fake.issued.length >= 4 && fake.issued.every((c) => c.sessionToken.startsWith(canaries.session)));
      assert.ok(opened.length >= 2 && opened.every((s) => s.credentials.secretAccessKey === canaries.secret));
      assert.ok(logLines.length > 10, 'the provider logged at trace level');

      const codes = challenges.flatMap((c) => (c.kind === 'device-code' ? [c.userCode] : []));
      const forbidden = [canaries.accessToken, canaries.secret, canaries.session, 'fake-device-code-', 'fake-client-secret-', ...codes];
      const texts = [...errors.map(errorTexts), ...logLines];
      for (const text of texts) for (const secret of forbidden) assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 16)}… in: ${text.slice(0, 300)}`);
      assert.equal(errors.length, 6);
    });
  });
});
