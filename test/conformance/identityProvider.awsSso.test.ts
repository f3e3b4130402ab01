import { strict as assert } from 'node:assert';
import { AwsSsoIdentity } from '../../src/adapters/identity/awsSsoIdentity';
import { S3Source } from '../../src/adapters/source/s3Source';
import type { SignInChallenge, SignInScope } from '../../src/ports/identityProvider';
import { FakeAwsSso, scaledClock } from '../support/fakeAwsSso';
import { startS3rver, type S3rverServer } from '../support/s3rverServer';
import { identityProviderConformance, type ReadableObject } from './identityProviderSuite';

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

/** What the person does in the browser: open the link on the card, then Allow (or Deny) as `userName`. */
async function decide(challenge: SignInChallenge, decision: 'approve' | 'deny', userName: string): Promise<void> {
  if (challenge.kind !== 'device-code') throw new Error('a device-code challenge was expected');
  const page = await fetch(challenge.verificationUrl);
  assert.equal(page.status, 200, 'the link on the card opens the verification page');
  const code = new URL(challenge.verificationUrl).searchParams.get('user_code');
  assert.equal(code, challenge.userCode, 'the link carries the user code the card shows');
  const answer = await fetch(new URL('/device', challenge.verificationUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: challenge.userCode, user_name: userName, decision }).toString(),
  });
  assert.equal(answer.status, 200);
}

describe('AwsSsoIdentity (fake IAM Identity Center, s3rver)', () => {
  // Real SDK clients, pointed at the fake and s3rver only by the standard endpoint variables, as
  // the registry will run it. The clock runs 20× fast, shared with the fake, so AWS's real
  // 5-second interval costs 250 ms and the fake still judges every poll gap.
  const clock = scaledClock(20);
  const object: ReadableObject = { container: 'ferry-reports', key: 'q1/été 2024.csv', body: Buffer.from('id,total\n1,42\n2,7\n') };
  const upn = 'Alice.Example@Contoso.com';
  let fake: FakeAwsSso;
  let s3: S3rverServer;
  let restoreEnv: () => void;
  const providers: AwsSsoIdentity[] = [];
  const sources: S3Source[] = [];

  before(async () => {
    s3 = await startS3rver();
    await s3.seed(object.container, object.key, object.body);
    fake = await FakeAwsSso.start({ now: clock.nowMs, interval: 5 });
    restoreEnv = setEnv({
      ...fake.env,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    });
  });
  after(async () => {
    for (const p of providers) p.destroy();
    for (const s of sources) s.destroy();
    restoreEnv();
    await fake.close();
    await s3.stop();
  });

  identityProviderConformance('AWS IAM Identity Center (device code)', {
    create: async () => {
      const provider = new AwsSsoIdentity({
        startUrl: fake.startUrl,
        ssoRegion: fake.region,
        // What the registry passes: an S3Source on the role credentials, for the request's region.
        openSource: (credentials, region) => {
          const source = new S3Source({ region, credentials });
          sources.push(source);
          return source;
        },
        now: clock.now,
        sleep: clock.sleep,
      });
      providers.push(provider);
      return provider;
    },
    scope: (requestId): SignInScope => ({
      requestId,
      user: { id: '29:1aad-alice', tenantId: 'tenant-0001', name: 'Alice Example', upn },
      cloud: 'AWS',
      region: 'eu-west-1',
    }),
    readable: () => object,
    approve: (_scope, challenge) => decide(challenge, 'approve', upn.toLowerCase()),
    deny: (_scope, challenge) => decide(challenge, 'deny', upn.toLowerCase()),
  });

  // Declared after the suite, so mocha runs it after every case above.
  describe('across the whole suite', () => {
    it('no poll came faster than the interval, and no provider registered more than once', () => {
      assert.ok(fake.count('CreateToken') > 0, 'the suite polled the fake');
      assert.deepEqual(fake.calls.filter((c) => c.op === 'CreateToken' && c.error === 'SlowDownException'), [], 'no poll came too fast');
      assert.ok(fake.count('RegisterClient') >= 1 && fake.count('RegisterClient') <= providers.length, 'one registration per provider at most, not one per sign-in');
      assert.equal(fake.activeTokens(), 0, 'every access token was logged out');
    });
  });
});
