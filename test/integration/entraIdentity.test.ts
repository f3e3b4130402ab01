import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { inspect } from 'node:util';
import type { TokenCredential } from '@azure/identity';
import { EntraIdentity, type EntraIdentityOptions } from '../../src/adapters/identity/entraIdentity';
import { AzureBlobSource } from '../../src/adapters/source/azureBlobSource';
import { FerryError, type ErrorCode } from '../../src/domain/errors';
import { createLogger } from '../../src/log';
import type { IdentitySession, SignInChallenge, SignInScope, SignInUser } from '../../src/ports/identityProvider';
import { startAzuriteOAuth, type AzuriteOAuthServer } from '../support/azuriteOAuthServer';
import { expectFailure, readAll } from '../support/expectFailure';
import { FakeEntra, type PollAnswer } from '../support/fakeEntra';
import { msalHttpsClient, type SentRequest } from '../support/msalHttpsClient';
import { tempDir } from '../support/tmp';
import { trustCaForPort } from '../support/trustCaForPort';

const ALICE: SignInUser = { id: '29:1aad-alice', tenantId: 'tenant-0001', name: 'Alice Example', upn: 'Alice@Contoso.example' };
const CONTAINER = 'finance';
const KEY = 'q3/ledger.csv';
const BODY = Buffer.from('account,amount\n4000,12.50\n');

/** Every text an error may be shown or logged as: message, hint, JSON, stack, causes and inspect. */
function errorTexts(e: unknown): string {
  const parts: string[] = [inspect(e, { depth: 10, showHidden: true })];
  for (let at = e as (Error & Partial<FerryError>) | undefined, depth = 0; at && depth < 5; depth++, at = at.cause as typeof at) {
    parts.push(String(at), at.message ?? '', at.stack ?? '', at.hint ?? '');
    if (at instanceof FerryError) parts.push(JSON.stringify(at.toJSON()));
  }
  return parts.join('\n');
}

/** Waits (bounded) until `condition` holds. */
async function until(condition: () => boolean, what: string, attempts = 250): Promise<void> {
  for (let i = 0; i < attempts && !condition(); i++) await delay(20);
  assert.ok(condition(), `timed out waiting: ${what}`);
}

const userCodeOf = (challenge: SignInChallenge): string => {
  assert.equal(challenge.kind, 'device-code');
  return challenge.kind === 'device-code' ? challenge.userCode : '';
};

