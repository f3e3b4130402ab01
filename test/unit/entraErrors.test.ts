import { strict as assert } from 'node:assert';
import { AuthError, ClientAuthError, ClientConfigurationError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { deviceCodeRefused, entraError } from '../../src/adapters/identity/entraErrors';
import { entraAuthority, scrubMsalLine } from '../../src/adapters/identity/entraMsalApp';
import type { ErrorCode } from '../../src/domain/errors';

describe('Entra ID errors and settings', () => {
  describe('entraError maps MSAL’s errors (real MSAL classes) to IdentityError codes', () => {
    const cases: Array<[string, unknown, ErrorCode, RegExp]> = [
      ['poll ended: expired_token', new AuthError('post_request_failed', 'corr-1', 'expired_token'), 'AUTH_FAILED', /expired/],
      ['poll ended: authorization_declined', new AuthError('post_request_failed', 'corr-1', 'authorization_declined'), 'AUTH_FAILED', /declined/],
      ['poll ended: slow_down (MSAL cannot back off)', new AuthError('post_request_failed', 'corr-1', 'slow_down'), 'AUTH_FAILED', /slow_down/],
      ['client clock: device_code_expired', new ClientAuthError('device_code_expired', 'corr-1'), 'AUTH_FAILED', /expired/],
      ['cancel flag: device_code_polling_cancelled', new ClientAuthError('device_code_polling_cancelled', 'corr-1'), 'CANCELLED', /cancelled/],
      ['no network', new ClientAuthError('network_error', 'corr-1', 'Network request failed: connect ECONNREFUSED'), 'NETWORK', /could not be reached/],
      ['bad app registration', new ServerError('unauthorized_client', 'corr-1', 'AADSTS7000218: secret text', undefined, '7000218', 400), 'INVALID_CONFIG', /AADSTS7000218/],
      ['no consent', new InteractionRequiredAuthError('consent_required', 'corr-1', 'AADSTS65001: desc'), 'ACCESS_DENIED', /consent_required/],
      ['Entra ID down', new ServerError('temporarily_unavailable', 'corr-1', 'desc', undefined, undefined, 503), 'SERVER_ERROR', /HTTP 503/],
      ['insecure authority', new ClientConfigurationError('authority_uri_insecure', 'corr-1'), 'INVALID_CONFIG', /authority_uri_insecure/],
    ];
    for (const [what, error, code, wording] of cases) {
      it(`${what} → ${code}`, () => {
        const mapped = entraError(error, 'The Microsoft sign-in');
        assert.equal(mapped.code, code, mapped.message);
        assert.match(mapped.message, wording);
        assert.ok(mapped.hint.length > 0, 'says what to do next');
      });
    }

    it('never copies a server description into the message or the cause', () => {
      const mapped = entraError(new ServerError('invalid_grant', 'corr-1', 'AADSTS70000: SECRET-DESCRIPTION device_code=abc', undefined, '70000', 400), 'x');
      const text = `${mapped.message} ${String(mapped.cause)} ${(mapped.cause as Error).stack ?? ''}`;
      assert.doesNotMatch(text, /SECRET-DESCRIPTION|device_code=abc/);
    });

    it('an odd string in post_request_failed is not echoed', () => {
      const mapped = entraError(new AuthError('post_request_failed', 'c', 'eyJhbGciOi.SECRET.x'), 'x');
      assert.doesNotMatch(mapped.message, /SECRET/);
    });

    it('a refused device code request is named from the answer MSAL ignores', () => {
      const mapped = deviceCodeRefused({ status: 400, error: 'invalid_client', errorNo: 700016 }, 'Starting the Microsoft sign-in');
      assert.equal(mapped.code, 'INVALID_CONFIG');
      assert.match(mapped.message, /invalid_client, AADSTS700016, HTTP 400/);
      assert.equal(deviceCodeRefused({ status: 429 }, 'x').code, 'THROTTLED');
      assert.equal(deviceCodeRefused({ status: 500 }, 'x').code, 'SERVER_ERROR');
    });
  });

  it('entraAuthority: the public cloud by default, a bare host gets the tenant, https only', () => {
    assert.equal(entraAuthority('contoso.onmicrosoft.com'), 'https://login.microsoftonline.com/contoso.onmicrosoft.com');
    assert.equal(entraAuthority('t1', 'https://login.microsoftonline.us'), 'https://login.microsoftonline.us/t1');
    assert.equal(entraAuthority('t1', 'https://127.0.0.1:8443/t1/'), 'https://127.0.0.1:8443/t1');
    assert.throws(() => entraAuthority('t1', 'http://login.example/t1'), { code: 'INVALID_CONFIG' });
    assert.throws(() => entraAuthority('t1', 'not a url'), { code: 'INVALID_CONFIG' });
    assert.throws(() => entraAuthority('../evil'), { code: 'INVALID_CONFIG' });
  });

  it('scrubMsalLine removes token-shaped text and the sign-in’s codes', () => {
    const line = scrubMsalLine('got eyJ0eXAi.eyJhdWQi.c2ln for code ABCD1234 and DAQAB-device', ['ABCD1234', 'DAQAB-device', undefined]);
    assert.equal(line, 'got [token] for code [code] and [code]');
  });
});
