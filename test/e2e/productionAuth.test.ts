import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { BotHarness } from '../support/botHarness';

/** A well-formed but unsigned-by-Microsoft JWT, as a forger would send. */
function forgedJwt(appId: string, iss: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const header = b64({ alg: 'HS256', typ: 'JWT' });
  const now = Math.floor(Date.now() / 1000);
  const body = b64({ iss, aud: appId, serviceurl: 'http://127.0.0.1', iat: now, nbf: now, exp: now + 600 });
  const sig = createHmac('sha256', 'forger').update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${sig}`;
}

describe('e2e: production mode authenticates every activity', () => {
  const appId = '00000000-0000-4000-8000-000000000001';
  let harness: BotHarness;

  before(async () => {
    harness = await BotHarness.start({
      config: {
        nodeEnv: 'production',
        production: true,
        localMode: false,
        bot: { appId, appPassword: 'test-only-not-a-secret', appType: 'MultiTenant' },
      },
      overrides: { host: '127.0.0.1' },
    });
  });
  after(async () => harness?.close());

  for (const [what, headers] of [
    ['no token', {}],
    ['a malformed token', { authorization: 'Bearer not-a-token' }],
    ['a token from an untrusted issuer', { authorization: `Bearer ${forgedJwt(appId, 'https://issuer.example.com')}` }],
  ] as const) {
    it(`answers 401 to an activity with ${what}, and runs no turn`, async () => {
      const user = harness.user();
      const message = await user.post({ type: 'message', text: 'transfer' }, headers);
      assert.equal(message.status, 401);
      const invoke = await user.post({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'request.new', data: {} } } }, headers);
      assert.equal(invoke.status, 401);
      assert.equal(harness.connector.calls.length, 0, 'nothing was sent to the channel');
      assert.deepEqual(await harness.app.audit.readAll(), [], 'no request was created');
    });
  }

  it('never runs a turn for a forged token from a trusted issuer (signature unverifiable offline → 500, online → 401)', async () => {
    const user = harness.user();
    const res = await user.post({ type: 'message', text: 'transfer' }, { authorization: `Bearer ${forgedJwt(appId, 'https://api.botframework.com')}` });
    assert.ok(res.status === 401 || res.status === 500, `status ${res.status}`);
    assert.equal(harness.connector.calls.length, 0);
    assert.deepEqual(await harness.app.audit.readAll(), []);
  });

  it('still serves the probes without a token', async () => {
    assert.equal((await fetch(`${harness.app.url}/healthz`)).status, 200);
  });
});
