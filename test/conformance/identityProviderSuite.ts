import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { IdentityProvider, IdentitySession, SignInChallenge, SignInScope } from '../../src/ports/identityProvider';
import { expectFailure, readAll } from '../support/expectFailure';

/** An object the signed-in identity may read within the factory's scope. */
export interface ReadableObject {
  container: string;
  key: string;
  body: Buffer;
}

/**
 * What an adapter's test file hands the shared suite. Optional hooks are looked at when the suite
 * is declared: a case that needs one is registered only when the factory has it (nothing skipped).
 */
export interface IdentityProviderFactory {
  /** A provider ready to sign people in (its fake endpoints running). Called before each test. */
  create(): Promise<IdentityProvider>;
  /** A scope the provider can sign in for, around the suite's fresh `requestId`. */
  scope(requestId: string): SignInScope;
  /** An object a session for `scope` may list, stat and read; it exists before the tests run. */
  readable(): ReadableObject;
  /**
   * Does what the person does between `beginSignIn` and `completeSignIn` (opens the link, enters
   * the user code, approves it at the fake AWS SSO / Entra endpoint). Required for providers
   * whose challenge is 'device-code'; leave out for 'continue-as'. When present, the suite also
   * checks that completing before approval is 'pending'.
   */
  approve?(scope: SignInScope, challenge: SignInChallenge): Promise<void>;
  /** The person refuses the sign-in (denies the device code). When present: completing fails with AUTH_FAILED. */
  deny?(scope: SignInScope, challenge: SignInChallenge): Promise<void>;
}

/** Method names that would let a session change storage. A read-only source has none of them. */
const WRITING = /^(write|put|upload|delete|remove|copy|move|rename|create|mkdir|rmdir|unlink|append|truncate|chmod|chown|symlink|patch|post|set[A-Z])/i;

/** Every function-valued property name of `value`, own and inherited (Object.prototype excluded). */
function methodNames(value: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = value; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (d && typeof d.value === 'function') names.add(name);
    }
  }
  return [...names];
}