describe('EntraIdentity against the fake Entra ID (real MSAL) and Azurite with OAuth', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let entra: FakeEntra;
  let azurite: AzuriteOAuthServer;
  let untrust: () => void = () => undefined;
  let logLines: string[];
  let sent: SentRequest[];
  /** Each openSource call: the location and the credential it was handed. */
  let opened: Array<{ location: string; credential: TokenCredential }>;
  let sessions: Array<{ provider: EntraIdentity; session: IdentitySession }>;

  before(async () => {
    dir = await tempDir('entra-integration');
    entra = await FakeEntra.start({ certDir: dir.path });
    azurite = await startAzuriteOAuth();
    await azurite.seed(CONTAINER, KEY, BODY);
    untrust = trustCaForPort(azurite.port, azurite.caPem);
  });
  after(async () => {
    untrust();
    await entra?.close();
    await azurite?.stop();
    await dir?.remove();
  });
  beforeEach(() => {
    logLines = [];
    sent = [];
    opened = [];
    sessions = [];
  });
  afterEach(async () => {
    for (const { provider, session } of sessions) await provider.signOut(session);
  });

  function provider(overrides: Partial<EntraIdentityOptions> = {}): EntraIdentity {
    return new EntraIdentity({
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      authority: entra.authority,
      networkClient: msalHttpsClient(entra.caPem, sent),
      log: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }),
      openSource: (credential, location) => {
        opened.push({ location, credential });
        return new AzureBlobSource({ accountUrl: azurite.accountUrl, credential });
      },
      ...overrides,
    });
  }

  const scope = (user: SignInUser = ALICE): SignInScope => ({
    requestId: `FF-${randomBytes(4).toString('hex').toUpperCase()}`,
    user,
    cloud: 'Azure',
    region: 'westeurope',
  });

  async function signedIn(p: EntraIdentity, s: SignInScope): Promise<IdentitySession> {
    const session = await p.awaitSignIn(s);
    sessions.push({ provider: p, session });
    return session;
  }

  const answers = (userCode: string): PollAnswer[] => entra.pollsFor(userCode).map((poll) => poll.answer);

  it('keeps polling through authorization_pending ×3, then signs in and reads the blob with the user’s token', async () => {
    const p = provider();
    const s = scope();
    entra.scriptNext({ pending: 3, then: { approve: { upn: 'alice@contoso.example' } } });
    const challenge = await p.beginSignIn(s);
    assert.equal(challenge.provider, 'Microsoft Entra ID');
    if (challenge.kind !== 'device-code') throw new Error('a device-code challenge');
    assert.equal(challenge.verificationUrl, `https://127.0.0.1:${entra.port}/devicelogin`);
    assert.ok(challenge.expiresAt.getTime() > Date.now() + 800_000, 'expiresAt is expires_in (900 s) from now');

    const session = await signedIn(p, s);
    assert.deepEqual(answers(challenge.userCode), ['authorization_pending', 'authorization_pending', 'authorization_pending', 'granted']);
    assert.equal(session.principal, 'alice@contoso.example');
    assert.ok(session.expiresAt && session.expiresAt.getTime() > Date.now(), 'the session expires with the token');
    const after = await p.completeSignIn(s);
    assert.ok(after.status === 'signed-in' && after.session === session, 'completeSignIn hands out the session awaitSignIn saw, once');
    await expectFailure(p.completeSignIn(s), { code: 'AUTH_FAILED' });

    // The source was opened once, for the form's location, and Azurite accepted the token.
    assert.deepEqual(opened.map((o) => o.location), ['westeurope']);
    const token = await opened[0]!.credential.getToken('https://storage.azure.com/.default');
    assert.equal(token?.token, entra.issuedAccessTokens.at(-1));
    const page = await session.source.list(CONTAINER, { prefix: 'q3/' });
    assert.ok(page.objects.some((o) => o.key === KEY), `${KEY} is listed`);
    // Read with stat's ObjectInfo: AzureBlobSource's list() gives the ETag unquoted and read()
    // compares it with the quoted header value (reported; not this adapter's file).
    const info = await session.source.stat(CONTAINER, KEY);
    assert.ok((await readAll(await session.source.read(CONTAINER, info, { start: 0, end: info.size }))).equals(BODY));

    // MSAL asked for Azure Storage plus the ID token, and talked to nothing but the authority.
    const asked = entra.deviceCodeRequests.at(-1)!;
    assert.equal(asked.clientId, entra.clientId);
    for (const wanted of ['https://storage.azure.com/.default', 'openid', 'profile']) assert.ok(asked.scopes.includes(wanted), `${wanted} is requested`);
    assert.ok(sent.length >= 6, 'discovery, device code and four polls went through the network client');
    assert.deepEqual([...new Set(sent.map((r) => new URL(r.url).origin))], [`https://127.0.0.1:${entra.port}`], 'no instance discovery at login.microsoftonline.com');
  });

  it("answers 'pending' while the code is not approved, then the session once it is", async () => {
    const p = provider();
    const s = scope();
    const challenge = await p.beginSignIn(s);
    assert.deepEqual(await p.completeSignIn(s), { status: 'pending' });
    entra.approve(userCodeOf(challenge), { upn: ALICE.upn! });
    const result = await p.completeSignIn(s);
    assert.equal(result.status, 'signed-in');
    if (result.status === 'signed-in') sessions.push({ provider: p, session: result.session });
  });

  const ends: Array<[string, 'expire' | 'deny', PollAnswer, RegExp]> = [
    ['an expired code (expired_token)', 'expire', 'expired_token', /expired/],
    ['a declined sign-in (authorization_declined)', 'deny', 'authorization_declined', /declined/],
  ];
  for (const [what, end, answer, wording] of ends) {
    it(`ends ${what} with AUTH_FAILED, and MSAL polls no more`, async () => {
      const p = provider();
      const s = scope();
      entra.scriptNext({ pending: 1, then: end });
      const challenge = await p.beginSignIn(s);
      const error = await expectFailure(p.awaitSignIn(s), { code: 'AUTH_FAILED', withHint: true });
      assert.match(error.message, wording);
      assert.deepEqual(answers(userCodeOf(challenge)), ['authorization_pending', answer]);
      // completeSignIn hands out the same end, once; after that nothing is begun.
      await expectFailure(p.completeSignIn(s), { code: 'AUTH_FAILED' });
      await expectFailure(p.completeSignIn(s), { code: 'AUTH_FAILED' });
      assert.deepEqual(opened, [], 'no source was opened');
      await delay(2_500); // more than two poll intervals
      assert.equal(entra.pollsFor(userCodeOf(challenge)).length, 2, 'no poll after the end');
    });
  }

  it('refuses the wrong person (IDENTITY_MISMATCH): the token is never handed to a source', async () => {
    const p = provider();
    const s = scope();
    entra.scriptNext({ then: { approve: { upn: 'mallory@contoso.example' } } });
    await p.beginSignIn(s);
    const error = await expectFailure(p.awaitSignIn(s), { code: 'IDENTITY_MISMATCH', withHint: true });
    assert.match(error.message, /mallory@contoso\.example/);
    assert.match(error.message, /Alice@Contoso\.example/);
    await expectFailure(p.completeSignIn(s), { code: 'IDENTITY_MISMATCH' });
    assert.deepEqual(opened, [], 'openSource was never called, so nothing was listed with the token');
    assert.ok(logLines.some((l) => /another person signed in/.test(l)), 'the refusal is logged');
  });

  it('refuses a Teams user whose UPN is unknown, and accepts the upn claim when preferred_username is absent', async () => {
    const p = provider();
    const anonymous = scope({ ...ALICE, upn: undefined });
    entra.scriptNext({ then: { approve: { upn: ALICE.upn! } } });
    await p.beginSignIn(anonymous);
    const error = await expectFailure(p.awaitSignIn(anonymous), { code: 'IDENTITY_MISMATCH' });
    assert.match(error.message, /Teams UPN/);

    const s = scope();
    entra.scriptNext({ then: { approve: { upn: 'ALICE@CONTOSO.EXAMPLE', claim: 'upn' } } });
    await p.beginSignIn(s);
    const session = await signedIn(p, s);
    assert.equal(session.principal, 'ALICE@CONTOSO.EXAMPLE');
  });

  it('uses matchUser when given (e.g. mail instead of UPN)', async () => {
    const p = provider({ matchUser: (name, user) => name === `${user.id.slice(3)}@mail.example` });
    const s = scope();
    entra.scriptNext({ then: { approve: { upn: '1aad-alice@mail.example' } } });
    await p.beginSignIn(s);
    assert.equal((await signedIn(p, s)).principal, '1aad-alice@mail.example');
  });

  it('cancelling the request (the beginSignIn signal) stops MSAL’s polling: the fake sees no more token requests', async () => {
    const p = provider();
    const s = scope();
    const request = new AbortController();
    const challenge = await p.beginSignIn(s, request.signal);
    const code = userCodeOf(challenge);
    await entra.waitForPolls(code, 2);
    const waiting = p.awaitSignIn(s);
    request.abort();
    await expectFailure(waiting, { code: 'CANCELLED' });
    const seen = entra.pollsFor(code).length;
    await delay(3_500); // an uncancelled MSAL polls three more times in this (interval 1 s)
    assert.equal(entra.pollsFor(code).length, seen, 'MSAL polled after the request was cancelled');
    // Approving now changes nothing: the sign-in is over.
    entra.approve(code, { upn: ALICE.upn! });
    await expectFailure(p.completeSignIn(s), { code: 'CANCELLED' });
    await delay(1_500);
    assert.equal(entra.pollsFor(code).length, seen);
    assert.deepEqual(opened, []);
  });

  it('drops a session nobody collected when the request is cancelled after approval', async () => {
    const p = provider();
    const s = scope();
    const request = new AbortController();
    entra.scriptNext({ then: { approve: { upn: ALICE.upn! } } });
    await p.beginSignIn(s, request.signal);
    const session = await p.awaitSignIn(s);
    // awaitSignIn saw it: a cancel now leaves it to signOut, and the credential still works.
    request.abort();
    assert.ok(await opened[0]!.credential.getToken('https://storage.azure.com/.default'));
    await p.signOut(session);

    const unseen = scope();
    const second = new AbortController();
    entra.scriptNext({ then: { approve: { upn: ALICE.upn! } } });
    const challenge = await p.beginSignIn(unseen, second.signal);
    await entra.waitForPolls(userCodeOf(challenge), 1);
    assert.deepEqual(answers(userCodeOf(challenge)), ['granted']);
    // The grant reaches MSAL, and the provider builds the session nobody has asked for yet.
    await until(() => opened.length === 2, 'the second session is built');
    second.abort();
    await expectFailure(opened[1]!.credential.getToken('https://storage.azure.com/.default'), { code: 'AUTH_FAILED' });
    await expectFailure(p.completeSignIn(unseen), { code: 'AUTH_FAILED' });
  });

  it('signOut: the credential refuses the token from then on; a source already reading keeps the SDK’s cached token', async () => {
    const p = provider();
    const s = scope();
    entra.scriptNext({ then: { approve: { upn: ALICE.upn! } } });
    await p.beginSignIn(s);
    const session = await signedIn(p, s);
    assert.ok((await session.source.listContainers()).some((c) => c.name === CONTAINER));
    await p.signOut(session);
    const refused = await expectFailure(opened[0]!.credential.getToken('https://storage.azure.com/.default'), { code: 'AUTH_FAILED', withHint: true });
    assert.match(refused.message, new RegExp(s.requestId));
    // A client built on the credential after signOut cannot authenticate at all.
    const fresh = new AzureBlobSource({ accountUrl: azurite.accountUrl, credential: opened[0]!.credential });
    await expectFailure(fresh.listContainers(), { code: 'AUTH_FAILED' });
    // The running transfer's reader (the source used before) finishes, as the issue requires.
    const info = await session.source.stat(CONTAINER, KEY);
    assert.equal(info.size, BODY.length);
  });

  it('a refused device code request (unauthorized_client) fails with INVALID_CONFIG and sends no token poll', async () => {
    const p = provider();
    const before = entra.polls.length;
    entra.refuseNextDeviceCode('unauthorized_client');
    const error = await expectFailure(p.beginSignIn(scope()), { code: 'INVALID_CONFIG', withHint: true });
    assert.match(error.message, /unauthorized_client/);
    await delay(1_500);
    assert.equal(entra.polls.length, before, 'MSAL did not poll with a device code it never got');
  });

  it('an unreachable authority is NETWORK, retryable', async () => {
    const p = provider({ authority: `https://127.0.0.1:1/${entra.tenantId}` });
    const error = await expectFailure(p.beginSignIn(scope()), { code: 'NETWORK' });
    assert.equal(error.retryable, true);
  });

  it('refuses a second beginSignIn for a request whose sign-in is under way', async () => {
    const p = provider();
    const s = scope();
    const request = new AbortController();
    await p.beginSignIn(s, request.signal);
    await expectFailure(p.beginSignIn(s), { code: 'AUTH_FAILED' });
    request.abort();
  });

  it('checks its settings: tenant, client ID and an https authority', () => {
    const base = { tenantId: 't', clientId: 'c', openSource: () => { throw new Error('unused'); } };
    const codes = (make: () => unknown): ErrorCode | undefined => {
      try {
        make();
        return undefined;
      } catch (e) {
        return (e as FerryError).code;
      }
    };
    assert.equal(codes(() => new EntraIdentity({ ...base, tenantId: '' })), 'INVALID_CONFIG');
    assert.equal(codes(() => new EntraIdentity({ ...base, clientId: '' })), 'INVALID_CONFIG');
    assert.equal(codes(() => new EntraIdentity({ ...base, tenantId: 'a/b' })), 'INVALID_CONFIG');
    assert.equal(codes(() => new EntraIdentity({ ...base, authority: 'http://login.example/t' })), 'INVALID_CONFIG');
    assert.equal(codes(() => new EntraIdentity({ ...base, authority: 'https://login.microsoftonline.us' })), undefined);
  });

  it('keeps the access token, refresh token, device code and user code out of errors and logs (trace level)', async () => {
    const p = provider();
    const errors: unknown[] = [];
    const userCodes: string[] = [];

    const ok = scope();
    entra.scriptNext({ pending: 1, then: { approve: { upn: ALICE.upn! } } });
    userCodes.push(userCodeOf(await p.beginSignIn(ok)));
    const session = await signedIn(p, ok);
    await session.source.listContainers();
    await p.signOut(session);
    errors.push(await opened[0]!.credential.getToken('x').catch((e: unknown) => e));
    errors.push(await new AzureBlobSource({ accountUrl: azurite.accountUrl, credential: opened[0]!.credential }).listContainers().catch((e: unknown) => e));

    for (const [end, user] of [['deny', ALICE], ['expire', ALICE], [{ approve: { upn: 'mallory@contoso.example' } }, ALICE]] as const) {
      const s = scope(user);
      entra.scriptNext({ then: end });
      userCodes.push(userCodeOf(await p.beginSignIn(s)));
      errors.push(await p.awaitSignIn(s).catch((e: unknown) => e));
    }
    assert.equal(errors.filter((e) => e instanceof FerryError).length, errors.length, 'every failure is a FerryError');

    const texts = [...errors.map(errorTexts), ...logLines];
    assert.ok(logLines.some((l) => l.includes('MSAL: ')), 'MSAL’s own lines were captured too');
    assert.ok(logLines.length > 20, 'the provider logged at trace level');
    const secrets = [
      ...entra.issuedAccessTokens,
      entra.accessTokenSignature,
      entra.refreshToken,
      ...entra.issuedDeviceCodes(),
      ...userCodes,
    ];
    assert.ok(secrets.length >= 11);
    for (const secret of secrets) {
      const leaks = texts.filter((t) => t.includes(secret));
      assert.deepEqual(leaks.map((t) => t.slice(0, 200)), [], 'a token or code leaked');
    }
  });
});