/** The contract of `src/ports/identityProvider.ts`, run against each sign-in adapter. */
export function identityProviderConformance(name: string, factory: IdentityProviderFactory): void {
  describe(`IdentityProvider conformance: ${name}`, function () {
    let provider: IdentityProvider;
    let opened: IdentitySession[];

    beforeEach(async () => {
      provider = await factory.create();
      opened = [];
    });
    afterEach(async () => {
      // Cleanup only: whether signOut throws is its own test, so it never fails another one here.
      for (const s of opened) await provider.signOut(s).catch(() => undefined);
    });

    const requestId = (): string => `FF-${randomBytes(4).toString('hex').toUpperCase()}`;

    function checkChallenge(challenge: SignInChallenge): void {
      assert.ok(challenge.provider.length > 0, 'the challenge names the provider');
      if (challenge.kind === 'continue-as') {
        assert.ok(challenge.userName.length > 0, 'a continue-as challenge names the person');
      } else {
        assert.ok(factory.approve, 'a device-code provider needs an approve() hook in its factory');
        assert.match(new URL(challenge.verificationUrl).protocol, /^https?:$/);
        assert.ok(challenge.userCode.length > 0, 'a device-code challenge has a user code');
        assert.ok(!Number.isNaN(challenge.expiresAt.getTime()), 'expiresAt is a real date');
      }
    }

    /** begin → (approve) → complete, asserting it signs in. */
    async function signIn(scope: SignInScope): Promise<IdentitySession> {
      const challenge = await provider.beginSignIn(scope);
      checkChallenge(challenge);
      if (factory.approve) await factory.approve(scope, challenge);
      const result = await provider.completeSignIn(scope);
      assert.equal(result.status, 'signed-in', 'completing an approved sign-in signs in');
      if (result.status !== 'signed-in') throw new Error('unreachable');
      opened.push(result.session);
      return result.session;
    }

    it('begin then complete yields a session for that request, with a principal', async () => {
      const scope = factory.scope(requestId());
      const session = await signIn(scope);
      assert.equal(session.requestId, scope.requestId);
      assert.equal(typeof session.principal, 'string');
      assert.ok(session.principal.length > 0, 'the session names who signed in');
      if (session.expiresAt !== undefined) assert.ok(!Number.isNaN(session.expiresAt.getTime()), 'expiresAt is a real date');
    });

    it("the session's source lists, stats and reads what the scope may see", async () => {
      const object = factory.readable();
      const { source } = await signIn(factory.scope(requestId()));
      assert.ok((await source.listContainers()).some((c) => c.name === object.container), `${object.container} is listed`);
      const page = await source.list(object.container, { prefix: object.key });
      assert.ok(page.objects.some((o) => o.key === object.key), `${object.key} is listed`);
      const info = await source.stat(object.container, object.key);
      assert.equal(info.size, object.body.length);
      const bytes = await readAll(await source.read(object.container, info, { start: 0, end: info.size }));
      assert.ok(bytes.equals(object.body), 'reads exactly the stored bytes');
    });

    it("the session's source has the read methods and no method that writes", async () => {
      const { source } = await signIn(factory.scope(requestId()));
      const names = methodNames(source);
      for (const read of ['listContainers', 'list', 'stat', 'read']) assert.ok(names.includes(read), `source has ${read}()`);
      assert.deepEqual(names.filter((n) => WRITING.test(n)), [], 'a session source can list and read, never write');
    });

    it('completing a sign-in for a request that never began fails with AUTH_FAILED', async () => {
      // The port's TSDoc says "SourceError with AUTH_FAILED"; src/domain/errors.ts also has an
      // IdentityError for sign-in. The code is the contract here; either class is a FerryError.
      await expectFailure(provider.completeSignIn(factory.scope(requestId())), { code: 'AUTH_FAILED', withHint: true });
    });

    it('a sign-in begun for one request does not complete another', async () => {
      const begun = factory.scope(requestId());
      const challenge = await provider.beginSignIn(begun);
      if (factory.approve) await factory.approve(begun, challenge);
      await expectFailure(provider.completeSignIn(factory.scope(requestId())), { code: 'AUTH_FAILED' });
      const result = await provider.completeSignIn(begun);
      assert.equal(result.status, 'signed-in', 'the begun request still signs in');
      if (result.status === 'signed-in') {
        opened.push(result.session);
        assert.equal(result.session.requestId, begun.requestId);
      }
    });

    it('a second completeSignIn after success opens no second session', async () => {
      // "Finishes the sign-in beginSignIn started" and "one sign-in per request": once finished,
      // nothing is begun any more, so a second call fails as for a sign-in that never began. An
      // adapter may instead hand back the very same session object; it may never mint another.
      const scope = factory.scope(requestId());
      const first = await signIn(scope);
      let again: Awaited<ReturnType<IdentityProvider['completeSignIn']>> | undefined;
      let error: unknown;
      try {
        again = await provider.completeSignIn(scope);
      } catch (e) {
        error = e;
      }
      if (again) {
        assert.equal(again.status, 'signed-in', `a finished sign-in is not pending again`);
        if (again.status === 'signed-in') assert.equal(again.session, first, 'the second call returned a new session');
      } else {
        await expectFailure(Promise.reject(error), { code: 'AUTH_FAILED' });
      }
    });

    it('signOut never throws, also when called twice for one session', async () => {
      const session = await signIn(factory.scope(requestId()));
      opened = opened.filter((s) => s !== session);
      await provider.signOut(session);
      await provider.signOut(session);
    });

    if (factory.approve) {
      const approve = factory.approve.bind(factory);
      it("completing before the person approves is 'pending', and signs in once they have", async () => {
        const scope = factory.scope(requestId());
        const challenge = await provider.beginSignIn(scope);
        checkChallenge(challenge);
        assert.deepEqual(await provider.completeSignIn(scope), { status: 'pending' });
        await approve(scope, challenge);
        const result = await provider.completeSignIn(scope);
        assert.equal(result.status, 'signed-in');
        if (result.status === 'signed-in') {
          opened.push(result.session);
          assert.equal(result.session.requestId, scope.requestId);
        }
      });
    }

    if (factory.deny) {
      const deny = factory.deny.bind(factory);
      it('a sign-in the person refuses fails with AUTH_FAILED', async () => {
        const scope = factory.scope(requestId());
        const challenge = await provider.beginSignIn(scope);
        await deny(scope, challenge);
        await expectFailure(provider.completeSignIn(scope), { code: 'AUTH_FAILED', withHint: true });
      });
    }
  });
}
